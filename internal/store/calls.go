package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Form versions and calls (migration 026): the versions of the forms, the
// embedded ones imported as the platform's and the ones a district's
// supervisors upload, and the district's calls for applications, each a
// draft until published, when it becomes a fund.

// Statuses of a form version and of a call.
const (
	StatusDraft      = "draft"
	StatusPublishing = "publishing" // a call whose budget commitment is asked (migration 036)
	StatusPublished  = "published"
)

// ImportedBy is the author of the form versions imported from the binary.
const ImportedBy = "sportello"

// FormVersion is one version of a form.
type FormVersion struct {
	FormID      string          `json:"form_id"`
	Version     int             `json:"version"`
	District    string          `json:"district,omitempty"` // "" for the platform's
	Status      string          `json:"status"`
	CreatedBy   string          `json:"created_by"`
	CreatedAt   time.Time       `json:"created_at"`
	PublishedAt *time.Time      `json:"published_at,omitempty"`
	Schema      json.RawMessage `json:"-"`
}

const formVersionSelect = `SELECT form_id, version, coalesce(district_id, ''), status, created_by, created_at, published_at,
	schema::text FROM form_versions`

func scanFormVersion(row pgx.Row) (FormVersion, error) {
	var v FormVersion
	var schema string
	err := row.Scan(&v.FormID, &v.Version, &v.District, &v.Status, &v.CreatedBy, &v.CreatedAt, &v.PublishedAt, &schema)
	v.Schema = json.RawMessage(schema)
	return v, err
}

// ErrFormVersionTaken is returned (wrapped) by ImportFormVersion for an
// embedded version whose number a district's version already has (one
// stored before migration 035 gave the districts their own range): the
// release must number its version otherwise.
var ErrFormVersionTaken = errors.New("an embedded form version has the number of a district's version")

// ImportFormVersion stores an embedded schema as a published version of
// the platform, once: a platform version already there is left as it is.
// A district's version with that number is ErrFormVersionTaken, never
// left in the platform's place (migration 035).
func (a API) ImportFormVersion(ctx context.Context, formID string, version int, schema []byte, now time.Time) error {
	return MapError(a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO form_versions (form_id, version, schema, status, created_by, created_at, published_at)
			VALUES ($1, $2, $3::json, 'published', $4, $5, $5) ON CONFLICT (form_id, version) DO NOTHING`,
			formID, version, string(schema), ImportedBy, now); err != nil {
			return err
		}
		var district string
		if err := tx.QueryRow(ctx, `SELECT coalesce(district_id, '') FROM form_versions WHERE form_id = $1 AND version = $2`,
			formID, version).Scan(&district); err != nil {
			return err
		}
		if district != "" {
			return fmt.Errorf("store: form %s version %d is district %s's: %w", formID, version, district, ErrFormVersionTaken)
		}
		return nil
	}))
}

// PublishedFormVersions lists every published version, by form and version.
func (a API) PublishedFormVersions(ctx context.Context) ([]FormVersion, error) {
	return a.formVersions(ctx, System, ` WHERE status = 'published' ORDER BY form_id, version`)
}

// FormVersions lists the versions scope may use, by form and version: the
// platform's and, for a member of a district, that district's own (its
// drafts too for a supervisor); never another district's.
func (a API) FormVersions(ctx context.Context, scope Scope) ([]FormVersion, error) {
	return a.formVersions(ctx, scope, ` WHERE `+ownFormVersion+` ORDER BY form_id, version`, scope.District)
}

// ownFormVersion keeps the versions of the platform and of district $1
// (every version for the system, whose district is "").
const ownFormVersion = `($1 = '' OR district_id IS NULL OR district_id = $1)`

func (a API) formVersions(ctx context.Context, scope Scope, where string, args ...any) ([]FormVersion, error) {
	out := []FormVersion{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, formVersionSelect+where, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanFormVersion(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// FormVersionOf reads one version scope may use (FormVersions; ErrNotFound
// otherwise).
func (a API) FormVersionOf(ctx context.Context, scope Scope, formID string, version int) (FormVersion, error) {
	var out FormVersion
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, err = scanFormVersion(tx.QueryRow(ctx, formVersionSelect+` WHERE `+ownFormVersion+` AND form_id = $2 AND version = $3`,
			scope.District, formID, version))
		return err
	})
	return out, MapError(err)
}

// CreateFormVersion stores schema as a draft of the next version of
// formID in the supervisor's district: 1001 and up, the districts' range
// (migration 035), never a number of the platform's.
func (a API) CreateFormVersion(ctx context.Context, scope Scope, formID string, schema []byte, actor string, now time.Time) (FormVersion, error) {
	var out FormVersion
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		// The districts' version numbers are one sequence per form: take them under a lock.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('form_versions:' || $1, 0))`, formID); err != nil {
			return err
		}
		var next int
		if err := tx.QueryRow(ctx, `SELECT sportello_next_form_version($1)`, formID).Scan(&next); err != nil {
			return err
		}
		var err error
		out, err = scanFormVersion(tx.QueryRow(ctx, `INSERT INTO form_versions (form_id, version, district_id, schema, status, created_by, created_at)
			VALUES ($1, $2, $3, $4::json, 'draft', $5, $6)
			RETURNING form_id, version, coalesce(district_id, ''), status, created_by, created_at, published_at, schema::text`,
			formID, next, scope.District, string(schema), actor, now))
		return err
	})
	return out, MapError(err)
}

