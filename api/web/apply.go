package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/forms"
	"sportello/forms/htmlform"
	"sportello/internal/app"
	"sportello/internal/i18n"
	"sportello/internal/jsonx"
	"sportello/internal/store"
)

// steps of the application flow, for the step indicator.
var applySteps = []string{"apply.step1", "apply.step2", "apply.step3", "apply.step4"}

// applyData is the data of the three application pages.
type applyData struct {
	Form        forms.Form
	Description string        // the form's description in the page's language
	FormURL     string        // /apply/<form>
	CallQuery   string        // "?call=<id>": the call applied to, carried from step to step ("" for the only one open)
	FormHTML    template.HTML // the data step's fields (htmlform)
	Draft       string        // the application data as JSON, carried in a hidden field
	Token       string        // the idempotency token of the filing (summary)
	Summary     []summaryGroup
	Step        int // 1..4
	Steps       []string
	// OnBehalf is the citizen a Social Point operator files for (nil: the
	// citizen files for themselves).
	OnBehalf *store.DeskCitizen
	Consent  string // the error next to the operator's consent confirmation
}

// formTitle is the form's title in lang.
func formTitle(f forms.Form, lang string) string {
	if lang == langEN && f.TitleEN != "" {
		return f.TitleEN
	}
	return f.Title
}

func formDescription(f forms.Form, lang string) string {
	if lang == langEN && f.DescriptionEN != "" {
		return f.DescriptionEN
	}
	return f.Description
}

// applyForm reads the :form of the URL (404 page when unknown) in the
// version of the call applied to: ?call=, or the only call open for the form
// in the applicant's municipality (calls.Service.FilingCall); the latest
// when no call fixes one. With several open and none named, the citizen is
// sent to the list of open calls to choose one; so is one who named a call
// not open in their municipality (the list shows every municipality's).
func (s *Site) applyForm(c *gin.Context) (forms.Form, error) {
	applicant := applicantOf(c)
	fc, err := s.applications.Calls.FilingCall(c.Request.Context(), applicant.Scope(), c.Param("form"), applicant.Municipality, c.Query("call"))
	if err != nil {
		e := app.Classify(err)
		for _, f := range []struct{ code, kind, key string }{{"call_required", "info", "opencalls.choose"},
			{"call_not_open", "warning", "opencalls.call_not_open"}} {
			if hasField(e, f.code) {
				setFlash(c, f.kind, f.key)
				redirect(c, "/open-calls")
				return forms.Form{}, errAnswered
			}
		}
	}
	if err != nil {
		return forms.Form{}, err
	}
	f, ok := s.Forms.Get(c.Param("form"))
	if fc.Version > 0 {
		f, ok = s.Forms.GetVersion(c.Param("form"), fc.Version)
	}
	if !ok {
		return f, httpx.NotFound("form")
	}
	return f, nil
}

func (s *Site) applyView(c *gin.Context, f forms.Form, step int, d applyData) view {
	d.Form, d.Step, d.Steps = f, step, applySteps
	d.FormURL, d.CallQuery = applyBase(c)+url.PathEscape(f.ID), callQuery(c)
	d.OnBehalf = onBehalfOf(c)
	d.Description = formDescription(f, pageLang(c))
	return view{
		Title:  formTitle(f, pageLang(c)),
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}},
		Data:   d,
	}
}

// applyPrivacy is step 1: the privacy notice.
func (s *Site) applyPrivacy(c *gin.Context) error {
	f, err := s.applyForm(c)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "apply_privacy", s.applyView(c, f, 1, applyData{}))
	return nil
}

// applyDataPage is step 2 (GET): the form, prefilled with what the portal
// knows about the citizen.
func (s *Site) applyDataPage(c *gin.Context) error {
	f, err := s.applyForm(c)
	if err != nil {
		return err
	}
	values, err := s.applyPrefill(c)
	if err != nil {
		return err
	}
	return s.renderDataStep(c, f, http.StatusOK, values, nil)
}

