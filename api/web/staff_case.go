package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/casework"
	"sportello/internal/calendar"
	"sportello/internal/jsonx"
	"sportello/internal/store"
	"sportello/workflows"
)

// The staff view of /cases/:id and the decision form.

type staffCaseData struct {
	Case          store.CaseView
	FormTitle     string
	FundName      string
	Municipality  string
	Applicant     string
	Created       string
	CreatedISO    string
	Updated       string
	UpdatedISO    string
	Data          []dataItem
	Precheck      *precheckView
	Events        []eventView
	Task          *caseTaskView
	Decision      *decisionView
	Back          string // this page, where claim and release come back
	Award         string
	VoucherStatus string
}

// dataItem is one entry of the application data as a definition list.
type dataItem struct {
	Label    string
	Value    string
	Children []dataItem
}

type precheckView struct {
	Passed bool
	At     string
	AtISO  string
	Checks []checkView
}

type checkView struct {
	Label       string
	Outcome     string // pass, warn, fail
	OutcomeText string
	Icon        string        // sprite id
	Detail      template.HTML // escaped, other cases' numbers linked (linkCases)
	DetailEN    bool          // English text shown on an Italian page (marked lang="en")
}

type eventView struct {
	At, AtISO string
	Text      string
	Actor     string
	Detail    string
	DetailEN  bool // the detail is English text written by the system
}

type caseTaskView struct {
	store.CaseTask
	Due, DueISO string
	Overdue     bool
	CanClaim    bool
	CanRelease  bool
	Mine        bool
	Key         string
	// Assignees: whom a supervisor may give the task to (empty for operators).
	Assignees []staffOption
	AssignKey string
}

// decisionView is the decision form: the values typed and their errors.
type decisionView struct {
	TaskID       string
	Key          string
	Outcome      string
	Outcomes     []staffOption
	OutcomeError string
	Amount       fieldView
	Reason       fieldView
}

// decisionInput is a posted decision form.
type decisionInput struct {
	Outcome, Amount, Reason string
	Errors                  map[string]string // by JSON pointer: /outcome, /amount_cents, /reason
}

var decisionOutcomes = []string{workflows.OutcomeApprove, workflows.OutcomeReject, workflows.OutcomeRequestInfo}

