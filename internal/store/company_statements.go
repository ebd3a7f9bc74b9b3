package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
)

// A company's monthly statement (migration 034): what its account did in a
// calendar month of Italian time, read from the ledger and reconciled to
// the cent, the employees' spending by category (raw cells: the company
// package suppresses small groups before anyone sees them), and the
// invoice of the month's top-ups, numbered per district and year without
// gaps. Issued once per company and month (IssueCompanyStatement, system
// scope); read under row-level security by the company's welfare manager
// and the district's supervisors.

// StatementParty is the issuer (the district) or the customer (the
// company) of a statement's invoice, as they were when it was issued.
type StatementParty struct {
	Name      string `json:"name"`
	Address   string `json:"address,omitempty"`
	Email     string `json:"email,omitempty"`
	PEC       string `json:"pec,omitempty"`
	VATNumber string `json:"vat_number,omitempty"`
}

// CompanyInvoice is the invoice of a month's top-ups.
type CompanyInvoice struct {
	Year        int            `json:"year"`
	Number      int            `json:"number"`
	Code        string         `json:"code"` // "2026/0007"
	Date        time.Time      `json:"date"`
	AmountCents int64          `json:"amount_cents"`
	Issuer      StatementParty `json:"issuer"`
	Customer    StatementParty `json:"customer"`
}

// InvoiceCode is how an invoice number is written: year/number.
func InvoiceCode(year, number int) string { return fmt.Sprintf("%d/%04d", year, number) }

// CompanyStatement is one company's statement of one month.
type CompanyStatement struct {
	ID            string `json:"id"`
	CompanyID     string `json:"company_id"`
	CompanyName   string `json:"company_name"`
	District      string `json:"-"`
	Month         string `json:"month"` // YYYY-MM
	OpeningCents  int64  `json:"opening_cents"`
	TopUpsCents   int64  `json:"topups_cents"`
	AllottedCents int64  `json:"allotted_cents"`
	RevokedCents  int64  `json:"revoked_cents"`
	// RevokedEmployees is how many employees returned credit in the month
	// (it decides the suppression of RevokedCents; never sent).
	RevokedEmployees int64 `json:"-"`
	ClosingCents     int64 `json:"closing_cents"`
	// Spending is raw (with distinct employees per cell): never sent as it is.
	Spending  []SpendingRow   `json:"-"`
	Invoice   *CompanyInvoice `json:"invoice,omitempty"`
	IssuedBy  string          `json:"issued_by"`
	CreatedAt time.Time       `json:"created_at"`
}

const statementColumns = `s.id::text, s.company_id, (s.customer->>'name'), s.district_id, to_char(s.month, 'YYYY-MM'),
	s.opening_cents, s.topups_cents, s.allotted_cents, s.revoked_cents, s.revoked_employees, s.closing_cents, s.spending,
	s.invoice_year, s.invoice_number, s.invoice_date, s.issuer, s.customer, s.issued_by, s.created_at`

func scanStatement(row pgx.Row) (CompanyStatement, error) {
	var (
		s                CompanyStatement
		spending         []byte
		year, number     *int
		date             *time.Time
		issuer, customer []byte
	)
	if err := row.Scan(&s.ID, &s.CompanyID, &s.CompanyName, &s.District, &s.Month, &s.OpeningCents, &s.TopUpsCents,
		&s.AllottedCents, &s.RevokedCents, &s.RevokedEmployees, &s.ClosingCents, &spending, &year, &number, &date, &issuer, &customer,
		&s.IssuedBy, &s.CreatedAt); err != nil {
		return s, err
	}
	s.Spending = []SpendingRow{}
	if err := json.Unmarshal(spending, &s.Spending); err != nil {
		return s, err
	}
	if number != nil && year != nil && date != nil {
		inv := &CompanyInvoice{Year: *year, Number: *number, Code: InvoiceCode(*year, *number), Date: *date, AmountCents: s.TopUpsCents}
		if err := json.Unmarshal(issuer, &inv.Issuer); err != nil {
			return s, err
		}
		if err := json.Unmarshal(customer, &inv.Customer); err != nil {
			return s, err
		}
		s.Invoice = inv
	}
	return s, nil
}