// renderDataStep renders the data step with values and problems (pointers
// relative to the data).
func (s *Site) renderDataStep(c *gin.Context, f forms.Form, status int, values json.RawMessage, problems []forms.FieldError) error {
	lang := pageLang(c)
	fragment, err := htmlform.Render(s.applications.Calls.WithChoices(c.Request.Context(), f.Schema, httpx.CurrentUser(c).District), values, problems, lang)
	if err != nil {
		return err
	}
	v := s.applyView(c, f, 2, applyData{FormHTML: fragment})
	for _, p := range inFieldOrder(f.Schema, problems) {
		label := schemaLabel(f.Schema, p.Pointer, lang)
		href := "#" + htmlform.FieldID(p.Pointer)
		if p.Pointer == "" {
			href = "#form-fields"
		}
		text := p.In(lang)
		if label != "" {
			text = label + ": " + text
		}
		v.Errors = append(v.Errors, summaryItem{Href: href, Text: text})
	}
	s.render(c, status, "apply_data", v)
	return nil
}

// applyDataSubmit is step 2 (POST): array add/remove and "edit" re-render
// the form; otherwise the data is validated and either shown again with
// its errors (422) or summarised (step 3).
func (s *Site) applyDataSubmit(c *gin.Context) error {
	f, err := s.applyForm(c)
	if err != nil {
		return err
	}
	if err := c.Request.ParseForm(); err != nil {
		return httpx.New(http.StatusBadRequest, "form", "could not read the form")
	}
	form := c.Request.PostForm
	if form.Has("_edit") {
		// Back from the summary: the draft comes back in a hidden field.
		draft := []byte(form.Get("data"))
		if !json.Valid(draft) || !jsonx.IsJSONObject(draft) {
			draft = nil
		}
		return s.renderDataStep(c, f, http.StatusOK, draft, nil)
	}
	data, problems := htmlform.Parse(f.Schema, form)
	if changed, isAction := htmlform.ArrayAction(f.Schema, form, data); isAction {
		// An array item was added or removed: show the form again, unvalidated.
		return s.renderDataStep(c, f, http.StatusOK, changed, nil)
	}
	if len(problems) == 0 {
		problems, err = s.applications.CheckData(c.Request.Context(), applicantOf(c), f.ID, c.Query("call"), data)
		if err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return s.renderDataStep(c, f, http.StatusUnprocessableEntity, data, problems)
	}
	return s.renderSummary(c, f, data)
}

// newFormToken is a random token for hidden form fields that make a post
// idempotent (the same token filed twice files once).
func newFormToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var validFormToken = regexp.MustCompile(`^[0-9a-f]{32}$`)

// renderSummary is step 3: the data as a read-only list, with the draft and
// a fresh filing token in hidden fields.
func (s *Site) renderSummary(c *gin.Context, f forms.Form, data json.RawMessage) error {
	return s.renderSummaryStatus(c, f, data, http.StatusOK, "")
}

// renderSummaryStatus renders the summary with status and, for a filing on
// behalf, the error of the consent confirmation.
func (s *Site) renderSummaryStatus(c *gin.Context, f forms.Form, data json.RawMessage, status int, consentErr string) error {
	lang := pageLang(c)
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return err
	}
	schema := s.applications.Calls.WithChoices(c.Request.Context(), f.Schema, httpx.CurrentUser(c).District)
	d := applyData{Draft: compact.String(), Token: newFormToken(), Summary: summarise(schema, data, lang), Consent: consentErr}
	v := s.applyView(c, f, 3, d)
	if consentErr != "" {
		v.Errors = []summaryItem{{Href: "#consent", Text: consentErr}}
	}
	s.render(c, status, "apply_summary", v)
	return nil
}