// staffCase renders the staff view of case caseID; in is the decision just
// posted (nil on a plain GET).
func (s *Site) staffCase(c *gin.Context, status int, caseID string, in *decisionInput) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	lang := pageLang(c)
	v, err := s.api.Case(ctx, user.Scope(), caseID)
	if errors.Is(err, store.ErrNotFound) {
		return httpx.NotFound("case")
	}
	if err != nil {
		return err
	}
	v = httpx.CaseForCaller(c, v, s.TemporalUIURL, s.Namespace)
	events, err := s.api.Timeline(ctx, user.Scope(), v.ID)
	if err != nil {
		return err
	}
	if err := s.core.AuditRead(ctx, user, store.AuditReadCase, v.ID, v.Municipality, map[string]string{"view": "page"}); err != nil {
		return err
	}
	// The fund's terms (name, award rule): the case is visible to the
	// user, read above under their scope.
	info, err := s.Store.LoadCase(ctx, v.ID)
	if err != nil {
		return err
	}
	names, _, err := s.municipalityNames(ctx, user)
	if err != nil {
		return err
	}
	d := staffCaseData{
		Case: v, FundName: info.Fund.Name, Municipality: names[v.Municipality],
		Created: romeDateTime(v.CreatedAt), CreatedISO: htmlTime(v.CreatedAt),
		Updated: romeDateTime(v.UpdatedAt), UpdatedISO: htmlTime(v.UpdatedAt),
		Back: "/cases/" + v.ID,
	}
	if d.Municipality == "" {
		d.Municipality = v.Municipality
	}
	if v.AwardCents != nil {
		d.Award = formatEuro(lang, *v.AwardCents)
	}
	if v.Voucher != nil {
		d.VoucherStatus = translate(lang, "status."+v.Voucher.Status)
	}
	d.Applicant = strings.TrimSpace(jsonx.StringAt(v.Data, "applicant", "first_name") + " " + jsonx.StringAt(v.Data, "applicant", "last_name"))
	if form, ok := s.Forms.GetVersion(v.Form, v.FormVersion); ok {
		d.FormTitle = form.Title
		if lang == langEN {
			d.FormTitle = form.TitleEN
		}
		d.Data = describeData(form.Schema, v.Data, lang, names)
	} else {
		d.FormTitle = v.Form
		d.Data = describeData(nil, v.Data, lang, names)
	}
	d.Precheck = s.precheckView(c, v.Precheck)
	for _, e := range events {
		d.Events = append(d.Events, s.eventView(c, e))
	}
	if v.Task != nil {
		tv := &caseTaskView{CaseTask: *v.Task, Due: romeDateTime(v.Task.DueAt), DueISO: htmlTime(v.Task.DueAt)}
		active := tv.Status == "open" || tv.Status == "claimed"
		tv.Overdue = active && tv.DueAt.Before(s.Now())
		tv.Mine = tv.Status == "claimed" && tv.ClaimedBy == user.Username
		tv.CanClaim = tv.Status == "open"
		tv.CanRelease = tv.Mine
		if tv.CanClaim || tv.CanRelease {
			tv.Key = newFormToken()
		}
		if active && user.Role == roleSupervisor {
			people, aerr := s.Store.API().Assignees(c.Request.Context(), user.District, v.Municipality)
			if aerr != nil {
				return aerr
			}
			for _, p := range people {
				if p.Username == tv.ClaimedBy {
					continue
				}
				tv.Assignees = append(tv.Assignees, staffOption{Value: p.Username, Label: p.DisplayName + " (" + p.Username + ")"})
			}
			tv.AssignKey = newFormToken()
		}
		d.Task = tv
		if tv.Mine {
			rule := info.Fund.Rule
			facts, ferr := info.Facts()
			ruleCents := int64(-1)
			if ferr == nil {
				ruleCents = rule.Amount(facts.Household.Members, facts.Household.Minors)
			}
			d.Decision = s.decisionForm(c, tv.ID, ruleCents, in)
		}
	}
	vw := view{Title: s.t(c, "staff.case.title", v.ID), Nav: "inbox", Data: d,
		Crumbs: []crumb{{Href: "/inbox", Text: s.t(c, "nav.inbox")}}}
	if d.Decision != nil {
		vw.Errors = d.Decision.summary()
	}
	s.render(c, status, "staff_case", vw)
	return nil
}

// decisionForm builds the decision form, with the posted values and their
// errors when in is not nil.
func (s *Site) decisionForm(c *gin.Context, taskID string, ruleCents int64, in *decisionInput) *decisionView {
	lang := pageLang(c)
	d := &decisionView{TaskID: taskID, Key: newFormToken()}
	hint := s.t(c, "staff.case.amount_hint_norule")
	if ruleCents >= 0 {
		hint = s.t(c, "staff.case.amount_hint", formatEuro(lang, ruleCents))
	}
	d.Amount = fieldView{Name: "amount", ID: "amount", Label: s.t(c, "staff.case.amount"), Hint: hint,
		Autocomplete: "off", Extra: map[string]string{"inputmode": "decimal", "maxlength": "20"}}
	d.Reason = fieldView{Name: "reason", ID: "reason", Label: s.t(c, "staff.case.reason"),
		Hint: s.t(c, "staff.case.reason_hint"), Extra: map[string]string{"maxlength": "2000"}}
	if in != nil {
		d.Outcome = in.Outcome
		d.Amount.Value = in.Amount
		d.Reason.Value = in.Reason
		d.OutcomeError = in.Errors["/outcome"]
		d.Amount.Error = in.Errors["/amount_cents"]
		d.Reason.Error = in.Errors["/reason"]
		if d.Amount.Error == "" && d.Reason.Error == "" && d.OutcomeError == "" && len(in.Errors) > 0 {
			for _, msg := range in.Errors {
				d.OutcomeError = msg
			}
		}
	}
	for _, o := range decisionOutcomes {
		d.Outcomes = append(d.Outcomes, staffOption{Value: o, Label: s.t(c, "staff.case.outcome."+o), Selected: o == d.Outcome})
	}
	return d
}

