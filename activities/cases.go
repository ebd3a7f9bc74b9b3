// Package activities holds every side effect of Sportello's workflows. Each
// activity is idempotent: retries and replays write each row, event and
// ledger transfer exactly once.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/observe"
	"sportello/internal/store"
)

// Actor is who acted, as recorded on the timeline ("" username = system).
type Actor struct {
	UserID   int64  `json:"UserID"`
	Username string `json:"Username"`
}

// Cases groups the activities of case workflows; its fields are their
// dependencies. Workflows call its methods through a nil *Cases.
type Cases struct {
	Store     *store.Store
	Mailer    Mailer // nil: notifications are recorded, not sent
	PortalURL string // base URL of the portal, for links in messages
}

// LoadCaseInput names the case.
type LoadCaseInput struct {
	CaseID string `json:"CaseID"`
}

// LoadCaseResult is the case, its fund and the default award.
type LoadCaseResult struct {
	Case              contract.CaseInfo `json:"Case"`
	DefaultAwardCents int64             `json:"DefaultAwardCents"`
}

// LoadCase reads the case the workflow drives.
func (a *Cases) LoadCase(ctx context.Context, in LoadCaseInput) (LoadCaseResult, error) {
	c, err := a.Store.LoadCase(ctx, in.CaseID)
	if errors.Is(err, store.ErrNotFound) {
		return LoadCaseResult{}, temporal.NewNonRetryableApplicationError("case "+in.CaseID+" does not exist", "CaseNotFound", err)
	}
	if err != nil {
		return LoadCaseResult{}, err
	}
	facts, err := c.Facts()
	if err != nil {
		return LoadCaseResult{}, temporal.NewNonRetryableApplicationError("case data unreadable", "BadCaseData", err)
	}
	return LoadCaseResult{Case: c, DefaultAwardCents: c.Fund.Rule.Amount(facts.Household.Members, facts.Household.Minors)}, nil
}

// PrecheckInput names the case and the workflow time.
type PrecheckInput struct {
	CaseID string    `json:"CaseID"`
	At     time.Time `json:"At"`
}

// PrecheckResult annotates the case; the social worker still decides.
type PrecheckResult struct {
	Passed bool             `json:"Passed"`
	Checks []contract.Check `json:"Checks"`
}

// Precheck runs the automatic checks (residence in the district, ISEE under
// the fund's threshold, no other award from the same fund, for the tax code
// and for its registry household) and records them.
func (a *Cases) Precheck(ctx context.Context, in PrecheckInput) (PrecheckResult, error) {
	c, err := a.Store.LoadCase(ctx, in.CaseID)
	if err != nil {
		return PrecheckResult{}, err
	}
	facts, err := c.Facts()
	if err != nil {
		return PrecheckResult{}, temporal.NewNonRetryableApplicationError("case data unreadable", "BadCaseData", err)
	}
	reg, err := a.Store.LoadPrecheckFacts(ctx, c)
	if err != nil {
		return PrecheckResult{}, err
	}
	res := PrecheckResult{Checks: EvaluatePrecheck(c, facts, reg)}
	res.Passed = true
	for _, ch := range res.Checks {
		if ch.Outcome == "fail" {
			res.Passed = false
		}
	}
	if err := a.Store.SavePrecheck(ctx, c.ID, res.Checks, res.Passed, in.At); err != nil {
		return PrecheckResult{}, err
	}
	return res, nil
}

