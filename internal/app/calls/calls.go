// Package calls is new calls for applications without a release (issue
// 15): a district's supervisor uploads a new version of a form (a JSON
// Schema checked against the meta-schema and the platform's rules, and
// previewed with the same renderer the citizen's page uses), publishes
// it, then creates a call tied to a published form version with its award
// rule, ISEE threshold, budget, tranches and dates, and publishes it: the
// call becomes a fund that takes applications of that form version only.
//
// The package also keeps the forms registry in step with the database:
// the embedded schemas are imported as the platform's version rows
// (idempotent), every published version is compiled into the registry,
// and a version published on another replica is loaded when a case or a
// call needs it (EnsureVersion). The served schema of a form is standard
// JSON Schema: the municipality choices are an enum and a oneOf of the
// reader's district (Schema).
//
// Each use case is here once: the rule, the authorization decision beyond
// the route gate (a supervisor's own district only, enforced by the store's
// scope and row-level security), the store calls and the audit. The JSON
// API (api/calls.go) and the pages (api/web/calls.go) only decode their
// input and show the result.
package calls

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/forms"
	"sportello/forms/htmlform"
	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/workflows"
)

// Service does the calls and form versions use cases.
type Service struct {
	*app.Core
	Forms  *forms.Registry
	synced *syncState
}

type syncState struct {
	mu   sync.Mutex
	done bool
}

// New returns the calls service on core, keeping reg in step with the
// database.
func New(core *app.Core, reg *forms.Registry) Service {
	return Service{Core: core, Forms: reg, synced: &syncState{}}
}

// Audit actions of calls and form versions.
const (
	AuditFormVersionCreated       = "form_version_created"
	AuditFormVersionUpdated       = "form_version_updated"
	AuditFormVersionPublished     = "form_version_published"
	AuditCallCreated              = "call_created"
	AuditCallUpdated              = "call_updated"
	AuditCallPublished            = "call_published"
	AuditCallPublicationCancelled = "call_publication_cancelled"
)

// Sync imports the embedded versions of every form as the platform's
// published rows (once: rows already there are left alone) and compiles
// every published version into the registry. It runs once per process,
// on first use; a failure is retried at the next use. The platform's
// versions and the districts' have ranges of their own (migration 035);
// an embedded version whose number a district's version stored before
// them has is an error wrapping store.ErrFormVersionTaken: nothing is
// filed or served until the release numbers it otherwise, rather than a
// district's cases validated against the platform's document.
func (s Service) Sync(ctx context.Context) error {
	s.synced.mu.Lock()
	defer s.synced.mu.Unlock()
	if s.synced.done {
		return nil
	}
	for _, v := range s.Forms.All() {
		if err := s.API.ImportFormVersion(ctx, v.ID, v.Version, v.Schema, s.Now()); err != nil {
			return err
		}
	}
	published, err := s.API.PublishedFormVersions(ctx)
	if err != nil {
		return err
	}
	for _, v := range published {
		if err := s.Forms.Register(v.FormID, v.District, v.Version, v.Schema); err != nil {
			// An embedded version edited after its import: the binary's
			// copy is the one compiled; say so and carry on.
			s.Log.WarnContext(ctx, "form version not registered", "form", v.FormID, "version", v.Version, "err", err)
		}
	}
	s.synced.done = true
	return nil
}

// EnsureVersion makes sure the registry holds version of form, loading a
// published version from the database when it lacks it (a version
// published on another replica). 0 is the latest: nothing to load.
func (s Service) EnsureVersion(ctx context.Context, form string, version int) error {
	if version == 0 {
		return s.Sync(ctx)
	}
	if _, ok := s.Forms.GetVersion(form, version); ok {
		return nil
	}
	if err := s.Sync(ctx); err != nil {
		return err
	}
	if _, ok := s.Forms.GetVersion(form, version); ok {
		return nil
	}
	v, err := s.API.FormVersionOf(ctx, store.System, form, version)
	if err != nil {
		return err
	}
	if v.Status != store.StatusPublished {
		return store.ErrNotFound
	}
	return s.Forms.Register(form, v.District, version, v.Schema)
}