// ErrStatementUnreconciled: the ledger's movements of a company's account
// in a month do not add up (a transfer of an unexpected kind moved it).
var ErrStatementUnreconciled = errors.New("company statement: the ledger does not reconcile")

// IssueCompanyStatement issues the statement of company for the month
// starting on month (its first day) as of today (the invoice's date and
// year), once: a statement already issued for that month is returned as it
// is (created false). System scope; by is "schedule" or a username.
// ErrNotFound: no such company.
func (a API) IssueCompanyStatement(ctx context.Context, company string, month, today time.Time, by string) (CompanyStatement, bool, error) {
	var (
		out     CompanyStatement
		created bool
	)
	month = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		created = false
		var c Company
		// The company's row lock serialises two issues of its statements.
		if err := tx.QueryRow(ctx, `SELECT id, district_id, name, vat_number FROM companies WHERE id = $1 FOR UPDATE`, company).
			Scan(&c.ID, &c.District, &c.Name, &c.VATNumber); err != nil {
			return err
		}
		s, err := scanStatement(tx.QueryRow(ctx, `SELECT `+statementColumns+` FROM company_statements s
			WHERE s.company_id = $1 AND s.month = $2`, c.ID, month))
		if err == nil {
			out = s
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var opening, topups, allotted, revoked, revokedBy, closing int64
		if err := tx.QueryRow(ctx, `WITH b AS (
				SELECT ($2::date)::timestamp AT TIME ZONE 'Europe/Rome' AS starts,
				       ($2::date + interval '1 month')::timestamp AT TIME ZONE 'Europe/Rome' AS ends),
			t AS (
				SELECT tr.kind, tr.created_at, tr.from_account, CASE WHEN tr.to_account = $1 THEN tr.amount_cents ELSE -tr.amount_cents END AS signed,
					tr.amount_cents
				FROM transfers tr WHERE tr.to_account = $1 OR tr.from_account = $1)
			SELECT
				coalesce(sum(signed) FILTER (WHERE created_at < b.starts), 0)::bigint,
				coalesce(sum(amount_cents) FILTER (WHERE kind = 'topup' AND created_at >= b.starts AND created_at < b.ends), 0)::bigint,
				coalesce(sum(amount_cents) FILTER (WHERE kind = 'allot' AND created_at >= b.starts AND created_at < b.ends), 0)::bigint,
				coalesce(sum(amount_cents) FILTER (WHERE kind = 'revoke' AND created_at >= b.starts AND created_at < b.ends), 0)::bigint,
				count(DISTINCT from_account) FILTER (WHERE kind = 'revoke' AND created_at >= b.starts AND created_at < b.ends),
				coalesce(sum(signed) FILTER (WHERE created_at < b.ends), 0)::bigint
			FROM b LEFT JOIN t ON true GROUP BY b.starts, b.ends`, CompanyAccountID(c.ID), month).
			Scan(&opening, &topups, &allotted, &revoked, &revokedBy, &closing); err != nil {
			return err
		}
		if opening+topups-allotted+revoked != closing {
			return fmt.Errorf("%w: company %s, %s: %d + %d - %d + %d != %d", ErrStatementUnreconciled, c.ID,
				month.Format("2006-01"), opening, topups, allotted, revoked, closing)
		}
		spending, err := collect(ctx, tx, func(row pgx.Row) (SpendingRow, error) {
			var r SpendingRow
			err := row.Scan(&r.Category, &r.SpentCents, &r.Bookings, &r.Employees)
			return r, err
		}, `SELECT category, spent_cents, bookings, employees FROM company_spending_of($1) WHERE month = $2 ORDER BY category`, c.ID, month)
		if err != nil {
			return err
		}
		spendingJSON, err := json.Marshal(spending)
		if err != nil {
			return err
		}
		var year, number, date any
		if topups > 0 {
			y := today.In(calendar.Rome()).Year()
			var n int
			if err := tx.QueryRow(ctx, `INSERT INTO company_invoice_counters (district_id, year, last_number) VALUES ($1, $2, 1)
				ON CONFLICT (district_id, year) DO UPDATE SET last_number = company_invoice_counters.last_number + 1
				RETURNING last_number`, c.District, y).Scan(&n); err != nil {
				return err
			}
			d := today.In(calendar.Rome())
			year, number, date = y, n, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		}
		out, err = scanStatement(tx.QueryRow(ctx, `INSERT INTO company_statements AS s (id, company_id, district_id, month,
				opening_cents, topups_cents, allotted_cents, revoked_cents, closing_cents, spending,
				invoice_year, invoice_number, invoice_date, issuer, customer, issued_by, revoked_employees)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
				jsonb_strip_nulls(jsonb_build_object('name', d.name, 'address', nullif(d.presentation->'contacts'->>'address', ''),
					'email', nullif(d.presentation->'contacts'->>'email', ''), 'pec', nullif(d.presentation->'contacts'->>'pec', ''))),
				jsonb_build_object('name', $14::text, 'vat_number', $15::text), $16, $17
			FROM districts d WHERE d.id = $3
			RETURNING `+statementColumns,
			uuid.NewString(), c.ID, c.District, month, opening, topups, allotted, revoked, closing, spendingJSON,
			year, number, date, c.Name, c.VATNumber, by, revokedBy))
		created = err == nil
		return err
	})
	return out, created, MapError(err)
}

