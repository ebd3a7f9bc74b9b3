// Package applications is the citizen's side of a case: filing an
// application (checked against its form and the district's rules, the
// registry check, idempotent, then the case workflow started), filing one
// on a citizen's behalf at a Social Point desk, reading cases and their
// timelines (staff reads audited), and the applicant's answer to a request
// for information.
//
// Each use case is here once: the rule, the store calls, the Temporal calls
// and the audit. The JSON API (api/applications.go, and the desk's
// POST /api/v1/citizens/{id}/applications) and the pages (the application
// steps, api/web/apply.go; the citizen's case page and reply,
// api/web/citizen.go) only decode their input and show the result.
package applications

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/app/calls"
	"sportello/internal/i18n"
	"sportello/internal/jsonx"
	"sportello/internal/observe"
	"sportello/internal/store"
	"sportello/workflows"
)

// Service does the application use cases.
type Service struct {
	*app.Core
	Forms *forms.Registry
	// Calls fixes the form version of a filing (the open call's) and
	// loads the versions of cases into Forms.
	Calls calls.Service
}

// New returns the application service on core, with the forms of reg
// kept in step with the published versions by cs.
func New(core *app.Core, reg *forms.Registry, cs calls.Service) Service {
	return Service{Core: core, Forms: reg, Calls: cs}
}

// Audit actions of a filing on a citizen's behalf (the desk's).
const (
	AuditFileOnBehalf  = "file_on_behalf"
	AuditFiledOnBehalf = "filed_on_behalf"
)

// Filing is an application: the form's id, the call applied to and the
// data. Call may be left out when only one call for the form is open in the
// municipality of the data (calls.Service.FilingCall).
type Filing struct {
	Form string          `json:"form"`
	Call string          `json:"call,omitempty"`
	Data json.RawMessage `json:"data"`
}

// Validate trims the form id and the call and checks that both are there (pointers
// /form, /data); the data itself is checked against the form by File.
func (f *Filing) Validate() []app.FieldError {
	f.Form, f.Call = strings.TrimSpace(f.Form), strings.TrimSpace(f.Call)
	return FilingFields(f.Form, f.Data)
}

// FilingFields checks the form id and the data of an application request.
func FilingFields(form string, data json.RawMessage) []app.FieldError {
	var fields []app.FieldError
	if form == "" {
		fields = append(fields, app.Field("/form", "required", "applications.err.form_required"))
	}
	if len(data) == 0 || string(data) == "null" {
		fields = append(fields, app.Field("/data", "required", "applications.err.data_required"))
	} else if !jsonx.IsJSONObject(data) {
		fields = append(fields, app.Field("/data", "type", "applications.err.data_not_object"))
	}
	return fields
}

// dataPointer turns problems with the application data into field problems
// of the request, under prefix.
func dataPointer(prefix string, problems []forms.FieldError) []app.FieldError {
	out := make([]app.FieldError, 0, len(problems))
	for _, p := range problems {
		out = append(out, app.FieldError{Pointer: prefix + p.Pointer, Code: p.Code, Text: p.Text})
	}
	return out
}

func unknownForm(id string) *app.Error {
	return app.InvalidInput(app.Field("/form", "unknown_form", "applications.err.unknown_form", id))
}

// CheckData checks data against form formID as filed under call ("" for
// the only open one) and against who files it (applicant), as the filing
// will: the problems carry pointers into the data. The application pages
// show them before the summary.
func (s Service) CheckData(ctx context.Context, applicant store.UserView, formID, call string, data json.RawMessage) ([]forms.FieldError, error) {
	_, problems, err := s.validateFiling(ctx, applicant, formID, call, data)
	if err != nil || len(problems) > 0 {
		return problems, err
	}
	return ownerProblems(applicant, data), nil
}

// validateFiling validates the data of a new application of applicant
// against the form version of the call applied to (calls.FilingCall: the
// one named, or the only one open in the municipality the data names; the
// latest version when no call fixes one): the version a case keeps.
func (s Service) validateFiling(ctx context.Context, applicant store.UserView, formID, call string, data json.RawMessage) (store.FilingCall, []forms.FieldError, error) {
	fc, err := s.Calls.FilingCall(ctx, applicant.Scope(), formID, jsonx.StringAt(data, "residence", "municipality"), call)
	if err != nil {
		return fc, nil, err
	}
	if fc.Version == 0 {
		var problems []forms.FieldError
		fc.Version, problems, err = s.Forms.Validate(formID, data, s.Now())
		return fc, problems, err
	}
	problems, err := s.Forms.ValidateVersion(formID, fc.Version, data, s.Now())
	return fc, problems, err
}