// EvaluatePrecheck is the pure rule set behind Precheck. Each result says
// why, in English and Italian, for the social worker's page.
func EvaluatePrecheck(c store.CaseInfo, facts store.ApplicationFacts, reg store.PrecheckFacts) []store.Check {
	var checks []store.Check
	switch {
	case reg.RegistryMunicipality == "" || reg.RegistryDistrict != c.DistrictID:
		checks = append(checks, store.Check{Name: "residence", Outcome: "fail",
			Detail:   "the tax code is not in the population registry of any municipality of the district",
			DetailIT: "il codice fiscale non risulta nell'anagrafe di alcun comune dell'ambito"})
	case reg.RegistryMunicipality != c.MunicipalityID:
		checks = append(checks, store.Check{Name: "residence", Outcome: "warn",
			Detail:   fmt.Sprintf("registered in %s, but the application declares %s", orID(reg.RegistryMunicipalityName, reg.RegistryMunicipality), orID(reg.DeclaredMunicipalityName, c.MunicipalityID)),
			DetailIT: fmt.Sprintf("residente in anagrafe a %s, ma la domanda dichiara %s", orID(reg.RegistryMunicipalityName, reg.RegistryMunicipality), orID(reg.DeclaredMunicipalityName, c.MunicipalityID))})
	default:
		name := orID(reg.RegistryMunicipalityName, reg.RegistryMunicipality)
		checks = append(checks, store.Check{Name: "residence", Outcome: "pass",
			Detail: "resident in " + name, DetailIT: "residente in anagrafe a " + name})
	}
	iseeCents := int64(facts.ISEEEuro*100 + 0.5)
	isee, limit := euro(iseeCents), euro(c.Fund.ISEEThresholdCents)
	if iseeCents < c.Fund.ISEEThresholdCents {
		checks = append(checks, store.Check{Name: "isee", Outcome: "pass",
			Detail:   fmt.Sprintf("ISEE EUR %s below the threshold of EUR %s", isee, limit),
			DetailIT: fmt.Sprintf("ISEE di %s euro sotto la soglia di %s euro", isee, limit)})
	} else {
		checks = append(checks, store.Check{Name: "isee", Outcome: "fail",
			Detail:   fmt.Sprintf("ISEE EUR %s is not below the threshold of EUR %s", isee, limit),
			DetailIT: fmt.Sprintf("ISEE di %s euro non inferiore alla soglia di %s euro", isee, limit)})
	}
	if reg.OtherAwards > 0 {
		en, it := "1 other award from this fund for the same tax code", "1 altro buono dallo stesso fondo per lo stesso codice fiscale"
		if reg.OtherAwards > 1 {
			en = fmt.Sprintf("%d other awards from this fund for the same tax code", reg.OtherAwards)
			it = fmt.Sprintf("%d altri buoni dallo stesso fondo per lo stesso codice fiscale", reg.OtherAwards)
		}
		if len(reg.OtherAwardCases) > 0 {
			// The staff's page links these case numbers.
			en += " (" + strings.Join(reg.OtherAwardCases, ", ") + ")"
			it += " (" + strings.Join(reg.OtherAwardCases, ", ") + ")"
		}
		checks = append(checks, store.Check{Name: "other_awards", Outcome: "fail", Detail: en, DetailIT: it})
	} else {
		checks = append(checks, store.Check{Name: "other_awards", Outcome: "pass",
			Detail: "no other award from this fund", DetailIT: "nessun altro buono dallo stesso fondo"})
	}
	return append(checks, householdCheck(reg))
}

// householdCheck is the rule of one award per household and fund: another
// current member of the applicant's registry household (id_famiglia)
// already holds a voucher from the fund (fail), or has an application to
// it still being decided (warn); without a household in the registry the
// rule cannot be checked (warn).
func householdCheck(reg store.PrecheckFacts) store.Check {
	switch {
	case reg.Household == "":
		return store.Check{Name: "household", Outcome: "warn",
			Detail:   "the population registry gives no household for the tax code: one award per household not checked",
			DetailIT: "l'anagrafe non indica il nucleo familiare del codice fiscale: la regola di un buono per famiglia non è verificata"}
	case reg.HouseholdAwards == 1:
		return store.Check{Name: "household", Outcome: "fail",
			Detail:   fmt.Sprintf("1 other member of household %s already holds an award from this fund", reg.Household),
			DetailIT: fmt.Sprintf("1 altro componente del nucleo %s ha già un buono dallo stesso fondo", reg.Household)}
	case reg.HouseholdAwards > 1:
		return store.Check{Name: "household", Outcome: "fail",
			Detail:   fmt.Sprintf("%d other members of household %s already hold an award from this fund", reg.HouseholdAwards, reg.Household),
			DetailIT: fmt.Sprintf("%d altri componenti del nucleo %s hanno già un buono dallo stesso fondo", reg.HouseholdAwards, reg.Household)}
	case reg.HouseholdPending == 1:
		return store.Check{Name: "household", Outcome: "warn",
			Detail:   fmt.Sprintf("1 other member of household %s applied to this fund; the application is being decided", reg.Household),
			DetailIT: fmt.Sprintf("1 altro componente del nucleo %s ha chiesto lo stesso fondo; la domanda è in istruttoria", reg.Household)}
	case reg.HouseholdPending > 1:
		return store.Check{Name: "household", Outcome: "warn",
			Detail:   fmt.Sprintf("%d other members of household %s applied to this fund; their applications are being decided", reg.HouseholdPending, reg.Household),
			DetailIT: fmt.Sprintf("%d altri componenti del nucleo %s hanno chiesto lo stesso fondo; le domande sono in istruttoria", reg.HouseholdPending, reg.Household)}
	}
	return store.Check{Name: "household", Outcome: "pass",
		Detail:   "no other award from this fund in household " + reg.Household,
		DetailIT: "nessun altro buono dallo stesso fondo nel nucleo " + reg.Household}
}