// UpdateFormVersion replaces the schema of a draft of the supervisor's
// district (ErrNotFound for none, a "form_version_published" conflict for
// a published one).
func (a API) UpdateFormVersion(ctx context.Context, scope Scope, formID string, version int, schema []byte) (FormVersion, error) {
	return a.changeFormVersion(ctx, scope, formID, version, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE form_versions SET schema = $3::json WHERE form_id = $1 AND version = $2`, formID, version, string(schema))
		return err
	})
}

// PublishFormVersion publishes a draft of the supervisor's district: from
// then on it never changes.
func (a API) PublishFormVersion(ctx context.Context, scope Scope, formID string, version int, now time.Time) (FormVersion, error) {
	return a.changeFormVersion(ctx, scope, formID, version, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE form_versions SET status = 'published', published_at = $3 WHERE form_id = $1 AND version = $2`,
			formID, version, now)
		return err
	})
}

var errFormVersionPublished = Conflict("form_version_published", "this form version is published and never changes; upload a new version")

func (a API) changeFormVersion(ctx context.Context, scope Scope, formID string, version int, change func(pgx.Tx) error) (FormVersion, error) {
	var out FormVersion
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		cur, err := scanFormVersion(tx.QueryRow(ctx, formVersionSelect+` WHERE form_id = $1 AND version = $2 AND district_id = $3 FOR UPDATE`,
			formID, version, scope.District))
		if err != nil {
			return err
		}
		if cur.Status != StatusDraft {
			return errFormVersionPublished
		}
		if err := change(tx); err != nil {
			return err
		}
		out, err = scanFormVersion(tx.QueryRow(ctx, formVersionSelect+` WHERE form_id = $1 AND version = $2`, formID, version))
		return err
	})
	return out, MapError(err)
}

// CallPlace is what names a call: its id, district, municipality, name
// and form version (a Call's and an OpenCall's).
type CallPlace struct {
	ID               string `json:"id"`
	District         string `json:"district"`
	Municipality     string `json:"municipality"`
	MunicipalityName string `json:"municipality_name"`
	Name             string `json:"name"`
	FormID           string `json:"form_id"`
	FormVersion      int    `json:"form_version"`
}

