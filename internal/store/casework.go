package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// The case as its workflow sees it, defined in internal/contract (it
// travels in the case workflow's history).
type (
	AwardRule        = contract.AwardRule
	Tranche          = contract.Tranche
	FundTerms        = contract.FundTerms
	CaseInfo         = contract.CaseInfo
	Household        = contract.Household
	ApplicationFacts = contract.ApplicationFacts
)

// Event is one timeline entry; Key makes writing it idempotent.
type Event struct {
	Key    string
	CaseID string
	At     time.Time
	Type   string
	Actor  string
	Detail any
}

// AddEvent records ev once.
func AddEvent(ctx context.Context, tx pgx.Tx, ev Event) error {
	sql, args, err := eventInsert(ev)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, sql, args...)
	return MapError(err)
}

// queueEvent queues in b the statement that records ev once (AddEvent's).
func queueEvent(b *pgx.Batch, ev Event) error {
	sql, args, err := eventInsert(ev)
	if err == nil {
		b.Queue(sql, args...)
	}
	return err
}

// eventInsert is the statement that records ev once, and its arguments.
func eventInsert(ev Event) (string, []any, error) {
	detail := ev.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return "", nil, err
	}
	return `INSERT INTO case_events (case_id, event_key, at, type, actor, detail)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_key) DO NOTHING`,
		[]any{ev.CaseID, ev.Key, ev.At, ev.Type, ev.Actor, b}, nil
}

// LoadCase reads a case and its fund's terms, in one round trip
// (Pipeline: the scope and the statement together).
func (s *Store) LoadCase(ctx context.Context, caseID string) (CaseInfo, error) {
	var c CaseInfo
	var rule, tranches []byte
	var patronMonth int
	var opens, closes int64
	b := &pgx.Batch{}
	b.Queue(`SELECT c.id, c.district_id, c.municipality_id, c.applicant_id, c.tax_code, c.form_id,
				c.form_version, c.status, c.data, c.created_at,
				f.id, f.name, f.isee_threshold_cents, f.rule, f.tranches, f.review_working_days, f.opens_at, f.closes_at, f.expires_at,
				f.four_eyes_above_cents, f.info_reply_working_days,
				coalesce(m.patron_month, 0), coalesce(m.patron_day, 0),
				coalesce(extract(epoch FROM m.office_opens)::bigint, 0), coalesce(extract(epoch FROM m.office_closes)::bigint, 0)
			FROM cases c JOIN funds f ON f.id = c.fund_id JOIN municipalities m ON m.id = c.municipality_id
			WHERE c.id = $1`, caseID).QueryRow(func(row pgx.Row) error {
		return row.Scan(&c.ID, &c.DistrictID, &c.MunicipalityID, &c.ApplicantID, &c.TaxCode, &c.FormID, &c.FormVersion, &c.Status,
			&c.Data, &c.CreatedAt, &c.Fund.ID, &c.Fund.Name, &c.Fund.ISEEThresholdCents, &rule, &tranches,
			&c.Fund.ReviewWorkingDays, &c.Fund.OpensAt, &c.Fund.ClosesAt, &c.Fund.ExpiresAt,
			&c.Fund.FourEyesAboveCents, &c.Fund.InfoReplyWorkingDays,
			&patronMonth, &c.Office.PatronDay, &opens, &closes)
	})
	err := s.Pipeline(ctx, System, b)
	if err != nil {
		return CaseInfo{}, MapError(err)
	}
	c.Office.PatronMonth = time.Month(patronMonth)
	c.Office.Opens, c.Office.Closes = time.Duration(opens)*time.Second, time.Duration(closes)*time.Second
	if err := json.Unmarshal(rule, &c.Fund.Rule); err != nil {
		return CaseInfo{}, fmt.Errorf("fund %s rule: %w", c.Fund.ID, err)
	}
	if err := json.Unmarshal(tranches, &c.Fund.Tranches); err != nil {
		return CaseInfo{}, fmt.Errorf("fund %s tranches: %w", c.Fund.ID, err)
	}
	return c, nil
}

