package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// Billing (issue 5, migration 012): cooperatives' monthly invoices to a
// municipality for confirmed voucher-funded sessions, merchants' monthly
// reimbursement claims for redeemed food vouchers. Both are invoices of a
// kind; every session and redemption is on one line at most, and an invoice
// is paid once (one payout transfer).

// Invoice kinds and statuses, defined in internal/contract.
const (
	InvoiceCooperative = contract.InvoiceCooperative
	InvoiceMerchant    = contract.InvoiceMerchant

	InvoiceAwaitingDeclaration = contract.InvoiceAwaitingDeclaration
	InvoiceReady               = contract.InvoiceReady
	InvoiceSent                = contract.InvoiceSent
	InvoicePaid                = contract.InvoicePaid
)

// InvoiceLine is one line: a confirmed session (Reference "session:<id>")
// or a redemption ("redemption:<id>"). The billing activity turns it into
// the accounting system's line; the JSON names are those stored in
// invoices.data and recorded in billing histories: never rename one.
type InvoiceLine struct {
	Seq         int       `json:"seq"`
	Description string    `json:"description"`
	Date        time.Time `json:"date"`
	AmountCents int64     `json:"amount_cents"`
	Reference   string    `json:"reference"` // the platform's id of the session or redemption
	// Funder says who funds a session's line (migration 033): FunderMunicipality
	// for its voucher part, FunderCompany (with the company) for its
	// company-credit part; empty on merchants' lines and on lines made
	// before.
	Funder      string `json:"funder,omitempty"`
	CompanyID   string `json:"company_id,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
}

// Funders of a cooperative's invoice line.
const (
	FunderMunicipality = "municipality" // the municipal service voucher's part
	FunderCompany      = "company"      // a company's welfare credit part, to be charged to the company
)

// FunderTotal is what one funder's lines of an invoice add up to.
type FunderTotal struct {
	Funder      string `json:"funder"`
	CompanyID   string `json:"company_id,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
	TotalCents  int64  `json:"total_cents"`
}

// FunderTotals sums lines by funder (and company), in the order each first
// appears; lines without a funder count for the municipality.
func FunderTotals(lines []InvoiceLine) []FunderTotal {
	var out []FunderTotal
	at := map[[2]string]int{}
	for _, l := range lines {
		f := l.Funder
		if f == "" {
			f = FunderMunicipality
		}
		k := [2]string{f, l.CompanyID}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, FunderTotal{Funder: f, CompanyID: l.CompanyID, CompanyName: l.CompanyName})
		}
		out[i].TotalCents += l.AmountCents
	}
	return out
}

// InvoiceData is the structured invoice: what is stored, rendered as PDF
// and sent to the accounting system.
type InvoiceData struct {
	ID               string        `json:"id"`
	Number           int64         `json:"number"`
	Kind             string        `json:"kind"`
	District         string        `json:"district"`
	Municipality     string        `json:"municipality"`
	MunicipalityName string        `json:"municipality_name"`
	PayeeID          string        `json:"payee_id"`
	PayeeName        string        `json:"payee_name"`
	Period           string        `json:"period"` // YYYY-MM
	IssuedAt         time.Time     `json:"issued_at"`
	TotalCents       int64         `json:"total_cents"`
	Lines            []InvoiceLine `json:"lines"`
	// Funders are the totals by funder of a cooperative's invoice (none on
	// invoices made before migration 033, nor on merchants' claims).
	Funders []FunderTotal `json:"funders,omitempty"`
}

// InvoiceView is an invoice as the API shows it.
type InvoiceView struct {
	InvoiceData
	Status       string          `json:"status"`
	LineCount    int             `json:"line_count"`
	Declaration  map[string]bool `json:"declaration,omitempty"`
	DeclaredAt   *time.Time      `json:"declared_at,omitempty"`
	AccountingID string          `json:"accounting_id,omitempty"`
	SentAt       *time.Time      `json:"sent_at,omitempty"`
	PaymentRef   string          `json:"payment_ref,omitempty"`
	PaidAt       *time.Time      `json:"paid_at,omitempty"`
	WorkflowID   string          `json:"-"`
}

