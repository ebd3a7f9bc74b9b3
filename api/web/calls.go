package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/forms"
	"sportello/forms/htmlform"
	"sportello/internal/app/calls"
	"sportello/internal/calendar"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// The supervisors' "Bandi" pages (/calls): the district's calls and the
// form versions; uploading (or pasting) a new version of a form, its
// preview exactly as the citizen will see it (the same renderer and
// choices as the application page) and its publication; creating and
// editing a draft call and publishing it. internal/app/calls does the
// work, as for the JSON API.

type callsData struct {
	Calls    []callRow
	Versions []versionRow
	Forms    []staffOption
	Schema   fieldView
}

type callRow struct {
	store.Call
	Opens, Closes, Status string
}

type versionRow struct {
	store.FormVersion
	Status, Href string
}

func (s *Site) callsPage(c *gin.Context) error {
	return s.renderCalls(c, http.StatusOK, calls.NewFormVersion{}, nil)
}

// renderCalls shows the calls and the form versions, the upload form
// filled from req with the problems of a refused upload.
func (s *Site) renderCalls(c *gin.Context, status int, req calls.NewFormVersion, problems []FieldError) error {
	ctx, user, lang := c.Request.Context(), httpx.CurrentUser(c), pageLang(c)
	cs := s.applications.Calls
	list, err := cs.Calls(ctx, user)
	if err != nil {
		return err
	}
	versions, err := cs.FormVersions(ctx, user)
	if err != nil {
		return err
	}
	d := callsData{Schema: fieldView{Name: "schema", ID: "schema", Label: s.t(c, "calls.schema"), Value: string(req.Schema),
		Hint: s.t(c, "calls.schema_hint"), Required: true, Extra: map[string]string{"spellcheck": "false"}}}
	for _, x := range list {
		d.Calls = append(d.Calls, callRow{Call: x, Opens: i18n.Date(lang, x.OpensAt, calendar.Rome()),
			Closes: i18n.Date(lang, x.ClosesAt, calendar.Rome()), Status: s.t(c, "calls.status."+x.Status)})
	}
	for _, v := range versions {
		d.Versions = append(d.Versions, versionRow{FormVersion: v, Status: s.t(c, "calls.status."+v.Status),
			Href: "/form-versions/" + url.PathEscape(v.FormID) + "/" + strconv.Itoa(v.Version)})
	}
	for _, f := range s.Forms.List() {
		d.Forms = append(d.Forms, staffOption{Value: f.ID, Label: formTitle(f, lang), Selected: f.ID == req.FormID})
	}
	v := view{Title: s.t(c, "calls.title"), Nav: "calls", Data: &d}
	v.Errors = s.schemaErrors(c, &d.Schema, problems)
	s.render(c, status, "calls", v)
	return nil
}

func (s *Site) formVersionUploadSubmit(c *gin.Context) error {
	req := calls.NewFormVersion{FormID: c.PostForm("form_id"), Schema: json.RawMessage(c.PostForm("schema"))}
	if f, err := c.FormFile("schema_file"); err == nil && f.Size > 0 {
		r, err := f.Open()
		if err != nil {
			return err
		}
		defer r.Close()
		// One byte over the limit is enough for the check to refuse it.
		if req.Schema, err = io.ReadAll(io.LimitReader(r, forms.MaxSchemaBytes+1)); err != nil {
			return err
		}
	}
	v, err := s.applications.Calls.CreateFormVersion(c.Request.Context(), httpx.CurrentUser(c), req)
	if he := httpx.From(err); err != nil && he.Status == http.StatusUnprocessableEntity {
		return s.renderCalls(c, http.StatusUnprocessableEntity, req, he.Fields)
	}
	if err != nil {
		return err
	}
	setFlash(c, "success", "calls.version_uploaded", strconv.Itoa(v.Version))
	redirect(c, "/form-versions/"+url.PathEscape(v.FormID)+"/"+strconv.Itoa(v.Version))
	return nil
}

type previewData struct {
	Version  store.FormVersion
	Status   string
	FormHTML template.HTML
	Action   string // publish
	Edit     string // save the draft's schema
	Schema   fieldView
}

// formVersionPage is the preview of a form version: the form exactly as
// the citizen's application page shows it, with the publish button of a
// draft.
func (s *Site) formVersionPage(c *gin.Context) error {
	v, err := s.pathFormVersion(c)
	if err != nil {
		return err
	}
	return s.renderPreview(c, http.StatusOK, v, string(v.Schema), nil)
}

