package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// dacts names the delegation activities: methods on a nil *Delegations.
var dacts *activities.Delegations

// Update and query names of the delegation workflow (part of the contract
// with running workflows: never rename one).
const (
	UpdateCancelAbsence = contract.UpdateCancelAbsence
	QueryAbsence        = contract.QueryAbsence
)

// ErrTypeAbsenceOver refuses the cancellation of an absence that is over or
// already cancelled (409).
const ErrTypeAbsenceOver = contract.ErrTypeAbsenceOver

// AbsenceWorkflowID is the workflow id of an absence's delegation.
func AbsenceWorkflowID(absenceID string) string { return contract.AbsenceWorkflowID(absenceID) }

// DelegationInput starts the delegation of an absence already recorded.
type DelegationInput struct {
	AbsenceID string `json:"absence_id"`
}

// DelegationResult says how the absence ended.
type DelegationResult struct {
	Status   string `json:"status"` // ended or cancelled
	Handed   int    `json:"handed"`
	Returned int    `json:"returned"`
}

// CancelAbsenceInput cancels an absence, before or during it.
type CancelAbsenceInput struct {
	Actor Actor `json:"actor"`
}

// CancelAbsenceResult echoes the cancellation.
type CancelAbsenceResult struct {
	Status string `json:"status"`
}

// AbsenceState answers QueryAbsence.
type AbsenceState struct {
	Status string `json:"status"`
	Handed int    `json:"handed"`
}

// Delegation keeps one absence (out of office): it waits until the start,
// hands the absent person's claimed tasks to the delegate (each through its
// case's assign-task update, as the system), waits until the end, then
// gives back what the delegate has not decided. A cancellation before the
// start ends it at once; during the absence it brings the end forward.
func Delegation(ctx workflow.Context, in DelegationInput) (DelegationResult, error) {
	d := &delegation{in: in, status: contract.AbsenceScheduled}
	if err := d.setup(ctx); err != nil {
		return DelegationResult{}, err
	}
	return d.run(ctx)
}

type delegation struct {
	in         DelegationInput
	status     string
	cancelled  bool
	cancelling bool
	handed     int
	opts       workflow.ActivityOptions
}

func (d *delegation) setup(ctx workflow.Context) error {
	d.opts = workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
	if err := workflow.SetQueryHandler(ctx, QueryAbsence, func() (AbsenceState, error) {
		return AbsenceState{Status: d.status, Handed: d.handed}, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancelAbsence, d.cancel,
		workflow.UpdateHandlerOptions{Validator: d.validateCancel})
}

func (d *delegation) run(ctx workflow.Context) (DelegationResult, error) {
	actx := workflow.WithActivityOptions(ctx, d.opts)
	var loaded activities.AbsenceResult
	if err := workflow.ExecuteActivity(actx, dacts.LoadAbsence, activities.AbsenceInput{AbsenceID: d.in.AbsenceID}).Get(ctx, &loaded); err != nil {
		return DelegationResult{}, err
	}
	if !loaded.Found || loaded.Absence.Status == contract.AbsenceCancelled || loaded.Absence.Status == contract.AbsenceEnded {
		// Never committed, or over before this run: nothing to keep.
		d.status = contract.AbsenceCancelled
		return d.finish(ctx, DelegationResult{Status: d.status})
	}
	abs := loaded.Absence
	cancelled := func() bool { return d.cancelled }
	if wait := abs.StartsAt.Sub(workflow.Now(ctx)); wait > 0 {
		if _, err := workflow.AwaitWithTimeout(ctx, wait, cancelled); err != nil {
			return DelegationResult{}, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return !d.cancelling }); err != nil {
		return DelegationResult{}, err
	}
	if d.cancelled {
		return d.finish(ctx, DelegationResult{Status: contract.AbsenceCancelled})
	}
	d.status = contract.AbsenceActive
	var over activities.HandoverResult
	if err := workflow.ExecuteActivity(actx, dacts.HandOver, activities.AbsenceInput{AbsenceID: abs.ID, At: workflow.Now(ctx)}).Get(ctx, &over); err != nil {
		return DelegationResult{}, err
	}
	d.handed = over.Moved
	if wait := abs.EndsAt.Sub(workflow.Now(ctx)); wait > 0 {
		if _, err := workflow.AwaitWithTimeout(ctx, wait, cancelled); err != nil {
			return DelegationResult{}, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return !d.cancelling }); err != nil {
		return DelegationResult{}, err
	}
	end := contract.AbsenceEnded
	if d.cancelled {
		end = contract.AbsenceCancelled
	} else {
		d.status = contract.AbsenceEnded // refuses a late cancellation
	}
	var back activities.HandoverResult
	if err := workflow.ExecuteActivity(actx, dacts.HandBack, activities.HandBackInput{AbsenceID: abs.ID, Status: end,
		At: workflow.Now(ctx)}).Get(ctx, &back); err != nil {
		return DelegationResult{}, err
	}
	d.status = end
	return d.finish(ctx, DelegationResult{Status: end, Handed: over.Moved, Returned: back.Moved})
}

func (d *delegation) finish(ctx workflow.Context, r DelegationResult) (DelegationResult, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return DelegationResult{}, err
	}
	return r, nil
}

func (d *delegation) validateCancel(ctx workflow.Context, in CancelAbsenceInput) error {
	if !isStaff(in.Actor) {
		return temporal.NewApplicationError("only staff cancel absences", ErrTypeForbidden)
	}
	if d.cancelled || d.cancelling || d.status == contract.AbsenceEnded || d.status == contract.AbsenceCancelled {
		return temporal.NewApplicationError("the absence is over or already cancelled", ErrTypeAbsenceOver)
	}
	return nil
}

func (d *delegation) cancel(ctx workflow.Context, in CancelAbsenceInput) (CancelAbsenceResult, error) {
	d.cancelling = true
	defer func() { d.cancelling = false }()
	actx := workflow.WithActivityOptions(ctx, d.opts)
	if err := workflow.ExecuteActivity(actx, dacts.CancelAbsence, activities.CancelAbsenceInput{AbsenceID: d.in.AbsenceID,
		ByUserID: in.Actor.UserID, At: workflow.Now(ctx)}).Get(ctx, nil); err != nil {
		return CancelAbsenceResult{}, err
	}
	d.cancelled = true
	return CancelAbsenceResult{Status: contract.AbsenceCancelled}, nil
}