// PrepareInvoiceInput asks for the invoice of a payee for a month.
type PrepareInvoiceInput struct {
	Kind         string    // InvoiceCooperative or InvoiceMerchant
	PayeeID      string    // cooperative or merchant id
	Municipality string    // the municipality billed: where the sessions were, whose vouchers were redeemed
	Period       time.Time // first day of the month billed, Europe/Rome
	PeriodEnd    time.Time // first instant after the month
	WorkflowID   string
}

// invoicePayees names, per invoice kind, the table of its payees and the
// invoices' column that points at one.
var invoicePayees = map[string]struct{ table, column string }{
	InvoiceCooperative: {"cooperatives", "cooperative_id"},
	InvoiceMerchant:    {"merchants", "merchant_id"},
}

// PreparedInvoice is the outcome of PrepareInvoice (defined in
// internal/contract: the billing workflow reads it).
type PreparedInvoice = contract.PreparedInvoice

// PrepareInvoice makes the payee's invoice for the period, once: it takes
// every confirmed voucher-funded session (cooperatives) or redemption
// (merchants) up to the end of the period that is on no invoice yet. When
// the invoice of that period exists it is returned as it is (its lines never
// change); with nothing to bill no invoice is made.
func (s *Store) PrepareInvoice(ctx context.Context, in PrepareInvoiceInput) (PreparedInvoice, error) {
	var out PreparedInvoice
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		// Runs for one payee are serialised (repeated or overlapping runs).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"billing:"+in.Kind+":"+in.PayeeID+":"+in.Municipality); err != nil {
			return err
		}
		d := InvoiceData{Kind: in.Kind, PayeeID: in.PayeeID, Period: in.Period.Format("2006-01")}
		payee, ok := invoicePayees[in.Kind]
		if !ok {
			return fmt.Errorf("prepare invoice: unknown kind %q", in.Kind)
		}
		d.Municipality = in.Municipality
		if err := tx.QueryRow(ctx, `SELECT p.district_id, p.name, m.name FROM `+payee.table+` p, municipalities m
			WHERE p.id = $1 AND m.id = $2 AND m.district_id = p.district_id`, in.PayeeID, in.Municipality).
			Scan(&d.District, &d.PayeeName, &d.MunicipalityName); err != nil {
			return MapError(err)
		}
		existing := tx.QueryRow(ctx, `SELECT id::text, number, status, total_cents, line_count FROM invoices
			WHERE kind = $4 AND `+payee.column+` = $1 AND municipality_id = $2 AND period = $3`,
			in.PayeeID, in.Municipality, in.Period, in.Kind)
		err := existing.Scan(&out.ID, &out.Number, &out.Status, &out.TotalCents, &out.Lines)
		if err == nil {
			return nil
		}
		if err != pgx.ErrNoRows {
			return err
		}
		lines, refs, err := unbilled(ctx, tx, in)
		if err != nil {
			return err
		}
		if len(lines) == 0 {
			out = PreparedInvoice{Empty: true}
			return nil
		}
		for _, l := range lines {
			d.TotalCents += l.AmountCents
		}
		if in.Kind == InvoiceCooperative {
			d.Funders = FunderTotals(lines)
		}
		d.ID, d.Lines = uuid.NewString(), lines
		if err := tx.QueryRow(ctx, `SELECT nextval('invoice_number_seq'), now()`).Scan(&d.Number, &d.IssuedAt); err != nil {
			return err
		}
		d.IssuedAt = d.IssuedAt.UTC().Truncate(time.Second)
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		status := InvoiceReady
		var coop, merchant any
		if in.Kind == InvoiceMerchant {
			status, merchant = InvoiceAwaitingDeclaration, in.PayeeID
		} else {
			coop = in.PayeeID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO invoices (id, number, kind, district_id, municipality_id, cooperative_id,
			merchant_id, period, status, total_cents, line_count, data, workflow_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			d.ID, d.Number, in.Kind, d.District, d.Municipality, coop, merchant, in.Period, status,
			d.TotalCents, len(lines), data, in.WorkflowID); err != nil {
			return MapError(err)
		}
		for i, l := range lines {
			funder, company := FunderMunicipality, any(nil)
			if l.Funder == FunderCompany {
				funder, company = FunderCompany, l.CompanyID
			}
			if _, err := tx.Exec(ctx, `INSERT INTO invoice_lines (invoice_id, seq, session_id, redemption_id, campaign_credit_id,
					description, occurred_at, amount_cents, funder, company_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, d.ID, l.Seq, refs[i].session, refs[i].redemption, refs[i].campaignCredit,
				l.Description, l.Date, l.AmountCents, funder, company); err != nil {
				return MapError(err)
			}
		}
		out = PreparedInvoice{ID: d.ID, Number: d.Number, Status: status, TotalCents: d.TotalCents, Lines: len(lines)}
		return nil
	})
	return out, err
}

type lineRef struct {
	session    any // int64 or nil
	redemption any // string or nil
	// campaignCredit: a campaign's credit to the merchant (string or nil).
	campaignCredit any
}

// unbilled reads what the payee can bill up to the end of the period.
func unbilled(ctx context.Context, tx pgx.Tx, in PrepareInvoiceInput) ([]InvoiceLine, []lineRef, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if in.Kind == InvoiceCooperative {
		// One line per session and funder: its voucher part (the
		// municipality's) and its company-credit part (the company's,
		// named, to be charged to it), each billed once.
		rows, err = tx.Query(ctx, `SELECT s.id::text, part.cents, s.confirmed_at,
				format('Prenotazione n. %s, %s: unità %s di %s', b.number, b.service_name, s.seq, b.quantity)
				  || CASE WHEN part.funder = 'company' THEN format(' (welfare aziendale %s)', co.name) ELSE '' END,
				part.funder, coalesce(part.company_id, ''), coalesce(co.name, '')
			FROM booking_sessions s JOIN bookings b ON b.id = s.booking_id
			LEFT JOIN company_employees ce ON ce.id = b.company_employee_id LEFT JOIN companies co ON co.id = ce.company_id
			CROSS JOIN LATERAL (VALUES (1, 'municipality', s.voucher_cents, NULL::text), (2, 'company', s.company_cents, ce.company_id))
			  AS part(n, funder, cents, company_id)
			WHERE s.cooperative_id = $1 AND b.municipality_id = $2 AND s.status = 'confirmed' AND part.cents > 0
			  AND s.confirmed_at < $3 AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.session_id = s.id AND l.funder = part.funder)
			ORDER BY s.confirmed_at, s.id, part.n`, in.PayeeID, in.Municipality, in.PeriodEnd)
	} else {
		// Redemptions of the municipality's vouchers and credits of its
		// campaigns (campaigns.go); the id says which ("c:" a credit).
		rows, err = tx.Query(ctx, `SELECT r.id::text, r.amount_cents, r.created_at, 'Buono spesa riscattato'
			FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
			WHERE r.merchant_id = $1 AND v.municipality_id = $2 AND r.created_at < $3
			  AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.redemption_id = r.id)
			UNION ALL
			SELECT 'c:' || cc.id::text, cc.credit_cents, cc.created_at, format('Campagna «%s»: contributo del %s%% su un acquisto', c.name_it, c.rule->>'percent')
			FROM campaign_credits cc JOIN campaigns c ON c.id = cc.campaign_id
			WHERE cc.merchant_id = $1 AND cc.municipality_id = $2 AND cc.created_at < $3
			  AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.campaign_credit_id = cc.id)
			ORDER BY 3, 1`, in.PayeeID, in.Municipality, in.PeriodEnd)
	}
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		lines []InvoiceLine
		refs  []lineRef
	)
	for rows.Next() {
		var (
			id string
			l  InvoiceLine
		)
		dest := []any{&id, &l.AmountCents, &l.Date, &l.Description}
		if in.Kind == InvoiceCooperative {
			dest = append(dest, &l.Funder, &l.CompanyID, &l.CompanyName)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		l.Seq, l.Date = len(lines)+1, l.Date.UTC()
		if in.Kind == InvoiceCooperative {
			var sid int64
			if _, err := fmt.Sscan(id, &sid); err != nil {
				return nil, nil, err
			}
			l.Reference = "session:" + id
			if l.Funder == FunderCompany {
				l.Reference += ":company"
			}
			refs = append(refs, lineRef{session: sid})
		} else if credit, ok := strings.CutPrefix(id, "c:"); ok {
			l.Reference = "campaign_credit:" + credit
			refs = append(refs, lineRef{campaignCredit: credit})
		} else {
			l.Reference = "redemption:" + id
			refs = append(refs, lineRef{redemption: id})
		}
		lines = append(lines, l)
	}
	return lines, refs, rows.Err()
}

const invoiceColumns = `i.data, i.status, i.line_count, i.declaration, i.declared_at, coalesce(i.accounting_id, ''),
	i.sent_at, coalesce(i.payment_ref, ''), i.paid_at, i.workflow_id`

func scanInvoice(row pgx.Row) (InvoiceView, error) {
	var (
		v    InvoiceView
		data []byte
		decl []byte
	)
	if err := row.Scan(&data, &v.Status, &v.LineCount, &decl, &v.DeclaredAt, &v.AccountingID, &v.SentAt,
		&v.PaymentRef, &v.PaidAt, &v.WorkflowID); err != nil {
		return v, err
	}
	if err := json.Unmarshal(data, &v.InvoiceData); err != nil {
		return v, err
	}
	if len(decl) > 0 {
		if err := json.Unmarshal(decl, &v.Declaration); err != nil {
			return v, err
		}
	}
	return v, nil
}

// InvoiceByID reads an invoice with its lines under the system scope (activities).
func (s *Store) InvoiceByID(ctx context.Context, id string) (InvoiceView, error) {
	return s.API().Invoice(ctx, System, id)
}

// MarkInvoiceSent records the accounting system's id of a sent invoice
// (again with the same id: nothing changes).
func (s *Store) MarkInvoiceSent(ctx context.Context, id, accountingID string) error {
	return s.InTx(ctx, System, func(tx pgx.Tx) error {
		var status, prev string
		if err := tx.QueryRow(ctx, `SELECT status, coalesce(accounting_id, '') FROM invoices WHERE id = $1 FOR UPDATE`, id).
			Scan(&status, &prev); err != nil {
			return MapError(err)
		}
		switch {
		case status == InvoiceReady:
			_, err := tx.Exec(ctx, `UPDATE invoices SET status = 'sent', accounting_id = $2, sent_at = now(), updated_at = now()
				WHERE id = $1`, id, accountingID)
			return MapError(err)
		case prev == accountingID:
			return nil
		case prev != "":
			return Conflict("invoice_sent_elsewhere", "invoice "+id+" was already sent as "+prev)
		}
		return Conflict("invoice_not_ready", "invoice "+id+" is "+status)
	})
}

// ReconcileInvoice records the payment of a sent invoice, once: the payout
// transfer from the payee's account to the district's payout account (key
// "payout:invoice:<id>") and the paid status, in one transaction. It
// returns the payout transfer id.
func (s *Store) ReconcileInvoice(ctx context.Context, id, paymentRef string, paidAt time.Time) (int64, error) {
	var transferID int64
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		var (
			kind, district, status, coop, merchant, prevRef string
			total                                           int64
		)
		if err := tx.QueryRow(ctx, `SELECT kind, district_id, status, coalesce(cooperative_id, ''), coalesce(merchant_id, ''),
			total_cents, coalesce(payment_ref, ''), coalesce(payout_transfer_id, 0) FROM invoices WHERE id = $1 FOR UPDATE`, id).
			Scan(&kind, &district, &status, &coop, &merchant, &total, &prevRef, &transferID); err != nil {
			return MapError(err)
		}
		if status == InvoicePaid {
			if prevRef != paymentRef {
				return Conflict("invoice_paid_elsewhere", "invoice "+id+" was already paid with "+prevRef)
			}
			return nil
		}
		if status != InvoiceSent {
			return Conflict("invoice_not_sent", "invoice "+id+" is "+status)
		}
		from := CooperativeAccountID(coop)
		if kind == InvoiceMerchant {
			from = MerchantAccountID(merchant)
		}
		if err := EnsureAccount(ctx, tx, PayoutAccountID(district), district, AccountPayout, false); err != nil {
			return err
		}
		var err error
		transferID, _, err = Transfer(ctx, tx, TransferInput{Key: "payout:invoice:" + id, From: from,
			To: PayoutAccountID(district), Amount: total, Kind: TransferPayout})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE invoices SET status = 'paid', payment_ref = $2, paid_at = $3, payout_transfer_id = $4,
			updated_at = now() WHERE id = $1`, id, paymentRef, paidAt, transferID)
		return MapError(err)
	})
	return transferID, err
}