// pathFormVersion reads the form version the path names.
func (s *Site) pathFormVersion(c *gin.Context) (store.FormVersion, error) {
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil {
		return store.FormVersion{}, httpx.NotFound("form version")
	}
	return s.applications.Calls.FormVersion(c.Request.Context(), httpx.CurrentUser(c), c.Param("form"), version)
}

// renderPreview shows version v as the citizen will see it and, for a
// draft, its schema to edit (text, with the problems of a refused save).
func (s *Site) renderPreview(c *gin.Context, status int, v store.FormVersion, text string, problems []FieldError) error {
	ctx, user, lang := c.Request.Context(), httpx.CurrentUser(c), pageLang(c)
	fragment, err := htmlform.Render(s.applications.Calls.WithChoices(ctx, v.Schema, user.District), nil, nil, lang)
	if err != nil {
		return err
	}
	base := "/form-versions/" + url.PathEscape(v.FormID) + "/" + strconv.Itoa(v.Version)
	d := previewData{Version: v, Status: s.t(c, "calls.status."+v.Status), FormHTML: fragment, Action: base + "/publish", Edit: base,
		Schema: fieldView{Name: "schema", ID: "schema", Label: s.t(c, "calls.schema"), Value: text,
			Hint: s.t(c, "calls.schema_hint"), Required: true, Extra: map[string]string{"spellcheck": "false"}}}
	pv := view{Title: s.t(c, "calls.preview_title", v.FormID, strconv.Itoa(v.Version)),
		Nav: "calls", Crumbs: []crumb{{Href: "/calls", Text: s.t(c, "calls.title")}}, Data: &d}
	pv.Errors = s.schemaErrors(c, &d.Schema, problems)
	s.render(c, status, "form_preview", pv)
	return nil
}

// schemaErrors puts the problems of a refused schema next to its field
// and in the summary.
func (s *Site) schemaErrors(c *gin.Context, field *fieldView, problems []FieldError) []summaryItem {
	var out []summaryItem
	for _, p := range problems {
		text := p.In(pageLang(c))
		if p.Pointer != "" && p.Pointer != "/schema" && strings.HasPrefix(p.Pointer, "/schema") {
			text = s.t(c, "calls.at_pointer", strings.TrimPrefix(p.Pointer, "/schema"), text)
		}
		if field.Error == "" {
			field.Error = text
		}
		out = append(out, summaryItem{Href: "#" + field.ID, Text: field.Label + ": " + text})
	}
	return out
}

func (s *Site) formVersionSaveSubmit(c *gin.Context) error {
	v, err := s.pathFormVersion(c)
	if err != nil {
		return err
	}
	text := c.PostForm("schema")
	saved, err := s.applications.Calls.UpdateFormVersion(c.Request.Context(), httpx.CurrentUser(c), v.FormID, v.Version, json.RawMessage(text))
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "success", "calls.version_saved", strconv.Itoa(saved.Version))
	case he.Status == http.StatusUnprocessableEntity:
		return s.renderPreview(c, http.StatusUnprocessableEntity, v, text, he.Fields)
	case he.Status == http.StatusConflict:
		setFlash(c, "danger", "calls.err."+he.Code)
	default:
		return err
	}
	redirect(c, "/form-versions/"+url.PathEscape(v.FormID)+"/"+strconv.Itoa(v.Version))
	return nil
}

func (s *Site) formVersionPublishSubmit(c *gin.Context) error {
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil {
		return httpx.NotFound("form version")
	}
	v, err := s.applications.Calls.PublishFormVersion(c.Request.Context(), httpx.CurrentUser(c), c.Param("form"), version)
	if he := httpx.From(err); err != nil && he.Status == http.StatusConflict {
		setFlash(c, "danger", "calls.err."+he.Code)
		redirect(c, "/calls")
		return nil
	}
	if err != nil {
		return err
	}
	setFlash(c, "success", "calls.version_published", v.FormID, strconv.Itoa(v.Version))
	redirect(c, "/calls")
	return nil
}

// callForm is the call form's fields, as typed.
type callForm struct {
	Municipality, Name, FormVersion, Threshold, Budget, Base, PerMember, PerMinor, Max, Tranches, Opens, Closes, Expires string
}