// Check is one automatic pre-check result (defined in internal/contract).
type Check = contract.Check

// PrecheckFacts are the registry facts the pre-check needs.
type PrecheckFacts struct {
	RegistryMunicipality string // "" when the tax code is not in any registry of the district
	RegistryDistrict     string
	OtherAwards          int // vouchers from the same fund for the same tax code, other cases
	// The names of the registry's and the application's municipalities, and
	// the other cases of those vouchers, for the staff's page.
	RegistryMunicipalityName, DeclaredMunicipalityName string
	OtherAwardCases                                    []string
	// Household is the applicant's household in the registry ("" when the
	// registry gives none); HouseholdAwards counts the vouchers from the
	// same fund of the other current members of that household, and
	// HouseholdPending their applications to the fund still being decided.
	Household        string
	HouseholdAwards  int
	HouseholdPending int
}

// LoadPrecheckFacts looks the applicant up in the population registry (a
// resident no longer resident is not there), the household and the
// vouchers, in one round trip (Pipeline: four reads that do not wait on
// each other; the household's come from the registry row itself).
func (s *Store) LoadPrecheckFacts(ctx context.Context, c CaseInfo) (PrecheckFacts, error) {
	var f PrecheckFacts
	b := &pgx.Batch{}
	b.Queue(`SELECT r.municipality_id, m.name, m.district_id, coalesce(r.household_id, '') FROM residents r
			JOIN municipalities m ON m.id = r.municipality_id WHERE r.tax_code = $1 AND r.ceased_at IS NULL`, c.TaxCode).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&f.RegistryMunicipality, &f.RegistryMunicipalityName, &f.RegistryDistrict, &f.Household)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		})
	b.Queue(`SELECT coalesce((SELECT name FROM municipalities WHERE id = $1), $1)`, c.MunicipalityID).
		QueryRow(func(row pgx.Row) error { return row.Scan(&f.DeclaredMunicipalityName) })
	b.Queue(`SELECT coalesce(array_agg(case_id ORDER BY case_id), '{}')
			FROM vouchers WHERE fund_id = $1 AND tax_code = $2 AND case_id <> $3`,
		c.Fund.ID, c.TaxCode, c.ID).QueryRow(func(row pgx.Row) error { return row.Scan(&f.OtherAwardCases) })
	// The other current members of the applicant's household in the registry
	// (same municipality, same id_famiglia; none without a household): their
	// vouchers from this fund, and their applications to it not yet decided.
	b.Queue(`WITH me AS (
				SELECT municipality_id, household_id FROM residents
				WHERE tax_code = $1 AND ceased_at IS NULL AND coalesce(household_id, '') <> ''),
			members AS (
				SELECT r.tax_code FROM residents r JOIN me ON r.municipality_id = me.municipality_id
					AND r.household_id = me.household_id
				WHERE r.ceased_at IS NULL AND r.tax_code <> $1)
			SELECT (SELECT count(*) FROM vouchers v WHERE v.fund_id = $2 AND v.case_id <> $3
					AND v.tax_code IN (SELECT tax_code FROM members)),
				(SELECT count(*) FROM cases k WHERE k.fund_id = $2 AND k.id <> $3
					AND k.status IN ('submitted', 'in_review', 'info_requested')
					AND k.tax_code IN (SELECT tax_code FROM members))`,
		c.TaxCode, c.Fund.ID, c.ID).QueryRow(func(row pgx.Row) error { return row.Scan(&f.HouseholdAwards, &f.HouseholdPending) })
	if err := s.Pipeline(ctx, System, b); err != nil {
		return PrecheckFacts{}, MapError(err)
	}
	f.OtherAwards = len(f.OtherAwardCases)
	return f, nil
}

