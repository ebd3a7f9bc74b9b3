package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/calendar"
	"sportello/internal/contract"
)

// acts is how the workflow names its activities: methods on a nil *Cases.
var acts *activities.Cases

// FoodVoucher drives one food-voucher case: pre-check, review by a social
// worker of the citizen's municipality (with a due date in working days and
// escalation when it passes), requests for information, the award from the
// fund, the release of its tranches, and the voucher's expiry, when what is
// left goes back to the fund.
func FoodVoucher(ctx workflow.Context, in FoodVoucherInput) (FoodVoucherResult, error) {
	s := &foodVoucher{in: in, status: StatusSubmitted}
	if err := s.setup(ctx); err != nil {
		return FoodVoucherResult{}, err
	}
	return s.run(ctx)
}

type foodVoucher struct {
	in              FoodVoucherInput
	c               activities.LoadCaseResult
	status          string
	round           int
	task            *TaskState
	actionSeq       int          // numbers claims and releases for their timeline keys
	deciding        bool         // a decision handler is writing
	decision        *DecideInput // accepted decision, consumed by run
	infoReceived    bool         // the citizen replied to the last request
	replying        bool         // a reply handler is writing
	awardCents      int64
	voucherID       string
	released        int
	returned        int64
	level           workflow.Version           // food-voucher: the stacked changes this execution takes (DefaultVersion: read the legacy markers)
	v2              bool                       // casework-2: reminders, reply deadline, four eyes, notifications
	office          bool                       // office-calendar: due dates on the municipality office calendar
	localNotify     bool                       // local-notify: notifications run as local activities
	officePerTask   bool                       // office-per-task: each new task reads the office calendar as it is then
	autoAssign      bool                       // auto-assign: a new task may go to the least loaded candidate
	orderedNotify   bool                       // ordered-notify: messages to one audience go out in the order the journey made them
	notifyLast      map[string]workflow.Future // ordered-notify: the last notification per audience (looked up, never iterated)
	firstApprover   *Actor
	firstAmount     int64
	notifySeq       int
	notifying       int // notifications in flight
	notifyOpts      workflow.ActivityOptions
	notifyLocalOpts workflow.LocalActivityOptions
	handlerOpts     workflow.ActivityOptions
	localOpts       workflow.LocalActivityOptions
	mainLineOpts    workflow.ActivityOptions
	mainLocalOpts   workflow.LocalActivityOptions
}

func (s *foodVoucher) setup(ctx workflow.Context) error {
	// Main-line activities retry until the database answers; handlers, which
	// a person waits on, give up sooner and report the failure.
	s.mainLineOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
	// The same, as local activities (local-main-line): retried locally
	// while the backoff is short, then with timers, as long as it takes.
	s.mainLocalOpts = workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
	s.handlerOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 5},
	}
	// A notification is worth a few minutes of retries, not a stuck case.
	s.notifyOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	}
	s.notifyLocalOpts = workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 15 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	}
	s.localOpts = workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 5},
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, s.query); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateClaim, s.claim,
		workflow.UpdateHandlerOptions{Validator: s.validateClaim}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAssign, s.assign,
		workflow.UpdateHandlerOptions{Validator: s.validateAssign}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRelease, s.release,
		workflow.UpdateHandlerOptions{Validator: s.validateRelease}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, s.decide,
		workflow.UpdateHandlerOptions{Validator: s.validateDecide}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateProvideInfo, s.provideInfo,
		workflow.UpdateHandlerOptions{Validator: s.validateProvideInfo})
}