// Call is a district's call for applications.
type Call struct {
	CallPlace
	ISEEThresholdCents int64           `json:"isee_threshold_cents"`
	Rule               json.RawMessage `json:"rule"`
	Tranches           json.RawMessage `json:"tranches"`
	BudgetCents        int64           `json:"budget_cents"`
	OpensAt            time.Time       `json:"opens_at"`
	ClosesAt           time.Time       `json:"closes_at"`
	ExpiresAt          time.Time       `json:"expires_at"`
	Status             string          `json:"status"`
	CreatedBy          string          `json:"created_by"`
	CreatedAt          time.Time       `json:"created_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
	PublishedAt        *time.Time      `json:"published_at,omitempty"`
	CallFunding
}

// CallFunding is what the municipality's accounting system said of a
// call's budget commitment (migration 036): the commitment's number and
// amount once confirmed (a published call), or the code of its refusal (a
// call back to draft).
type CallFunding struct {
	CommitmentNumber string     `json:"commitment_number,omitempty"`
	CommitmentCents  int64      `json:"commitment_cents,omitempty"`
	CommittedAt      *time.Time `json:"committed_at,omitempty"`
	FundingRefusal   string     `json:"funding_refusal,omitempty"`
	// Who withdrew the publication and when (FundingRefusal
	// FundingCancelled, migration 038).
	PublicationCancelledBy string     `json:"publication_cancelled_by,omitempty"`
	PublicationCancelledAt *time.Time `json:"publication_cancelled_at,omitempty"`
}

// FundingCancelled is the FundingRefusal of a call whose publication a
// supervisor withdrew before the accounting system confirmed its budget.
const FundingCancelled = "cancelled"

// CallTerms are what a supervisor writes of a call.
type CallTerms struct {
	Municipality       string
	Name               string
	FormID             string
	FormVersion        int
	ISEEThresholdCents int64
	Rule               json.RawMessage
	Tranches           json.RawMessage
	BudgetCents        int64
	OpensAt            time.Time
	ClosesAt           time.Time
	ExpiresAt          time.Time
}

const callSelect = `SELECT c.id, c.district_id, c.municipality_id, m.name, c.name, c.form_id, c.form_version, c.isee_threshold_cents,
	c.rule, c.tranches, c.budget_cents, c.opens_at, c.closes_at, c.expires_at, c.status, c.created_by, c.created_at, c.updated_at,
	c.published_at, coalesce(c.commitment_number, ''), coalesce(c.commitment_cents, 0), c.committed_at, coalesce(c.funding_refusal, ''),
	coalesce(c.publication_cancelled_by, ''), c.publication_cancelled_at
	FROM calls c JOIN municipalities m ON m.id = c.municipality_id`

func scanCall(row pgx.Row) (Call, error) {
	var c Call
	err := row.Scan(&c.ID, &c.District, &c.Municipality, &c.MunicipalityName, &c.Name, &c.FormID, &c.FormVersion,
		&c.ISEEThresholdCents, &c.Rule, &c.Tranches, &c.BudgetCents, &c.OpensAt, &c.ClosesAt, &c.ExpiresAt, &c.Status,
		&c.CreatedBy, &c.CreatedAt, &c.UpdatedAt, &c.PublishedAt, &c.CommitmentNumber, &c.CommitmentCents, &c.CommittedAt,
		&c.FundingRefusal, &c.PublicationCancelledBy, &c.PublicationCancelledAt)
	return c, err
}

// Calls lists the calls scope reads: a supervisor every call of the
// district, anyone else the district's published calls; with open, only
// published calls open at now in municipality (when not empty).
func (a API) Calls(ctx context.Context, scope Scope, municipality string, open bool, now time.Time) ([]Call, error) {
	out := []Call{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, callSelect+` WHERE c.district_id = $1 AND ($2 = '' OR c.municipality_id = $2)
				AND (NOT $3 OR (c.status = 'published' AND c.opens_at <= $4 AND $4 < c.closes_at))
			ORDER BY c.opens_at DESC, c.id`, scope.District, municipality, open, now)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Call, error) { return scanCall(row) })
		return err
	})
	return out, MapError(err)
}

// CallOf reads one call scope reads (ErrNotFound otherwise).
func (a API) CallOf(ctx context.Context, scope Scope, id string) (Call, error) {
	var out Call
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, err = scanCall(tx.QueryRow(ctx, callSelect+` WHERE c.id = $1`, id))
		return err
	})
	return out, MapError(err)
}

// termsProblem checks what only the database knows: the municipality is
// the district's, the form version exists, is the platform's or the
// district's own (another district's is unknown here) and is published.
func termsProblem(ctx context.Context, tx pgx.Tx, district string, t CallTerms) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM municipalities WHERE id = $1 AND district_id = $2)`,
		t.Municipality, district).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fieldProblem("/municipality", "unknown_municipality", "calls.err.municipality_unknown")
	}
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM form_versions WHERE `+ownFormVersion+` AND form_id = $2 AND version = $3`,
		district, t.FormID, t.FormVersion).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return fieldProblem("/form_version", "unknown_form_version", "calls.err.form_version_unknown")
	}
	if err != nil {
		return err
	}
	if status != StatusPublished {
		return fieldProblem("/form_version", "form_version_draft", "calls.err.form_version_draft")
	}
	return nil
}

// CreateCall stores a draft call id of the supervisor's district.
func (a API) CreateCall(ctx context.Context, scope Scope, id string, t CallTerms, actor string, now time.Time) (Call, error) {
	var out Call
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if err := termsProblem(ctx, tx, scope.District, t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO calls (id, district_id, municipality_id, name, form_id, form_version,
				isee_threshold_cents, rule, tranches, budget_cents, opens_at, closes_at, expires_at, status, created_by,
				created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'draft', $14, $15, $15)`,
			id, scope.District, t.Municipality, t.Name, t.FormID, t.FormVersion, t.ISEEThresholdCents, t.Rule, t.Tranches,
			t.BudgetCents, t.OpensAt, t.ClosesAt, t.ExpiresAt, actor, now); err != nil {
			return err
		}
		var err error
		out, err = scanCall(tx.QueryRow(ctx, callSelect+` WHERE c.id = $1`, id))
		return err
	})
	return out, MapError(err)
}

