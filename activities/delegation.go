package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/store"
)

// ErrAssignRefused is what a CaseAssigner returns when the case refused the
// assignment (the task was decided, moved on, or four eyes forbid it): not
// worth a retry.
var ErrAssignRefused = errors.New("the case refused the assignment")

// CaseAssignment is one task to give to someone through its case workflow's
// assign-task update, on behalf of the system.
type CaseAssignment struct {
	CaseID   string
	UpdateID string // makes a retried assignment apply once
	TaskID   string
	Assignee Actor
	Role     string // the assignee's role
	Reason   string
}

// CaseAssigner sends assign-task updates to case workflows (the worker
// package implements it with a Temporal client: activities do not import
// the workflows).
type CaseAssigner interface {
	Assign(ctx context.Context, a CaseAssignment) error
}

// Delegations are the activities of the delegation (out of office) workflow.
type Delegations struct {
	Store    *store.Store
	Assigner CaseAssigner
}

// AbsenceInput names an absence.
type AbsenceInput struct {
	AbsenceID string    `json:"AbsenceID"`
	At        time.Time `json:"At"`
}

// AbsenceResult is the absence (Found false when it was never committed).
type AbsenceResult struct {
	Found   bool                 `json:"Found"`
	Absence contract.AbsenceView `json:"Absence"`
}

// absenceCommitAttempts is how many attempts LoadAbsence makes before it
// concludes that an absence it cannot see was never recorded.
const absenceCommitAttempts = 4

// errAbsenceNotCommitted asks for a retry: the absence may not be committed yet.
var errAbsenceNotCommitted = errors.New("absence not found (yet): its transaction may still be open")

// LoadAbsence reads the absence the workflow keeps. The absence's row and
// the start of its workflow are written in one transaction that commits
// after the start, so the first attempts may run before the commit: a
// missing absence is retried (1 s, 2 s, 4 s with the workflow's retry
// policy) before it counts as never recorded.
func (a *Delegations) LoadAbsence(ctx context.Context, in AbsenceInput) (AbsenceResult, error) {
	v, err := a.Store.LoadAbsence(ctx, in.AbsenceID)
	if errors.Is(err, store.ErrNotFound) {
		if activity.GetInfo(ctx).Attempt < absenceCommitAttempts {
			return AbsenceResult{}, errAbsenceNotCommitted
		}
		return AbsenceResult{}, nil
	}
	if err != nil {
		return AbsenceResult{}, err
	}
	return AbsenceResult{Found: true, Absence: v}, nil
}

// HandoverResult counts what a handover or a hand-back did.
type HandoverResult struct {
	Moved int `json:"Moved"` // handed to the delegate, or given back
	Kept  int `json:"Kept"`  // refused by the case, or decided meanwhile
}

// HandOver marks the absence active and gives every task the absent person
// has claimed to the delegate, through each case's assign-task update; each
// handover is recorded on the case timeline (by the case) and in the audit
// log (here), with the reason.
func (a *Delegations) HandOver(ctx context.Context, in AbsenceInput) (HandoverResult, error) {
	var res HandoverResult
	abs, err := a.Store.LoadAbsence(ctx, in.AbsenceID)
	if err != nil {
		return res, err
	}
	if err := a.Store.SetAbsenceStatus(ctx, abs.ID, store.AbsenceActive, []string{store.AbsenceScheduled}, 0, in.At); err != nil {
		return res, err
	}
	tasks, err := a.Store.PlanHandover(ctx, abs.ID, in.At)
	if err != nil {
		return res, err
	}
	m := move{abs: abs, step: "handover", from: store.HandoverPlanned, to: store.HandoverHanded, refused: store.HandoverSkipped,
		action: "delegate_task", assignee: Actor{UserID: abs.DelegateID, Username: abs.Delegate}, role: abs.DelegateRole,
		reason: store.DelegationReason(abs, false), at: in.At}
	if err := a.move(ctx, m, tasks, &res); err != nil {
		return res, err
	}
	return res, nil
}

// HandBackInput ends an absence: Status is ended or cancelled.
type HandBackInput struct {
	AbsenceID string    `json:"AbsenceID"`
	Status    string    `json:"Status"`
	At        time.Time `json:"At"`
}

// HandBack gives the tasks still with the delegate (claimed, not decided)
// back to the person who is back, recorded like the handover; the others
// stay where they are. An absence that ran to its end is marked ended.
func (a *Delegations) HandBack(ctx context.Context, in HandBackInput) (HandoverResult, error) {
	var res HandoverResult
	abs, err := a.Store.LoadAbsence(ctx, in.AbsenceID)
	if err != nil {
		return res, err
	}
	back, kept, err := a.Store.HandedTasks(ctx, abs.ID)
	if err != nil {
		return res, err
	}
	for _, t := range kept {
		if err := a.Store.SettleHandover(ctx, abs.ID, t, store.HandoverHanded, store.HandoverKept, "", "", in.At); err != nil {
			return res, err
		}
		res.Kept++
	}
	m := move{abs: abs, step: "handback", from: store.HandoverHanded, to: store.HandoverReturned, refused: store.HandoverKept,
		action: "return_task", assignee: Actor{UserID: abs.UserID, Username: abs.Username}, role: abs.Role,
		reason: store.DelegationReason(abs, true), at: in.At}
	if err := a.move(ctx, m, back, &res); err != nil {
		return res, err
	}
	if in.Status == store.AbsenceEnded {
		err = a.Store.SetAbsenceStatus(ctx, abs.ID, store.AbsenceEnded, []string{store.AbsenceScheduled, store.AbsenceActive}, 0, in.At)
	}
	return res, err
}

// move is one direction of a delegation: the handover to the delegate or
// the hand-back to the absent person.
type move struct {
	abs               store.AbsenceView
	step              string // handover or handback, in the update ids
	from, to, refused string // handover states
	action            string // audit action
	assignee          Actor
	role, reason      string
	at                time.Time
}

// move gives each task to m.assignee through its case, then records the
// handover's new state (and, when it moved, the audit row), counting it in res.
func (a *Delegations) move(ctx context.Context, m move, tasks []store.TaskRef, res *HandoverResult) error {
	for _, t := range tasks {
		err := a.Assigner.Assign(ctx, CaseAssignment{CaseID: t.CaseID, UpdateID: "absence:" + m.abs.ID + ":" + m.step + ":" + t.TaskID,
			TaskID: t.TaskID, Assignee: m.assignee, Role: m.role, Reason: m.reason})
		to, action := m.to, m.action
		switch {
		case errors.Is(err, ErrAssignRefused):
			to, action = m.refused, ""
			res.Kept++
		case err != nil:
			return err
		default:
			res.Moved++
		}
		if err := a.Store.SettleHandover(ctx, m.abs.ID, t, m.from, to, action, m.reason, m.at); err != nil {
			return err
		}
	}
	return nil
}

// CancelAbsenceInput is a cancellation by a staff member.
type CancelAbsenceInput struct {
	AbsenceID string    `json:"AbsenceID"`
	ByUserID  int64     `json:"ByUserID"`
	At        time.Time `json:"At"`
}

// CancelAbsence marks the absence cancelled.
func (a *Delegations) CancelAbsence(ctx context.Context, in CancelAbsenceInput) error {
	err := a.Store.SetAbsenceStatus(ctx, in.AbsenceID, store.AbsenceCancelled,
		[]string{store.AbsenceScheduled, store.AbsenceActive}, in.ByUserID, in.At)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("absence "+in.AbsenceID+" does not exist", "AbsenceNotFound", err)
	}
	return err
}