func (s *foodVoucher) run(ctx workflow.Context) (FoodVoucherResult, error) {
	s.readLevel(ctx)
	mctx := workflow.WithActivityOptions(ctx, s.mainLineOpts)
	if err := s.mainLine(mctx, acts.LoadCase, activities.LoadCaseInput{CaseID: s.in.CaseID}).Get(ctx, &s.c); err != nil {
		return FoodVoucherResult{}, err
	}
	var pre activities.PrecheckResult
	if err := s.mainLine(mctx, acts.Precheck,
		activities.PrecheckInput{CaseID: s.in.CaseID, At: workflow.Now(ctx)}).Get(ctx, &pre); err != nil {
		return FoodVoucherResult{}, err
	}

	kind := TaskReview
	for {
		d, err := s.review(ctx, mctx, kind)
		if err != nil {
			return FoodVoucherResult{}, err
		}
		kind = TaskReview
		switch d.Outcome {
		case OutcomeFirstApproval:
			kind = TaskSecondApproval
			continue
		case OutcomeRequestInfo:
			// The handler already moved the case; wait for the citizen's reply,
			// then the case goes back to the queue.
			replied, err := s.awaitReply(ctx, mctx)
			if err != nil {
				return FoodVoucherResult{}, err
			}
			if !replied {
				return s.finish(ctx)
			}
			s.infoReceived = false
			continue
		case OutcomeReject:
			return s.finish(ctx)
		}
		break
	}

	if err := s.releaseTranches(ctx, mctx); err != nil {
		return FoodVoucherResult{}, err
	}
	if err := s.expire(ctx, mctx); err != nil {
		return FoodVoucherResult{}, err
	}
	return s.finish(ctx)
}

// review opens a task in the municipality's queue and waits for a decision,
// escalating the task when its due date passes first.
func (s *foodVoucher) review(ctx, mctx workflow.Context, kind string) (DecideInput, error) {
	s.round++
	if s.officePerTask && s.round > 1 {
		// A supervisor may have changed the office calendar since the case
		// started: the new task's due date follows it as it is now.
		var fresh activities.LoadCaseResult
		if err := s.mainLine(mctx, acts.LoadCase, activities.LoadCaseInput{CaseID: s.in.CaseID}).Get(ctx, &fresh); err != nil {
			return DecideInput{}, err
		}
		s.c.Case.Office = fresh.Case.Office
	}
	var taskID string
	if s.level >= foodVoucherStableTaskID {
		// The same id however often the workflow task that opens it runs
		// (a worker killed after OpenTask committed: versions.go).
		taskID = reviewTaskID(workflow.GetInfo(ctx).WorkflowExecution.RunID, s.round)
	} else if err := workflow.SideEffect(ctx, func(workflow.Context) any { return uuid.NewString() }).Get(&taskID); err != nil {
		return DecideInput{}, err
	}
	now := workflow.Now(ctx)
	due := s.addWorkingDays(now, s.c.Case.Fund.ReviewWorkingDays)
	// The task is claimable from the moment its row can appear in an inbox,
	// which is before this workflow hears that OpenTask completed.
	s.task = &TaskState{ID: taskID, DueAt: due}
	s.status = StatusInReview
	open := activities.OpenTaskInput{TaskID: taskID, CaseID: s.in.CaseID, Round: s.round, DueAt: due, At: now}
	if s.v2 {
		s.task.Kind = kind
		open.Kind = kind
		if kind == TaskSecondApproval {
			open.CandidateRole = string(contract.RoleSupervisor)
		}
	}
	if err := s.mainLine(mctx, acts.OpenTask, open).Get(ctx, nil); err != nil {
		return DecideInput{}, err
	}
	if s.round == 1 {
		s.notify(ctx, activities.KindApplicationReceived, contract.AudienceApplicant, "", map[string]any{"due_at": due})
	}
	if kind == TaskSecondApproval {
		s.notify(ctx, activities.KindStaffAssigned, contract.AudienceSupervisors, taskID, map[string]any{"due_at": due})
	}
	if s.autoAssign {
		if err := s.assignLeastLoaded(ctx, mctx, taskID); err != nil {
			return DecideInput{}, err
		}
	}

	decided := func() bool { return s.decision != nil }
	if s.v2 {
		// A reminder when three quarters of the time have passed.
		remindAt := now.Add(due.Sub(now) * 3 / 4)
		ok, err := workflow.AwaitWithTimeout(ctx, remindAt.Sub(now), decided)
		if err != nil {
			return DecideInput{}, err
		}
		if !ok {
			if err := s.mainLine(mctx, acts.RemindTask, activities.TaskActionInput{
				TaskID: taskID, CaseID: s.in.CaseID, DueAt: due, At: workflow.Now(ctx),
			}).Get(ctx, nil); err != nil {
				return DecideInput{}, err
			}
			s.notify(ctx, activities.KindStaffReminder, contract.AudienceAssignee, taskID, map[string]any{"due_at": due})
		}
	}
	ok, err := workflow.AwaitWithTimeout(ctx, due.Sub(workflow.Now(ctx)), decided)
	if err != nil {
		return DecideInput{}, err
	}
	if !ok {
		// Overdue: flag it and keep waiting. A timeout is an outcome, not an error.
		if err := s.mainLine(mctx, acts.EscalateTask, activities.TaskActionInput{
			TaskID: taskID, CaseID: s.in.CaseID, DueAt: due, At: workflow.Now(ctx),
		}).Get(ctx, nil); err != nil {
			return DecideInput{}, err
		}
		if s.task != nil {
			s.task.Escalated = true
		}
		s.notify(ctx, activities.KindStaffEscalation, contract.AudienceSupervisors, taskID, map[string]any{"due_at": due})
		if err := workflow.Await(ctx, decided); err != nil {
			return DecideInput{}, err
		}
	}
	d := *s.decision
	s.decision = nil
	return d, nil
}