// FilingCall is the call an application of form for municipality (id or
// name, in the data) is filed under by a member of scope's district, and
// its form version, loaded into the registry. The rule, the same for the
// JSON API and the pages:
//   - call named: it must be open now for that form and municipality
//     (Invalid "/call" "call_not_open" otherwise);
//   - no call named: the only call open for the form there; none open is a
//     zero FilingCall (the filing then refuses "no_open_call"); more than
//     one is Invalid "/call" "call_required": the citizen chooses.
//
// Version 0 is a fund from before the calls: the form's latest version.
func (s Service) FilingCall(ctx context.Context, scope store.Scope, form, municipality, call string) (store.FilingCall, error) {
	if err := s.Sync(ctx); err != nil {
		return store.FilingCall{}, err
	}
	call = strings.TrimSpace(call)
	open, err := s.API.OpenFilingCalls(ctx, scope, form, municipality, call, s.Now())
	if err != nil {
		return store.FilingCall{}, err
	}
	switch {
	case len(open) == 0 && call != "":
		return store.FilingCall{}, app.InvalidInput(app.Field("/call", "call_not_open", "calls.err.call_not_open"))
	case len(open) == 0:
		return store.FilingCall{}, nil
	case len(open) > 1:
		return store.FilingCall{}, app.InvalidInput(app.Field("/call", "call_required", "calls.err.call_required"))
	}
	if open[0].Version == 0 {
		return open[0], nil
	}
	return open[0], s.EnsureVersion(ctx, form, open[0].Version)
}

// Schema is the schema of version of form (0: the latest) as served to
// user: standard JSON Schema whose municipality choices are those of the
// user's district (forms.WithChoices). NotFound "form" for an unknown
// form or version.
func (s Service) Schema(ctx context.Context, user store.UserView, form string, version int) (forms.Form, error) {
	if err := s.EnsureVersion(ctx, form, version); err != nil && !errors.Is(err, store.ErrNotFound) {
		return forms.Form{}, err
	}
	var f forms.Form
	var ok bool
	if version == 0 {
		f, ok = s.Forms.Get(form)
	} else {
		f, ok = s.Forms.GetVersion(form, version)
	}
	if !ok || (f.District != "" && f.District != user.District) {
		// Another district's own version: not this reader's to use.
		return forms.Form{}, app.Missing("form")
	}
	f.Schema = s.WithChoices(ctx, f.Schema, user.District)
	return f, nil
}

// WithChoices gives schema the municipalities of district as the choices
// of its municipality fields; the schema as it is when they cannot be read.
func (s Service) WithChoices(ctx context.Context, schema json.RawMessage, district string) json.RawMessage {
	places, err := s.API.Municipalities(ctx, district)
	if err != nil {
		s.Log.WarnContext(ctx, "municipalities for a form", "district", district, "err", err)
		return schema
	}
	choices := make([]forms.Choice, 0, len(places))
	for _, p := range places {
		choices = append(choices, forms.Choice{Value: p.ID, Title: p.Name, TitleEN: p.Name})
	}
	return forms.WithChoices(schema, choices)
}

// FormVersions lists the versions user reads: every published one and
// their district's drafts.
func (s Service) FormVersions(ctx context.Context, user store.UserView) ([]store.FormVersion, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s.API.FormVersions(ctx, user.Scope())
}

// FormVersion reads one version user reads (NotFound otherwise).
func (s Service) FormVersion(ctx context.Context, user store.UserView, form string, version int) (store.FormVersion, error) {
	if err := s.Sync(ctx); err != nil {
		return store.FormVersion{}, err
	}
	v, err := s.API.FormVersionOf(ctx, user.Scope(), form, version)
	if errors.Is(err, store.ErrNotFound) {
		return v, app.Missing("form version")
	}
	return v, err
}

// NewFormVersion is a schema to store as the next version of a form.
type NewFormVersion struct {
	FormID string          `json:"form_id"`
	Schema json.RawMessage `json:"schema"`
}

