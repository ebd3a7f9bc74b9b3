package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/accounting"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// CallFunding groups the activities of a call's funding (the CallFunding
// workflow): the database and the municipality's accounting system, which
// commits the call's budget before the ledger books it.
type CallFunding struct {
	Store      *store.Store
	Accounting *accounting.Client // nil: no commitment can be asked (the activity fails and is retried)
}

// CommitmentResult is what the accounting system said of a call's budget:
// a confirmed commitment (Number), a refusal (Refusal: a FundingRefusal
// code), or neither when the call is no longer being published (Status
// says what it is).
type CommitmentResult struct {
	Status      string `json:"Status"`
	Number      string `json:"Number"`
	AmountCents int64  `json:"AmountCents"`
	Refusal     string `json:"Refusal"`
}

// Refusal codes of a call's budget commitment (calls.funding_refusal).
const (
	FundingRefusalBudget = "budget_exceeded" // the municipality's appropriation cannot cover the budget
	FundingRefusalOther  = "refused"         // any other refusal of the accounting system
	// A supervisor withdrew the publication before the accounting system
	// confirmed the commitment (CancelCallPublication).
	FundingCancelled = store.FundingCancelled
)

// CommitCallBudget asks the accounting system to commit the budget of
// call in.CallID, being published, under the key "funding:<call id>": the
// same request every time, so a retry or a second publication never
// commits twice. A refusal is an outcome, not an error; the system not
// answering is an error the workflow's retry policy retries. A call
// already published answers its recorded commitment.
func (a *CallFunding) CommitCallBudget(ctx context.Context, in contract.CallFundingInput) (CommitmentResult, error) {
	c, err := a.Store.API().CallOf(ctx, store.System, in.CallID)
	if errors.Is(err, store.ErrNotFound) {
		return CommitmentResult{}, temporal.NewNonRetryableApplicationError("no call "+in.CallID, contract.ErrTypeCallFundingState, err)
	}
	if err != nil {
		return CommitmentResult{}, err
	}
	switch c.Status {
	case store.StatusPublished:
		return CommitmentResult{Status: c.Status, Number: c.CommitmentNumber, AmountCents: c.CommitmentCents}, nil
	case store.StatusDraft:
		return CommitmentResult{Status: c.Status}, nil
	}
	if a.Accounting == nil {
		return CommitmentResult{}, errors.New("no accounting system configured")
	}
	got, err := a.Accounting.Commit(ctx, store.CallFundingKey(c.ID), accounting.CommitmentRequest{
		District: c.District, Municipality: c.Municipality, CallID: c.ID, Description: c.Name, AmountCents: c.BudgetCents})
	if accounting.IsPermanent(err) {
		var ce *accounting.CallError
		errors.As(err, &ce)
		activity.GetLogger(ctx).Warn("accounting system refused the call's budget commitment", "call", c.ID, "err", err)
		refusal := FundingRefusalOther
		if ce.Code == FundingRefusalBudget {
			refusal = FundingRefusalBudget
		}
		return CommitmentResult{Status: c.Status, Refusal: refusal}, nil
	}
	if err != nil {
		activity.GetLogger(ctx).Warn("accounting system not reachable, will retry", "call", c.ID, "err", err)
		return CommitmentResult{}, err
	}
	return CommitmentResult{Status: c.Status, Number: got.Number, AmountCents: got.AmountCents}, nil
}

// OpenCommittedCallInput is a confirmed commitment of a call's budget.
type OpenCommittedCallInput struct {
	CallID      string `json:"CallID"`
	Number      string `json:"Number"`
	AmountCents int64  `json:"AmountCents"`
}

// OpenCommittedCall records the confirmed commitment on the call, creates
// its fund, books its budget through the ledger and publishes it, in one
// transaction (store.API.OpenCommittedCall; the same confirmation again
// books nothing).
func (a *CallFunding) OpenCommittedCall(ctx context.Context, in OpenCommittedCallInput) (CallFundingOutcome, error) {
	c, err := a.Store.API().OpenCommittedCall(ctx, in.CallID, in.Number, in.AmountCents, time.Now())
	return fundingOutcome(c, err)
}

// RefuseCallFundingInput is the accounting system's refusal of a call's budget.
type RefuseCallFundingInput struct {
	CallID  string `json:"CallID"`
	Refusal string `json:"Refusal"`
}

// RefuseCallFunding puts the call back to draft with the refusal's code:
// nothing was booked.
func (a *CallFunding) RefuseCallFunding(ctx context.Context, in RefuseCallFundingInput) (CallFundingOutcome, error) {
	c, err := a.Store.API().RefuseCallFunding(ctx, in.CallID, in.Refusal, time.Now())
	return fundingOutcome(c, err)
}

// CancelCallPublicationInput is a supervisor's withdrawal of a call's
// publication.
type CancelCallPublicationInput struct {
	CallID string `json:"CallID"`
	Actor  string `json:"Actor"`
}

// CancelCallPublication puts the call back to draft, its publication
// withdrawn by in.Actor: the workflow calls it only once no commitment is
// being asked, and nothing was booked (store.API.CancelCallPublication;
// the same withdrawal again changes nothing).
func (a *CallFunding) CancelCallPublication(ctx context.Context, in CancelCallPublicationInput) (CallFundingOutcome, error) {
	c, err := a.Store.API().CancelCallPublication(ctx, in.CallID, in.Actor, time.Now())
	return fundingOutcome(c, err)
}

// CallFundingOutcome is the call's status after a funding step.
type CallFundingOutcome struct {
	Status string `json:"Status"`
}

// fundingOutcome is c's status, or err as a non-retryable failure when the
// call's state forbids the step (a conflict, or the call gone).
func fundingOutcome(c store.Call, err error) (CallFundingOutcome, error) {
	var ce *store.ConflictError
	if errors.As(err, &ce) || errors.Is(err, store.ErrNotFound) {
		return CallFundingOutcome{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeCallFundingState, err)
	}
	return CallFundingOutcome{Status: c.Status}, err
}