func (s *foodVoucher) releaseTranches(ctx, mctx workflow.Context) error {
	awardedAt := workflow.Now(ctx)
	expires := s.c.Case.Fund.ExpiresAt
	tranches := s.c.Case.Fund.Tranches
	if len(tranches) == 0 {
		tranches = []contract.Tranche{{Percent: 100}}
	}
	var given int64
	for i, tr := range tranches {
		amount := s.awardCents * int64(tr.Percent) / 100
		if i == len(tranches)-1 {
			amount = s.awardCents - given
		}
		given += amount
		at := awardedAt.Add(time.Duration(tr.AfterDays) * 24 * time.Hour)
		if !at.Before(expires) {
			break // past the fund's end: the expiry returns it
		}
		if wait := at.Sub(workflow.Now(ctx)); wait > 0 {
			if err := workflow.Sleep(ctx, wait); err != nil {
				return err
			}
		}
		if amount <= 0 {
			continue
		}
		if err := s.mainLine(mctx, acts.ReleaseTranche, activities.TrancheInput{
			CaseID: s.in.CaseID, VoucherID: s.voucherID, Index: i, AmountCents: amount, At: workflow.Now(ctx),
		}).Get(ctx, nil); err != nil {
			return err
		}
		s.released++
		kind := activities.KindTrancheReleased
		if s.released == 1 {
			kind = activities.KindVoucherReady
		}
		s.notify(ctx, kind, contract.AudienceApplicant, "", map[string]any{"amount_cents": amount, "tranche": i + 1,
			"voucher_id": s.voucherID, "expires_at": expires})
	}
	return nil
}

func (s *foodVoucher) expire(ctx, mctx workflow.Context) error {
	if s.v2 {
		// A week before the end, a reminder to spend what is left.
		warnAt := s.c.Case.Fund.ExpiresAt.Add(-expiryWarning)
		if wait := warnAt.Sub(workflow.Now(ctx)); wait > 0 {
			if err := workflow.Sleep(ctx, wait); err != nil {
				return err
			}
			s.notify(ctx, activities.KindVoucherExpiring, contract.AudienceApplicant, "", map[string]any{
				"voucher_id": s.voucherID, "expires_at": s.c.Case.Fund.ExpiresAt})
		}
	}
	if wait := s.c.Case.Fund.ExpiresAt.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	var res activities.ExpireResult
	if err := s.mainLine(mctx, acts.ExpireVoucher, activities.ExpireInput{
		CaseID: s.in.CaseID, VoucherID: s.voucherID, At: workflow.Now(ctx),
	}).Get(ctx, &res); err != nil {
		return err
	}
	s.returned = res.ReturnedCents
	s.status = StatusClosed
	return nil
}