// CheckSchema checks schema as a version of form: the form is one the
// platform knows (its workflow and case numbers), the schema passes
// forms.CheckSchema and the portal's renderer shows it. Problems point
// into the request: /form_id, /schema/...
func (s Service) CheckSchema(form string, schema json.RawMessage) []app.FieldError {
	if _, ok := s.Forms.Get(form); !ok {
		return []app.FieldError{app.Field("/form_id", "unknown_form", "applications.err.unknown_form", form)}
	}
	if len(schema) == 0 || string(schema) == "null" {
		return []app.FieldError{app.Field("/schema", "required", "calls.err.schema_required")}
	}
	var out []app.FieldError
	for _, p := range forms.CheckSchema(form, schema) {
		out = append(out, app.FieldError{Pointer: "/schema" + p.Pointer, Code: p.Code, Text: p.Text})
	}
	if len(out) > 0 {
		return out
	}
	if _, err := htmlform.Render(schema, nil, nil, i18n.IT); err != nil {
		return []app.FieldError{app.Field("/schema", "not_renderable", "calls.err.schema_not_renderable", err.Error())}
	}
	return nil
}

// CreateFormVersion stores req's schema as a draft of the next version of
// its form in user's district (Invalid with pointers into the schema).
func (s Service) CreateFormVersion(ctx context.Context, user store.UserView, req NewFormVersion) (store.FormVersion, error) {
	req.FormID = strings.TrimSpace(req.FormID)
	if fields := s.CheckSchema(req.FormID, req.Schema); len(fields) > 0 {
		return store.FormVersion{}, app.InvalidInput(fields...)
	}
	if err := s.Sync(ctx); err != nil {
		return store.FormVersion{}, err
	}
	var out store.FormVersion
	e := store.AuditEntry{Action: AuditFormVersionCreated, Detail: app.AuditDetail(map[string]any{"form_id": req.FormID})}
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.CreateFormVersion(ctx, user.Scope(), req.FormID, req.Schema, user.Username, s.Now())
		return err
	})
	return out, err
}

// UpdateFormVersion replaces the schema of a draft of user's district
// (Conflict "form_version_published" once published).
func (s Service) UpdateFormVersion(ctx context.Context, user store.UserView, form string, version int, schema json.RawMessage) (store.FormVersion, error) {
	if fields := s.CheckSchema(form, schema); len(fields) > 0 {
		return store.FormVersion{}, app.InvalidInput(fields...)
	}
	var out store.FormVersion
	e := store.AuditEntry{Action: AuditFormVersionUpdated, Detail: app.AuditDetail(map[string]any{"form_id": form, "version": version})}
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.UpdateFormVersion(ctx, user.Scope(), form, version, schema)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, app.Missing("form version")
	}
	return out, err
}

// PublishFormVersion publishes a draft of user's district and compiles it
// into the registry (Conflict "form_version_published" the second time).
func (s Service) PublishFormVersion(ctx context.Context, user store.UserView, form string, version int) (store.FormVersion, error) {
	var out store.FormVersion
	e := store.AuditEntry{Action: AuditFormVersionPublished, Detail: app.AuditDetail(map[string]any{"form_id": form, "version": version})}
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.PublishFormVersion(ctx, user.Scope(), form, version, s.Now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, app.Missing("form version")
	}
	if err != nil {
		return out, err
	}
	return out, s.Forms.Register(out.FormID, out.District, out.Version, out.Schema)
}

// CallBody is what a supervisor writes of a call (POST /api/v1/calls, PUT
// /api/v1/calls/{id}).
type CallBody struct {
	Municipality       string          `json:"municipality"`
	Name               string          `json:"name"`
	FormID             string          `json:"form_id"`
	FormVersion        int             `json:"form_version"`
	ISEEThresholdCents *int64          `json:"isee_threshold_cents"`
	Rule               json.RawMessage `json:"rule"`
	Tranches           json.RawMessage `json:"tranches"`
	BudgetCents        *int64          `json:"budget_cents"`
	OpensAt            *time.Time      `json:"opens_at"`
	ClosesAt           *time.Time      `json:"closes_at"`
	ExpiresAt          *time.Time      `json:"expires_at"`
}

