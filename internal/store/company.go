package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Company welfare (migration 031): companies of a district, their plans,
// the employees enrolled in them by tax code, and the company's money in
// the ledger:
//
//	top-up      payments:<district>:companies -> company:<c> (topup, once the provider confirms)
//	enrolment   company:<c>          -> company_credit:<e>  (allot, the plan's annual credit)
//	withdrawal  company_credit:<e>   -> company:<c>         (revoke, what is left)
//
// A welfare manager's scope reaches only their own company (row-level
// security, sportello_company()); an employee's citizen scope only their
// own enrolment. Nothing here reads which employee bought what: spending
// leaves this file as sums per category and month.

// Company account kinds and transfer kinds (migration 031).
const (
	AccountCompany       = "company"        // a company's funded, not yet allotted money
	AccountCompanyCredit = "company_credit" // an employee's credit under a plan
	TransferTopUp        = "topup"          // payments -> company, once the provider confirms
	TransferAllot        = "allot"          // company -> employee credit, at enrolment
	TransferRevoke       = "revoke"         // employee credit -> company, at withdrawal
)

// CompanyAccountID holds a company's funded, unallotted money.
func CompanyAccountID(companyID string) string { return "company:" + companyID }

// CompanyCreditAccountID holds an enrolled employee's credit.
func CompanyCreditAccountID(employeeID string) string { return "company_credit:" + employeeID }

// Company is a company of a district that funds a welfare plan.
type Company struct {
	ID        string `json:"id"`
	District  string `json:"district"`
	Name      string `json:"name"`
	VATNumber string `json:"vat_number"`
}

// CompanyPlan is a company's welfare plan.
type CompanyPlan struct {
	ID                string    `json:"id"`
	CompanyID         string    `json:"company_id"`
	Name              string    `json:"name"`
	AnnualCreditCents int64     `json:"annual_credit_cents"`
	Categories        []string  `json:"categories"`
	ValidFrom         time.Time `json:"valid_from"`
	ValidUntil        time.Time `json:"valid_until"`
}

// CompanyOverview is what a welfare manager sees of their company: the
// company, its current plan, its unallotted balance and totals.
type CompanyOverview struct {
	Company       Company     `json:"company"`
	Plan          CompanyPlan `json:"plan"`
	BalanceCents  int64       `json:"balance_cents"`
	Enrolled      int         `json:"enrolled"`
	AllottedCents int64       `json:"allotted_cents"`
}