func (s *foodVoucher) finish(ctx workflow.Context) (FoodVoucherResult, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && s.notifying == 0 }); err != nil {
		return FoodVoucherResult{}, err
	}
	return FoodVoucherResult{Status: s.status, AwardCents: s.awardCents, VoucherID: s.voucherID, ReturnedCts: s.returned}, nil
}

func (s *foodVoucher) query() (StateResult, error) {
	r := StateResult{Status: s.status, AwardCents: s.awardCents, VoucherID: s.voucherID, TranchesReleased: s.released}
	if s.task != nil {
		t := *s.task
		r.Task = &t
	}
	return r, nil
}

func isStaff(a Actor) bool {
	return a.Role == string(contract.RoleOperator) || a.Role == string(contract.RoleSupervisor)
}

// currentTask checks that taskID is the open review task.
func (s *foodVoucher) currentTask(taskID string) error {
	if s.task == nil || s.task.ID != taskID || s.deciding || s.status != StatusInReview {
		return temporal.NewApplicationError("the task is not open for review", ErrTypeTaskNotOpen)
	}
	return nil
}

func (s *foodVoucher) validateClaim(ctx workflow.Context, in ClaimInput) error {
	if !isStaff(in.Actor) {
		return temporal.NewApplicationError("only social workers can claim review tasks", ErrTypeForbidden)
	}
	if err := s.currentTask(in.TaskID); err != nil {
		return err
	}
	if err := s.fourEyes(in.Actor); err != nil {
		return err
	}
	if s.task.ClaimedByID != 0 && s.task.ClaimedByID != in.Actor.UserID {
		return temporal.NewApplicationError("the task is already claimed by "+s.task.ClaimedBy, ErrTypeAlreadyClaimed)
	}
	return nil
}

// fourEyes refuses a second approval task to anyone but a supervisor who did
// not give the first approval.
func (s *foodVoucher) fourEyes(a Actor) error {
	if s.task == nil || s.task.Kind != TaskSecondApproval {
		return nil
	}
	if a.Role != string(contract.RoleSupervisor) {
		return temporal.NewApplicationError("the second approval is for a supervisor", ErrTypeForbidden,
			ForbiddenReason{Code: ReasonSupervisorOnly})
	}
	if s.firstApprover != nil && s.firstApprover.UserID == a.UserID {
		return temporal.NewApplicationError("four eyes: the first approver cannot give the second approval", ErrTypeForbidden,
			ForbiddenReason{Code: ReasonFourEyes})
	}
	return nil
}

func (s *foodVoucher) claim(ctx workflow.Context, in ClaimInput) (ClaimResult, error) {
	now := workflow.Now(ctx)
	if s.task.ClaimedByID == in.Actor.UserID {
		return ClaimResult{TaskID: in.TaskID, ClaimedBy: in.Actor.Username, ClaimedAt: now}, nil
	}
	s.task.ClaimedByID, s.task.ClaimedBy = in.Actor.UserID, in.Actor.Username
	s.actionSeq++
	err := s.handlerActivity(ctx, acts.ClaimTask, activities.TaskActionInput{
		TaskID: in.TaskID, CaseID: s.in.CaseID, Actor: actor(in.Actor), Seq: s.actionSeq, At: now,
	}).Get(ctx, nil)
	if err != nil {
		if s.task != nil && s.task.ID == in.TaskID {
			s.task.ClaimedByID, s.task.ClaimedBy = 0, ""
		}
		return ClaimResult{}, err
	}
	return ClaimResult{TaskID: in.TaskID, ClaimedBy: in.Actor.Username, ClaimedAt: now}, nil
}