// orID is a municipality's name, or its id when the name is not known.
func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// euro formats cents the Italian way, the same in both languages: 7.200,00.
func euro(cents int64) string {
	whole := fmt.Sprintf("%d", cents/100)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "." + whole[i:]
	}
	return fmt.Sprintf("%s,%02d", whole, cents%100)
}

// OpenTaskInput opens a review task with its due date.
type OpenTaskInput struct {
	TaskID        string    `json:"TaskID"`
	CaseID        string    `json:"CaseID"`
	Round         int       `json:"Round"`
	DueAt         time.Time `json:"DueAt"`
	At            time.Time `json:"At"`
	Kind          string    `json:"Kind"`          // review (default) or second_approval
	CandidateRole string    `json:"CandidateRole"` // operator (default) or supervisor
}

// OpenTask puts the review task in the municipality's queue.
func (a *Cases) OpenTask(ctx context.Context, in OpenTaskInput) error {
	return a.Store.OpenTask(ctx, store.OpenTaskInput(in))
}

// TaskActionInput is a claim, release or escalation.
type TaskActionInput struct {
	TaskID string    `json:"TaskID"`
	CaseID string    `json:"CaseID"`
	Actor  Actor     `json:"Actor"`
	Seq    int       `json:"Seq"`
	DueAt  time.Time `json:"DueAt"`
	At     time.Time `json:"At"`
}

func (in TaskActionInput) store() store.TaskActionInput {
	return store.TaskActionInput{TaskID: in.TaskID, CaseID: in.CaseID, ActorID: in.Actor.UserID, Actor: actorName(in.Actor),
		At: in.At, Seq: in.Seq}
}

func actorName(a Actor) string {
	if a.Username == "" {
		return "system"
	}
	return a.Username
}

// ClaimTask records a claim in the inbox; a claimant out of office is
// refused for good (non-retryable contract.ErrTypeOutOfOffice).
func (a *Cases) ClaimTask(ctx context.Context, in TaskActionInput) error {
	err := a.Store.ClaimTask(ctx, in.store())
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Code == store.CodeOutOfOffice {
		return temporal.NewNonRetryableApplicationError(ce.Message, contract.ErrTypeOutOfOffice, nil)
	}
	return err
}

// ReleaseTask records a release in the inbox.
func (a *Cases) ReleaseTask(ctx context.Context, in TaskActionInput) error {
	return a.Store.ReleaseTask(ctx, in.store())
}

// EscalateTask flags an overdue task and records it on the timeline.
func (a *Cases) EscalateTask(ctx context.Context, in TaskActionInput) error {
	return a.Store.EscalateTask(ctx, in.store(), in.DueAt)
}

// DecisionInput is a decision accepted by the workflow.
type DecisionInput struct {
	TaskID      string    `json:"TaskID"`
	CaseID      string    `json:"CaseID"`
	Actor       Actor     `json:"Actor"`
	Outcome     string    `json:"Outcome"`
	AmountCents int64     `json:"AmountCents"`
	Reason      string    `json:"Reason"`
	At          time.Time `json:"At"`
}

// DecisionResult reports the voucher of an approval.
type DecisionResult struct {
	VoucherID string    `json:"VoucherID"`
	ExpiresAt time.Time `json:"ExpiresAt"`
}

// ApplyDecision writes an approval (with its award), a rejection or a request
// for information. An award the fund cannot cover fails with the
// non-retryable InsufficientBudget error and changes nothing.
func (a *Cases) ApplyDecision(ctx context.Context, in DecisionInput) (DecisionResult, error) {
	d := store.DecisionInput{TaskID: in.TaskID, CaseID: in.CaseID, ActorID: in.Actor.UserID, Actor: actorName(in.Actor),
		Reason: in.Reason, At: in.At}
	var res DecisionResult
	var err error
	switch in.Outcome {
	case contract.OutcomeApprove:
		var award store.AwardResult
		award, err = a.Store.Award(ctx, store.AwardInput{DecisionInput: d, AmountCents: in.AmountCents})
		if err == nil && !award.Replayed {
			observe.Awards.Inc()
		}
		res = DecisionResult{VoucherID: award.VoucherID, ExpiresAt: award.ExpiresAt}
	case contract.OutcomeFirstApproval:
		err = a.Store.FirstApproval(ctx, store.FirstApprovalInput{DecisionInput: d, AmountCents: in.AmountCents})
	case contract.OutcomeReject:
		err = a.Store.Reject(ctx, d)
	case contract.OutcomeRequestInfo:
		err = a.Store.RequestInformation(ctx, d)
	default:
		return res, temporal.NewNonRetryableApplicationError("unknown outcome "+in.Outcome, contract.ErrTypeInvalidDecision, nil)
	}
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce) && ce.Code == "insufficient_budget":
		return DecisionResult{}, temporal.NewNonRetryableApplicationError(ce.Message, contract.ErrTypeInsufficientBudget, err)
	case errors.As(err, &ce) && ce.Code == store.CodeTaskDecided:
		// The database holds another decision on the task (its Update was
		// lost, docs/operations.md): refused, the workflow keeps waiting.
		return DecisionResult{}, temporal.NewNonRetryableApplicationError(ce.Message, contract.ErrTypeTaskNotOpen, err)
	case err != nil:
		return DecisionResult{}, err
	}
	return res, nil
}