type callEditData struct {
	ID                    string
	Published             bool
	Publishing            bool   // its budget commitment is being asked: "in attesa di conferma"
	Commitment            string // the confirmed commitment, as read (published)
	Refusal               string // why the accounting system refused the last publication, as read (draft)
	Action                string
	Municipality, Version selectView
	Fields                []fieldView
}

func callFormOf(c store.Call) callForm {
	var r calls.Rule
	_ = json.Unmarshal(c.Rule, &r)
	var ts []calls.Tranche
	_ = json.Unmarshal(c.Tranches, &ts)
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%d:%d", t.Percent, t.AfterDays))
	}
	euro := func(cents int64) string { return i18n.MoneyInput(i18n.IT, cents) }
	day := func(t time.Time) string { return t.In(calendar.Rome()).Format(time.DateOnly) }
	return callForm{Municipality: c.Municipality, Name: c.Name, FormVersion: c.FormID + "/" + strconv.Itoa(c.FormVersion),
		Threshold: euro(c.ISEEThresholdCents), Budget: euro(c.BudgetCents), Base: euro(r.BaseCents), PerMember: euro(r.PerExtraMemberCents),
		PerMinor: euro(r.PerMinorCents), Max: euro(r.MaxCents), Tranches: strings.Join(parts, "; "),
		Opens: day(c.OpensAt), Closes: day(c.ClosesAt), Expires: day(c.ExpiresAt)}
}

func postedCallForm(c *gin.Context) callForm {
	p := c.PostForm
	return callForm{Municipality: p("municipality"), Name: p("name"), FormVersion: p("form_version"), Threshold: p("isee_threshold"),
		Budget: p("budget"), Base: p("base"), PerMember: p("per_extra_member"), PerMinor: p("per_minor"), Max: p("max"),
		Tranches: p("tranches"), Opens: p("opens_at"), Closes: p("closes_at"), Expires: p("expires_at")}
}

// body turns the typed fields into the call's terms; what cannot be read
// is left out, so the service reports it as missing next to its field.
func (f callForm) body() calls.CallBody {
	b := calls.CallBody{Municipality: f.Municipality, Name: f.Name}
	if form, v, ok := strings.Cut(f.FormVersion, "/"); ok {
		b.FormID = form
		b.FormVersion, _ = strconv.Atoi(v)
	}
	cents := func(s string) *int64 {
		if v, ok := parseEuroInput(s); ok {
			return &v
		}
		return nil
	}
	b.ISEEThresholdCents, b.BudgetCents = cents(f.Threshold), cents(f.Budget)
	rule := map[string]*int64{"base_cents": cents(f.Base), "per_extra_member_cents": cents(f.PerMember),
		"per_minor_cents": cents(f.PerMinor), "max_cents": cents(f.Max)}
	b.Rule, _ = json.Marshal(rule)
	var ts []calls.Tranche
	for _, part := range strings.Split(f.Tranches, ";") {
		pct, days, _ := strings.Cut(strings.TrimSpace(part), ":")
		p, err1 := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(pct, "%")), 10, 64)
		d, err2 := strconv.ParseInt(strings.TrimSpace(days), 10, 64)
		if err1 != nil || err2 != nil {
			ts = []calls.Tranche{{}} // shown as a shape problem
			break
		}
		ts = append(ts, calls.Tranche{Percent: p, AfterDays: d})
	}
	b.Tranches, _ = json.Marshal(ts)
	day := func(s string) *time.Time {
		t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), calendar.Rome())
		if err != nil {
			return nil
		}
		return &t
	}
	b.OpensAt, b.ClosesAt, b.ExpiresAt = day(f.Opens), day(f.Closes), day(f.Expires)
	return b
}

func (s *Site) callNewPage(c *gin.Context) error {
	return s.renderCallEdit(c, http.StatusOK, store.Call{}, callForm{Tranches: "100:0"}, nil)
}

