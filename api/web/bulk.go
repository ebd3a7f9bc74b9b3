package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/casework"
	"sportello/workflows"
)

// Bulk actions from the inbox page: the rows' checkboxes belong to the
// bulk form (form="bulk-form"), which posts the selection with the action to
// /inbox/bulk. The result is the same inbox page, rendered in the response,
// with a summary ("7 approvate, 2 rifiutate: …") and the refused tasks still
// selected. The work is done by s.bulk, as for POST /api/v1/tasks/bulk.

// bulkCtxKey carries the outcome of a bulk post to the inbox page.
const bulkCtxKey = "sportello.bulk"

// inboxBulk is the bulk panel of the inbox page.
type inboxBulk struct {
	Key          string        // idempotency token of the form
	CanAssign    bool          // supervisors
	Assignees    []staffOption // when CanAssign
	Amount       string        // as typed, kept after a refusal
	Assignee     string
	Reason       string
	SelectAllURL string // this page with every row selected (without JavaScript)
	// After a post:
	Summary  string
	Kind     string // alert kind: success, warning, danger
	Refused  []bulkRefusal
	Errors   map[string]string // field id → message
	Problems []summaryItem     // the error summary
}

type bulkRefusal struct {
	CaseID, Text string
}

// bulkPost is what a bulk post leaves for the inbox page.
type bulkPost struct {
	selected map[string]bool
	panel    inboxBulk
	status   int
	errors   []summaryItem
}

// bulkPageFields maps request pointers to the page's field ids.
var bulkPageFields = map[string]string{
	"/amount_cents": "bulk-amount",
	"/assignee":     "bulk-assignee",
	"/reason":       "bulk-reason",
	"/task_ids":     "bulk-form",
	"/action":       "bulk-form",
}

func (s *Site) bulkSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	lang := pageLang(c)
	ids := c.PostFormArray("task")
	post := &bulkPost{selected: map[string]bool{}, status: http.StatusOK, panel: inboxBulk{
		Amount: strings.TrimSpace(c.PostForm("amount")), Assignee: c.PostForm("assignee"), Reason: c.PostForm("reason"),
		Errors: map[string]string{},
	}}
	for _, id := range ids {
		post.selected[id] = true
	}
	req := casework.BulkRequest{Action: c.PostForm("action"), TaskIDs: ids, Assignee: post.panel.Assignee, Reason: post.panel.Reason}
	if req.Action == casework.BulkApprove && post.panel.Amount != "" {
		cents, ok := parseEuroInput(post.panel.Amount)
		if !ok {
			post.fail(c, "bulk-amount", s.t(c, "bulk.amount_invalid"))
		}
		req.AmountCents = &cents
	}
	if len(post.panel.Errors) == 0 {
		res, err := s.casework.Bulk(ctx, user, req, postedKey(c))
		he := httpx.From(err)
		switch {
		case err == nil:
			post.summarize(c, res)
		case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
			for _, f := range he.Fields {
				id := bulkPageFields[f.Pointer]
				if strings.HasPrefix(f.Pointer, "/task_ids/") || id == "" {
					id = "bulk-form"
				}
				post.fail(c, id, f.In(lang))
			}
		default:
			return err
		}
	}
	// Show the inbox the form came from.
	if next, err := url.Parse(safeNext(c.PostForm("next"))); err == nil && next.Path == "/inbox" {
		c.Request.URL.RawQuery = next.RawQuery
	} else {
		c.Request.URL.RawQuery = ""
	}
	c.Set(bulkCtxKey, post)
	return s.inboxPage(c)
}

// fail records a field problem of the bulk form.
func (p *bulkPost) fail(c *gin.Context, id, text string) {
	if _, dup := p.panel.Errors[id]; dup {
		return
	}
	p.panel.Errors[id] = text
	p.status = http.StatusUnprocessableEntity
	p.errors = append(p.errors, summaryItem{Href: "#" + id, Text: text})
	p.panel.Kind = "danger"
}

// summarize turns the per-item results into the page's summary; the refused
// tasks stay selected, the done ones are cleared.
func (p *bulkPost) summarize(c *gin.Context, res casework.BulkResult) {
	lang := pageLang(c)
	first := 0
	for _, it := range res.Items {
		if it.Status == casework.BulkDone {
			delete(p.selected, it.TaskID)
			if it.Outcome == workflows.OutcomeFirstApproval {
				first++
			}
			continue
		}
		caseID := it.CaseID
		if caseID == "" {
			caseID = it.TaskID
		}
		p.panel.Refused = append(p.panel.Refused, bulkRefusal{CaseID: caseID, Text: it.Text.In(lang)})
	}
	done := translate(lang, plural("bulk.done."+res.Action, res.Done), res.Done)
	refused := translate(lang, plural("bulk.refused", res.Refused), res.Refused)
	p.panel.Summary = done + ", " + refused
	if first > 0 {
		p.panel.Summary += " " + translate(lang, plural("bulk.first_approvals", first), first)
	}
	if res.Refused > 0 {
		p.panel.Summary += ":"
	} else {
		p.panel.Summary += "."
	}
	switch {
	case res.Refused == 0:
		p.panel.Kind = "success"
	case res.Done == 0:
		p.panel.Kind = "danger"
	default:
		p.panel.Kind = "warning"
	}
	// The form token was used: a new one for the next action.
	p.panel.Amount, p.panel.Reason = "", ""
}

// plural picks key.one or key.other.
func plural(key string, n int) string {
	if n == 1 {
		return key + ".one"
	}
	return key + ".other"
}

// withBulk adds the bulk panel to the inbox data: the refused or posted
// selection after a bulk post, every row with ?select=all. It returns the
// page's status and error summary.
func (s *Site) withBulk(c *gin.Context, d *inboxData) (int, []summaryItem) {
	user := httpx.CurrentUser(c)
	post, _ := c.Value(bulkCtxKey).(*bulkPost)
	if post == nil {
		post = &bulkPost{selected: map[string]bool{}, status: http.StatusOK}
	}
	all := c.Query("select") == "all"
	for i := range d.Rows {
		d.Rows[i].Selected = all || post.selected[d.Rows[i].ID]
	}
	panel := post.panel
	panel.Key = newFormToken()
	q := c.Request.URL.Query()
	q.Set("select", "all")
	panel.SelectAllURL = "/inbox?" + q.Encode()
	if user.Role == roleSupervisor {
		panel.CanAssign = true
		if people, err := s.api.DistrictStaff(c.Request.Context(), user.District); err == nil {
			for _, p := range people {
				label := p.DisplayName + " (" + p.Username + ")"
				panel.Assignees = append(panel.Assignees, staffOption{Value: p.Username, Label: label, Selected: p.Username == panel.Assignee})
			}
		} else {
			s.log.WarnContext(c.Request.Context(), "bulk: district staff", "err", err)
		}
	}
	panel.Problems = post.errors
	d.Bulk = &panel
	return post.status, post.errors
}