// summary lists the form's errors for the error summary.
func (d *decisionView) summary() []summaryItem {
	var out []summaryItem
	if d.OutcomeError != "" {
		out = append(out, summaryItem{Href: "#outcome-" + decisionOutcomes[0], Text: d.OutcomeError})
	}
	for _, f := range []fieldView{d.Amount, d.Reason} {
		if f.Error != "" {
			out = append(out, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
		}
	}
	return out
}

func (s *Site) decisionSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	lang := pageLang(c)
	t, err := s.casework.Task(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	in := &decisionInput{Outcome: c.PostForm("outcome"), Amount: strings.TrimSpace(c.PostForm("amount")),
		Reason: c.PostForm("reason"), Errors: map[string]string{}}
	req := casework.Decision{Outcome: in.Outcome, Reason: in.Reason}
	if in.Outcome == workflows.OutcomeApprove && in.Amount != "" {
		cents, ok := parseEuroInput(in.Amount)
		if !ok {
			in.Errors["/amount_cents"] = s.t(c, "staff.case.amount_invalid")
		} else {
			req.AmountCents = &cents
		}
	}
	if len(in.Errors) == 0 {
		res, err := s.casework.Decide(ctx, user, t.ID, req, postedKey(c))
		if err == nil {
			switch res.Outcome {
			case workflows.OutcomeApprove:
				setFlash(c, "success", "staff.case.done.approve", t.CaseID, formatEuro(lang, res.AmountCents))
			case workflows.OutcomeFirstApproval:
				setFlash(c, "success", "staff.case.done.first_approval", t.CaseID, formatEuro(lang, res.AmountCents))
			case workflows.OutcomeReject:
				setFlash(c, "success", "staff.case.done.reject", t.CaseID)
			default:
				setFlash(c, "success", "staff.case.done.request_info", t.CaseID)
			}
			redirect(c, "/cases/"+t.CaseID)
			return nil
		}
		he := httpx.From(err)
		switch {
		case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
			for _, f := range he.Fields {
				in.Errors[f.Pointer] = s.decisionFieldMessage(c, f)
			}
		case s.flashRefusal(c, err, t):
			redirect(c, "/cases/"+t.CaseID)
			return nil
		default:
			return err
		}
	} else {
		// Report the other problems of the form at once.
		for _, f := range req.Validate() {
			if _, dup := in.Errors[f.Pointer]; !dup {
				in.Errors[f.Pointer] = s.decisionFieldMessage(c, f)
			}
		}
	}
	return s.staffCase(c, http.StatusUnprocessableEntity, t.CaseID, in)
}

// decisionFieldMessage words a field problem of a decision for the page:
// the API's own checks speak of JSON members, so they get page wording.
func (s *Site) decisionFieldMessage(c *gin.Context, f FieldError) string {
	switch {
	case f.Pointer == "/outcome":
		return s.t(c, "staff.case.outcome_required")
	case f.Pointer == "/amount_cents" && (f.Code == "minimum" || f.Code == "maximum"):
		return s.t(c, "staff.case.amount_invalid")
	}
	return f.In(pageLang(c))
}

// ---- pre-check and timeline ----

func (s *Site) precheckView(c *gin.Context, raw json.RawMessage) *precheckView {
	var p struct {
		Passed bool          `json:"passed"`
		At     time.Time     `json:"at"`
		Checks []store.Check `json:"checks"`
	}
	if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &p) != nil || len(p.Checks) == 0 {
		return nil
	}
	out := &precheckView{Passed: p.Passed, At: romeDateTime(p.At), AtISO: htmlTime(p.At)}
	for _, ch := range p.Checks {
		cv := checkView{Label: s.tOr(c, "staff.check."+ch.Name, ch.Name), Outcome: ch.Outcome, Detail: linkCases(ch.Detail)}
		if pageLang(c) == "it" && ch.DetailIT != "" {
			cv.Detail = linkCases(ch.DetailIT) // cases checked before the Italian text existed keep the English one
		} else if pageLang(c) == "it" {
			cv.DetailEN = true
		}
		switch ch.Outcome {
		case "pass":
			cv.Icon = "it-check-circle"
		case "warn":
			cv.Icon = "it-warning-circle"
		default:
			cv.Outcome, cv.Icon = "fail", "it-close-circle"
		}
		cv.OutcomeText = s.t(c, "staff.check.outcome."+cv.Outcome)
		out.Checks = append(out.Checks, cv)
	}
	return out
}