func (s *Site) callPage(c *gin.Context) error {
	call, err := s.applications.Calls.Call(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderCallEdit(c, http.StatusOK, call, callFormOf(call), nil)
}

// callFields are the call form's text fields: form field name, the
// pointer of the terms it fills, its message key and input type.
var callFields = []struct{ name, pointer, key, typ string }{
	{"name", "/name", "calls.name", "text"},
	{"isee_threshold", "/isee_threshold_cents", "calls.isee_threshold", "text"},
	{"budget", "/budget_cents", "calls.budget", "text"},
	{"base", "/rule/base_cents", "calls.rule_base", "text"},
	{"per_extra_member", "/rule/per_extra_member_cents", "calls.rule_per_member", "text"},
	{"per_minor", "/rule/per_minor_cents", "calls.rule_per_minor", "text"},
	{"max", "/rule/max_cents", "calls.rule_max", "text"},
	{"tranches", "/tranches", "calls.tranches", "text"},
	{"opens_at", "/opens_at", "calls.opens", "date"},
	{"closes_at", "/closes_at", "calls.closes", "date"},
	{"expires_at", "/expires_at", "calls.expires", "date"},
}

func (s *Site) renderCallEdit(c *gin.Context, status int, call store.Call, f callForm, problems []FieldError) error {
	ctx, user, lang := c.Request.Context(), httpx.CurrentUser(c), pageLang(c)
	_, munis, err := s.municipalityNames(ctx, user)
	if err != nil {
		return err
	}
	versions, err := s.applications.Calls.FormVersions(ctx, user)
	if err != nil {
		return err
	}
	d := callEditData{ID: call.ID, Published: call.Status == store.StatusPublished, Action: "/calls",
		Municipality: selectView{Name: "municipality", ID: "call-municipality", Label: s.t(c, "calls.municipality")},
		Version:      selectView{Name: "form_version", ID: "call-form-version", Label: s.t(c, "calls.form_version")}}
	if call.ID != "" {
		d.Action = "/calls/" + url.PathEscape(call.ID)
	}
	d.Publishing = call.Status == store.StatusPublishing
	if call.CommitmentNumber != "" && call.CommittedAt != nil {
		d.Commitment = s.t(c, "calls.commitment", call.CommitmentNumber, i18n.Money(lang, call.CommitmentCents),
			i18n.Date(lang, *call.CommittedAt, calendar.Rome()))
	}
	switch {
	case call.Status != store.StatusDraft || call.FundingRefusal == "":
	case call.FundingRefusal == store.FundingCancelled && call.PublicationCancelledAt != nil:
		d.Refusal = s.t(c, "calls.funding_refusal.cancelled", call.PublicationCancelledBy,
			i18n.DateTime(lang, *call.PublicationCancelledAt, calendar.Rome()))
	default:
		d.Refusal = s.t(c, "calls.funding_refusal."+call.FundingRefusal)
	}
	for _, m := range munis {
		d.Municipality.Options = append(d.Municipality.Options, staffOption{Value: m.Value, Label: m.Label, Selected: m.Value == f.Municipality})
	}
	for _, v := range versions {
		if v.Status != store.StatusPublished {
			continue
		}
		key := v.FormID + "/" + strconv.Itoa(v.Version)
		d.Version.Options = append(d.Version.Options, staffOption{Value: key, Label: s.t(c, "calls.version_label", v.FormID, strconv.Itoa(v.Version)),
			Selected: key == f.FormVersion})
	}
	values := map[string]string{"name": f.Name, "isee_threshold": f.Threshold, "budget": f.Budget, "base": f.Base,
		"per_extra_member": f.PerMember, "per_minor": f.PerMinor, "max": f.Max, "tranches": f.Tranches,
		"opens_at": f.Opens, "closes_at": f.Closes, "expires_at": f.Expires}
	errs := map[string]string{}
	v := view{Title: s.t(c, "calls.new_title"), Nav: "calls", Crumbs: []crumb{{Href: "/calls", Text: s.t(c, "calls.title")}}, Data: &d}
	if call.ID != "" {
		v.Title = call.Name
	}
	for _, p := range problems {
		msg := p.In(lang)
		switch p.Pointer {
		case "/municipality":
			d.Municipality.Error = msg
			v.Errors = append(v.Errors, summaryItem{Href: "#call-municipality", Text: s.t(c, "calls.municipality") + ": " + msg})
			continue
		case "/form_id", "/form_version":
			d.Version.Error = msg
			v.Errors = append(v.Errors, summaryItem{Href: "#call-form-version", Text: s.t(c, "calls.form_version") + ": " + msg})
			continue
		}
		for _, cf := range callFields {
			if cf.pointer == p.Pointer || (cf.pointer == "/rule/max_cents" && p.Pointer == "/rule") {
				errs[cf.name] = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#call-" + strings.ReplaceAll(cf.name, "_", "-"), Text: s.t(c, cf.key) + ": " + msg})
			}
		}
	}
	for _, cf := range callFields {
		fv := fieldView{Name: cf.name, ID: "call-" + strings.ReplaceAll(cf.name, "_", "-"), Label: s.t(c, cf.key), Type: cf.typ,
			Value: values[cf.name], Error: errs[cf.name], Required: true, Autocomplete: "off"}
		if h := cf.key + "_hint"; i18n.Has(h) {
			fv.Hint = s.t(c, h)
		}
		if cf.typ == "text" && cf.name != "name" && cf.name != "tranches" {
			fv.Extra = map[string]string{"inputmode": "decimal"}
		}
		d.Fields = append(d.Fields, fv)
	}
	s.render(c, status, "call_edit", v)
	return nil
}

// callSaved answers a create or update: the page again with the problems
// (422), a flash for a conflict, or the call's page.
func (s *Site) callSaved(c *gin.Context, call store.Call, f callForm, saved store.Call, err error) error {
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "success", "calls.saved", saved.Name)
		redirect(c, "/calls/"+url.PathEscape(saved.ID))
		return nil
	case he.Status == http.StatusUnprocessableEntity:
		return s.renderCallEdit(c, http.StatusUnprocessableEntity, call, f, he.Fields)
	case he.Status == http.StatusConflict:
		setFlash(c, "danger", "calls.err."+he.Code)
		redirect(c, "/calls/"+url.PathEscape(call.ID))
		return nil
	}
	return err
}

