package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/workflows"
)

// Bulk actions on tasks: assign a selection to a colleague, or approve a
// selection with one amount. Each item goes through exactly the single
// actions (Claim, Decide, Assign, Release), so each is audited and sent to
// its case workflow as an Update whose validator applies the same rules
// (four eyes included); results are per item.

// Bulk actions.
const (
	BulkAssign  = "assign"
	BulkApprove = "approve"
)

// MaxBulkTasks bounds the tasks of one bulk request.
const MaxBulkTasks = 100

// BulkRequest is a bulk action on a selection of tasks.
type BulkRequest struct {
	Action      string   `json:"action"`
	TaskIDs     []string `json:"task_ids"`
	Assignee    string   `json:"assignee"`
	AmountCents *int64   `json:"amount_cents"`
	Reason      string   `json:"reason"`
}

// Result statuses of a bulk item.
const (
	BulkDone    = "done"
	BulkRefused = "refused"
)

// BulkItem is the outcome of one task of a bulk request.
type BulkItem struct {
	TaskID string `json:"task_id"`
	CaseID string `json:"case_id,omitempty"`
	Status string `json:"status"` // done, refused
	// Outcome of a done approval: approve, or first_approval when the amount
	// needs a supervisor's second approval.
	Outcome     string `json:"outcome,omitempty"`
	AmountCents int64  `json:"amount_cents,omitempty"`
	AssignedTo  string `json:"assigned_to,omitempty"`
	// Code and Text say why an item was refused (the adapters write Text
	// in the reader's language).
	Code string       `json:"code,omitempty"`
	Text i18n.Message `json:"-"`
}

// BulkResult is the outcome of a bulk request.
type BulkResult struct {
	Action  string     `json:"action"`
	Done    int        `json:"done"`
	Refused int        `json:"refused"`
	Items   []BulkItem `json:"items"`
}

// Validate checks the request as a whole (field pointers into the body)
// and normalises it.
func (req *BulkRequest) Validate() []app.FieldError {
	var fields []app.FieldError
	switch req.Action {
	case BulkApprove:
		d := req.decision()
		fields = append(fields, d.Validate()...)
		req.Reason = d.Reason
	case BulkAssign:
		a := Assignment{Assignee: req.Assignee, Reason: req.Reason}
		fields = append(fields, a.Validate()...)
		req.Assignee, req.Reason = a.Assignee, a.Reason
	default:
		fields = append(fields, app.Field("/action", "enum", "casework.err.bulk_action_unknown"))
	}
	switch {
	case len(req.TaskIDs) == 0:
		fields = append(fields, app.Field("/task_ids", "min_items", "casework.err.min_items"))
	case len(req.TaskIDs) > MaxBulkTasks:
		fields = append(fields, app.Field("/task_ids", "max_items", "casework.err.max_items", MaxBulkTasks))
	}
	seen := map[string]bool{}
	for i, id := range req.TaskIDs {
		ptr := fmt.Sprintf("/task_ids/%d", i)
		u, err := uuid.Parse(strings.TrimSpace(id))
		if err != nil {
			fields = append(fields, app.Field(ptr, "format", "casework.err.task_id_format"))
			continue
		}
		req.TaskIDs[i] = u.String()
		if seen[req.TaskIDs[i]] {
			fields = append(fields, app.Field(ptr, "unique", "casework.err.task_listed_twice"))
		}
		seen[req.TaskIDs[i]] = true
	}
	return fields
}

// decision is the single decision each item of a bulk approval gets.
func (req *BulkRequest) decision() Decision {
	return Decision{Outcome: workflows.OutcomeApprove, AmountCents: req.AmountCents, Reason: req.Reason}
}

// Bulk checks a bulk request, then does its action on each task in turn
// through the single actions. key, when not empty, makes a retried request
// apply each item once. Assigning is for supervisors.
func (s Service) Bulk(ctx context.Context, user store.UserView, req BulkRequest, key string) (BulkResult, error) {
	if req.Action == BulkAssign && user.Role != string(contract.RoleSupervisor) {
		return BulkResult{}, errSupervisorsOnly
	}
	if fields := req.Validate(); len(fields) > 0 {
		return BulkResult{}, app.InvalidInput(fields...)
	}
	out := BulkResult{Action: req.Action, Items: make([]BulkItem, len(req.TaskIDs))}
	// The items are different tasks, so different cases (a case has one
	// open task): they go a few at a time, each in order claim then decide.
	sem := make(chan struct{}, bulkParallel)
	var wg sync.WaitGroup
	for i, id := range req.TaskIDs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if req.Action == BulkApprove {
				out.Items[i] = s.bulkApproveOne(ctx, user, id, req.decision(), key)
			} else {
				out.Items[i] = s.bulkAssignOne(ctx, user, id, Assignment{Assignee: req.Assignee, Reason: req.Reason}, key)
			}
		}()
	}
	wg.Wait()
	for _, it := range out.Items {
		if it.Status == BulkDone {
			out.Done++
		} else {
			out.Refused++
		}
	}
	return out, nil
}