// Declaration items a merchant confirms before its claim is sent.
var DeclarationItems = []string{"essentials_only", "no_alcohol_tobacco", "no_cash_or_change", "redemptions_genuine"}

// DeclareClaim records the merchant's self-declaration on its claim that
// awaits it, and returns the claim (with the workflow to tell). A claim
// already declared is a conflict; one that is not the merchant's is not found.
func (a API) DeclareClaim(ctx context.Context, scope Scope, id string, decl map[string]bool) (InvoiceView, error) {
	var v InvoiceView
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		b, err := json.Marshal(decl)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE invoices SET declaration = $2, declared_at = now(), declared_by = $3,
			status = 'ready', updated_at = now()
			WHERE id = $1 AND kind = 'merchant' AND status = 'awaiting_declaration'`, id, b, scope.UserID)
		if err != nil {
			return MapError(err)
		}
		v, err = scanInvoice(tx.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM invoices i WHERE i.id = $1 AND i.kind = 'merchant'`, id))
		if err != nil {
			return MapError(err)
		}
		if tag.RowsAffected() == 0 {
			return Conflict("already_declared", "this claim does not await a declaration")
		}
		return nil
	})
	return v, err
}

// InvoiceFilter selects invoices.
type InvoiceFilter struct {
	Kind   string // "" for both
	Status string
	Limit  int
	Offset int
}

