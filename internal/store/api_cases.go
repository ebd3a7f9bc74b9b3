package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sportello/internal/calendar"
	"sportello/internal/contract"
)

// NewCase is a validated application the API files.
type NewCase struct {
	Prefix      string // case id prefix of the form, e.g. "BS"
	FormID      string
	FormVersion int
	// Call is the call (fund) the citizen applies to; "" when they named
	// none: the only call open for the form in the municipality (more than
	// one is RuleCallRequired).
	Call           string
	Data           json.RawMessage
	Municipality   string // residence municipality as written in the data (id or name)
	TaxCode        string
	IdempotencyKey string // "" when the request carried none
	RequestHash    string
	Actor          string // username, for the timeline
	// FiledBy, when set, is the staff member who files on the applicant's
	// behalf (the scope is then the applicant's): the timeline names both.
	FiledBy *FiledBy
	Now     time.Time
	// Rejected says the API already found problems: check the rules so that
	// every problem is reported at once, but store nothing.
	Rejected bool
	// NoWorkflow files a case that no workflow processes (the demo data's
	// service voucher): it is not pending a start (migration 041).
	NoWorkflow bool
}

// FiledBy is a staff member filing for a citizen (Social Point).
type FiledBy struct {
	Username, Name      string
	ForTaxCode, ForName string
}

// Rule violations CreateCase reports as a *CaseRuleError.
const (
	RuleMunicipalityOutsideDistrict = "municipality_outside_district"
	RuleNoOpenCall                  = "no_open_call"
	// RuleCallRequired: several calls for the form are open in the
	// municipality and the application names none of them.
	RuleCallRequired = "call_required"
	// RuleResidenceNotRegistry: the population registry records the
	// applicant in another municipality than the one the form declares.
	RuleResidenceNotRegistry = "residence_not_registry"
)

// CaseRuleError lists the business rules an application breaks; nothing was stored.
type CaseRuleError struct {
	Rules []string
	// RegistryMunicipality is the name of the applicant's municipality in
	// the population registry, with RuleResidenceNotRegistry.
	RegistryMunicipality string
}

func (e *CaseRuleError) Error() string {
	return "application breaks rules: " + strings.Join(e.Rules, ", ")
}

// CreatedCase is the outcome of CreateCase.
type CreatedCase struct {
	ID       string
	Replayed bool // an earlier request with the same idempotency key created it
	// InProgress is the caller's case already in progress for the same call,
	// set with an "application_in_progress" conflict.
	InProgress string
	// View is the new case as filed (not on a replay), read back from its
	// insert: what Case would answer before its workflow moves it, without
	// another transaction.
	View *CaseView
}

var errInProgress = Conflict("application_in_progress",
	"an application for this call and tax code is already in progress; wait for its outcome or reply to its request for information")