func (s *foodVoucher) validateAssign(ctx workflow.Context, in AssignInput) error {
	if in.Actor.Role != string(contract.RoleSupervisor) && in.Actor.Role != RoleSystem {
		return temporal.NewApplicationError("only a supervisor assigns tasks", ErrTypeForbidden)
	}
	if err := s.currentTask(in.TaskID); err != nil {
		return err
	}
	if !isStaff(in.Assignee) || in.Assignee.UserID == 0 {
		return invalid("/assignee", "casework.err.assignee_not_staff")
	}
	if err := s.fourEyes(in.Assignee); err != nil {
		return invalid("/assignee", "casework.err.second_approver_same")
	}
	if s.task.ClaimedByID == in.Assignee.UserID {
		return temporal.NewApplicationError("the task is already with "+in.Assignee.Username, ErrTypeAlreadyClaimed)
	}
	if s.task.ClaimedByID != 0 && strings.TrimSpace(in.Reason) == "" {
		return invalid("/reason", "casework.err.take_over_reason_required", s.task.ClaimedBy)
	}
	return nil
}

// assign gives the task to the assignee, as if they had claimed it.
func (s *foodVoucher) assign(ctx workflow.Context, in AssignInput) (AssignResult, error) {
	prevID, prev := s.task.ClaimedByID, s.task.ClaimedBy
	s.task.ClaimedByID, s.task.ClaimedBy = in.Assignee.UserID, in.Assignee.Username
	s.actionSeq++
	err := s.handlerActivity(ctx, acts.AssignTask, activities.AssignInput{
		TaskID: in.TaskID, CaseID: s.in.CaseID, Actor: actor(in.Actor), Assignee: actor(in.Assignee), Previous: prev,
		Reason: strings.TrimSpace(in.Reason), Seq: s.actionSeq, At: workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		if s.task != nil && s.task.ID == in.TaskID {
			s.task.ClaimedByID, s.task.ClaimedBy = prevID, prev
		}
		return AssignResult{}, err
	}
	s.notify(ctx, activities.KindStaffAssigned, contract.AudienceAssignee, in.TaskID, map[string]any{"due_at": s.task.DueAt})
	return AssignResult{TaskID: in.TaskID, AssignedTo: in.Assignee.Username, Previous: prev}, nil
}

func (s *foodVoucher) validateRelease(ctx workflow.Context, in ReleaseInput) error {
	if !isStaff(in.Actor) {
		return temporal.NewApplicationError("only social workers can release review tasks", ErrTypeForbidden)
	}
	if err := s.currentTask(in.TaskID); err != nil {
		return err
	}
	if s.task.ClaimedByID == 0 {
		return temporal.NewApplicationError("the task is not claimed", ErrTypeNotClaimed)
	}
	if s.task.ClaimedByID != in.Actor.UserID && in.Actor.Role != string(contract.RoleSupervisor) {
		return temporal.NewApplicationError("the task is claimed by "+s.task.ClaimedBy, ErrTypeNotClaimed)
	}
	return nil
}

func (s *foodVoucher) release(ctx workflow.Context, in ReleaseInput) (ReleaseResult, error) {
	prevID, prev := s.task.ClaimedByID, s.task.ClaimedBy
	s.task.ClaimedByID, s.task.ClaimedBy = 0, ""
	s.actionSeq++
	err := s.handlerActivity(ctx, acts.ReleaseTask, activities.TaskActionInput{
		TaskID: in.TaskID, CaseID: s.in.CaseID, Actor: actor(in.Actor), Seq: s.actionSeq, At: workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		if s.task != nil && s.task.ID == in.TaskID && s.task.ClaimedByID == 0 {
			s.task.ClaimedByID, s.task.ClaimedBy = prevID, prev
		}
		return ReleaseResult{}, err
	}
	return ReleaseResult{TaskID: in.TaskID}, nil
}

func (s *foodVoucher) validateDecide(ctx workflow.Context, in DecideInput) error {
	if !isStaff(in.Actor) {
		return temporal.NewApplicationError("only social workers can decide", ErrTypeForbidden)
	}
	if err := s.currentTask(in.TaskID); err != nil {
		return err
	}
	if err := s.fourEyes(in.Actor); err != nil {
		return err
	}
	if s.task.Kind == TaskSecondApproval && in.Outcome == OutcomeRequestInfo {
		return invalid("/outcome", "casework.err.second_approval_outcome")
	}
	if s.task.ClaimedByID != in.Actor.UserID {
		if s.task.ClaimedByID == 0 {
			return temporal.NewApplicationError("claim the task before deciding", ErrTypeNotClaimed)
		}
		return temporal.NewApplicationError("the task is claimed by "+s.task.ClaimedBy, ErrTypeNotClaimed)
	}
	switch in.Outcome {
	case OutcomeApprove:
		if in.AmountCents < 0 {
			return invalid("/amount_cents", "casework.err.amount_negative")
		}
		if max := s.c.Case.Fund.Rule.MaxCents; max > 0 && in.AmountCents > max {
			e := euros(max)
			return invalid("/amount_cents", "casework.err.amount_above_max", e)
		}
	case OutcomeReject, OutcomeRequestInfo:
		if strings.TrimSpace(in.Reason) == "" {
			return invalid("/reason", "casework.err.reason_required_for_citizen")
		}
	default:
		return invalid("/outcome", "casework.err.outcome_unknown")
	}
	return nil
}

func (s *foodVoucher) decide(ctx workflow.Context, in DecideInput) (DecideResult, error) {
	s.deciding = true
	defer func() { s.deciding = false }()
	if in.Outcome == OutcomeApprove && in.AmountCents == 0 {
		in.AmountCents = s.c.DefaultAwardCents
		if s.task.Kind == TaskSecondApproval && s.firstAmount > 0 {
			in.AmountCents = s.firstAmount
		}
	}
	outcome := in.Outcome
	if s.v2 && outcome == OutcomeApprove && s.task.Kind != TaskSecondApproval && s.needsSecondApproval(in.AmountCents) {
		outcome = OutcomeFirstApproval
	}
	var res activities.DecisionResult
	err := s.handlerActivity(ctx, acts.ApplyDecision, activities.DecisionInput{
		TaskID: in.TaskID, CaseID: s.in.CaseID, Actor: actor(in.Actor), Outcome: outcome,
		AmountCents: in.AmountCents, Reason: strings.TrimSpace(in.Reason), At: workflow.Now(ctx),
	}).Get(ctx, &res)
	if err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == ErrTypeInsufficientBudget {
			return DecideResult{}, temporal.NewApplicationError(ae.Message(), ErrTypeInsufficientBudget)
		}
		return DecideResult{}, err
	}
	reason := strings.TrimSpace(in.Reason)
	out := DecideResult{Outcome: outcome}
	switch outcome {
	case OutcomeFirstApproval:
		first := in.Actor
		s.firstApprover, s.firstAmount = &first, in.AmountCents
		out.AmountCents = in.AmountCents
	case OutcomeApprove:
		s.status, s.awardCents, s.voucherID = StatusApproved, in.AmountCents, res.VoucherID
		out.AmountCents, out.VoucherID = in.AmountCents, res.VoucherID
		s.notify(ctx, activities.KindApproved, contract.AudienceApplicant, "", map[string]any{"amount_cents": in.AmountCents, "reason": reason})
	case OutcomeReject:
		s.status = StatusRejected
		s.notify(ctx, activities.KindRejected, contract.AudienceApplicant, "", map[string]any{"reason": reason})
	case OutcomeRequestInfo:
		s.status = StatusInfoRequested
		s.notify(ctx, activities.KindInformationRequested, contract.AudienceApplicant, "", map[string]any{"reason": reason,
			"deadline": s.replyDeadline(workflow.Now(ctx))})
	}
	out.Status = s.status
	s.task = nil
	in.Outcome = outcome
	s.decision = &in
	return out, nil
}

func (s *foodVoucher) validateProvideInfo(ctx workflow.Context, in ProvideInfoInput) error {
	if s.status != StatusInfoRequested || s.infoReceived || s.replying {
		return temporal.NewApplicationError("no request for information is waiting for a reply", ErrTypeNotAwaitingInfo)
	}
	if in.Actor.UserID != s.c.Case.ApplicantID {
		return temporal.NewApplicationError("only the applicant can reply", ErrTypeForbidden)
	}
	if strings.TrimSpace(in.Message) == "" {
		return invalid("/data/message", "casework.err.message_required")
	}
	return nil
}

func (s *foodVoucher) provideInfo(ctx workflow.Context, in ProvideInfoInput) (ProvideInfoResult, error) {
	s.replying = true
	defer func() { s.replying = false }()
	err := s.handlerActivity(ctx, acts.ReceiveInformation, activities.InformationInput{
		CaseID: s.in.CaseID, Round: s.round, Actor: actor(in.Actor), Message: strings.TrimSpace(in.Message),
		Data: in.Data, At: workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		return ProvideInfoResult{}, err
	}
	// Only now may the main loop open the next task: it sets the status from here on.
	s.status = StatusSubmitted
	s.infoReceived = true
	return ProvideInfoResult{Status: StatusSubmitted}, nil
}

// mainLine runs a database step of the main line (mctx carries its
// activity options): a local activity since local-main-line, an activity
// before.
func (s *foodVoucher) mainLine(mctx workflow.Context, activity any, arg any) workflow.Future {
	if s.level >= foodVoucherLocalMainLine {
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(mctx, s.mainLocalOpts), activity, arg)
	}
	return workflow.ExecuteActivity(mctx, activity, arg)
}

// handlerActivity runs the database write of an update handler.
func (s *foodVoucher) handlerActivity(ctx workflow.Context, activity any, arg any) workflow.Future {
	local := s.level >= foodVoucherLocalHandlerWrites
	if s.level == workflow.DefaultVersion {
		local = workflow.GetVersion(ctx, versionLocalHandlerWrites, workflow.DefaultVersion, 1) == 1
	}
	if !local {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, s.handlerOpts), activity, arg)
	}
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, s.localOpts), activity, arg)
}