// SavePrecheck stores the pre-check annotation on the case and its event,
// in one round trip.
func (s *Store) SavePrecheck(ctx context.Context, caseID string, checks []Check, passed bool, at time.Time) error {
	b, err := json.Marshal(map[string]any{"passed": passed, "checks": checks, "at": at})
	if err != nil {
		return err
	}
	// One round trip (Pipeline: both writes or neither). The pre-check is
	// the first thing the case's workflow writes: its start is no longer
	// pending (migration 041).
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE cases SET precheck = $2, updated_at = $3, start_pending = false WHERE id = $1`, caseID, b, at)
	if err := queueEvent(batch, Event{Key: caseID + ":precheck", CaseID: caseID, At: at, Type: "precheck", Actor: "system",
		Detail: map[string]any{"passed": passed, "checks": checks}}); err != nil {
		return err
	}
	return MapError(s.Pipeline(ctx, System, batch))
}

// OpenTaskInput creates a review task.
type OpenTaskInput struct {
	TaskID string
	CaseID string
	Round  int
	DueAt  time.Time
	At     time.Time
	// Kind is review (default) or second_approval; CandidateRole operator
	// (default) or supervisor.
	Kind          string
	CandidateRole string
}

// OpenTask inserts the review task once and puts the case in review.
func (s *Store) OpenTask(ctx context.Context, in OpenTaskInput) error {
	kind, role := in.Kind, in.CandidateRole
	if kind == "" {
		kind = "review"
	}
	if role == "" {
		role = string(contract.RoleOperator)
	}
	// One round trip (Pipeline: all or nothing). The task joins the
	// candidate group (team) that reviews its fund, if any; the case goes
	// in review only when the task was inserted now.
	b := &pgx.Batch{}
	b.Queue(`WITH task AS (
			INSERT INTO tasks (id, case_id, district_id, municipality_id, kind, candidate_role, status, due_at, created_at, team_id)
			SELECT $1, c.id, c.district_id, c.municipality_id, $5, $6, 'open', $3, $4, f.team_id
			FROM cases c JOIN funds f ON f.id = c.fund_id WHERE c.id = $2
			ON CONFLICT (id) DO NOTHING
			RETURNING case_id)
		UPDATE cases SET status = 'in_review', updated_at = $4 WHERE id IN (SELECT case_id FROM task)`,
		in.TaskID, in.CaseID, in.DueAt, in.At, kind, role)
	if err := queueEvent(b, Event{Key: fmt.Sprintf("%s:task:%d:opened", in.CaseID, in.Round), CaseID: in.CaseID, At: in.At,
		Type: "task_opened", Actor: "system", Detail: map[string]any{"task_id": in.TaskID, "due_at": in.DueAt, "kind": kind}}); err != nil {
		return err
	}
	return MapError(s.Pipeline(ctx, System, b))
}

// TaskActionInput is a claim, release or escalation of a task.
type TaskActionInput struct {
	TaskID  string
	CaseID  string
	ActorID int64
	Actor   string
	At      time.Time
	Seq     int // distinguishes repeated actions on one task in the timeline keys
}

// ClaimTask records a claim decided by the workflow. A claim by someone
// out of office is refused (ConflictError "out_of_office", see
// refuseAbsentClaim): their tasks go to their delegate.
func (s *Store) ClaimTask(ctx context.Context, in TaskActionInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if err := refuseAbsentClaim(ctx, tx, in.ActorID, in.At); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'claimed', claimed_by = $2, claimed_at = $3
			WHERE id = $1 AND status IN ('open','claimed')`, in.TaskID, in.ActorID, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:task:%s:claim:%d", in.CaseID, in.TaskID, in.Seq), CaseID: in.CaseID,
			At: in.At, Type: "task_claimed", Actor: in.Actor, Detail: map[string]any{"task_id": in.TaskID}})
	}))
}