// Invoices lists the invoices the scope may see, newest period first.
func (a API) Invoices(ctx context.Context, scope Scope, f InvoiceFilter) ([]InvoiceView, int, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	var (
		out   []InvoiceView
		total int
	)
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		const where = ` FROM invoices i WHERE ($1 = '' OR i.kind = $1) AND ($2 = '' OR i.status = $2)`
		if err := tx.QueryRow(ctx, `SELECT count(*)`+where, f.Kind, f.Status).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+invoiceColumns+where+` ORDER BY i.period DESC, i.number DESC LIMIT $3 OFFSET $4`,
			f.Kind, f.Status, f.Limit, f.Offset)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanInvoice(rows)
			if err != nil {
				return err
			}
			v.Lines = nil // the list shows the header only
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, total, err
}

// Invoice reads one invoice with its lines (ErrNotFound when not visible).
func (a API) Invoice(ctx context.Context, scope Scope, id string) (InvoiceView, error) {
	var v InvoiceView
	if _, err := uuid.Parse(id); err != nil {
		return v, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		v, err = scanInvoice(tx.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM invoices i WHERE i.id = $1`, id))
		return MapError(err)
	})
	return v, err
}

// BillingPayee is one monthly billing run to schedule.
type BillingPayee struct {
	Kind         string
	PayeeID      string
	Municipality string // the municipality billed
}

// BillingPayees lists every cooperative with each municipality its services
// are offered in, and every merchant with each municipality of its district
// (whose vouchers it may redeem).
func (s *Store) BillingPayees(ctx context.Context) ([]BillingPayee, error) {
	var out []BillingPayee
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT 'cooperative', s.cooperative_id, sm.municipality_id
			FROM services s JOIN service_municipalities sm ON sm.service_id = s.id
			GROUP BY s.cooperative_id, sm.municipality_id
			UNION ALL SELECT 'merchant', me.id, m.id FROM merchants me JOIN municipalities m ON m.district_id = me.district_id
			ORDER BY 1, 2, 3`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p BillingPayee
			if err := rows.Scan(&p.Kind, &p.PayeeID, &p.Municipality); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}