// tOr translates key, or returns fallback when the catalogue lacks it.
func (s *Site) tOr(c *gin.Context, key, fallback string) string {
	if !hasMessage(key) {
		return fallback
	}
	return s.t(c, key)
}

func (s *Site) eventView(c *gin.Context, e store.CaseEvent) eventView {
	lang := pageLang(c)
	ev := eventView{At: romeDateTime(e.At), AtISO: htmlTime(e.At), Actor: e.Actor,
		Text: s.tOr(c, "staff.event."+e.Type, e.Type)}
	if e.Actor == "system" || e.Actor == "" {
		ev.Actor = s.t(c, "staff.event.system")
	}
	var d struct {
		Reason        string     `json:"reason"`
		Message       string     `json:"message"`
		AmountCents   *int64     `json:"amount_cents"`
		ReturnedCents *int64     `json:"returned_cents"`
		DueAt         *time.Time `json:"due_at"`
		Index         int        `json:"index"`
		Passed        *bool      `json:"passed"`
		Form          string     `json:"form"`
		Version       int        `json:"version"`
		DataChanged   bool       `json:"data_changed"`
		FiledByName   string     `json:"filed_by_name"`
		ForName       string     `json:"on_behalf_of_name"`
	}
	_ = json.Unmarshal(e.Detail, &d)
	var parts []string
	switch e.Type {
	case "submitted":
		if d.Form != "" {
			parts = append(parts, s.t(c, "staff.event.form", d.Form, d.Version))
		}
		if d.FiledByName != "" {
			parts = append(parts, s.t(c, "desk.event.on_behalf", d.FiledByName, d.ForName))
		}
	case "precheck":
		if d.Passed != nil && *d.Passed {
			parts = append(parts, s.t(c, "staff.event.precheck_passed"))
		} else if d.Passed != nil {
			parts = append(parts, s.t(c, "staff.event.precheck_failed"))
		}
	case "task_opened", "task_escalated":
		if d.DueAt != nil {
			parts = append(parts, s.t(c, "staff.event.due", romeDateTime(*d.DueAt)))
		}
		if e.Type == "task_escalated" {
			parts = append(parts, s.t(c, "staff.event.escalated_reason"))
			d.Reason = ""
		}
	case "approved":
		if d.AmountCents != nil {
			parts = append(parts, s.t(c, "staff.event.amount", formatEuro(lang, *d.AmountCents)))
		}
	case "tranche_released":
		if d.AmountCents != nil {
			parts = append(parts, s.t(c, "staff.event.tranche", d.Index, formatEuro(lang, *d.AmountCents)))
		}
	case "voucher_expired":
		if d.ReturnedCents != nil {
			parts = append(parts, s.t(c, "staff.event.returned", formatEuro(lang, *d.ReturnedCents)))
		}
	case "information_received":
		if d.DataChanged {
			parts = append(parts, s.t(c, "staff.event.data_changed"))
		}
	case "first_approval":
		if d.AmountCents != nil {
			parts = append(parts, s.t(c, "staff.event.amount", formatEuro(lang, *d.AmountCents)))
		}
		parts = append(parts, s.t(c, "staff.event.second_approval_needed"))
	case "task_reminder", "withdrawn":
		// The system's own reason, in English in the row: the event's text says it.
		if d.DueAt != nil {
			parts = append(parts, s.t(c, "staff.event.due", romeDateTime(*d.DueAt)))
		}
		d.Reason = ""
	case "task_assigned":
		parts = append(parts, assignmentText(lang, e.Detail)...)
		d.Reason = ""
	}
	if d.Reason != "" {
		parts = append(parts, s.t(c, "staff.event.reason", d.Reason))
	}
	if d.Message != "" {
		parts = append(parts, s.t(c, "staff.event.message", d.Message))
	}
	ev.Detail = strings.Join(parts, " ")
	return ev
}