// CreateCase files an application in one transaction under the citizen's
// scope: an idempotent replay returns the earlier case, a reused key with
// another body is a conflict, otherwise the case and its first timeline event
// are inserted. A second application in progress for the same fund and tax
// code is a conflict ("application_in_progress"). The new case is pending
// its workflow's start (PendingStarts) until its pre-check or StartedCases.
func (a API) CreateCase(ctx context.Context, scope Scope, in NewCase) (CreatedCase, error) {
	var out CreatedCase
	taxCode := strings.ToUpper(strings.TrimSpace(in.TaxCode))
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = CreatedCase{}
		// Four round trips in all (docs/benchmarks.md "The POST answers from
		// the commit"): BEGIN with the scope; the replay check and every
		// rule's facts in one batch; the case and its first event in
		// another; COMMIT.
		reads := &pgx.Batch{}
		var replayID, replayHash string
		var replayed bool
		if in.IdempotencyKey != "" {
			reads.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
				fmt.Sprintf("case:%d:%s", scope.UserID, in.IdempotencyKey))
			reads.Queue(`SELECT id, request_hash FROM cases WHERE applicant_id = $1 AND idempotency_key = $2`,
				scope.UserID, in.IdempotencyKey).QueryRow(func(row pgx.Row) error {
				err := row.Scan(&replayID, &replayHash)
				replayed = err == nil
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				return err
			})
		}
		// The municipality of the district the data names; the population
		// registry's municipality of the tax code (the registry decides the
		// municipality, and so the fund; checked only for the applicant's
		// own tax code: with in.Rejected the tax code may be someone
		// else's, whose residence must not be told); the call applied to
		// (the one named, or the only one open: a call published with a
		// form version takes applications of that version only, the funds
		// from before the calls take any); and the applicant's case in
		// progress under that call.
		var municipality, district, registryID, registryName, fundID, existing *string
		var open *int64
		reads.Queue(`WITH m AS (
				SELECT id, district_id FROM municipalities
				WHERE district_id = $1 AND (id = $2 OR lower(name) = lower($2))
				ORDER BY id = $2 DESC LIMIT 1),
			r AS (
				SELECT rm.id, rm.name FROM residents r JOIN municipalities rm ON rm.id = r.municipality_id
				WHERE NOT $3 AND r.tax_code = $4 AND r.ceased_at IS NULL LIMIT 1),
			f AS (
				SELECT f.id, count(*) OVER () AS open FROM funds f JOIN m ON f.municipality_id = m.id
				WHERE f.form_id = $5 AND f.opens_at <= $6 AND $6 < f.closes_at
				  AND (f.form_version IS NULL OR f.form_version = $7) AND ($8 = '' OR f.id = $8)
				ORDER BY f.opens_at DESC, f.created_at DESC, f.id LIMIT 1)
			SELECT (SELECT id FROM m), (SELECT district_id FROM m), (SELECT id FROM r), (SELECT name FROM r),
				(SELECT id FROM f), (SELECT open FROM f),
				(SELECT c.id FROM cases c JOIN f ON c.fund_id = f.id
				 WHERE c.tax_code = $4 AND c.status IN ('submitted', 'in_review', 'info_requested') LIMIT 1)`,
			scope.District, in.Municipality, in.Rejected, taxCode, in.FormID, in.Now, in.FormVersion, in.Call).
			QueryRow(func(row pgx.Row) error {
				return row.Scan(&municipality, &district, &registryID, &registryName, &fundID, &open, &existing)
			})
		if err := tx.SendBatch(ctx, reads).Close(); err != nil {
			return err
		}
		if replayed {
			if replayHash != in.RequestHash {
				return Conflict("idempotency_key_reused", "this Idempotency-Key was already used for a different application")
			}
			out = CreatedCase{ID: replayID, Replayed: true}
			return nil
		}
		if municipality == nil {
			// Without a municipality of the district there is no call to look for.
			return &CaseRuleError{Rules: []string{RuleMunicipalityOutsideDistrict}}
		}
		// A tax code not in the registry is filed where it says; its
		// pre-check fails the residence and a social worker decides.
		var rules []string
		if registryID != nil && *registryID != *municipality {
			rules = append(rules, RuleResidenceNotRegistry)
		}
		switch {
		case fundID == nil:
			rules = append(rules, RuleNoOpenCall)
		case *open > 1:
			rules = append(rules, RuleCallRequired)
		}
		if len(rules) > 0 || in.Rejected {
			rule := &CaseRuleError{Rules: rules}
			if registryName != nil {
				rule.RegistryMunicipality = *registryName
			}
			return rule
		}
		if existing != nil {
			out.InProgress = *existing
			return errInProgress
		}
		var key any
		if in.IdempotencyKey != "" {
			key = in.IdempotencyKey
		}
		submitted := map[string]any{"form": in.FormID, "version": in.FormVersion}
		if in.FiledBy != nil {
			submitted["filed_by"], submitted["filed_by_name"] = in.FiledBy.Username, in.FiledBy.Name
			submitted["on_behalf_of"], submitted["on_behalf_of_name"] = in.FiledBy.ForTaxCode, in.FiledBy.ForName
		}
		detail, _ := json.Marshal(submitted)
		// The case's number is drawn only now, when every rule holds, and
		// its first event names it through currval in the same batch.
		year := in.Now.In(calendar.Rome()).Year()
		v := CaseView{}
		writes := &pgx.Batch{}
		writes.Queue(`INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code,
				form_id, form_version, fund_id, data, status, workflow_id, idempotency_key, request_hash, created_at, updated_at,
				start_pending)
			SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', $10 || id, $11, $12, $13, $13, $14
			FROM (SELECT `+caseIDSQL(`nextval`, `$1`, `$15`)+` AS id) n
			RETURNING id, status, form_id, form_version, district_id, municipality_id, fund_id, applicant_id, tax_code, data,
				precheck, info_request, award_cents, decision_reason, workflow_id, created_at, updated_at`,
			in.Prefix, *district, *municipality, scope.UserID, taxCode,
			in.FormID, in.FormVersion, *fundID, in.Data, contract.CaseWorkflowPrefix, key, in.RequestHash, in.Now,
			!in.NoWorkflow, year).QueryRow(func(row pgx.Row) error {
			return row.Scan(&v.ID, &v.Status, &v.Form, &v.FormVersion, &v.District, &v.Municipality, &v.FundID, &v.ApplicantID,
				&v.TaxCode, &v.Data, &v.Precheck, &v.InfoRequest, &v.AwardCents, &v.DecisionReason, &v.WorkflowID,
				&v.CreatedAt, &v.UpdatedAt)
		})
		writes.Queue(`INSERT INTO case_events (type, case_id, event_key, at, actor, detail)
			SELECT 'submitted', id, id || ':submitted', $3, $4, $5
			FROM (SELECT `+caseIDSQL(`currval`, `$1`, `$2`)+` AS id) n`, in.Prefix, year, in.Now, in.Actor, detail)
		if err := tx.SendBatch(ctx, writes).Close(); err != nil {
			var pg *pgconn.PgError
			if errors.As(err, &pg) && pg.Code == "23505" && pg.ConstraintName == "cases_one_in_progress" {
				// Someone else's case (invisible here) or a concurrent request.
				return errInProgress
			}
			return err
		}
		out = CreatedCase{ID: v.ID, View: &v}
		return nil
	})
	var rule *CaseRuleError
	if errors.As(err, &rule) {
		return CreatedCase{}, rule
	}
	if err != nil {
		return CreatedCase{InProgress: out.InProgress}, MapError(err)
	}
	return out, nil
}