// CompanyEmployee is one enrolment, as the welfare manager sees it: who
// and since when, never what they spent or what is left of their credit.
type CompanyEmployee struct {
	ID          string     `json:"id"`
	PlanID      string     `json:"plan_id"`
	TaxCode     string     `json:"tax_code"`
	Status      string     `json:"status"` // enrolled, withdrawn
	EnrolledAt  time.Time  `json:"enrolled_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

// UpsertCompany creates or renames a company and opens its account (system scope: seed, administration).
func UpsertCompany(ctx context.Context, tx pgx.Tx, c Company) error {
	if _, err := tx.Exec(ctx, `INSERT INTO companies (id, district_id, name, vat_number) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, vat_number = EXCLUDED.vat_number
		WHERE (companies.name, companies.vat_number) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.vat_number)`,
		c.ID, c.District, c.Name, c.VATNumber); err != nil {
		return MapError(err)
	}
	return EnsureAccount(ctx, tx, CompanyAccountID(c.ID), c.District, AccountCompany, false)
}

// UpsertCompanyPlan creates or updates a plan of a company (system scope).
func UpsertCompanyPlan(ctx context.Context, tx pgx.Tx, district string, p CompanyPlan) error {
	_, err := tx.Exec(ctx, `INSERT INTO company_plans (id, company_id, district_id, name, annual_credit_cents, categories, valid_from, valid_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, annual_credit_cents = EXCLUDED.annual_credit_cents,
			categories = EXCLUDED.categories, valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until
		WHERE (company_plans.name, company_plans.annual_credit_cents, company_plans.categories, company_plans.valid_from, company_plans.valid_until)
			IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.annual_credit_cents, EXCLUDED.categories, EXCLUDED.valid_from, EXCLUDED.valid_until)`,
		p.ID, p.CompanyID, district, p.Name, p.AnnualCreditCents, p.Categories, p.ValidFrom, p.ValidUntil)
	return MapError(err)
}

// SetCompanyManager makes the welfare manager username act for company (system scope).
func SetCompanyManager(ctx context.Context, tx pgx.Tx, username, companyID string) error {
	tag, err := tx.Exec(ctx, `INSERT INTO company_managers (user_id, company_id)
		SELECT id, $2 FROM users WHERE username = $1 AND role = 'welfare_manager'
		ON CONFLICT (user_id) DO UPDATE SET company_id = EXCLUDED.company_id`, username, companyID)
	if err != nil {
		return MapError(err)
	}
	if tag.RowsAffected() != 1 {
		return ErrNotFound
	}
	return nil
}

// currentPlanSQL picks the company's plan valid on $1 (the latest to
// start), under the caller's scope.
const currentPlanSQL = `SELECT p.id, p.company_id, p.name, p.annual_credit_cents, p.categories, p.valid_from, p.valid_until
	FROM company_plans p WHERE p.company_id = $2 AND p.valid_from <= $1::date AND p.valid_until >= $1::date
	ORDER BY p.valid_from DESC, p.id LIMIT 1`

func scanPlan(row pgx.Row) (CompanyPlan, error) {
	var p CompanyPlan
	err := row.Scan(&p.ID, &p.CompanyID, &p.Name, &p.AnnualCreditCents, &p.Categories, &p.ValidFrom, &p.ValidUntil)
	return p, err
}

// myCompany is the acting welfare manager's company (ErrNotFound for anyone else).
func myCompany(ctx context.Context, tx pgx.Tx) (Company, error) {
	var c Company
	err := tx.QueryRow(ctx, `SELECT id, district_id, name, vat_number FROM companies WHERE id = sportello_company()`).
		Scan(&c.ID, &c.District, &c.Name, &c.VATNumber)
	return c, MapError(err)
}

// CompanyOverview is the acting welfare manager's company with the plan
// valid on day. ErrNotFound: no company, or no plan valid that day.
func (a API) CompanyOverview(ctx context.Context, scope Scope, day time.Time) (CompanyOverview, error) {
	var o CompanyOverview
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		c, err := myCompany(ctx, tx)
		if err != nil {
			return err
		}
		o.Company = c
		if o.Plan, err = scanPlan(tx.QueryRow(ctx, currentPlanSQL, day, c.ID)); err != nil {
			return err
		}
		if o.BalanceCents, err = Balance(ctx, tx, CompanyAccountID(c.ID)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM company_employees WHERE company_id = $1 AND status = 'enrolled'),
				(SELECT coalesce(sum(amount_cents), 0) FROM transfers WHERE kind = 'allot' AND from_account = $2)::bigint`,
			c.ID, CompanyAccountID(c.ID)).Scan(&o.Enrolled, &o.AllottedCents)
	})
	return o, MapError(err)
}

const employeeColumns = `id::text, plan_id, tax_code, status, enrolled_at, withdrawn_at`

func scanEmployee(row pgx.Row) (CompanyEmployee, error) {
	var e CompanyEmployee
	err := row.Scan(&e.ID, &e.PlanID, &e.TaxCode, &e.Status, &e.EnrolledAt, &e.WithdrawnAt)
	return e, err
}

// CompanyEmployees lists the acting welfare manager's enrolments, enrolled
// first, by tax code.
func (a API) CompanyEmployees(ctx context.Context, scope Scope) ([]CompanyEmployee, error) {
	return listAs(ctx, a.s, scope, scanEmployee, `SELECT `+employeeColumns+` FROM company_employees
		WHERE company_id = sportello_company() ORDER BY status, tax_code, enrolled_at`)
}