// ReleaseTask records a release decided by the workflow.
func (s *Store) ReleaseTask(ctx context.Context, in TaskActionInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'open', claimed_by = NULL, claimed_at = NULL
			WHERE id = $1 AND status = 'claimed'`, in.TaskID); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:task:%s:release:%d", in.CaseID, in.TaskID, in.Seq), CaseID: in.CaseID,
			At: in.At, Type: "task_released", Actor: in.Actor, Detail: map[string]any{"task_id": in.TaskID}})
	}))
}

// EscalateTask flags an overdue task.
func (s *Store) EscalateTask(ctx context.Context, in TaskActionInput, dueAt time.Time) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE tasks SET escalated_at = coalesce(escalated_at, $2), priority = 'high' WHERE id = $1`, in.TaskID, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:task:%s:escalated", in.CaseID, in.TaskID), CaseID: in.CaseID,
			At: in.At, Type: "task_escalated", Actor: "system",
			Detail: map[string]any{"task_id": in.TaskID, "due_at": dueAt, "reason": "review not decided by its due date"}})
	}))
}

// CodeTaskDecided is the conflict of a decision on a review task already
// decided otherwise (decideTask).
const CodeTaskDecided = "task_decided"

// decideTask closes a review task with a decision's outcome, once: the
// same decision again (a retried write, or the decision sent again after
// its Update was lost, docs/operations.md) finds it done and goes on; a
// different one is refused (CodeTaskDecided) and changes nothing, so the
// case, its voucher and its timeline never tell two decisions apart.
func decideTask(ctx context.Context, tx pgx.Tx, taskID, outcome string, at time.Time) error {
	var recorded string
	err := tx.QueryRow(ctx, `WITH done AS (
			UPDATE tasks SET status = 'done', outcome = $2, completed_at = $3 WHERE id = $1 AND status <> 'done' RETURNING outcome)
		SELECT coalesce((SELECT outcome FROM done), (SELECT coalesce(outcome, '') FROM tasks WHERE id = $1), $2)`,
		taskID, outcome, at).Scan(&recorded)
	if err != nil {
		return err
	}
	if recorded != outcome {
		return Conflict(CodeTaskDecided, fmt.Sprintf("the task was already decided: %s", recorded))
	}
	return nil
}

func closeTask(ctx context.Context, tx pgx.Tx, taskID, outcome string, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE tasks SET status = 'done', outcome = $2, completed_at = $3 WHERE id = $1 AND status <> 'done'`,
		taskID, outcome, at)
	return err
}

// DecisionInput is a decision the workflow has accepted.
type DecisionInput struct {
	TaskID  string
	CaseID  string
	ActorID int64
	Actor   string
	Reason  string
	At      time.Time
}

// RequestInformation closes the task and waits for the citizen.
func (s *Store) RequestInformation(ctx context.Context, in DecisionInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if err := decideTask(ctx, tx, in.TaskID, "request_info", in.At); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'info_requested', info_request = $2, updated_at = $3 WHERE id = $1`,
			in.CaseID, in.Reason, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: in.CaseID + ":task:" + in.TaskID + ":decision", CaseID: in.CaseID, At: in.At,
			Type: "information_requested", Actor: in.Actor, Detail: map[string]any{"task_id": in.TaskID, "reason": in.Reason}})
	}))
}