// caseIDSQL is the SQL of a case id: prefix-year-number, the number of
// case_number_seq (fn nextval draws the next one, currval repeats the
// session's last) with at least six digits, as fmt's "%s-%d-%06d".
func caseIDSQL(fn, prefix, year string) string {
	return prefix + `::text || '-' || ` + year + `::int || '-' ||
		(SELECT CASE WHEN s < 1000000 THEN lpad(s::text, 6, '0') ELSE s::text END
		 FROM (SELECT ` + fn + `('case_number_seq') AS s) q)`
}

// CaseVoucher is the voucher of an approved case.
type CaseVoucher struct {
	ID     string `json:"id"`
	Code   string `json:"code"`
	Status string `json:"status"`
}

// CaseTask is the current human task of a case (staff only).
type CaseTask struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	DueAt     time.Time `json:"due_at"`
	Escalated bool      `json:"escalated"`
	ClaimedBy string    `json:"claimed_by,omitempty"`
}

// CaseView is one case in full.
type CaseView struct {
	ID             string          `json:"id"`
	Status         string          `json:"status"`
	Form           string          `json:"form"`
	FormVersion    int             `json:"form_version"`
	District       string          `json:"district"`
	Municipality   string          `json:"municipality"`
	FundID         string          `json:"fund_id"`
	ApplicantID    int64           `json:"-"`
	TaxCode        string          `json:"tax_code"`
	Data           json.RawMessage `json:"data"`
	Precheck       json.RawMessage `json:"precheck"`
	InfoRequest    *string         `json:"info_request"`
	AwardCents     *int64          `json:"award_cents"`
	DecisionReason *string         `json:"decision_reason"`
	Voucher        *CaseVoucher    `json:"voucher"`
	Task           *CaseTask       `json:"task"`
	WorkflowID     string          `json:"workflow_id"`
	TemporalUIURL  string          `json:"temporal_ui_url,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// Case returns one case visible to scope (ErrNotFound otherwise), with its
// voucher and current task when the scope may see them: one round trip
// (Pipeline: the scope and the three reads together).
func (a API) Case(ctx context.Context, scope Scope, id string) (CaseView, error) {
	return a.caseView(ctx, scope, id, nil)
}

// CaseAudited is Case that also appends e, a staff read of the case, to the
// audit trail in the same round trip and transaction, as TimelineAudited
// does: the row is written only when the case is visible to scope, and a
// read whose row cannot be written fails (wrapping ErrAuditUnavailable)
// with nothing committed.
func (a API) CaseAudited(ctx context.Context, scope Scope, id string, e AuditEntry) (CaseView, error) {
	e.CaseID = id
	return a.caseView(ctx, scope, id, &e)
}

func (a API) caseView(ctx context.Context, scope Scope, id string, audit *AuditEntry) (CaseView, error) {
	var (
		v     CaseView
		cv    CaseVoucher
		ct    CaseTask
		found bool
	)
	// A row that may be missing: found tells, and the batch goes on.
	optional := func(scan func(pgx.Row) error, ok *bool) func(pgx.Row) error {
		return func(row pgx.Row) error {
			err := scan(row)
			*ok = err == nil
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		}
	}
	var hasVoucher, hasTask bool
	b := &pgx.Batch{}
	b.Queue(`SELECT id, status, form_id, form_version, district_id, municipality_id, fund_id,
			applicant_id, tax_code, data, precheck, info_request, award_cents, decision_reason, workflow_id,
			created_at, updated_at
		FROM cases WHERE id = $1`, id).QueryRow(optional(func(row pgx.Row) error {
		return row.Scan(&v.ID, &v.Status, &v.Form, &v.FormVersion, &v.District,
			&v.Municipality, &v.FundID, &v.ApplicantID, &v.TaxCode, &v.Data, &v.Precheck, &v.InfoRequest,
			&v.AwardCents, &v.DecisionReason, &v.WorkflowID, &v.CreatedAt, &v.UpdatedAt)
	}, &found))
	b.Queue(`SELECT id::text, code, status FROM vouchers WHERE case_id = $1`, id).
		QueryRow(optional(func(row pgx.Row) error { return row.Scan(&cv.ID, &cv.Code, &cv.Status) }, &hasVoucher))
	b.Queue(`SELECT t.id::text, t.status, t.due_at, t.escalated_at IS NOT NULL, coalesce(u.username, '')
		FROM tasks t LEFT JOIN users u ON u.id = t.claimed_by
		WHERE t.case_id = $1 AND t.kind <> 'contact'
		ORDER BY t.status IN ('open', 'claimed') DESC, t.created_at DESC, t.id LIMIT 1`, id).
		QueryRow(optional(func(row pgx.Row) error {
			return row.Scan(&ct.ID, &ct.Status, &ct.DueAt, &ct.Escalated, &ct.ClaimedBy)
		}, &hasTask))
	if audit != nil {
		queueCaseAudit(b, scope, *audit)
	}
	if err := a.s.Pipeline(ctx, scope, b); err != nil {
		if errors.Is(err, ErrAuditUnavailable) {
			return CaseView{}, err
		}
		return CaseView{}, MapError(err)
	}
	if !found {
		return CaseView{}, ErrNotFound
	}
	if hasVoucher {
		v.Voucher = &cv
	}
	if hasTask {
		v.Task = &ct
	}
	return v, nil
}

// CaseSummary is one row of a case list.
type CaseSummary struct {
	ID            string    `json:"id"`
	Status        string    `json:"status"`
	Form          string    `json:"form"`
	Municipality  string    `json:"municipality"`
	FundID        string    `json:"fund_id"`
	TaxCode       string    `json:"tax_code"`
	ApplicantName string    `json:"applicant_name"`
	AwardCents    *int64    `json:"award_cents"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CaseFilter narrows a case list.
type CaseFilter struct {
	TaxCode string
	Status  string
	Limit   int
	Offset  int
	// CountCap bounds the count of the list (CaseCountCap when 0).
	CountCap int
}

// applicantNameSQL extracts the applicant's name from application data.
const applicantNameSQL = `coalesce(nullif(btrim(concat_ws(' ', c.data #>> '{applicant,first_name}', c.data #>> '{applicant,last_name}')), ''),
	c.data #>> '{applicant,name}', '')`

// Count is the size of a list: exact, or at least N when More is set
// (shown as "more than N").
type Count struct {
	N    int  `json:"n"`
	More bool `json:"more"`
}

// CaseCountCap is how many cases a case list counts at most (by default):
// beyond it the list says "more than CaseCountCap". Counting every visible
// case on each request costs a scan of the whole district, and each row
// counted costs a row-level-security check.
const CaseCountCap = 1_000

// Cases lists the cases visible to scope, newest first, with their count:
// exact when the page is the last one or the list has at most the cap
// (f.CountCap, CaseCountCap when 0) of cases, else a lower bound (Count.More)
// that is never less than the cases up to the end of this page, so that a
// full page always has a next one.
//
// Row-level security decides what is visible; for staff the query also
// names the scope's district (and municipality) as column predicates, which
// select the same rows and let the tenant index (district, municipality,
// created_at, id, with applicant_id: migration 016) apply (see
// tenantTaskSQL); a supervisor's page merges the newest cases of each
// municipality of the district.
func (a API) Cases(ctx context.Context, scope Scope, f CaseFilter) ([]CaseSummary, Count, error) {
	list := []CaseSummary{}
	args := pgx.NamedArgs{"tax_code": strings.ToUpper(f.TaxCode), "status": f.Status,
		"scope_district": scope.District, "scope_municipality": scope.Municipality}
	var where string
	if f.TaxCode != "" {
		where += ` AND c.tax_code = @tax_code`
	}
	if f.Status != "" {
		where += ` AND c.status = @status`
	}
	switch scope.Kind {
	case string(contract.RoleOperator):
		where += ` AND c.district_id = @scope_district AND c.municipality_id = @scope_municipality`
	case string(contract.RoleSupervisor):
		where += ` AND c.district_id = @scope_district`
	}
	capN := f.CountCap
	if capN <= 0 {
		capN = CaseCountCap
	}
	pageArgs := pgx.NamedArgs{"limit": f.Limit, "offset": f.Offset}
	for k, v := range args {
		pageArgs[k] = v
	}
	// The page's ids first, then its rows: for staff the ids come from the
	// tenant index alone (cases_tenant_list holds every column the policy
	// reads), and only the page's rows are read in full.
	ids := `SELECT c.id, c.created_at FROM cases c WHERE true` + where + `
		ORDER BY c.created_at DESC, c.id DESC LIMIT @limit OFFSET @offset`
	if scope.Kind == string(contract.RoleSupervisor) {
		// Newest first across the district: the newest of each
		// municipality (the tenant index walked in order), merged.
		pageArgs["depth"] = f.Offset + f.Limit
		ids = `SELECT c.id, c.created_at FROM municipalities m CROSS JOIN LATERAL (SELECT c.id, c.created_at FROM cases c
				WHERE c.municipality_id = m.id` + where + `
				ORDER BY c.created_at DESC, c.id DESC LIMIT @depth) c
			WHERE m.district_id = @scope_district
			ORDER BY c.created_at DESC, c.id DESC LIMIT @limit OFFSET @offset`
	}
	// Count no further than the cap, or than the end of this page.
	bound := max(capN, f.Offset+f.Limit)
	args["bound"] = bound + 1
	// The page and its count go in one round trip with the scope, planned
	// once per connection (pipeline, generic plans).
	b := &pgx.Batch{}
	b.Queue(`SELECT c.id, c.status, c.form_id, c.municipality_id, c.fund_id, c.tax_code,
			`+applicantNameSQL+`, c.award_cents, c.created_at, c.updated_at
		FROM (`+ids+`) p JOIN cases c ON c.id = p.id
		ORDER BY c.created_at DESC, c.id DESC`, pageArgs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var s CaseSummary
			if err := rows.Scan(&s.ID, &s.Status, &s.Form, &s.Municipality, &s.FundID, &s.TaxCode,
				&s.ApplicantName, &s.AwardCents, &s.CreatedAt, &s.UpdatedAt); err != nil {
				return err
			}
			list = append(list, s)
		}
		return rows.Err()
	})
	var n int
	b.Queue(`SELECT count(*) FROM (SELECT 1 FROM cases c WHERE true`+where+` LIMIT @bound) AS visible`, args).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	if err := a.s.pipeline(ctx, scope, b, true); err != nil {
		return []CaseSummary{}, Count{}, MapError(err)
	}
	return list, boundedTotal(n, bound, f.Limit, f.Offset, len(list)), nil
}