func (s *Site) callCreateSubmit(c *gin.Context) error {
	f := postedCallForm(c)
	saved, err := s.applications.Calls.CreateCall(c.Request.Context(), httpx.CurrentUser(c), f.body())
	return s.callSaved(c, store.Call{}, f, saved, err)
}

func (s *Site) callUpdateSubmit(c *gin.Context) error {
	ctx, user := c.Request.Context(), httpx.CurrentUser(c)
	call, err := s.applications.Calls.Call(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	f := postedCallForm(c)
	saved, err := s.applications.Calls.UpdateCall(ctx, user, call.ID, f.body())
	return s.callSaved(c, call, f, saved, err)
}

// callCancelPublicationSubmit withdraws the publication of a call being
// published: the page's button (no confirm) shows the confirmation, its
// button (confirm=1) withdraws (calls.Service.CancelPublication) and goes
// back to the call with what happened.
func (s *Site) callCancelPublicationSubmit(c *gin.Context) error {
	ctx, user, id := c.Request.Context(), httpx.CurrentUser(c), c.Param("id")
	if c.PostForm("confirm") != "1" {
		call, err := s.applications.Calls.Call(ctx, user, id)
		if err != nil {
			return err
		}
		s.render(c, http.StatusOK, "call_cancel_publication", view{Title: s.t(c, "calls.cancel_publication_title", call.Name), Nav: "calls",
			Crumbs: []crumb{{Href: "/calls", Text: s.t(c, "calls.title")}, {Href: "/calls/" + url.PathEscape(call.ID), Text: call.Name}},
			Data:   map[string]any{"ID": call.ID}})
		return nil
	}
	saved, err := s.applications.Calls.CancelPublication(ctx, user, id)
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "success", "calls.publication_cancelled", saved.Name)
	case he.Code == "call_published":
		setFlash(c, "danger", "calls.cancel_publication_too_late")
	case he.Status == http.StatusConflict, he.Code == "funding_unavailable":
		setFlash(c, "danger", "calls.err."+he.Code)
	default:
		return err
	}
	redirect(c, "/calls/"+url.PathEscape(id))
	return nil
}

func (s *Site) callPublishSubmit(c *gin.Context) error {
	saved, err := s.applications.Calls.PublishCall(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	he := httpx.From(err)
	switch {
	case err == nil && saved.Status == store.StatusPublished:
		setFlash(c, "success", "calls.published", saved.Name)
	case err == nil:
		setFlash(c, "info", "calls.publishing", saved.Name)
	case he.Status == http.StatusConflict, he.Code == "funding_unavailable":
		setFlash(c, "danger", "calls.err."+he.Code)
	case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
		setFlash(c, "danger", "calls.err.refused", he.Fields[0].In(pageLang(c)))
	default:
		return err
	}
	redirect(c, "/calls/"+url.PathEscape(c.Param("id")))
	return nil
}