// Reject closes the task and the case.
func (s *Store) Reject(ctx context.Context, in DecisionInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if err := decideTask(ctx, tx, in.TaskID, "reject", in.At); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'rejected', decision_reason = $2, updated_at = $3 WHERE id = $1`,
			in.CaseID, in.Reason, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: in.CaseID + ":task:" + in.TaskID + ":decision", CaseID: in.CaseID, At: in.At,
			Type: "rejected", Actor: in.Actor, Detail: map[string]any{"task_id": in.TaskID, "reason": in.Reason}})
	}))
}

// InformationInput is the citizen's reply.
type InformationInput struct {
	CaseID  string
	Round   int
	Actor   string
	Message string
	Data    json.RawMessage // replaces the application data when not empty
	At      time.Time
}

// ReceiveInformation stores the reply and puts the case back in line.
func (s *Store) ReceiveInformation(ctx context.Context, in InformationInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if len(in.Data) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE cases SET data = $2 WHERE id = $1`, in.CaseID, []byte(in.Data)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'submitted', updated_at = $2 WHERE id = $1`, in.CaseID, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:info:%d", in.CaseID, in.Round), CaseID: in.CaseID, At: in.At,
			Type: "information_received", Actor: in.Actor,
			Detail: map[string]any{"message": in.Message, "data_changed": len(in.Data) > 0}})
	}))
}

// VoucherIDForCase is the deterministic voucher id of a case's award.
func VoucherIDForCase(caseID string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("sportello:voucher:"+caseID)).String()
}

// voucherAlphabet avoids look-alike characters (no I, L, O, U, 0, 1).
const voucherAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

// NewVoucherCode returns an unguessable code of 16 characters (about 78 bits
// of entropy) grouped by four: XXXX-XXXX-XXXX-XXXX.
func NewVoucherCode() (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for n := 0; n < 16; {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		// Rejection sampling keeps the distribution uniform.
		if int(buf[0]) >= 256-256%len(voucherAlphabet) {
			continue
		}
		if n > 0 && n%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(voucherAlphabet[int(buf[0])%len(voucherAlphabet)])
		n++
	}
	return b.String(), nil
}

// NormalizeVoucherCode accepts codes typed with spaces, dashes or lower case.
func NormalizeVoucherCode(s string) string {
	var raw strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r == ' ' || r == '-' || r == '\t' {
			continue
		}
		raw.WriteRune(r)
	}
	c := raw.String()
	if len(c) != 16 {
		return c
	}
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
}

// AwardInput is an approval the workflow has accepted.
type AwardInput struct {
	DecisionInput
	AmountCents int64
}

// AwardResult identifies the voucher an award created.
type AwardResult struct {
	VoucherID string
	Code      string
	ExpiresAt time.Time
	// Replayed: the case already had its voucher (a retried activity);
	// nothing was written.
	Replayed bool
}

// Award moves the amount from the fund's budget to a new voucher (pending
// until its tranches are released), closes the task and approves the case,
// all in one transaction. It is idempotent per case.
func (s *Store) Award(ctx context.Context, in AwardInput) (AwardResult, error) {
	var res AwardResult
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		var awarded int64
		err := tx.QueryRow(ctx, `SELECT id::text, code, expires_at, amount_cents FROM vouchers WHERE case_id = $1`, in.CaseID).
			Scan(&res.VoucherID, &res.Code, &res.ExpiresAt, &awarded)
		if err == nil {
			if awarded != in.AmountCents {
				// Another approval than the one the voucher records (see decideTask).
				return Conflict(CodeTaskDecided, fmt.Sprintf("the case was already approved for %d cents", awarded))
			}
			res.Replayed = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var district, municipality, fundID, taxCode, status string
		var holder int64
		if err := tx.QueryRow(ctx, `SELECT c.district_id, c.municipality_id, c.fund_id, c.tax_code, c.applicant_id, c.status, f.expires_at
			FROM cases c JOIN funds f ON f.id = c.fund_id WHERE c.id = $1 FOR UPDATE OF c`, in.CaseID).
			Scan(&district, &municipality, &fundID, &taxCode, &holder, &status, &res.ExpiresAt); err != nil {
			return err
		}
		res.VoucherID = VoucherIDForCase(in.CaseID)
		if res.Code, err = NewVoucherCode(); err != nil {
			return err
		}
		if err := EnsureAccount(ctx, tx, VoucherPendingAccountID(res.VoucherID), district, AccountVoucherPending, false); err != nil {
			return err
		}
		if err := EnsureAccount(ctx, tx, VoucherAccountID(res.VoucherID), district, AccountVoucher, false); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO vouchers (id, code, case_id, fund_id, district_id, municipality_id, holder_id, tax_code,
			amount_cents, status, expires_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'active',$10,$11)`,
			res.VoucherID, res.Code, in.CaseID, fundID, district, municipality, holder, taxCode, in.AmountCents, res.ExpiresAt, in.At); err != nil {
			return err
		}
		_, _, err = Transfer(ctx, tx, TransferInput{Key: "award:" + in.CaseID, From: FundAccountID(fundID),
			To: VoucherPendingAccountID(res.VoucherID), Amount: in.AmountCents, Kind: TransferAward, FundID: fundID, VoucherID: res.VoucherID})
		if errors.Is(err, ErrInsufficient) {
			avail, _ := Balance(ctx, tx, FundAccountID(fundID))
			return Conflict("insufficient_budget", fmt.Sprintf("the fund has %d cents left, the award needs %d", avail, in.AmountCents))
		}
		if err != nil {
			return err
		}
		if err := decideTask(ctx, tx, in.TaskID, "approve", in.At); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'approved', award_cents = $2, decision_reason = $3, updated_at = $4 WHERE id = $1`,
			in.CaseID, in.AmountCents, in.Reason, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: in.CaseID + ":task:" + in.TaskID + ":decision", CaseID: in.CaseID, At: in.At,
			Type: "approved", Actor: in.Actor,
			Detail: map[string]any{"task_id": in.TaskID, "amount_cents": in.AmountCents, "reason": in.Reason, "voucher_id": res.VoucherID}})
	})
	if err != nil {
		return AwardResult{}, MapError(err)
	}
	return res, nil
}

// TrancheInput releases one tranche of a voucher.
type TrancheInput struct {
	CaseID      string
	VoucherID   string
	Index       int
	AmountCents int64
	At          time.Time
}

// ReleaseTranche makes a tranche spendable, once.
func (s *Store) ReleaseTranche(ctx context.Context, in TrancheInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		var fundID string
		if err := tx.QueryRow(ctx, `SELECT fund_id FROM vouchers WHERE id = $1`, in.VoucherID).Scan(&fundID); err != nil {
			return err
		}
		if _, _, err := Transfer(ctx, tx, TransferInput{Key: fmt.Sprintf("release:%s:%d", in.VoucherID, in.Index),
			From: VoucherPendingAccountID(in.VoucherID), To: VoucherAccountID(in.VoucherID), Amount: in.AmountCents,
			Kind: TransferRelease, FundID: fundID, VoucherID: in.VoucherID}); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:tranche:%d", in.CaseID, in.Index), CaseID: in.CaseID, At: in.At,
			Type: "tranche_released", Actor: "system", Detail: map[string]any{"index": in.Index + 1, "amount_cents": in.AmountCents}})
	}))
}

// ExpireInput closes a voucher at its fund's end date.
type ExpireInput struct {
	CaseID    string
	VoucherID string
	At        time.Time
}

// ExpireVoucher returns the unspent and unreleased balance to the fund,
// marks the voucher expired and closes the case. It returns the amount returned.
func (s *Store) ExpireVoucher(ctx context.Context, in ExpireInput) (int64, error) {
	var returned int64
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		var fundID string
		if err := tx.QueryRow(ctx, `SELECT fund_id FROM vouchers WHERE id = $1 FOR UPDATE`, in.VoucherID).Scan(&fundID); err != nil {
			return err
		}
		for _, acc := range []struct{ id, suffix string }{
			{VoucherAccountID(in.VoucherID), "available"},
			{VoucherPendingAccountID(in.VoucherID), "pending"},
		} {
			bal, err := Balance(ctx, tx, acc.id)
			if err != nil {
				return err
			}
			if bal == 0 {
				continue
			}
			if _, _, err := Transfer(ctx, tx, TransferInput{Key: "expiry:" + in.VoucherID + ":" + acc.suffix, From: acc.id,
				To: FundAccountID(fundID), Amount: bal, Kind: TransferExpiry, FundID: fundID, VoucherID: in.VoucherID}); err != nil {
				return err
			}
			returned += bal
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(amount_cents), 0) FROM transfers WHERE voucher_id = $1 AND kind = 'expiry'`,
			in.VoucherID).Scan(&returned); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE vouchers SET status = 'expired' WHERE id = $1`, in.VoucherID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'closed', updated_at = $2 WHERE id = $1`, in.CaseID, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: in.CaseID + ":expired", CaseID: in.CaseID, At: in.At, Type: "voucher_expired",
			Actor: "system", Detail: map[string]any{"voucher_id": in.VoucherID, "returned_cents": returned}})
	})
	return returned, MapError(err)
}