// ownerProblems finds what the filing would refuse about the citizen: a
// tax code other than their own.
func ownerProblems(u store.UserView, data json.RawMessage) []forms.FieldError {
	taxCode := strings.TrimSpace(jsonx.StringAt(data, "applicant", "tax_code"))
	if u.TaxCode != "" && taxCode != "" && !strings.EqualFold(taxCode, u.TaxCode) {
		return []forms.FieldError{{Pointer: "/applicant/tax_code", Code: "tax_code_mismatch",
			Text: i18n.M("applications.err.tax_code_mismatch")}}
	}
	return nil
}

// File validates application data against the form and the district's
// rules and files it for user under call ("" for the only call open for
// the form in the data's municipality; FilingCall): the case row first (idemKey, when not
// empty, makes a retry return the same case: replayed is then true), then
// its workflow. Problems are Invalid with field pointers under "/data" (or
// "/form"); a case already in progress is a Conflict carrying its id. The
// workflow starts after the answer (startSoon), so a Temporal that is down
// delays the case's processing, not its filing. The JSON handlers and the
// application pages share it.
//
// onBehalf, when not nil, is the citizen a Social Point operator (user)
// files for: the case is the citizen's (filed under their scope, so they see
// it in their area), the timeline names the operator, and the filing is in
// the audit trail with acting_for set to the citizen's tax code.
func (s Service) File(ctx context.Context, user store.UserView, formID, call string, data json.RawMessage,
	idemKey string, onBehalf *store.DeskCitizen) (v store.CaseView, replayed bool, err error) {
	applicant := user
	if onBehalf != nil {
		applicant = onBehalf.UserView()
	}
	form, ok := s.Forms.Get(formID)
	if !ok {
		return store.CaseView{}, false, unknownForm(formID)
	}
	now := s.Now()
	filing, problems, err := s.validateFiling(ctx, applicant, form.ID, call, data)
	if errors.Is(err, forms.ErrUnknownForm) {
		return store.CaseView{}, false, unknownForm(formID)
	}
	if err != nil {
		return store.CaseView{}, false, err
	}
	if len(problems) > 0 {
		return store.CaseView{}, false, app.InvalidInput(dataPointer("/data", problems)...)
	}
	canon, err := jsonx.CanonicalJSON(data)
	if err != nil {
		return store.CaseView{}, false, err
	}
	hash, err := jsonx.RequestHash(map[string]any{"form": form.ID, "data": json.RawMessage(canon)})
	if err != nil {
		return store.CaseView{}, false, err
	}
	taxCode := strings.ToUpper(strings.TrimSpace(jsonx.StringAt(data, "applicant", "tax_code")))
	var violations []app.FieldError
	if applicant.TaxCode != "" && !strings.EqualFold(taxCode, applicant.TaxCode) {
		violations = append(violations, app.Field("/data/applicant/tax_code", "tax_code_mismatch",
			"applications.err.tax_code_mismatch"))
	}
	var filedBy *store.FiledBy
	if onBehalf != nil && len(violations) == 0 {
		filedBy = &store.FiledBy{Username: user.Username, Name: user.DisplayName, ForTaxCode: onBehalf.TaxCode,
			ForName: onBehalf.DisplayName}
		// A filing is recorded once done (AuditFiledOnBehalf below), and
		// attempted only when that row can be written; a refusal is
		// recorded with the code of the answer it got.
		if err := s.AuditWritable(ctx, user, app.OnBehalfAudit(AuditFiledOnBehalf, user, onBehalf, "", nil)); err != nil {
			return store.CaseView{}, false, err
		}
		defer func() {
			if err != nil {
				s.AuditOutcome(ctx, user, app.OnBehalfAudit(AuditFileOnBehalf, user, onBehalf, "", map[string]any{"form": form.ID}), err)
			}
		}()
	}
	created, err := s.API.CreateCase(ctx, applicant.Scope(), store.NewCase{
		Prefix:         form.CasePrefix,
		FormID:         form.ID,
		FormVersion:    filing.Version,
		Call:           filing.ID,
		Data:           canon,
		Municipality:   jsonx.StringAt(data, "residence", "municipality"),
		TaxCode:        taxCode,
		IdempotencyKey: idemKey,
		RequestHash:    hash,
		Actor:          user.Username,
		FiledBy:        filedBy,
		Now:            now,
		Rejected:       len(violations) > 0,
	})
	var rules *store.CaseRuleError
	if errors.As(err, &rules) {
		for _, r := range rules.Rules {
			switch r {
			case store.RuleMunicipalityOutsideDistrict:
				violations = append(violations, app.Field("/data/residence/municipality", "outside_district",
					"applications.err.outside_district"))
			case store.RuleResidenceNotRegistry:
				violations = append(violations, app.Field("/data/residence/municipality", "residence_not_registry",
					"applications.err.residence_not_registry", rules.RegistryMunicipality, rules.RegistryMunicipality))
			case store.RuleNoOpenCall:
				violations = append(violations, app.Field("/data/residence/municipality", "no_open_call",
					"applications.err.no_open_call"))
			case store.RuleCallRequired:
				violations = append(violations, app.Field("/call", "call_required", "calls.err.call_required"))
			}
		}
		return store.CaseView{}, false, app.InvalidInput(violations...)
	}
	if created.InProgress != "" {
		// Make sure the case in progress is being processed: this heals a
		// case whose workflow failed to start, sooner than the starter.
		s.startSoon(ctx, created.InProgress)
		e := *app.Classify(err)
		e.CaseID = created.InProgress
		return store.CaseView{}, false, &e
	}
	if err != nil {
		return store.CaseView{}, false, err
	}
	if !created.Replayed {
		observe.Applications.Inc()
	}
	if filedBy != nil {
		if err := s.Audit(ctx, user, app.OnBehalfAudit(AuditFiledOnBehalf, user, onBehalf, created.ID,
			map[string]any{"form": form.ID, "replayed": created.Replayed})); err != nil {
			return store.CaseView{}, false, err
		}
	}
	// The case is committed, pending its workflow's start (migration 041):
	// the answer does not wait for Temporal. The start follows in the
	// background; on a replay it heals a start that was lost.
	s.startSoon(ctx, created.ID)
	if created.View != nil {
		// A new case: as filed (its workflow may already be moving it; a
		// read shows where it is).
		return *created.View, false, nil
	}
	v, err = s.API.Case(ctx, applicant.Scope(), created.ID)
	if err != nil {
		return store.CaseView{}, false, err
	}
	return v, created.Replayed, nil
}