// bulkParallel is how many items of a bulk request are worked on at once.
const bulkParallel = 4

// bulkApproveOne claims the task for user when it is open and nobody has it,
// then approves it. A claim made here is given back when the approval is
// refused, so that a refused item stays where it was.
func (s Service) bulkApproveOne(ctx context.Context, user store.UserView, id string, d Decision, key string) BulkItem {
	t, err := s.Task(ctx, user, id)
	if err != nil {
		return RefusedItem(BulkItem{TaskID: id}, err, "")
	}
	it := BulkItem{TaskID: t.ID, CaseID: t.CaseID}
	claimed := false
	if t.Status == "open" && t.ClaimedBy == "" {
		if _, err := s.Claim(ctx, user, t.ID, bulkKey(key, "claim")); err != nil {
			return RefusedItem(it, err, s.claimedBy(ctx, user, t.ID))
		}
		claimed = true
	}
	res, err := s.Decide(ctx, user, t.ID, d, bulkKey(key, "decide"))
	if err != nil {
		if claimed {
			if _, rerr := s.Release(ctx, user, t.ID, bulkKey(key, "release")); rerr != nil {
				s.Log.WarnContext(ctx, "bulk approve: give back the claim", "task_id", t.ID, "err", rerr)
			}
		}
		return RefusedItem(it, err, t.ClaimedBy)
	}
	it.Status, it.Outcome, it.AmountCents = BulkDone, res.Outcome, res.AmountCents
	return it
}

// bulkAssignOne gives the task to the assignee, as a single assignment.
func (s Service) bulkAssignOne(ctx context.Context, user store.UserView, id string, a Assignment, key string) BulkItem {
	t, err := s.Task(ctx, user, id)
	if err != nil {
		return RefusedItem(BulkItem{TaskID: id}, err, "")
	}
	it := BulkItem{TaskID: t.ID, CaseID: t.CaseID}
	res, err := s.Assign(ctx, user, t.ID, a, bulkKey(key, "assign"))
	if err != nil {
		return RefusedItem(it, err, t.ClaimedBy)
	}
	it.Status, it.AssignedTo = BulkDone, res.AssignedTo
	return it
}

// bulkKey derives each step's idempotency key from the request's ("" stays "").
func bulkKey(key, step string) string {
	if key == "" {
		return ""
	}
	return "bulk:" + step + ":" + key
}

// claimedBy is who holds a task now ("" when unknown).
func (s Service) claimedBy(ctx context.Context, user store.UserView, id string) string {
	t, err := s.Task(ctx, user, id)
	if err != nil {
		return ""
	}
	return t.ClaimedBy
}

// RefusedItem fills it with why err refused it (a message id).
// holder is who had the task, for the "already claimed" message.
func RefusedItem(it BulkItem, err error, holder string) BulkItem {
	ae := app.Classify(err)
	it.Status, it.Code = BulkRefused, ae.Code
	caseRef := it.CaseID
	if caseRef == "" {
		caseRef = it.TaskID
	}
	switch {
	case len(ae.Fields) > 0:
		it.Code, it.Text = ae.Fields[0].Code, ae.Fields[0].Text
	case ae.Code == "not_found":
		it.Text = i18n.M("casework.err.task_not_visible")
	case ae.Code == "forbidden" && forbiddenReason(err) == workflows.ReasonFourEyes:
		it.Code = "four_eyes"
		it.Text = i18n.M("casework.err.four_eyes")
	case ae.Code == "forbidden" && forbiddenReason(err) == workflows.ReasonSupervisorOnly:
		it.Text = i18n.M("casework.err.second_approval_supervisor_only")
	case ae.Code == "task_already_claimed" && holder != "":
		it.Text = i18n.M("task.err.already_claimed", caseRef, holder)
	case ae.Code == "task_not_claimed" && holder != "":
		it.Text = i18n.M("casework.err.claimed_by", holder)
	case i18n.Has("task.err." + ae.Code):
		it.Text = i18n.M("task.err."+ae.Code, caseRef)
	case ae.Kind == app.Internal || ae.Kind == app.Unavailable:
		it.Text = i18n.M("casework.err.service_timeout")
	default:
		it.Text = i18n.M("task.err.conflict", caseRef)
	}
	return it
}

// forbiddenReason is the reason code a case workflow attached to a
// Forbidden refusal (workflows.ForbiddenReason), "" when there is none.
func forbiddenReason(err error) string {
	var appErr *temporal.ApplicationError
	var r workflows.ForbiddenReason
	if errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeForbidden && appErr.HasDetails() && appErr.Details(&r) == nil {
		return r.Code
	}
	return ""
}