var errCallPublished = Conflict("call_published", "this call is published: its terms never change")

// UpdateCall replaces the terms of a draft call of the supervisor's
// district (a "call_published" conflict once published).
func (a API) UpdateCall(ctx context.Context, scope Scope, id string, t CallTerms, now time.Time) (Call, error) {
	return a.changeCall(ctx, scope, scope.District, id, func(tx pgx.Tx, _ Call) error {
		if err := termsProblem(ctx, tx, scope.District, t); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE calls SET municipality_id = $2, name = $3, form_id = $4, form_version = $5,
				isee_threshold_cents = $6, rule = $7, tranches = $8, budget_cents = $9, opens_at = $10, closes_at = $11,
				expires_at = $12, updated_at = $13
			WHERE id = $1`, id, t.Municipality, t.Name, t.FormID, t.FormVersion, t.ISEEThresholdCents, t.Rule, t.Tranches,
			t.BudgetCents, t.OpensAt, t.ClosesAt, t.ExpiresAt, now)
		return err
	})
}

// Defaults of the funds a call creates.
const (
	CallReviewWorkingDays  = 3
	CallFourEyesAboveCents = 500_00
)

// BeginCallPublication moves a draft call of the supervisor's district to
// publishing: its terms are frozen while the municipality's accounting
// system is asked to commit its budget (a refusal from a previous attempt
// or a withdrawal is cleared). A call already publishing is returned as it is (asking
// again is safe: the commitment's key is the call's); a published one is
// a "call_published" conflict; a form version not (or no longer)
// publishable is Invalid. Nothing is booked yet (OpenCommittedCall).
func (a API) BeginCallPublication(ctx context.Context, scope Scope, id string, now time.Time) (Call, error) {
	return a.lockedCall(ctx, scope, scope.District, id, func(tx pgx.Tx, c Call) error {
		switch c.Status {
		case StatusPublishing:
			return nil
		case StatusPublished:
			return errCallPublished
		}
		if err := termsProblem(ctx, tx, c.District, CallTerms{Municipality: c.Municipality, FormID: c.FormID, FormVersion: c.FormVersion}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE calls SET status = 'publishing', funding_refusal = NULL, publication_cancelled_by = NULL,
			publication_cancelled_at = NULL, updated_at = $2 WHERE id = $1`, id, now)
		return err
	})
}

var (
	errCallPublishing    = Conflict("call_publishing", "this call is being published: its terms stay as they are until the accounting system answers")
	errCallNotPublishing = Conflict("call_not_publishing", "this call is not being published")
	errCommitmentAmount  = Conflict("commitment_amount", "the budget commitment is not of the call's budget")
)