// readLevel decides, once at the start of a run, which of the stacked
// changes (versions.go) this execution takes. A new execution records the
// level; one started before the level existed has no marker for it and
// reads the per-change markers its history recorded, in the order it
// always read them.
func (s *foodVoucher) readLevel(ctx workflow.Context) {
	s.level = workflow.GetVersion(ctx, versionFoodVoucher, workflow.DefaultVersion, foodVoucherLevel)
	if s.level == workflow.DefaultVersion {
		s.v2 = workflow.GetVersion(ctx, versionCasework2, workflow.DefaultVersion, 1) == 1
		s.office = workflow.GetVersion(ctx, versionOfficeCalendar, workflow.DefaultVersion, 1) == 1
		s.localNotify = workflow.GetVersion(ctx, versionLocalNotify, workflow.DefaultVersion, 1) == 1
		s.officePerTask = workflow.GetVersion(ctx, versionOfficePerTask, workflow.DefaultVersion, 1) == 1
		s.autoAssign = workflow.GetVersion(ctx, versionAutoAssign, workflow.DefaultVersion, 1) == 1
		s.orderedNotify = workflow.GetVersion(ctx, versionOrderedNotify, workflow.DefaultVersion, 1) == 1
		return
	}
	s.v2 = s.level >= foodVoucherCasework2
	s.office = s.level >= foodVoucherOfficeCalendar
	s.localNotify = s.level >= foodVoucherLocalNotify
	s.officePerTask = s.level >= foodVoucherOfficePerTask
	s.autoAssign = s.level >= foodVoucherAutoAssign
	s.orderedNotify = s.level >= foodVoucherOrderedNotify
}