// InformationInput is the citizen's reply to a request for information.
type InformationInput struct {
	CaseID  string          `json:"CaseID"`
	Round   int             `json:"Round"`
	Actor   Actor           `json:"Actor"`
	Message string          `json:"Message"`
	Data    json.RawMessage `json:"Data"`
	At      time.Time       `json:"At"`
}

// ReceiveInformation stores the reply and the updated data.
func (a *Cases) ReceiveInformation(ctx context.Context, in InformationInput) error {
	return a.Store.ReceiveInformation(ctx, store.InformationInput{CaseID: in.CaseID, Round: in.Round, Actor: actorName(in.Actor),
		Message: in.Message, Data: in.Data, At: in.At})
}

// TrancheInput releases one tranche.
type TrancheInput struct {
	CaseID      string    `json:"CaseID"`
	VoucherID   string    `json:"VoucherID"`
	Index       int       `json:"Index"`
	AmountCents int64     `json:"AmountCents"`
	At          time.Time `json:"At"`
}

// ReleaseTranche moves a tranche from pending to spendable.
func (a *Cases) ReleaseTranche(ctx context.Context, in TrancheInput) error {
	return a.Store.ReleaseTranche(ctx, store.TrancheInput(in))
}

// ExpireInput closes the voucher at the fund's end date.
type ExpireInput struct {
	CaseID    string    `json:"CaseID"`
	VoucherID string    `json:"VoucherID"`
	At        time.Time `json:"At"`
}

// ExpireResult is what went back to the fund.
type ExpireResult struct {
	ReturnedCents int64 `json:"ReturnedCents"`
}

// ExpireVoucher returns the unspent balance to the fund and closes the case.
func (a *Cases) ExpireVoucher(ctx context.Context, in ExpireInput) (ExpireResult, error) {
	n, err := a.Store.ExpireVoucher(ctx, store.ExpireInput(in))
	return ExpireResult{ReturnedCents: n}, err
}

// RemindTask records the reminder at 75% of a task's time.
func (a *Cases) RemindTask(ctx context.Context, in TaskActionInput) error {
	return a.Store.RemindTask(ctx, in.store(), in.DueAt)
}

// WithdrawInput closes a case the citizen did not answer for.
type WithdrawInput struct {
	CaseID   string    `json:"CaseID"`
	Deadline time.Time `json:"Deadline"`
	At       time.Time `json:"At"`
}

// Withdraw marks the case withdrawn.
func (a *Cases) Withdraw(ctx context.Context, in WithdrawInput) error {
	return a.Store.Withdraw(ctx, store.WithdrawInput(in))
}

// AssignInput is a supervisor's assignment of a task.
type AssignInput struct {
	TaskID   string    `json:"TaskID"`
	CaseID   string    `json:"CaseID"`
	Actor    Actor     `json:"Actor"`
	Assignee Actor     `json:"Assignee"`
	Previous string    `json:"Previous"` // username of whoever had it, "" if nobody
	Reason   string    `json:"Reason"`
	Seq      int       `json:"Seq"`
	At       time.Time `json:"At"`
}

// AssignTask records the assignment in the inbox and on the timeline.
func (a *Cases) AssignTask(ctx context.Context, in AssignInput) error {
	return a.Store.AssignTask(ctx, store.AssignInput{TaskID: in.TaskID, CaseID: in.CaseID, ActorID: in.Actor.UserID,
		Actor: actorName(in.Actor), AssigneeID: in.Assignee.UserID, Assignee: in.Assignee.Username, Previous: in.Previous,
		Reason: in.Reason, Seq: in.Seq, At: in.At})
}