// OpenCommittedCall publishes call id, being published, once the
// municipality's accounting system confirmed the commitment number of
// cents (its budget): the commitment is recorded on the call, its fund is
// created with the call's terms and form version, and its budget moves from
// the district's funding account to the fund's through the ledger (key
// "funding:<id>"), all in one transaction, as the system. The same
// confirmation again returns the published call and books nothing; a call
// not being published is a "call_not_publishing" conflict, an amount other
// than the budget a "commitment_amount" one.
func (a API) OpenCommittedCall(ctx context.Context, id, number string, cents int64, now time.Time) (Call, error) {
	return a.lockedCall(ctx, System, "", id, func(tx pgx.Tx, c Call) error {
		switch {
		case c.Status == StatusPublished && c.CommitmentNumber == number:
			return nil
		case c.Status != StatusPublishing:
			return errCallNotPublishing
		case cents != c.BudgetCents:
			return errCommitmentAmount
		}
		if _, err := tx.Exec(ctx, `UPDATE calls SET status = 'published', published_at = $2, updated_at = $2,
				commitment_number = $3, commitment_cents = $4, committed_at = $2 WHERE id = $1`, id, now, number, cents); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO funds (id, district_id, municipality_id, form_id, form_version, name,
				isee_threshold_cents, rule, tranches, review_working_days, opens_at, closes_at, expires_at, four_eyes_above_cents)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			c.ID, c.District, c.Municipality, c.FormID, c.FormVersion, c.Name, c.ISEEThresholdCents, c.Rule, c.Tranches,
			CallReviewWorkingDays, c.OpensAt, c.ClosesAt, c.ExpiresAt, int64(CallFourEyesAboveCents)); err != nil {
			return err
		}
		if err := EnsureAccount(ctx, tx, FundingAccountID(c.District), c.District, AccountFunding, true); err != nil {
			return err
		}
		if err := EnsureAccount(ctx, tx, FundAccountID(c.ID), c.District, AccountFund, false); err != nil {
			return err
		}
		_, _, err := Transfer(ctx, tx, TransferInput{Key: CallFundingKey(c.ID), From: FundingAccountID(c.District),
			To: FundAccountID(c.ID), Amount: c.BudgetCents, Kind: TransferFunding, FundID: c.ID})
		return err
	})
}

// CallFundingKey is the idempotency key of call id's funding: of its
// budget commitment at the accounting system and of its ledger transfer.
func CallFundingKey(id string) string { return "funding:" + id }