// expiryWarning is how long before a voucher's end its holder is reminded.
const expiryWarning = 7 * 24 * time.Hour

func (s *foodVoucher) needsSecondApproval(amount int64) bool {
	limit := s.c.Case.Fund.FourEyesAboveCents
	return limit != nil && amount > *limit
}

// replyDeadline is when an unanswered request for information withdraws the case.
func (s *foodVoucher) replyDeadline(from time.Time) time.Time {
	days := s.c.Case.Fund.InfoReplyWorkingDays
	if days <= 0 {
		days = 10
	}
	return s.addWorkingDays(from, days)
}

// addWorkingDays is the due date n working days after from: on the
// municipality's office calendar (patron's day, opening hours) since
// office-calendar, on the national calendar before.
func (s *foodVoucher) addWorkingDays(from time.Time, n int) time.Time {
	if s.office {
		return calendar.Office(s.c.Case.Office).Due(from, n)
	}
	return calendar.AddWorkingDays(from, n)
}

// awaitReply waits for the citizen's reply until the deadline; without one
// the case is withdrawn and the citizen told so. It reports whether a reply came.
func (s *foodVoucher) awaitReply(ctx, mctx workflow.Context) (bool, error) {
	if !s.v2 {
		return true, workflow.Await(ctx, func() bool { return s.infoReceived })
	}
	deadline := s.replyDeadline(workflow.Now(ctx))
	ok, err := workflow.AwaitWithTimeout(ctx, deadline.Sub(workflow.Now(ctx)), func() bool { return s.infoReceived })
	if err != nil {
		return false, err
	}
	if !ok && s.replying {
		// A reply accepted just before the deadline is being written: it counts.
		if err := workflow.Await(ctx, func() bool { return !s.replying }); err != nil {
			return false, err
		}
		ok = s.infoReceived
	}
	if ok {
		return true, nil
	}
	s.status = StatusWithdrawn // refuses late replies from here on
	if err := s.mainLine(mctx, acts.Withdraw, activities.WithdrawInput{
		CaseID: s.in.CaseID, Deadline: deadline, At: workflow.Now(ctx),
	}).Get(ctx, nil); err != nil {
		return false, err
	}
	s.notify(ctx, activities.KindWithdrawn, contract.AudienceApplicant, "", map[string]any{"deadline": deadline})
	return false, nil
}

