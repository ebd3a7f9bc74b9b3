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
	// Code, Message and MessageIT say why an item was refused.
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
	MessageIT string `json:"message_it,omitempty"`
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
		fields = append(fields, app.Field("/action", "enum", "action must be assign or approve",
			"action deve essere assign o approve"))
	}
	switch {
	case len(req.TaskIDs) == 0:
		fields = append(fields, app.Field("/task_ids", "min_items", "Select at least one task.",
			"Selezionare almeno una pratica."))
	case len(req.TaskIDs) > MaxBulkTasks:
		fields = append(fields, app.Field("/task_ids", "max_items", fmt.Sprintf("At most %d tasks at a time.", MaxBulkTasks),
			fmt.Sprintf("Al massimo %d pratiche alla volta.", MaxBulkTasks)))
	}
	seen := map[string]bool{}
	for i, id := range req.TaskIDs {
		ptr := fmt.Sprintf("/task_ids/%d", i)
		u, err := uuid.Parse(strings.TrimSpace(id))
		if err != nil {
			fields = append(fields, app.Field(ptr, "format", "Not a task id.", "Non è l'identificativo di una pratica."))
			continue
		}
		req.TaskIDs[i] = u.String()
		if seen[req.TaskIDs[i]] {
			fields = append(fields, app.Field(ptr, "unique", "This task is already in the list.", "Questa pratica è già nell'elenco."))
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

// RefusedItem fills it with why err refused it, in English and Italian.
// holder is who had the task, for the "already claimed" message.
func RefusedItem(it BulkItem, err error, holder string) BulkItem {
	ae := app.Classify(err)
	it.Status, it.Code = BulkRefused, ae.Code
	caseRef := it.CaseID
	if caseRef == "" {
		caseRef = it.TaskID
	}
	both := func(id string, args ...any) (string, string) {
		return i18n.T(i18n.EN, id, args...), i18n.T(i18n.IT, id, args...)
	}
	switch {
	case len(ae.Fields) > 0:
		it.Code, it.Message, it.MessageIT = ae.Fields[0].Code, ae.Fields[0].Message, ae.Fields[0].MessageIT
	case ae.Code == "not_found":
		it.Message, it.MessageIT = "The task does not exist or is not visible to you.",
			"La pratica non esiste o non è visibile con il tuo profilo."
	case ae.Code == "forbidden" && forbiddenReason(err) == workflows.ReasonFourEyes:
		it.Code = "four_eyes"
		it.Message, it.MessageIT = "Four eyes: whoever gave the first approval cannot give the second.",
			"Quattro occhi: chi ha dato la prima approvazione non può dare la seconda."
	case ae.Code == "forbidden" && forbiddenReason(err) == workflows.ReasonSupervisorOnly:
		it.Message, it.MessageIT = "The second approval is for a supervisor.",
			"La seconda approvazione spetta a un supervisore."
	case ae.Code == "task_already_claimed" && holder != "":
		it.Message, it.MessageIT = both("task.err.already_claimed", caseRef, holder)
	case ae.Code == "task_not_claimed" && holder != "":
		it.Message, it.MessageIT = "The task is claimed by "+holder+".", "La pratica è in carico a "+holder+"."
	case i18n.Has("task.err." + ae.Code):
		it.Message, it.MessageIT = both("task.err."+ae.Code, caseRef)
	case ae.Kind == app.Internal || ae.Kind == app.Unavailable:
		it.Message, it.MessageIT = "A service did not answer in time: check the task, then try again.",
			"Un servizio non ha risposto in tempo: controllare la pratica e riprovare."
	default:
		it.Message, it.MessageIT = both("task.err.conflict", caseRef)
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