// Rule is the award rule of a call: a base amount, more per member beyond
// the first and per minor, up to a maximum (what the case workflow
// computes the award with).
type Rule struct {
	BaseCents           int64 `json:"base_cents"`
	PerExtraMemberCents int64 `json:"per_extra_member_cents"`
	PerMinorCents       int64 `json:"per_minor_cents"`
	MaxCents            int64 `json:"max_cents"`
}

// Tranche is one part of an award, released after_days after the decision.
type Tranche struct {
	Percent   int64 `json:"percent"`
	AfterDays int64 `json:"after_days"`
}

// Limits of a call's terms.
const (
	maxNameRunes  = 200
	maxTranches   = 12
	maxAmount     = 100_000_00     // an award of at most EUR 100,000
	maxBudget     = 100_000_000_00 // a budget of at most EUR 100 million
	maxThreshold  = 1_000_000_00   // an ISEE threshold of at most EUR 1 million
	maxAfterDays  = 366
	maxCallLength = 2 * 366 * 24 * time.Hour
)

// Validate normalises the body and checks it: every term present, dates in
// order (opens < closes <= expires, at most two years open), the rule and
// the tranches in shape (tranches adding up to 100%, in order).
func (b *CallBody) Validate() (store.CallTerms, []app.FieldError) {
	b.Municipality, b.FormID = strings.TrimSpace(b.Municipality), strings.TrimSpace(b.FormID)
	b.Name = strings.Join(strings.Fields(b.Name), " ")
	var f []app.FieldError
	required := func(ptr string) { f = append(f, app.Field(ptr, "required", "calls.err.required")) }
	if b.Municipality == "" {
		required("/municipality")
	}
	switch n := utf8.RuneCountInString(b.Name); {
	case n == 0:
		required("/name")
	case n > maxNameRunes:
		f = append(f, app.Field("/name", "too_long", "calls.err.name_too_long", maxNameRunes))
	}
	if b.FormID == "" {
		required("/form_id")
	}
	if b.FormVersion <= 0 {
		required("/form_version")
	}
	amount := func(ptr string, v *int64, lo, hi int64) int64 {
		switch {
		case v == nil:
			required(ptr)
			return 0
		case *v < lo || *v > hi:
			f = append(f, app.Field(ptr, "out_of_range", "calls.err.amount_range", i18n.WholeEuro(i18n.IT, lo/100), i18n.WholeEuro(i18n.IT, hi/100)))
		}
		return *v
	}
	threshold := amount("/isee_threshold_cents", b.ISEEThresholdCents, 0, maxThreshold)
	budget := amount("/budget_cents", b.BudgetCents, 100, maxBudget)
	f = append(f, checkRule(b.Rule)...)
	f = append(f, checkTranches(b.Tranches)...)
	for ptr, t := range map[string]*time.Time{"/opens_at": b.OpensAt, "/closes_at": b.ClosesAt, "/expires_at": b.ExpiresAt} {
		if t == nil || t.IsZero() {
			required(ptr)
		}
	}
	if b.OpensAt != nil && b.ClosesAt != nil && b.ExpiresAt != nil {
		switch {
		case !b.OpensAt.Before(*b.ClosesAt):
			f = append(f, app.Field("/closes_at", "order", "calls.err.closes_before_opens"))
		case b.ClosesAt.Sub(*b.OpensAt) > maxCallLength:
			f = append(f, app.Field("/closes_at", "out_of_range", "calls.err.too_long_open"))
		case b.ExpiresAt.Before(*b.ClosesAt):
			f = append(f, app.Field("/expires_at", "order", "calls.err.expires_before_closes"))
		}
	}
	if len(f) > 0 {
		sort.SliceStable(f, func(i, j int) bool { return f[i].Pointer < f[j].Pointer })
		return store.CallTerms{}, f
	}
	return store.CallTerms{Municipality: b.Municipality, Name: b.Name, FormID: b.FormID, FormVersion: b.FormVersion,
		ISEEThresholdCents: threshold, Rule: b.Rule, Tranches: b.Tranches, BudgetCents: budget,
		OpensAt: *b.OpensAt, ClosesAt: *b.ClosesAt, ExpiresAt: *b.ExpiresAt}, nil
}

