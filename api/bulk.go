package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/store"
	"sportello/workflows"
)

// Bulk actions on tasks (issue 4): assign a selection to a colleague, or
// approve a selection with one amount. Each item goes through exactly the
// methods of the single actions (claim, decide, assign, release), so each is
// audited and sent to its case workflow as an Update whose validator applies
// the same rules (four eyes included); results are per item.

// Bulk actions.
const (
	bulkAssign  = "assign"
	bulkApprove = "approve"
)

// maxBulkTasks bounds the tasks of one bulk request.
const maxBulkTasks = 100

// bulkRequest is the body of POST /api/v1/tasks/bulk.
type bulkRequest struct {
	Action      string   `json:"action"`
	TaskIDs     []string `json:"task_ids"`
	Assignee    string   `json:"assignee"`
	AmountCents *int64   `json:"amount_cents"`
	Reason      string   `json:"reason"`
}

// Result statuses of a bulk item.
const (
	bulkDone    = "done"
	bulkRefused = "refused"
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

// BulkResult is the response of POST /api/v1/tasks/bulk.
type BulkResult struct {
	Action  string     `json:"action"`
	Done    int        `json:"done"`
	Refused int        `json:"refused"`
	Items   []BulkItem `json:"items"`
}

// validate checks the request as a whole (field pointers into the body)
// and normalises it.
func (req *bulkRequest) validate() []FieldError {
	var fields []FieldError
	switch req.Action {
	case bulkApprove:
		d := req.decision()
		fields = append(fields, d.validate()...)
		req.Reason = d.Reason
	case bulkAssign:
		a := assignRequest{Assignee: req.Assignee, Reason: req.Reason}
		fields = append(fields, a.validate()...)
		req.Assignee, req.Reason = a.Assignee, a.Reason
	default:
		fields = append(fields, field("/action", "enum", "action must be assign or approve",
			"action deve essere assign o approve"))
	}
	switch {
	case len(req.TaskIDs) == 0:
		fields = append(fields, field("/task_ids", "min_items", "Select at least one task.",
			"Selezionare almeno una pratica."))
	case len(req.TaskIDs) > maxBulkTasks:
		fields = append(fields, field("/task_ids", "max_items", fmt.Sprintf("At most %d tasks at a time.", maxBulkTasks),
			fmt.Sprintf("Al massimo %d pratiche alla volta.", maxBulkTasks)))
	}
	seen := map[string]bool{}
	for i, id := range req.TaskIDs {
		ptr := fmt.Sprintf("/task_ids/%d", i)
		u, err := uuid.Parse(strings.TrimSpace(id))
		if err != nil {
			fields = append(fields, field(ptr, "format", "Not a task id.", "Non è l'identificativo di una pratica."))
			continue
		}
		req.TaskIDs[i] = u.String()
		if seen[req.TaskIDs[i]] {
			fields = append(fields, field(ptr, "unique", "This task is already in the list.", "Questa pratica è già nell'elenco."))
		}
		seen[req.TaskIDs[i]] = true
	}
	return fields
}

// decision is the single decision each item of a bulk approval gets.
func (req *bulkRequest) decision() decisionRequest {
	return decisionRequest{Outcome: workflows.OutcomeApprove, AmountCents: req.AmountCents, Reason: req.Reason}
}

func (s *server) bulkTasks(c *gin.Context) error {
	var req bulkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.bulk(c.Request.Context(), currentUser(c), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// bulk checks a bulk request, then does its action on each task in turn
// through the single-item methods. key, when not empty, makes a retried
// request apply each item once. Assigning is for supervisors (403).
func (s *server) bulk(ctx context.Context, user store.UserView, req bulkRequest, key string) (BulkResult, error) {
	if req.Action == bulkAssign && user.Role != roleSupervisor {
		return BulkResult{}, errForbiddenRole
	}
	if fields := req.validate(); len(fields) > 0 {
		return BulkResult{}, invalid(fields...)
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
			if req.Action == bulkApprove {
				out.Items[i] = s.bulkApproveOne(ctx, user, id, req.decision(), key)
			} else {
				out.Items[i] = s.bulkAssignOne(ctx, user, id, assignRequest{Assignee: req.Assignee, Reason: req.Reason}, key)
			}
		}()
	}
	wg.Wait()
	for _, it := range out.Items {
		if it.Status == bulkDone {
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
func (s *server) bulkApproveOne(ctx context.Context, user store.UserView, id string, d decisionRequest, key string) BulkItem {
	t, err := s.taskFor(ctx, user, id)
	if err != nil {
		return refusedItem(BulkItem{TaskID: id}, err, "")
	}
	it := BulkItem{TaskID: t.ID, CaseID: t.CaseID}
	claimed := false
	if t.Status == "open" && t.ClaimedBy == "" {
		if _, err := s.claim(ctx, user, t.ID, bulkKey(key, "claim")); err != nil {
			return refusedItem(it, err, s.claimedBy(ctx, user, t.ID))
		}
		claimed = true
	}
	res, err := s.decide(ctx, user, t.ID, d, bulkKey(key, "decide"))
	if err != nil {
		if claimed {
			if _, rerr := s.release(ctx, user, t.ID, bulkKey(key, "release")); rerr != nil {
				s.log.WarnContext(ctx, "bulk approve: give back the claim", "task_id", t.ID, "err", rerr)
			}
		}
		return refusedItem(it, err, t.ClaimedBy)
	}
	it.Status, it.Outcome, it.AmountCents = bulkDone, res.Outcome, res.AmountCents
	return it
}

// bulkAssignOne gives the task to the assignee, as a single assignment.
func (s *server) bulkAssignOne(ctx context.Context, user store.UserView, id string, a assignRequest, key string) BulkItem {
	t, err := s.taskFor(ctx, user, id)
	if err != nil {
		return refusedItem(BulkItem{TaskID: id}, err, "")
	}
	it := BulkItem{TaskID: t.ID, CaseID: t.CaseID}
	res, err := s.assign(ctx, user, t.ID, a, bulkKey(key, "assign"))
	if err != nil {
		return refusedItem(it, err, t.ClaimedBy)
	}
	it.Status, it.AssignedTo = bulkDone, res.AssignedTo
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
func (s *server) claimedBy(ctx context.Context, user store.UserView, id string) string {
	t, err := s.taskFor(ctx, user, id)
	if err != nil {
		return ""
	}
	return t.ClaimedBy
}

// refusedItem fills it with why err refused it, in English and Italian.
// holder is who had the task, for the "already claimed" message.
func refusedItem(it BulkItem, err error, holder string) BulkItem {
	he := toHTTP(err)
	it.Status, it.Code = bulkRefused, he.code
	caseRef := it.CaseID
	if caseRef == "" {
		caseRef = it.TaskID
	}
	switch {
	case len(he.fields) > 0:
		it.Code, it.Message, it.MessageIT = he.fields[0].Code, he.fields[0].Message, he.fields[0].MessageIT
	case he.code == "not_found":
		it.Message, it.MessageIT = "The task does not exist or is not visible to you.",
			"La pratica non esiste o non è visibile con il tuo profilo."
	case he.code == "forbidden" && forbiddenReason(err) == workflows.ReasonFourEyes:
		it.Code = "four_eyes"
		it.Message, it.MessageIT = "Four eyes: whoever gave the first approval cannot give the second.",
			"Quattro occhi: chi ha dato la prima approvazione non può dare la seconda."
	case he.code == "forbidden" && forbiddenReason(err) == workflows.ReasonSupervisorOnly:
		it.Message, it.MessageIT = "The second approval is for a supervisor.",
			"La seconda approvazione spetta a un supervisore."
	case he.code == "task_already_claimed" && holder != "":
		it.Message, it.MessageIT = translate(langEN, "task.err.already_claimed", caseRef, holder),
			translate(langIT, "task.err.already_claimed", caseRef, holder)
	case he.code == "task_not_claimed" && holder != "":
		it.Message, it.MessageIT = "The task is claimed by "+holder+".", "La pratica è in carico a "+holder+"."
	case hasMessage("task.err." + he.code):
		it.Message, it.MessageIT = translate(langEN, "task.err."+he.code, caseRef), translate(langIT, "task.err."+he.code, caseRef)
	case he.status >= 500:
		it.Message, it.MessageIT = "A service did not answer in time: check the task, then try again.",
			"Un servizio non ha risposto in tempo: controllare la pratica e riprovare."
	default:
		it.Message, it.MessageIT = translate(langEN, "task.err.conflict", caseRef), translate(langIT, "task.err.conflict", caseRef)
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