// listAs runs the query q under scope and scans each of its rows.
func listAs[T any](ctx context.Context, s *Store, scope Scope, scan func(pgx.Row) (T, error), q string, args ...any) ([]T, error) {
	out := []T{}
	err := s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// EnrolledTaxCodes returns which of codes are enrolled now in the acting
// welfare manager's current plan.
func (a API) EnrolledTaxCodes(ctx context.Context, scope Scope, day time.Time, codes []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT e.tax_code FROM company_employees e
			JOIN company_plans p ON p.id = e.plan_id
			WHERE e.company_id = sportello_company() AND e.status = 'enrolled' AND e.tax_code = ANY($2)
			  AND p.valid_from <= $1::date AND p.valid_until >= $1::date`, day, codes)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var tc string
			if err := rows.Scan(&tc); err != nil {
				return err
			}
			out[tc] = true
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// ErrAlreadyEnrolled: the tax code is already enrolled in the plan.
var ErrAlreadyEnrolled = Conflict("already_enrolled", "the tax code is already enrolled in the company's plan")

// ErrCompanyFunds: the company's account cannot cover the credit of the employees to enrol.
var ErrCompanyFunds = Conflict("company_funds_insufficient", "the company's account cannot cover the annual credit of the employees to enrol; top it up first")

// EnrolEmployees enrols taxCodes (checked, upper-case, distinct) in the
// acting welfare manager's plan valid on day, all or none, in one
// transaction: each gets the plan's annual credit from the company's
// account. ErrAlreadyEnrolled when one of them is enrolled already (none
// is enrolled then), ErrCompanyFunds when the company's account cannot
// cover them all, ErrNotFound without a plan valid that day.
func (a API) EnrolEmployees(ctx context.Context, scope Scope, day time.Time, taxCodes []string) ([]CompanyEmployee, error) {
	out := make([]CompanyEmployee, 0, len(taxCodes))
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = out[:0]
		c, err := myCompany(ctx, tx)
		if err != nil {
			return err
		}
		plan, err := scanPlan(tx.QueryRow(ctx, currentPlanSQL, day, c.ID))
		if err != nil {
			return err
		}
		for _, tc := range taxCodes {
			e, err := EnrolInTx(ctx, tx, c, plan, tc, scope.UserID)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, MapError(err)
}

// EnrolInTx enrols taxCode in plan of company c inside tx, allotting the
// plan's annual credit from the company's account (by: the enrolling
// user, 0 for none). ErrAlreadyEnrolled, ErrCompanyFunds as EnrolEmployees.
func EnrolInTx(ctx context.Context, tx pgx.Tx, c Company, plan CompanyPlan, taxCode string, by int64) (CompanyEmployee, error) {
	id := uuid.NewString()
	byArg := any(nil)
	if by != 0 {
		byArg = by
	}
	e, err := scanEmployee(tx.QueryRow(ctx, `INSERT INTO company_employees (id, plan_id, company_id, district_id, tax_code, status, enrolled_by)
		VALUES ($1, $2, $3, $4, $5, 'enrolled', $6) RETURNING `+employeeColumns,
		id, plan.ID, c.ID, c.District, taxCode, byArg))
	if err != nil {
		if errors.Is(MapError(err), ErrConflict) {
			return e, ErrAlreadyEnrolled
		}
		return e, err
	}
	if err := EnsureAccount(ctx, tx, CompanyCreditAccountID(id), c.District, AccountCompanyCredit, false); err != nil {
		return e, err
	}
	if _, _, err := Transfer(ctx, tx, TransferInput{Key: "allot:" + id, From: CompanyAccountID(c.ID),
		To: CompanyCreditAccountID(id), Amount: plan.AnnualCreditCents, Kind: TransferAllot}); err != nil {
		if errors.Is(err, ErrInsufficient) {
			return e, ErrCompanyFunds
		}
		return e, err
	}
	return e, nil
}

// WithdrawEmployee ends the enrolment of taxCode in the acting welfare
// manager's company: what is left of their credit goes back to the
// company's account. ErrNotFound when the tax code is not enrolled.
func (a API) WithdrawEmployee(ctx context.Context, scope Scope, taxCode string) (CompanyEmployee, error) {
	var e CompanyEmployee
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		c, err := myCompany(ctx, tx)
		if err != nil {
			return err
		}
		if e, err = scanEmployee(tx.QueryRow(ctx, `UPDATE company_employees SET status = 'withdrawn', withdrawn_at = now()
			WHERE company_id = $1 AND tax_code = $2 AND status = 'enrolled' RETURNING `+employeeColumns, c.ID, taxCode)); err != nil {
			return err
		}
		left, err := Balance(ctx, tx, CompanyCreditAccountID(e.ID))
		if err != nil || left == 0 {
			return err
		}
		_, _, err = Transfer(ctx, tx, TransferInput{Key: "revoke:" + e.ID, From: CompanyCreditAccountID(e.ID),
			To: CompanyAccountID(c.ID), Amount: left, Kind: TransferRevoke})
		return err
	})
	return e, MapError(err)
}

// EmployeeCredit is an employee's credit under a company plan, as the
// employee sees it.
type EmployeeCredit struct {
	EmployeeID  string      `json:"employee_id"`
	CompanyName string      `json:"company_name"`
	Plan        CompanyPlan `json:"plan"`
	Status      string      `json:"status"`
	CreditCents int64       `json:"credit_cents"`
}

// MyCompanyCredits lists the acting citizen's enrolments (enrolled ones
// first) with what is left of each credit.
func (a API) MyCompanyCredits(ctx context.Context, scope Scope) ([]EmployeeCredit, error) {
	return listAs(ctx, a.s, scope, func(row pgx.Row) (EmployeeCredit, error) {
		var x EmployeeCredit
		err := row.Scan(&x.EmployeeID, &x.CompanyName, &x.Status, &x.CreditCents, &x.Plan.ID, &x.Plan.CompanyID,
			&x.Plan.Name, &x.Plan.AnnualCreditCents, &x.Plan.Categories, &x.Plan.ValidFrom, &x.Plan.ValidUntil)
		return x, err
	}, `SELECT e.id::text, c.name, e.status, coalesce(acc.balance_cents, 0),
			p.id, p.company_id, p.name, p.annual_credit_cents, p.categories, p.valid_from, p.valid_until
		FROM company_employees e JOIN companies c ON c.id = e.company_id JOIN company_plans p ON p.id = e.plan_id
		LEFT JOIN accounts acc ON acc.id = 'company_credit:' || e.id
		WHERE e.tax_code = sportello_tax_code()
		ORDER BY e.status, p.valid_until DESC, e.enrolled_at DESC`)
}

// CompanyAggregate is one company of a supervisor's district, in aggregate.
type CompanyAggregate struct {
	CompanyID     string `json:"company_id"`
	Name          string `json:"name"`
	Enrolled      int64  `json:"enrolled"`
	AllottedCents int64  `json:"allotted_cents"`
	BalanceCents  int64  `json:"balance_cents"`
}

// CompanyAggregates lists the companies of the acting supervisor's
// district with counts and sums only (company_aggregates()).
func (a API) CompanyAggregates(ctx context.Context, scope Scope) ([]CompanyAggregate, error) {
	return listAs(ctx, a.s, scope, func(row pgx.Row) (CompanyAggregate, error) {
		var x CompanyAggregate
		err := row.Scan(&x.CompanyID, &x.Name, &x.Enrolled, &x.AllottedCents, &x.BalanceCents)
		return x, err
	}, `SELECT company_id, name, enrolled, allotted_cents, balance_cents FROM company_aggregates()`)
}