// strictDecode decodes raw into v, refusing unknown members and trailing data.
func strictDecode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func checkRule(raw json.RawMessage) []app.FieldError {
	if len(raw) == 0 || string(raw) == "null" {
		return []app.FieldError{app.Field("/rule", "required", "calls.err.required")}
	}
	var r Rule
	if err := strictDecode(raw, &r); err != nil {
		return []app.FieldError{app.Field("/rule", "shape", "calls.err.rule_shape")}
	}
	var f []app.FieldError
	for ptr, v := range map[string]int64{"/rule/base_cents": r.BaseCents, "/rule/per_extra_member_cents": r.PerExtraMemberCents,
		"/rule/per_minor_cents": r.PerMinorCents, "/rule/max_cents": r.MaxCents} {
		if v < 0 || v > maxAmount {
			f = append(f, app.Field(ptr, "out_of_range", "calls.err.amount_range", "0", i18n.WholeEuro(i18n.IT, maxAmount/100)))
		}
	}
	if len(f) == 0 && (r.MaxCents == 0 || r.BaseCents > r.MaxCents) {
		f = append(f, app.Field("/rule/max_cents", "order", "calls.err.rule_max"))
	}
	return f
}

func checkTranches(raw json.RawMessage) []app.FieldError {
	if len(raw) == 0 || string(raw) == "null" {
		return []app.FieldError{app.Field("/tranches", "required", "calls.err.required")}
	}
	var ts []Tranche
	if err := strictDecode(raw, &ts); err != nil || len(ts) == 0 || len(ts) > maxTranches {
		return []app.FieldError{app.Field("/tranches", "shape", "calls.err.tranches_shape", maxTranches)}
	}
	var sum, last int64
	for i, t := range ts {
		if t.Percent <= 0 || t.Percent > 100 || t.AfterDays < 0 || t.AfterDays > maxAfterDays || (i > 0 && t.AfterDays < last) {
			return []app.FieldError{app.Field("/tranches", "shape", "calls.err.tranches_shape", maxTranches)}
		}
		sum, last = sum+t.Percent, t.AfterDays
	}
	if sum != 100 {
		return []app.FieldError{app.Field("/tranches", "sum", "calls.err.tranches_sum")}
	}
	return nil
}

// Calls lists the calls of user's district: a supervisor every one, drafts
// included; a citizen the published calls open now in their municipality.
func (s Service) Calls(ctx context.Context, user store.UserView) ([]store.Call, error) {
	if user.Role == string(contract.RoleSupervisor) {
		return s.API.Calls(ctx, user.Scope(), "", false, s.Now())
	}
	return s.API.Calls(ctx, user.Scope(), user.Municipality, true, s.Now())
}

// Call reads one call user reads (NotFound otherwise; a citizen or an
// operator reads only the published calls of their municipality).
func (s Service) Call(ctx context.Context, user store.UserView, id string) (store.Call, error) {
	c, err := s.API.CallOf(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.sees(user, c)) {
		return store.Call{}, app.Missing("call")
	}
	return c, err
}

// sees says whether user reads call c: a supervisor any call of the
// district (the scope saw to that), anyone else a published call of their
// own municipality.
func (s Service) sees(user store.UserView, c store.Call) bool {
	if user.Role == string(contract.RoleSupervisor) {
		return true
	}
	return c.Status == store.StatusPublished && (user.Municipality == "" || user.Municipality == c.Municipality)
}

// CreateCall stores a draft call of user's district (Invalid for its
// terms, a municipality outside the district or a form version that is
// not published).
func (s Service) CreateCall(ctx context.Context, user store.UserView, b CallBody) (store.Call, error) {
	terms, fields := b.Validate()
	if len(fields) > 0 {
		return store.Call{}, app.InvalidInput(fields...)
	}
	if err := s.Sync(ctx); err != nil {
		return store.Call{}, err
	}
	id := uuid.NewString()
	var out store.Call
	e := store.AuditEntry{Action: AuditCallCreated, Municipality: terms.Municipality,
		Detail: app.AuditDetail(map[string]any{"call_id": id, "form_id": terms.FormID, "form_version": terms.FormVersion})}
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.CreateCall(ctx, user.Scope(), id, terms, user.Username, s.Now())
		return err
	})
	return out, err
}