// CaseEvent is one entry of a case timeline.
type CaseEvent struct {
	At     time.Time       `json:"at"`
	Type   string          `json:"type"`
	Actor  string          `json:"actor"`
	Detail json.RawMessage `json:"detail"`
}

// Timeline returns the events of a case visible to scope, oldest first
// (ErrNotFound when the case is not visible).
func (a API) Timeline(ctx context.Context, scope Scope, caseID string) ([]CaseEvent, error) {
	return a.timeline(ctx, scope, caseID, nil)
}

// TimelineAudited is Timeline that also appends e, a staff read of the case,
// to the audit trail (as Audit does) in the same round trip and
// transaction: the row is written only when the case is visible to scope,
// and a read whose row cannot be written fails (wrapping
// ErrAuditUnavailable) with nothing committed.
func (a API) TimelineAudited(ctx context.Context, scope Scope, caseID string, e AuditEntry) ([]CaseEvent, error) {
	e.CaseID = caseID
	return a.timeline(ctx, scope, caseID, &e)
}

func (a API) timeline(ctx context.Context, scope Scope, caseID string, audit *AuditEntry) ([]CaseEvent, error) {
	events := []CaseEvent{}
	found := false
	b := &pgx.Batch{}
	b.Queue(`SELECT 1 FROM cases WHERE id = $1`, caseID).Query(func(rows pgx.Rows) error {
		found = rows.Next()
		rows.Close()
		return rows.Err()
	})
	b.Queue(`SELECT at, type, actor, detail FROM case_events WHERE case_id = $1 ORDER BY at, id`, caseID).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var e CaseEvent
				if err := rows.Scan(&e.At, &e.Type, &e.Actor, &e.Detail); err != nil {
					return err
				}
				events = append(events, e)
			}
			return rows.Err()
		})
	if audit != nil {
		queueCaseAudit(b, scope, *audit)
	}
	if err := a.s.Pipeline(ctx, scope, b); err != nil {
		if errors.Is(err, ErrAuditUnavailable) {
			return nil, err
		}
		return nil, MapError(err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return events, nil
}

// CountCases counts the cases visible to scope (tests use it to prove that
// refused requests stored nothing).
func (a API) CountCases(ctx context.Context, scope Scope) (int, error) {
	var n int
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&n)
	})
	return n, MapError(err)
}