// startCase starts the workflow of a stored case, once whatever the
// retries (started tells whether this call started it).
func startCase(ctx context.Context, core *app.Core, caseID string) (started bool, err error) {
	return core.StartOnceNew(ctx, workflows.CaseWorkflowID(caseID), workflows.FoodVoucher, workflows.FoodVoucherInput{CaseID: caseID})
}

// The starts after the answers, in this process: filings queue their
// case for one of startRunners, which start the workflows at Temporal's
// pace. The queue is bounded: a filing whose case finds it full leaves
// the start to the worker's starter (RunStarter), so that a filing never
// waits for Temporal, and a surge that outruns it loses no case.
const (
	startQueueSize = 4096
	startRunners   = 32
)

type queuedStart struct {
	ctx    context.Context
	core   *app.Core
	caseID string
}

var (
	startQueue           = make(chan queuedStart, startQueueSize)
	startRunnersGo       sync.Once
	startQueueFullLogged atomic.Int64 // the second of the last "queue full"
)

// startSoon queues the start of the workflow of a committed case, without
// holding up the answer (docs/benchmarks.md "The POST answers from the
// commit"). A start that fails, or finds the queue full, is only logged:
// the case stays pending and the worker's starter starts it.
func (s Service) startSoon(ctx context.Context, caseID string) {
	startRunnersGo.Do(func() {
		for range startRunners {
			go func() {
				for q := range startQueue {
					if _, err := startCase(q.ctx, q.core, q.caseID); err != nil {
						q.core.Log.WarnContext(q.ctx, "start case workflow; the starter retries it", "case_id", q.caseID, "err", err)
					}
				}
			}()
		}
	})
	select {
	case startQueue <- queuedStart{ctx: context.WithoutCancel(ctx), core: s.Core, caseID: caseID}:
	default:
		// Once a second at most: a surge may overflow thousands.
		if now := time.Now().Unix(); startQueueFullLogged.Swap(now) != now {
			s.Log.WarnContext(ctx, "case start queue full; the worker's starter starts the cases left", "case_id", caseID)
		}
	}
}