// ---- application data as a definition list ----

// schemaNode is the part of a JSON Schema node the data list needs.
type schemaNode struct {
	Title      string          `json:"title"`
	TitleEN    string          `json:"x-title-en"`
	Type       json.RawMessage `json:"type"`
	Format     string          `json:"format"`
	Properties json.RawMessage `json:"properties"`
	Items      json.RawMessage `json:"items"`
	EnumTitles map[string]struct {
		IT string `json:"it"`
		EN string `json:"en"`
	} `json:"x-enum-titles"`
}

func (n schemaNode) label(lang, fallback string) string {
	switch {
	case lang == langEN && n.TitleEN != "":
		return n.TitleEN
	case n.Title != "":
		return n.Title
	}
	return fallback
}

// objectKeys returns the member names of a JSON object in document order.
func objectKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

// describeData lists application data with the titles of its form schema,
// in the schema's order; members the schema does not know come last under
// their own names. A member named "municipality" holding a municipality id
// shows the municipality's name (names).
func describeData(schema, data json.RawMessage, lang string, names map[string]string) []dataItem {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	var root schemaNode
	_ = json.Unmarshal(schema, &root)
	item := describeValue(root, v, lang, names, "", 0)
	return item.Children
}

func describeValue(n schemaNode, v any, lang string, names map[string]string, key string, depth int) dataItem {
	var it dataItem
	if depth > 8 {
		return it
	}
	switch x := v.(type) {
	case map[string]any:
		props := map[string]json.RawMessage{}
		_ = json.Unmarshal(n.Properties, &props)
		seen := map[string]bool{}
		for _, k := range objectKeys(n.Properties) {
			val, ok := x[k]
			if !ok {
				continue
			}
			seen[k] = true
			var child schemaNode
			_ = json.Unmarshal(props[k], &child)
			ci := describeValue(child, val, lang, names, k, depth+1)
			ci.Label = child.label(lang, k)
			it.Children = append(it.Children, ci)
		}
		var rest []string
		for k := range x {
			if !seen[k] {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			ci := describeValue(schemaNode{}, x[k], lang, names, k, depth+1)
			ci.Label = k
			it.Children = append(it.Children, ci)
		}
	case []any:
		var item schemaNode
		_ = json.Unmarshal(n.Items, &item)
		for i, e := range x {
			ci := describeValue(item, e, lang, names, key, depth+1)
			ci.Label = strconv.Itoa(i+1) + "."
			it.Children = append(it.Children, ci)
		}
		if len(x) == 0 {
			it.Value = "—"
		}
	case bool:
		if x {
			it.Value = translate(lang, "staff.yes")
		} else {
			it.Value = translate(lang, "staff.no")
		}
	case json.Number:
		it.Value = string(x)
		if lang != langEN {
			it.Value = strings.Replace(it.Value, ".", ",", 1)
		}
	case string:
		it.Value = x
		if t, ok := n.EnumTitles[x]; ok {
			it.Value = t.IT
			if lang == langEN && t.EN != "" {
				it.Value = t.EN
			}
		} else if name := names[x]; key == "municipality" && name != "" {
			it.Value = name
		} else if n.Format == "date" {
			if d, err := time.ParseInLocation(time.DateOnly, x, calendar.Rome()); err == nil {
				it.Value = d.Format("02/01/2006")
			}
		}
	case nil:
		it.Value = "—"
	}
	return it
}