// applySummarySubmit files the application (step 3 POST). The data is
// validated again; the token makes a double submit file one case.
func (s *Site) applySummarySubmit(c *gin.Context) error {
	f, err := s.applyForm(c)
	if err != nil {
		return err
	}
	user := httpx.CurrentUser(c)
	token := c.PostForm("token")
	draft := json.RawMessage(c.PostForm("data"))
	if !validFormToken.MatchString(token) || !json.Valid(draft) || !jsonx.IsJSONObject(draft) {
		setFlash(c, "danger", "apply.bad_draft")
		redirect(c, applyBase(c)+url.PathEscape(f.ID)+"/data"+callQuery(c))
		return nil
	}
	onBehalf := onBehalfOf(c)
	if onBehalf != nil && c.PostForm("consent") != "1" {
		return s.renderSummaryStatus(c, f, draft, http.StatusUnprocessableEntity, s.t(c, "desk.consent_required"))
	}
	v, _, err := s.applications.File(c.Request.Context(), user, f.ID, c.Query("call"), draft, "web:"+token, onBehalf)
	if err == nil {
		if onBehalf != nil {
			setFlash(c, "success", "desk.filed", v.ID, onBehalf.DisplayName)
			redirect(c, deskCitizenURL(onBehalf.PublicID))
			return nil
		}
		redirect(c, "/cases/"+url.PathEscape(v.ID)+"?filed=1")
		return nil
	}
	var refusal *app.Error
	if !errors.As(err, &refusal) {
		return err
	}
	he := httpx.From(err)
	switch {
	case he.Status == http.StatusUnprocessableEntity:
		// Rules only the filing checks (municipality, open call): back to
		// the data step with the errors next to the fields.
		var problems []forms.FieldError
		for _, fe := range he.Fields {
			ptr, ok := strings.CutPrefix(fe.Pointer, "/data")
			if !ok {
				ptr = ""
			}
			problems = append(problems, forms.FieldError{Pointer: ptr, Code: fe.Code, Text: fe.Text})
		}
		return s.renderDataStep(c, f, http.StatusUnprocessableEntity, draft, problems)
	case he.Code == "application_in_progress" && he.CaseID != "":
		setFlash(c, "warning", "apply.in_progress", he.CaseID)
		redirect(c, caseOrCitizenURL(c, he.CaseID))
		return nil
	}
	return err
}

// summaryGroup is a titled group of the summary (a nested object).
type summaryGroup struct {
	Title string
	Items []summaryEntry
}

// summaryEntry is one answered field.
type summaryEntry struct {
	Label, Value string
}

// applyNode is the part of a JSON Schema node the summary reads.
type applyNode struct {
	Title      string                       `json:"title"`
	TitleEN    string                       `json:"x-title-en"`
	Type       any                          `json:"type"`
	Format     string                       `json:"format"`
	Properties applyProps                   `json:"properties"`
	Items      *applyNode                   `json:"items"`
	EnumTitles map[string]map[string]string `json:"x-enum-titles"`
}

func (n *applyNode) label(lang string) string {
	if lang == langEN && n.TitleEN != "" {
		return n.TitleEN
	}
	return n.Title
}

// applyProps keeps the properties of a schema in document order.
type applyProps struct {
	names []string
	nodes map[string]*applyNode
}

func (p *applyProps) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("properties: want an object")
	}
	p.nodes = map[string]*applyNode{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var n applyNode
		if err := dec.Decode(&n); err != nil {
			return err
		}
		p.names = append(p.names, name)
		p.nodes[name] = &n
	}
	_, err := dec.Token()
	return err
}

func parseApplyNode(schema json.RawMessage) *applyNode {
	var n applyNode
	if err := json.Unmarshal(schema, &n); err != nil {
		return &applyNode{}
	}
	return &n
}

// schemaLabel is the title of the field at pointer ("" when unknown).
func schemaLabel(schema json.RawMessage, pointer, lang string) string {
	n := parseApplyNode(schema)
	if pointer == "" {
		return ""
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch {
		case n.Properties.nodes[tok] != nil:
			n = n.Properties.nodes[tok]
		case n.Items != nil:
			n = n.Items
		default:
			return ""
		}
	}
	return n.label(lang)
}

// summarise lists the answered fields of data, grouped by top-level object,
// with enum and boolean values in words.
func summarise(schema json.RawMessage, data json.RawMessage, lang string) []summaryGroup {
	root := parseApplyNode(schema)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	// Groups follow the form's order; the top-level fields that are not
	// objects form one untitled group where the first of them is, so that
	// what the form puts last (the declarations) comes last.
	var groups []summaryGroup
	loose := -1
	for _, name := range root.Properties.names {
		n := root.Properties.nodes[name]
		val, ok := v[name]
		if !ok {
			continue
		}
		if obj, isObj := val.(map[string]any); isObj && len(n.Properties.names) > 0 {
			g := summaryGroup{Title: n.label(lang)}
			flattenInto(&g, n, obj, "", lang)
			groups = append(groups, g)
			continue
		}
		if loose < 0 {
			loose = len(groups)
			groups = append(groups, summaryGroup{})
		}
		groups[loose].Items = append(groups[loose].Items, summaryEntry{Label: n.label(lang), Value: displayValue(n, val, lang, name)})
	}
	return groups
}