// RefuseCallFunding puts call id, being published, back to draft with
// the code of the accounting system's refusal of its budget commitment:
// nothing was booked, and the supervisor may change its terms and publish
// again. A call in another state is returned as it is.
func (a API) RefuseCallFunding(ctx context.Context, id, code string, now time.Time) (Call, error) {
	return a.lockedCall(ctx, System, "", id, func(tx pgx.Tx, c Call) error {
		if c.Status != StatusPublishing {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE calls SET status = 'draft', funding_refusal = $2, updated_at = $3 WHERE id = $1`, id, code, now)
		return err
	})
}

// CancelCallPublication puts call id, being published, back to draft
// because actor (a supervisor of its district) withdrew its publication
// before the accounting system confirmed its budget: FundingRefusal
// FundingCancelled, who and when recorded; nothing was booked (only the
// CallFunding workflow calls it, once its commitment is no longer being
// asked). The same withdrawal again returns the draft as it is; a call
// published meanwhile is a "call_published" conflict and any other draft
// a "call_not_publishing" one.
func (a API) CancelCallPublication(ctx context.Context, id, actor string, now time.Time) (Call, error) {
	return a.lockedCall(ctx, System, "", id, func(tx pgx.Tx, c Call) error {
		switch {
		case c.Status == StatusPublished:
			return errCallPublished
		case c.Status == StatusDraft && c.FundingRefusal == FundingCancelled:
			return nil
		case c.Status != StatusPublishing:
			return errCallNotPublishing
		}
		_, err := tx.Exec(ctx, `UPDATE calls SET status = 'draft', funding_refusal = $2, publication_cancelled_by = $3,
			publication_cancelled_at = $4, updated_at = $4 WHERE id = $1`, id, FundingCancelled, actor, now)
		return err
	})
}

// changeCall runs change on draft call id of district, under scope.
func (a API) changeCall(ctx context.Context, scope Scope, district, id string, change func(pgx.Tx, Call) error) (Call, error) {
	return a.lockedCall(ctx, scope, district, id, func(tx pgx.Tx, c Call) error {
		switch c.Status {
		case StatusPublishing:
			return errCallPublishing
		case StatusPublished:
			return errCallPublished
		}
		return change(tx, c)
	})
}

// lockedCall runs change on call id of district ("": any) locked, under
// scope, and reads it again.
func (a API) lockedCall(ctx context.Context, scope Scope, district, id string, change func(pgx.Tx, Call) error) (Call, error) {
	var out Call
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		cur, err := scanCall(tx.QueryRow(ctx, callSelect+` WHERE c.id = $1 AND ($2 = '' OR c.district_id = $2) FOR UPDATE OF c`, id, district))
		if err != nil {
			return err
		}
		if err := change(tx, cur); err != nil {
			return err
		}
		out, err = scanCall(tx.QueryRow(ctx, callSelect+` WHERE c.id = $1`, id))
		return err
	})
	return out, MapError(err)
}

// FilingCall is a call (a fund) open for applications: its id and the
// form version its applications are filed with (0 for a fund from before
// the calls: the latest).
type FilingCall struct {
	ID      string
	Version int
}

// OpenFilingCalls lists the calls open at now for form in the municipality
// named (id or name) in scope's district, newest first: the calls an
// application of that form and municipality may be filed under. With call
// not empty, only that one (none when it is not open there).
func (a API) OpenFilingCalls(ctx context.Context, scope Scope, form, municipality, call string, now time.Time) ([]FilingCall, error) {
	out := []FilingCall{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, openFilingCalls, form, scope.District, municipality, now, call)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c FilingCall
			if err := rows.Scan(&c.ID, &c.Version); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// openFilingCalls: $1 form, $2 district, $3 municipality (id or name), $4
// now, $5 call (” for any); the municipality named by its id first.
const openFilingCalls = `SELECT f.id, coalesce(f.form_version, 0) FROM funds f
	WHERE f.form_id = $1 AND ($5 = '' OR f.id = $5) AND f.opens_at <= $4 AND $4 < f.closes_at
	  AND f.municipality_id = (SELECT m.id FROM municipalities m WHERE m.district_id = $2 AND (m.id = $3 OR lower(m.name) = lower($3))
		ORDER BY m.id = $3 DESC LIMIT 1)
	ORDER BY f.opens_at DESC, f.created_at DESC, f.id`

// OpenCall is a call open for applications as everyone may read it: the
// public list of a district's open calls (GET /api/v1/open-calls, the
// page /open-calls). It is a fund open now: a published call's or one
// from before the calls (FormVersion 0: filed with the latest version).
type OpenCall struct {
	CallPlace
	Kind               string    `json:"kind"`
	Categories         []string  `json:"categories"`
	ISEEThresholdCents int64     `json:"isee_threshold_cents"`
	BaseAwardCents     int64     `json:"base_award_cents"`
	MaxAwardCents      int64     `json:"max_award_cents"`
	OpensAt            time.Time `json:"opens_at"`
	ClosesAt           time.Time `json:"closes_at"`
}

// openCallSelect reads the funds open at $1; the rule's amounts are those
// of the award rule a call is published with (calls.Rule).
const openCallSelect = `SELECT f.id, f.district_id, f.municipality_id, m.name, f.name, f.form_id, coalesce(f.form_version, 0), f.kind,
	f.service_categories, f.isee_threshold_cents, coalesce((f.rule->>'base_cents')::bigint, 0),
	coalesce((f.rule->>'max_cents')::bigint, 0), f.opens_at, f.closes_at
	FROM funds f JOIN municipalities m ON m.id = f.municipality_id
	WHERE f.opens_at <= $1 AND $1 < f.closes_at`

// OpenCalls lists the calls of district open at now, by municipality and
// closing date. Open calls are public: the read needs no scope (it runs as
// the system, on open calls only).
func (a API) OpenCalls(ctx context.Context, district string, now time.Time) ([]OpenCall, error) {
	out := []OpenCall{}
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, openCallSelect+` AND f.district_id = $2 ORDER BY m.name, f.closes_at, f.name, f.id`, now, district)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (OpenCall, error) { return scanOpenCall(row) })
		return err
	})
	return out, MapError(err)
}

// OpenCallOf reads call id when it is open at now (ErrNotFound otherwise),
// whatever the district: an open call is public.
func (a API) OpenCallOf(ctx context.Context, id string, now time.Time) (OpenCall, error) {
	var out OpenCall
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		out, err = scanOpenCall(tx.QueryRow(ctx, openCallSelect+` AND f.id = $2`, now, id))
		return err
	})
	return out, MapError(err)
}

func scanOpenCall(row pgx.Row) (OpenCall, error) {
	var c OpenCall
	err := row.Scan(&c.ID, &c.District, &c.Municipality, &c.MunicipalityName, &c.Name, &c.FormID, &c.FormVersion, &c.Kind,
		&c.Categories, &c.ISEEThresholdCents, &c.BaseAwardCents, &c.MaxAwardCents, &c.OpensAt, &c.ClosesAt)
	if c.Categories == nil {
		c.Categories = []string{}
	}
	return c, err
}