// StarterGrace is how long a case may stay pending (filed, its workflow's
// pre-check not written) before the starter starts its workflow: well
// beyond a start after the commit, so that the starter only acts on a
// start that failed or was lost.
const StarterGrace = 30 * time.Second

// starterBatch bounds the cases one pass of the starter starts.
const starterBatch = 100

// StartPending starts the workflows of the cases filed before `before`
// that are still pending (at most starterBatch, oldest first) and records
// them as started. A start is idempotent: a workflow already running or
// closed counts as started. It returns how many cases it recorded, how many
// of those it started itself (the others' workflows were started after
// their answers and had not written their pre-check yet), and the first
// start's error (the cases after it wait for the next pass).
func StartPending(ctx context.Context, core *app.Core, before time.Time) (recorded, started int, err error) {
	ids, err := core.Store.PendingStarts(ctx, before, starterBatch)
	if err != nil {
		return 0, 0, err
	}
	var done []string
	var startErr error
	for _, id := range ids {
		var fresh bool
		if fresh, startErr = startCase(ctx, core, id); startErr != nil {
			break
		}
		if fresh {
			started++
		}
		done = append(done, id)
	}
	if err := core.Store.StartedCases(ctx, done); err != nil {
		return 0, 0, err
	}
	return len(done), started, startErr
}