// notify sends a notification in the background: the case goes on while it
// is delivered (finish waits for it).
func (s *foodVoucher) notify(ctx workflow.Context, kind, audience, taskID string, data map[string]any) {
	if !s.v2 {
		return
	}
	s.notifySeq++
	in := activities.NotifyInput{Key: fmt.Sprintf("%s:notify:%d:%s", s.in.CaseID, s.notifySeq, kind), CaseID: s.in.CaseID,
		TaskID: taskID, Kind: kind, Audience: audience, Data: data, At: workflow.Now(ctx),
		OneContact: s.level >= foodVoucherOneContact}
	s.notifying++
	var prev workflow.Future
	var done workflow.Settable
	if s.orderedNotify {
		if s.notifyLast == nil {
			s.notifyLast = map[string]workflow.Future{}
		}
		prev = s.notifyLast[audience]
		var f workflow.Future
		f, done = workflow.NewFuture(ctx)
		s.notifyLast[audience] = f
	}
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() {
			s.notifying--
			if done != nil {
				done.Set(nil, nil)
			}
		}()
		if prev != nil {
			_ = prev.Get(gctx, nil) // delivered or given up: either way, this one's turn
		}
		var f workflow.Future
		if s.localNotify {
			f = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(gctx, s.notifyLocalOpts), acts.Notify, in)
		} else {
			f = workflow.ExecuteActivity(workflow.WithActivityOptions(gctx, s.notifyOpts), acts.Notify, in)
		}
		if err := f.Get(gctx, nil); err != nil {
			workflow.GetLogger(gctx).Warn("notification not delivered", "key", in.Key, "error", err)
		}
	})
}

// invalid is a validator's refusal of a field: message id (internal/i18n)
// and its arguments; the id is the error's message too, for logs.
func invalid(pointer, id string, args ...any) error {
	return temporal.NewApplicationError(id, ErrTypeInvalidDecision, FieldProblem{Pointer: pointer, ID: id, Args: args})
}

// euros formats cents as 550,00 (Italian style, the same in both messages).
func euros(cents int64) string {
	return strconv.FormatInt(cents/100, 10) + "," + fmt.Sprintf("%02d", cents%100)
}

func actor(a Actor) activities.Actor { return activities.Actor{UserID: a.UserID, Username: a.Username} }
