package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"sportello/activities"
	"sportello/internal/contract"
)

type billingSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	prepared   contract.PreparedInvoice
	statuses   []string // InvoiceStatus answers, in order (the last one repeats)
	sendFails  int      // SendInvoice fails this many times first (temporary)
	unpaid     int      // CheckPayment says "not paid" this many times first
	sends      int
	reject     bool // SendInvoice is refused for good
	checks     int
	reconciles []activities.ReconcileInput
	asOf       time.Time
}

func TestBillingWorkflow(t *testing.T) { suite.Run(t, new(billingSuite)) }

func (s *billingSuite) SetupTest() {
	s.env = newTestEnv(&s.WorkflowTestSuite, warnings)
	s.env.RegisterActivity(&activities.Billing{})
	s.prepared = contract.PreparedInvoice{ID: "inv-1", Number: 7, Status: contract.InvoiceReady, TotalCents: 5000, Lines: 3}
	s.statuses, s.sendFails, s.unpaid, s.sends, s.checks, s.reconciles, s.reject = nil, 0, 0, 0, 0, nil, false
	s.env.OnActivity(billingActs.PrepareInvoice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PrepareInvoiceInput) (contract.PreparedInvoice, error) {
			s.asOf = in.AsOf
			return s.prepared, nil
		})
	s.env.OnActivity(billingActs.InvoiceStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.InvoiceInput) (activities.InvoiceStatusResult, error) {
			st := s.statuses[0]
			if len(s.statuses) > 1 {
				s.statuses = s.statuses[1:]
			}
			return activities.InvoiceStatusResult{Status: st}, nil
		})
	s.env.OnActivity(billingActs.SendInvoice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InvoiceInput) (activities.SendInvoiceResult, error) {
			s.sends++
			if s.reject {
				return activities.SendInvoiceResult{}, temporal.NewNonRetryableApplicationError("HTTP 422", contract.ErrTypeAccountingRejected, nil)
			}
			if s.sends <= s.sendFails {
				return activities.SendInvoiceResult{}, errors.New("accounting: HTTP 503")
			}
			return activities.SendInvoiceResult{AccountingID: "acc-" + in.InvoiceID}, nil
		})
	s.env.OnActivity(billingActs.CheckPayment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CheckPaymentInput) (activities.CheckPaymentResult, error) {
			s.checks++
			if in.AccountingID != "acc-"+in.InvoiceID {
				return activities.CheckPaymentResult{}, temporal.NewNonRetryableApplicationError("wrong accounting id", "Test", nil)
			}
			if s.checks <= s.unpaid {
				return activities.CheckPaymentResult{}, nil
			}
			return activities.CheckPaymentResult{Paid: true, PaymentRef: "pay-1", PaidAt: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}, nil
		})
	s.env.OnActivity(billingActs.ReconcileInvoice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReconcileInput) (activities.ReconcileResult, error) {
			s.reconciles = append(s.reconciles, in)
			return activities.ReconcileResult{TransferID: 99}, nil
		})
}

func (s *billingSuite) run(in BillingInput) (BillingResult, error) {
	s.env.ExecuteWorkflow(Billing, in)
	s.Require().True(s.env.IsWorkflowCompleted())
	if err := s.env.GetWorkflowError(); err != nil {
		return BillingResult{}, err
	}
	var res BillingResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res, nil
}

var coopRun = BillingInput{Kind: contract.InvoiceCooperative, PayeeID: "baobab", Municipality: "tradate", PollInterval: time.Hour}

// The invoice is sent through two failures of the accounting system, the
// payment is polled until it arrives, and reconciled once.
func (s *billingSuite) TestSentThroughFailuresPolledAndReconciled() {
	s.sendFails, s.unpaid = 2, 3
	start := s.env.Now()
	res, err := s.run(coopRun)
	s.Require().NoError(err)
	s.Equal(BillingResult{InvoiceID: "inv-1", Status: contract.InvoicePaid, TransferID: 99}, res)
	s.Equal(3, s.sends, "two failures, then the invoice is sent")
	s.Equal(4, s.checks, "three polls without payment, then paid")
	s.Require().Len(s.reconciles, 1)
	s.Equal(activities.ReconcileInput{InvoiceID: "inv-1", PaymentRef: "pay-1", PaidAt: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}, s.reconciles[0])
	s.True(s.asOf.Equal(start), "the billed month is derived from the workflow's clock")
	s.GreaterOrEqual(s.env.Now().Sub(start), 3*time.Hour, "one poll interval between payment checks")
}

// Nothing to bill: nothing is sent.
func (s *billingSuite) TestEmptyMonthSendsNothing() {
	s.prepared = contract.PreparedInvoice{Empty: true}
	res, err := s.run(coopRun)
	s.Require().NoError(err)
	s.True(res.Empty)
	s.Zero(s.sends)
	s.Zero(s.checks)
	s.Empty(s.reconciles)
}

// A run of a month already paid (a repeated run) does nothing more.
func (s *billingSuite) TestAlreadyPaidRunDoesNothing() {
	s.prepared.Status = contract.InvoicePaid
	res, err := s.run(coopRun)
	s.Require().NoError(err)
	s.Equal(contract.InvoicePaid, res.Status)
	s.Zero(s.sends)
	s.Empty(s.reconciles)
}

// A merchant's claim waits for the declaration: polls find nothing, the
// signal wakes the run, which sends it only then.
func (s *billingSuite) TestClaimWaitsForTheDeclaration() {
	s.prepared.Status = contract.InvoiceAwaitingDeclaration
	s.statuses = []string{contract.InvoiceAwaitingDeclaration, contract.InvoiceAwaitingDeclaration, contract.InvoiceReady}
	s.env.RegisterDelayedCallback(func() {
		s.Zero(s.sends, "nothing is sent before the declaration")
		s.env.SignalWorkflow(SignalDeclared, nil)
	}, 90*time.Minute)
	res, err := s.run(BillingInput{Kind: contract.InvoiceMerchant, PayeeID: "farmacia", PollInterval: time.Hour})
	s.Require().NoError(err)
	s.Equal(contract.InvoicePaid, res.Status)
	s.Equal(1, s.sends)
	s.Len(s.reconciles, 1)
}

// A permanent refusal by the accounting system fails the run (no retries,
// nothing reconciled).
func (s *billingSuite) TestRejectedInvoiceFailsTheRun() {
	s.reject = true
	_, err := s.run(coopRun)
	s.Require().Error(err)
	var ae *temporal.ApplicationError
	s.Require().True(errors.As(err, &ae))
	s.Equal(contract.ErrTypeAccountingRejected, ae.Type())
	s.Equal(1, s.sends)
	s.Empty(s.reconciles)
}