// UpdateCall replaces the terms of a draft call of user's district
// (Conflict "call_published" once published).
func (s Service) UpdateCall(ctx context.Context, user store.UserView, id string, b CallBody) (store.Call, error) {
	terms, fields := b.Validate()
	if len(fields) > 0 {
		return store.Call{}, app.InvalidInput(fields...)
	}
	var out store.Call
	e := store.AuditEntry{Action: AuditCallUpdated, Municipality: terms.Municipality,
		Detail: app.AuditDetail(map[string]any{"call_id": id, "form_id": terms.FormID, "form_version": terms.FormVersion})}
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.UpdateCall(ctx, user.Scope(), id, terms, s.Now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, app.Missing("call")
	}
	return out, err
}

// PublishCall publishes a draft call of user's district, once its budget
// is confirmed with its source: the call moves to publishing (its terms
// frozen) and the CallFunding workflow asks the municipality's accounting
// system to commit the budget (key "funding:<call id>"); only on the
// confirmation does the workflow fund the call's fund through the ledger
// and open it (with the commitment's number), and a refusal puts it back
// to draft with the refusal (store.Call.FundingRefusal). The answer is the
// call being published. Asking again while it is being published joins the
// same workflow (one commitment, one booking); a published call is a
// Conflict "call_published"; Temporal not answering is Unavailable
// "funding_unavailable" (the call stays being published: asking again
// starts its funding).
func (s Service) PublishCall(ctx context.Context, user store.UserView, id string) (store.Call, error) {
	var out store.Call
	e := store.AuditEntry{Action: AuditCallPublished, Detail: app.AuditDetail(map[string]any{"call_id": id})}
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.BeginCallPublication(ctx, user.Scope(), id, s.Now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, app.Missing("call")
	}
	if err != nil {
		return out, err
	}
	if err := s.EnsureVersion(ctx, out.FormID, out.FormVersion); err != nil {
		return out, err
	}
	_, err = s.startFunding(ctx, out.ID)
	return out, err
}

// startFunding starts the CallFunding workflow of call id, being published,
// or joins the run under way: a call refused or withdrawn and published
// again is funded by a new run, a second click while one runs joins it.
// The answer is the run's id; Temporal not answering is Unavailable
// "funding_unavailable".
func (s Service) startFunding(ctx context.Context, id string) (string, error) {
	if s.Temporal == nil {
		return "", errors.New("no Temporal client")
	}
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: contract.CallFundingWorkflowID(id), TaskQueue: s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.CallFunding, contract.CallFundingInput{CallID: id})
	if err != nil {
		s.Log.WarnContext(ctx, "call funding not started", "call", id, "err", err)
		return "", &app.Error{Kind: app.Unavailable, Code: "funding_unavailable",
			Message: "the call's funding could not be started; it is being published: try again", Cause: err}
	}
	return run.GetRunID(), nil
}