func flattenInto(g *summaryGroup, n *applyNode, obj map[string]any, prefix, lang string) {
	for _, name := range n.Properties.names {
		child := n.Properties.nodes[name]
		val, ok := obj[name]
		if !ok {
			continue
		}
		label := child.label(lang)
		if prefix != "" {
			label = prefix + " — " + label
		}
		if sub, isObj := val.(map[string]any); isObj {
			flattenInto(g, child, sub, label, lang)
			continue
		}
		g.Items = append(g.Items, summaryEntry{Label: label, Value: displayValue(child, val, lang, name)})
	}
}

// displayValue writes an answer for reading: enum and boolean values in
// words, dates (format "date") and amounts (numbers whose field name ends
// in "_euro") the way the language writes them: "1 gennaio 1980",
// "7.100,00 €".
func displayValue(n *applyNode, val any, lang, name string) string {
	switch x := val.(type) {
	case bool:
		if x {
			return translate(lang, "apply.yes")
		}
		return translate(lang, "apply.no")
	case string:
		if t, ok := n.EnumTitles[x]; ok {
			if s := t[lang]; s != "" {
				return s
			}
			return t["it"]
		}
		if x == "" {
			return translate(lang, "apply.empty")
		}
		if n.Format == "date" {
			if d, err := time.Parse(time.DateOnly, x); err == nil {
				return i18n.Date(lang, d, time.UTC)
			}
		}
		return x
	case json.Number:
		if cents, ok := euroCents(x); ok && strings.HasSuffix(name, "_euro") {
			return formatEuro(lang, cents)
		}
		s := x.String()
		if lang != langEN {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	case []any:
		parts := make([]string, 0, len(x))
		for _, item := range x {
			if n.Items != nil {
				if obj, isObj := item.(map[string]any); isObj {
					sub := summaryGroup{}
					flattenInto(&sub, n.Items, obj, "", lang)
					var kv []string
					for _, e := range sub.Items {
						kv = append(kv, e.Label+": "+e.Value)
					}
					parts = append(parts, strings.Join(kv, ", "))
					continue
				}
				parts = append(parts, displayValue(n.Items, item, lang, name))
				continue
			}
			parts = append(parts, fmt.Sprint(item))
		}
		return strings.Join(parts, "; ")
	case nil:
		return translate(lang, "apply.empty")
	}
	return fmt.Sprint(val)
}

// euroCents reads a JSON number of euro with at most two decimals as cents.
func euroCents(x json.Number) (int64, bool) {
	whole, frac, _ := strings.Cut(x.String(), ".")
	if len(frac) > 2 || strings.ContainsAny(whole, "eE") || strings.ContainsAny(frac, "eE") {
		return 0, false
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1_000_000_000 {
		return 0, false
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return w*100 + f, true
}

// inFieldOrder sorts problems the way their fields come in the form (the
// schema's document order; problems of the whole form first), so that the
// error summary reads like the page.
func inFieldOrder(schema json.RawMessage, problems []forms.FieldError) []forms.FieldError {
	root := parseApplyNode(schema)
	rank := func(pointer string) []int {
		var out []int
		n := root
		if pointer == "" {
			return out
		}
		for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch {
			case n != nil && n.Properties.nodes[tok] != nil:
				out = append(out, slices.Index(n.Properties.names, tok))
				n = n.Properties.nodes[tok]
			case n != nil && n.Items != nil:
				i, err := strconv.Atoi(tok)
				if err != nil {
					i = len(out)
				}
				out = append(out, i)
				n = n.Items
			default:
				out = append(out, 1<<30)
				n = nil
			}
		}
		return out
	}
	sorted := slices.Clone(problems)
	sort.SliceStable(sorted, func(i, j int) bool {
		return slices.Compare(rank(sorted[i].Pointer), rank(sorted[j].Pointer)) < 0
	})
	return sorted
}

// hasField says whether e refuses a field with code.
func hasField(e *app.Error, code string) bool {
	return slices.ContainsFunc(e.Fields, func(f app.FieldError) bool { return f.Code == code })
}

// callQuery is the ?call= of the request, to carry on to the next step.
func callQuery(c *gin.Context) string {
	if call := strings.TrimSpace(c.Query("call")); call != "" {
		return "?call=" + url.QueryEscape(call)
	}
	return ""
}