// RunStarter runs StartPending every `every` for the cases pending longer
// than StarterGrace, until ctx ends. Every worker runs one: the starts are
// idempotent, so replicas may overlap. A pass that started cases itself
// (Temporal is back after an outage) is followed at once by the next one
// while there are more; a pass that only found workflows already started
// (a surge whose pre-checks lag behind) waits for the next tick, so that
// the starter does not compete with the surge.
func RunStarter(ctx context.Context, core *app.Core, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, started, err := StartPending(ctx, core, core.Now().Add(-StarterGrace))
			if err != nil && ctx.Err() == nil {
				core.Log.WarnContext(ctx, "case starter", "recorded", n, "started", started, "err", err)
			}
			if started > 0 {
				core.Log.InfoContext(ctx, "case starter: workflows started after their answers", "started", started)
			}
			if err != nil || n < starterBatch || started == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CaseStatuses are the statuses a case list may be filtered by.
var CaseStatuses = []string{
	workflows.StatusSubmitted, workflows.StatusInReview, workflows.StatusInfoRequested,
	workflows.StatusApproved, workflows.StatusRejected, workflows.StatusClosed,
}

// Cases lists the cases user sees under f (a citizen: their own); a staff
// search by tax code is audited.
func (s Service) Cases(ctx context.Context, user store.UserView, f store.CaseFilter) ([]store.CaseSummary, store.Count, error) {
	f.TaxCode = strings.ToUpper(strings.TrimSpace(f.TaxCode))
	if f.Status != "" && !slices.Contains(CaseStatuses, f.Status) {
		return nil, store.Count{}, app.InvalidInput(app.Param("status", "invalid", "applications.err.status_unknown", strings.Join(CaseStatuses, ", ")))
	}
	items, total, err := s.API.Cases(ctx, user.Scope(), f)
	if err != nil {
		return nil, total, err
	}
	if f.TaxCode != "" {
		if err := s.AuditRead(ctx, user, store.AuditSearch, "", "",
			map[string]any{"tax_code": f.TaxCode, "status": f.Status, "results": total.N, "more": total.More}); err != nil {
			return nil, total, err
		}
	}
	return items, total, nil
}

// Case reads a case user sees (NotFound "application not found"
// otherwise); a staff read is audited, its row written in the same round
// trip and transaction as the read.
func (s Service) Case(ctx context.Context, user store.UserView, id string) (store.CaseView, error) {
	var v store.CaseView
	var err error
	// The staff's audit row in the read's own round trip and transaction
	// (store.CaseAudited), as the timeline's.
	if e := app.ReadEntry(ctx, user, store.AuditReadCase, id); e != nil {
		v, err = s.API.CaseAudited(ctx, user.Scope(), id, *e)
	} else {
		v, err = s.API.Case(ctx, user.Scope(), id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return v, app.Missing("application")
	}
	if err != nil {
		return v, app.AuditFailure(err)
	}
	return v, nil
}

// OwnCase reads a case user filed (NotFound "case not found" for anyone
// else's): the citizen's case page.
func (s Service) OwnCase(ctx context.Context, user store.UserView, id string) (store.CaseView, error) {
	v, err := s.API.Case(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.ApplicantID != user.ID) {
		return v, app.Missing("case")
	}
	return v, err
}

// Timeline reads the events of a case user sees (NotFound "application not
// found" otherwise); a staff read is audited, its row written in the same
// round trip and transaction as the read (store.TimelineAudited).
func (s Service) Timeline(ctx context.Context, user store.UserView, id string) ([]store.CaseEvent, error) {
	var events []store.CaseEvent
	var err error
	if e := app.ReadEntry(ctx, user, store.AuditReadTimeline, id); e != nil {
		events, err = s.API.TimelineAudited(ctx, user.Scope(), id, *e)
	} else {
		events, err = s.API.Timeline(ctx, user.Scope(), id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, app.Missing("application")
	}
	if err != nil {
		return nil, app.AuditFailure(err)
	}
	return events, nil
}

// MaxReply bounds the applicant's message in a reply.
const MaxReply = 4000

// Reply is the applicant's answer to a request for information: a message
// and, optionally, changes to the application data (a JSON merge patch).
type Reply struct {
	Data *ReplyData `json:"data"`
}

// ReplyData is the content of a reply.
type ReplyData struct {
	Message string          `json:"message"`
	Changes json.RawMessage `json:"changes"`
}

// immutablePaths may not be changed in a reply: they decide who the case
// belongs to and where it is handled.
var immutablePaths = [][]string{{"applicant", "tax_code"}, {"residence", "municipality"}}

// Validate trims the message, drops empty changes and checks what does not
// depend on the case (pointers /data, /data/message, /data/changes/...).
func (r *Reply) Validate() []app.FieldError {
	if r.Data == nil {
		return []app.FieldError{app.Field("/data", "required", "applications.err.data_with_message")}
	}
	var fields []app.FieldError
	r.Data.Message = strings.TrimSpace(r.Data.Message)
	switch msg := r.Data.Message; {
	case msg == "":
		fields = append(fields, app.Field("/data/message", "required", "applications.err.message_required"))
	case utf8.RuneCountInString(msg) > MaxReply:
		fields = append(fields, app.Field("/data/message", "too_long", "applications.err.too_long"))
	}
	changes := r.Data.Changes
	if len(changes) > 0 && string(changes) != "null" {
		if !jsonx.IsJSONObject(changes) {
			fields = append(fields, app.Field("/data/changes", "type", "applications.err.changes_type"))
		} else {
			for _, p := range immutablePaths {
				if jsonx.HasPath(changes, p...) {
					ptr := "/data/changes/" + strings.Join(p, "/")
					fields = append(fields, app.Field(ptr, "immutable", "applications.err.reply_field_immutable"))
				}
			}
		}
	} else {
		r.Data.Changes = nil
	}
	return fields
}

// ProvideInfo sends the applicant's reply to a request for information on
// case caseID to its workflow: the changes, when any, are merged into the
// application data and checked against the form (problems carry pointers
// under "/data/changes"). key, when not empty, makes a retried reply apply
// once. A case that is not awaiting information is a Conflict.
func (s Service) ProvideInfo(ctx context.Context, user store.UserView, caseID string, r Reply, key string) (res workflows.ProvideInfoResult, err error) {
	if fields := r.Validate(); len(fields) > 0 {
		return res, app.InvalidInput(fields...)
	}
	v, err := s.API.Case(ctx, user.Scope(), caseID)
	if errors.Is(err, store.ErrNotFound) {
		return res, app.Missing("application")
	}
	if err != nil {
		return res, err
	}
	if v.ApplicantID != user.ID {
		return res, app.Missing("application")
	}
	var merged json.RawMessage
	if r.Data.Changes != nil {
		merged, err = jsonx.MergePatch(v.Data, r.Data.Changes)
		if err != nil {
			return res, err
		}
		// The version the case was filed with, not the latest: a field
		// a later version added is not asked of an earlier case.
		if err := s.Calls.EnsureVersion(ctx, v.Form, v.FormVersion); err != nil {
			return res, err
		}
		problems, err := s.Forms.ValidateVersion(v.Form, v.FormVersion, merged, s.Now())
		if err != nil {
			return res, err
		}
		if len(problems) > 0 {
			return res, app.InvalidInput(dataPointer("/data/changes", problems)...)
		}
	}
	err = s.Update(ctx, v.ID, workflows.UpdateProvideInfo, app.UpdateID(user, "info", key), &res,
		workflows.ProvideInfoInput{Actor: app.Actor(user), Message: r.Data.Message, Data: merged})
	return res, err
}