// CancelPublication withdraws the publication of call id, being published
// ("Annulla pubblicazione"): for a supervisor of the call's district only
// (Forbidden for anyone else, NotFound for another district's call). The
// call's CallFunding workflow serialises the withdrawal with the budget
// commitment (workflows.CallFunding): while the accounting system has not
// confirmed it, the call goes back to draft, withdrawn by user
// (store.Call.FundingRefusal "cancelled", who and when), nothing committed
// or booked, and the answer is the draft; when it confirmed it first, the
// call is published as always and the answer is a Conflict
// "call_published" (a confirmed commitment is never left behind). A draft
// is a Conflict "call_not_publishing", a published call "call_published";
// a run started before a publication could be withdrawn a Conflict
// "publication_not_cancellable" (docs/operations.md). When no run is under
// way (Temporal was down at the publication), one is started first: the
// withdrawal always goes through the workflow, so it never races a
// commitment. Withdrawing again while the first withdrawal waits joins it.
func (s Service) CancelPublication(ctx context.Context, user store.UserView, id string) (store.Call, error) {
	if user.Role != string(contract.RoleSupervisor) {
		return store.Call{}, app.Refuse(app.Forbidden, "forbidden", "only a supervisor of the call's district withdraws its publication")
	}
	c, err := s.API.CallOf(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return c, app.Missing("call")
	}
	if err != nil {
		return c, err
	}
	if err := notPublishing(c.Status); err != nil {
		return c, err
	}
	e := store.AuditEntry{Action: AuditCallPublicationCancelled, Municipality: c.Municipality,
		Detail: app.AuditDetail(map[string]any{"call_id": id})}
	err = s.Audited(ctx, user, e, func() error {
		run, err := s.startFunding(ctx, id)
		if err != nil {
			return err
		}
		// One withdrawal per run: asking again joins it.
		var res workflows.CallFundingResult
		err = s.UpdateWorkflow(ctx, contract.CallFundingWorkflowID(id), workflows.UpdateCancelPublication,
			"cancel-publication:"+run, &res, contract.CancelPublicationInput{Actor: user.Username})
		var appErr *temporal.ApplicationError
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypePublicationNotCancellable:
			return errNotCancellable
		case errors.As(err, &nf):
			// The run ended before the withdrawal reached it: the call
			// says how.
			now, rerr := s.API.CallOf(ctx, store.System, id)
			if rerr != nil {
				return rerr
			}
			return notWithdrawn(now.Status, err)
		case err != nil:
			return err
		case res.Refusal != store.FundingCancelled:
			return notWithdrawn(res.Status, nil)
		}
		return nil
	})
	if err != nil {
		return store.Call{}, err
	}
	return s.API.CallOf(ctx, user.Scope(), id)
}

var (
	errCallPublished     = app.Refuse(app.Conflict, "call_published", "the call is published: the accounting system confirmed its budget commitment")
	errCallNotPublishing = app.Refuse(app.Conflict, "call_not_publishing", "the call is not being published: there is no publication to withdraw")
	errNotCancellable    = app.Refuse(app.Conflict, "publication_not_cancellable",
		"this publication's funding started before a publication could be withdrawn: an operator stops it (docs/operations.md)")
)

// notWithdrawn is why a withdrawal the funding did not apply failed: the
// call's status now says it (a Conflict), or, still being published (its
// run ended on a failure), Unavailable: asking again starts a new run.
func notWithdrawn(status string, cause error) error {
	if err := notPublishing(status); err != nil {
		return err
	}
	return &app.Error{Kind: app.Unavailable, Code: "funding_unavailable",
		Message: "the call's funding ended before the withdrawal reached it; the call is being published: try again", Cause: cause}
}

// notPublishing is the conflict of withdrawing a call in status (nil for
// a call being published).
func notPublishing(status string) error {
	switch status {
	case store.StatusPublishing:
		return nil
	case store.StatusPublished:
		return errCallPublished
	}
	return errCallNotPublishing
}

// OpenCalls lists the calls of district open now, for anyone (the public
// list; the edges decide the district: the caller's, ?district=, or the
// visitor's default, app.Core.DefaultDistrict).
func (s Service) OpenCalls(ctx context.Context, district string) ([]store.OpenCall, error) {
	return s.API.OpenCalls(ctx, district, s.Now())
}

// OpenCall reads call id when it is open now, whatever the district (an
// open call is public); NotFound "call" otherwise.
func (s Service) OpenCall(ctx context.Context, id string) (store.OpenCall, error) {
	c, err := s.API.OpenCallOf(ctx, id, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return c, app.Missing("call")
	}
	return c, err
}

// ApplyPath is the portal's path of an application to call c: the form's
// steps, carrying the call (FilingCall).
func ApplyPath(c store.OpenCall) string {
	return "/apply/" + url.PathEscape(c.FormID) + "?call=" + url.QueryEscape(c.ID)
}