// CompanyStatements lists the statements of company visible to scope,
// newest month first.
func (a API) CompanyStatements(ctx context.Context, scope Scope, company string) ([]CompanyStatement, error) {
	return listAs(ctx, a.s, scope, scanStatement, `SELECT `+statementColumns+` FROM company_statements s
		WHERE s.company_id = $1 ORDER BY s.month DESC`, company)
}

// CompanyStatementOf is the statement of company for month (YYYY-MM)
// visible to scope; ErrNotFound when none.
func (a API) CompanyStatementOf(ctx context.Context, scope Scope, company, month string) (CompanyStatement, error) {
	var s CompanyStatement
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		s, err = scanStatement(tx.QueryRow(ctx, `SELECT `+statementColumns+` FROM company_statements s
			WHERE s.company_id = $1 AND to_char(s.month, 'YYYY-MM') = $2`, company, month))
		return err
	})
	return s, MapError(err)
}

// joinedSQL is when company c joined: its record's creation or the start
// of its first plan, whichever came first.
const joinedSQL = `least(c.created_at, (SELECT min(p.valid_from)::timestamp AT TIME ZONE 'Europe/Rome'
	FROM company_plans p WHERE p.company_id = c.id))`

// CompanyVisible returns company as scope sees it and when it joined:
// ErrNotFound when it does not exist or scope may not see it.
func (a API) CompanyVisible(ctx context.Context, scope Scope, company string) (Company, time.Time, error) {
	var (
		c       Company
		created time.Time
	)
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id, district_id, name, vat_number, `+joinedSQL+` FROM companies c WHERE id = $1`, company).
			Scan(&c.ID, &c.District, &c.Name, &c.VATNumber, &created)
	})
	return c, created, MapError(err)
}

// StatementCompanies lists the ids of the companies that had joined before
// the end of the month starting on month (system scope): those whose
// statement the monthly schedule issues.
func (a API) StatementCompanies(ctx context.Context, month time.Time) ([]string, error) {
	return listAs(ctx, a.s, System, func(row pgx.Row) (string, error) {
		var id string
		err := row.Scan(&id)
		return id, err
	}, `SELECT id FROM companies c WHERE `+joinedSQL+` < (($1::date + interval '1 month')::timestamp AT TIME ZONE 'Europe/Rome') ORDER BY id`,
		time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC))
}

// StatementMonth is the first day of the month of t in Italian time.
func StatementMonth(t time.Time) time.Time {
	r := t.In(calendar.Rome())
	return time.Date(r.Year(), r.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// IssueDueStatements issues, as of now, last month's statement of every
// company that existed then (the monthly schedule's run); it returns how
// many were issued now (the others had been already).
func (a API) IssueDueStatements(ctx context.Context, now time.Time) (int, error) {
	month := StatementMonth(now).AddDate(0, -1, 0)
	ids, err := a.StatementCompanies(ctx, month)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		_, created, err := a.IssueCompanyStatement(ctx, id, month, now, "schedule")
		if err != nil {
			return n, fmt.Errorf("statement of %s for %s: %w", id, month.Format("2006-01"), err)
		}
		if created {
			n++
		}
	}
	return n, nil
}
