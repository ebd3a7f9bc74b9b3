package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/funding"
	"sportello/internal/i18n"
)

// The citizen's side of the marketplace (issue 5): the cart, the service
// vouchers a service can be paid with, and the checkout that writes a
// booking, its sessions and the voucher hold in one transaction.

// MaxCartQuantity is the most units of one service a cart item (and a
// booking) may hold (cart_items and bookings check the same bound).
const MaxCartQuantity = 100

// FieldProblem is a refusal about one field of the citizen's request (the
// API answers 422 with it).
type FieldProblem struct {
	Pointer string // JSON pointer into the request body
	Code    string
	Text    i18n.Message // why, as a message id the adapters translate
}

func (e *FieldProblem) Error() string { return e.Pointer + ": " + e.Code + ": " + e.Text.ID }

func fieldProblem(pointer, code, id string, args ...any) error {
	return &FieldProblem{Pointer: pointer, Code: code, Text: i18n.M(id, args...)}
}

// CartItem is one service in a citizen's cart.
type CartItem struct {
	ServiceID int64     `json:"service_id"`
	Quantity  int       `json:"quantity"`
	AddedAt   time.Time `json:"added_at"`
	// Service is the service as the citizen sees it now; Available is false
	// when it was withdrawn (or its cooperative is no longer public) since.
	Service   Service `json:"service"`
	Available bool    `json:"available"`
}

// bookableService reads a service for the citizen of scope and checks that
// it can be booked: published by a public cooperative (else a 409) and
// offered in the citizen's municipality (else a 422 on /service_id).
func bookableService(ctx context.Context, tx pgx.Tx, scope Scope, id int64) (Service, error) {
	sv, err := readService(ctx, tx, id)
	if err != nil {
		return sv, unreadableService(ctx, tx, id, err)
	}
	return sv, checkBookable(sv, slices.Contains(sv.Municipalities, scope.Municipality))
}

// bookableHere is bookableService for a checkout, in one statement (where
// bookableService takes three, reading every municipality's details, each
// row of which row-level security checks): the service as readService reads
// it, but with only the citizen's municipality and its price bands there,
// all that the checkout's quote looks at.
func bookableHere(ctx context.Context, tx pgx.Tx, scope Scope, id int64) (Service, error) {
	var (
		served bool
		isee   []*int32
		prices []*int64
		pcts   []*int16
	)
	sv, err := scanService(tx.QueryRow(ctx, `SELECT `+serviceColumns+`,
			EXISTS (SELECT 1 FROM service_municipalities m WHERE m.service_id = s.id AND m.municipality_id = $2),
			bands.isee, bands.prices, bands.pcts
		FROM services s JOIN cooperatives c ON c.id = s.cooperative_id
		LEFT JOIN LATERAL (SELECT array_agg(b.max_isee_euro ORDER BY b.position) AS isee,
				array_agg(b.price_cents ORDER BY b.position) AS prices, array_agg(b.percent ORDER BY b.position) AS pcts
			FROM service_price_bands b WHERE b.service_id = s.id AND b.municipality_id = $2) bands ON true
		WHERE s.id = $1`, id, scope.Municipality), &served, &isee, &prices, &pcts)
	if err != nil {
		return sv, unreadableService(ctx, tx, id, err)
	}
	sv.Municipalities, sv.Bands = []string{}, map[string][]PriceBand{}
	if served {
		sv.Municipalities = []string{scope.Municipality}
		for i := range isee {
			var b PriceBand
			if isee[i] != nil {
				v := int(*isee[i])
				b.MaxISEEEuro = &v
			}
			if i < len(prices) {
				b.PriceCents = prices[i]
			}
			if i < len(pcts) && pcts[i] != nil {
				v := int(*pcts[i])
				b.Percent = &v
			}
			sv.Bands[scope.Municipality] = append(sv.Bands[scope.Municipality], b)
		}
	}
	return sv, checkBookable(sv, served)
}

// unreadableService tells apart, when a service could not be read, one
// row-level security hides (withdrawn, or its cooperative not public: a 409)
// from an id that never existed (a 422 on /service_id).
func unreadableService(ctx context.Context, tx pgx.Tx, id int64, err error) error {
	if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT service_exists($1)`, id).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return Conflict("service_unavailable", "the service is not offered at the moment")
	}
	return fieldProblem("/service_id", "unknown", "checkout.err.service_unknown")
}

// checkBookable refuses a service that is not published (a cooperative's
// own or staff scope sees unpublished services too) or not offered in the
// citizen's municipality.
func checkBookable(sv Service, served bool) error {
	if !sv.Published {
		return Conflict("service_unavailable", "the service is not offered at the moment")
	}
	if !served {
		return fieldProblem("/service_id", "not_served", "checkout.err.not_served")
	}
	return nil
}

// mapProblem keeps a *FieldProblem and maps other errors with MapError.
func mapProblem(err error) error {
	var fp *FieldProblem
	if errors.As(err, &fp) {
		return err
	}
	return MapError(err)
}

func quantityProblem() error {
	return fieldProblem("/quantity", "out_of_range", "checkout.err.out_of_range", MaxCartQuantity)
}

// AddToCart adds quantity units of a service to the cart of the citizen of
// scope (to those already there). A withdrawn service is a 409 conflict;
// an unknown one, one not offered in the citizen's municipality or a total
// quantity out of 1..MaxCartQuantity a *FieldProblem.
func (a API) AddToCart(ctx context.Context, scope Scope, serviceID int64, quantity int) (CartItem, error) {
	return a.writeCart(ctx, scope, serviceID, quantity, true)
}

// SetCartQuantity sets the quantity of a service in the cart (adding it
// when it is not there yet), with AddToCart's checks.
func (a API) SetCartQuantity(ctx context.Context, scope Scope, serviceID int64, quantity int) (CartItem, error) {
	return a.writeCart(ctx, scope, serviceID, quantity, false)
}

func (a API) writeCart(ctx context.Context, scope Scope, serviceID int64, quantity int, add bool) (CartItem, error) {
	if quantity < 1 || quantity > MaxCartQuantity {
		return CartItem{}, quantityProblem()
	}
	var item CartItem
	// Generic plans (inTx): the statements find their rows by key.
	err := a.s.inTx(ctx, scope, true, func(tx pgx.Tx) error {
		sv, err := bookableService(ctx, tx, scope, serviceID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO cart_items AS ci (user_id, service_id, quantity) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, service_id) DO UPDATE
			SET quantity = CASE WHEN $4 THEN ci.quantity + EXCLUDED.quantity ELSE EXCLUDED.quantity END
			RETURNING quantity, added_at`, scope.UserID, serviceID, quantity, add).Scan(&item.Quantity, &item.AddedAt)
		var pg interface{ SQLState() string }
		if errors.As(err, &pg) && pg.SQLState() == "23514" {
			return quantityProblem()
		}
		if err != nil {
			return err
		}
		item.ServiceID, item.Service, item.Available = serviceID, sv, true
		return nil
	})
	if err != nil {
		return CartItem{}, mapProblem(err)
	}
	return item, nil
}

// RemoveFromCart removes a service from the cart (ErrNotFound when it is
// not there).
func (a API) RemoveFromCart(ctx context.Context, scope Scope, serviceID int64) error {
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM cart_items WHERE user_id = $1 AND service_id = $2`, scope.UserID, serviceID)
		if err == nil && tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		return err
	})
	return MapError(err)
}

// Cart lists the cart of the citizen of scope, oldest first.
func (a API) Cart(ctx context.Context, scope Scope) ([]CartItem, error) {
	items := []CartItem{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT service_id, quantity, added_at FROM cart_items
			WHERE user_id = $1 ORDER BY added_at, service_id`, scope.UserID)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CartItem, error) {
			var it CartItem
			err := r.Scan(&it.ServiceID, &it.Quantity, &it.AddedAt)
			return it, err
		})
		if err != nil {
			return err
		}
		for i := range items {
			sv, err := bookableService(ctx, tx, scope, items[i].ServiceID)
			var fp *FieldProblem
			var ce *ConflictError
			switch {
			case err == nil:
				items[i].Service, items[i].Available = sv, true
			case errors.As(err, &fp), errors.As(err, &ce):
				// Withdrawn or no longer offered here: the name as last known.
				if err := tx.QueryRow(ctx, `SELECT coalesce(cart_service_name($1), '')`, items[i].ServiceID).Scan(&items[i].Service.Name); err != nil {
					return err
				}
				items[i].Service.ID = items[i].ServiceID
			default:
				return err
			}
		}
		return nil
	})
	return items, MapError(err)
}

// ServiceVoucher is a citizen's service voucher that can pay for a service.
type ServiceVoucher struct {
	ID             string    `json:"id"`
	Code           string    `json:"code"`
	FundID         string    `json:"fund_id"`
	FundName       string    `json:"fund_name"`
	Categories     []string  `json:"categories"`
	AvailableCents int64     `json:"available_cents"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// eligibleVoucher is the condition on vouchers v joined to funds f for a
// service of category $2 booked by a citizen living in municipality $3.
const eligibleVoucher = `v.status = 'active' AND v.expires_at > now() AND f.kind = 'service'
	AND $2 = ANY(f.service_categories) AND v.municipality_id = $3`

// ServiceVouchers lists the active, unexpired service vouchers of the
// citizen of scope that can pay for a service of category in their
// municipality, with their available balance (largest first).
func (a API) ServiceVouchers(ctx context.Context, scope Scope, category string) ([]ServiceVoucher, error) {
	out := []ServiceVoucher{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT v.id::text, v.code, f.id, f.name, f.service_categories,
				coalesce(acc.balance_cents, 0), v.expires_at
			FROM vouchers v JOIN funds f ON f.id = v.fund_id
			LEFT JOIN accounts acc ON acc.id = 'voucher:' || v.id::text
			WHERE v.holder_id = $1 AND `+eligibleVoucher+`
			ORDER BY coalesce(acc.balance_cents, 0) DESC, v.expires_at, v.id`, scope.UserID, category, scope.Municipality)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ServiceVoucher, error) {
			var v ServiceVoucher
			err := r.Scan(&v.ID, &v.Code, &v.FundID, &v.FundName, &v.Categories, &v.AvailableCents, &v.ExpiresAt)
			return v, err
		})
		return err
	})
	return out, MapError(err)
}

// Payment modes of a checkout.
const (
	PayVoucher = "voucher" // the whole total from a service voucher
	PayOnline  = "online"  // the whole total online
	PaySplit   = "split"   // VoucherCents from the voucher, the rest online
	// PayFunders splits the total by the rule of internal/funding between
	// the funders the person chose (CompanyCredit, VoucherID): company
	// credit first, then the voucher, the rest online.
	PayFunders = "funders"
)

// CheckoutInput books one cart item of the citizen of the scope.
type CheckoutInput struct {
	BookingID    string // a new uuid, used unless the key was seen before
	ServiceID    int64
	ISEEEuro     *int   // the citizen's ISEE for the band price (nil: unknown, list price)
	Mode         string // PayVoucher, PayOnline or PaySplit
	VoucherID    string // PayVoucher and PaySplit
	VoucherCents int64  // PaySplit: 0 < VoucherCents < total
	// PayFunders: whether the employee's company credit pays (first), and
	// the split the person was shown (nil: none). A split shown that is not
	// the one computed now under lock is a conflict (a balance changed).
	CompanyCredit bool
	Expected      *funding.Shares
	// IdempotencyKey, when not empty, makes a retried checkout return the
	// booking the first one created; RequestHash tells a reuse of the key
	// for another request (a conflict).
	IdempotencyKey string
	RequestHash    string
	// WorkflowID names the booking's workflow from its id.
	WorkflowID func(bookingID string) string
}

// CheckoutResult is the booking a checkout wrote (or found, Replayed).
type CheckoutResult struct {
	Booking  BookingView
	Replayed bool
}

// SplitSessions spreads the voucher part of a booking over its quantity
// sessions of unit cents each (funding.Sessions without a company part):
// the first voucher%quantity sessions take one cent more; each session's
// online part is the rest of its unit price. The parts sum exactly to
// voucher and quantity*unit-voucher.
func SplitSessions(quantity int, unit, voucher int64) (voucherParts, onlineParts []int64) {
	parts := funding.Sessions(quantity, unit, funding.Shares{VoucherCents: voucher, OnlineCents: int64(quantity)*unit - voucher})
	if parts == nil {
		return nil, nil
	}
	voucherParts, onlineParts = make([]int64, quantity), make([]int64, quantity)
	for i, p := range parts {
		voucherParts[i], onlineParts[i] = p.VoucherCents, p.OnlineCents
	}
	return voucherParts, onlineParts
}

// Checkout books the cart item of service for the citizen of scope, in one
// transaction: it prices the item for the citizen's ISEE band, locks and
// checks the voucher (when one pays), writes the booking and one session
// per unit with their voucher and online shares, opens the booking's
// accounts, holds the voucher part (voucher:<v> -> booking:<b>:voucher) and
// removes the item from the cart. Concurrent checkouts on one voucher are
// serialised on its row, so they can never overspend it.
//
// Refusals: *FieldProblem (422) for the request's fields; ConflictError
// (409) for an item no longer in the cart, a withdrawn service, a quantity
// beyond the service's capacity left in its period (capacity_full, counted
// last, under the service's lock: checkCapacity), an expired voucher, an
// insufficient balance, or a key reused for another request.
func (a API) Checkout(ctx context.Context, scope Scope, in CheckoutInput) (CheckoutResult, error) {
	var res CheckoutResult
	// Generic plans (inTx): the statements find their rows by key.
	err := a.s.inTx(ctx, scope, true, func(tx pgx.Tx) error {
		if in.IdempotencyKey != "" {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
				fmt.Sprintf("checkout:%d:%s", scope.UserID, in.IdempotencyKey)); err != nil {
				return err
			}
			var id, hash string
			err := tx.QueryRow(ctx, `SELECT id::text, request_hash FROM bookings WHERE citizen_id = $1 AND idempotency_key = $2`,
				scope.UserID, in.IdempotencyKey).Scan(&id, &hash)
			if err == nil {
				if hash != in.RequestHash {
					return Conflict("idempotency_key_reused", "this Idempotency-Key was already used for a different checkout")
				}
				res.Replayed = true
				res.Booking, err = BookingTx(ctx, tx, id)
				return err
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var quantity int
		err := tx.QueryRow(ctx, `SELECT quantity FROM cart_items WHERE user_id = $1 AND service_id = $2 FOR UPDATE`,
			scope.UserID, in.ServiceID).Scan(&quantity)
		if errors.Is(err, pgx.ErrNoRows) {
			return Conflict("not_in_cart", "the service is not in your cart (already booked, or removed)")
		}
		if err != nil {
			return err
		}
		sv, err := bookableHere(ctx, tx, scope, in.ServiceID)
		if err != nil {
			return err
		}
		quote := sv.Quote(scope.Municipality, in.ISEEEuro)
		basis, err := json.Marshal(quote)
		if err != nil {
			return err
		}
		total := quote.Cents * int64(quantity)
		var (
			shares   funding.Shares
			employee string // the enrolment whose credit pays the company part
		)
		if in.Mode == PayFunders {
			if shares, employee, err = fundersParts(ctx, tx, scope, in, sv.Category, total); err != nil {
				return err
			}
		} else {
			if shares.VoucherCents, shares.OnlineCents, err = paymentParts(in, total); err != nil {
				return err
			}
			if shares.VoucherCents > 0 {
				if err := holdable(ctx, tx, scope, in.VoucherID, sv.Category, shares.VoucherCents); err != nil {
					return err
				}
			}
		}
		voucherCents, onlineCents := shares.VoucherCents, shares.OnlineCents
		var voucherArg, employeeArg any
		if voucherCents > 0 {
			voucherArg = in.VoucherID
		}
		if shares.CompanyCents > 0 {
			employeeArg = employee
		}
		status := "requested"
		if onlineCents > 0 {
			status = "awaiting_payment"
		}
		var key any
		if in.IdempotencyKey != "" {
			key = in.IdempotencyKey
		}
		// The writes, the booking's read back and the capacity's check
		// last, as one batch: none of them waits for another's answer
		// (one round trip instead of about fourteen; docs/benchmarks.md,
		// booking saga, "Fifth pass"). An error stops the transaction.
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO bookings (id, district_id, municipality_id, citizen_id, service_id, cooperative_id,
				service_name, category, unit, quantity, unit_price_cents, total_cents, price_basis, voucher_id, voucher_cents,
				online_cents, status, workflow_id, idempotency_key, request_hash, company_employee_id, company_cents)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
			in.BookingID, scope.District, scope.Municipality, scope.UserID, sv.ID, sv.CooperativeID, sv.Name, sv.Category,
			sv.Unit, quantity, quote.Cents, total, string(basis), voucherArg, voucherCents, onlineCents, status,
			in.WorkflowID(in.BookingID), key, in.RequestHash, employeeArg, shares.CompanyCents)
		parts := funding.Sessions(quantity, quote.Cents, shares)
		cParts, vParts, oParts := make([]int64, len(parts)), make([]int64, len(parts)), make([]int64, len(parts))
		for i, p := range parts {
			cParts[i], vParts[i], oParts[i] = p.CompanyCents, p.VoucherCents, p.OnlineCents
		}
		b.Queue(`INSERT INTO booking_sessions (booking_id, seq, voucher_cents, online_cents, company_cents)
			SELECT $1, s.seq, s.v, s.o, s.c FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS s(v, o, c, seq)`,
			in.BookingID, vParts, oParts, cParts)
		queueBookingAccounts(b, in.BookingID, sv.District, sv.CooperativeID, shares.CompanyCents > 0)
		var holds []*queuedTransfer
		if voucherCents > 0 {
			holds = append(holds, queueTransfer(b, in.BookingID, TransferInput{Key: "hold:" + in.BookingID,
				From: VoucherAccountID(in.VoucherID), To: BookingVoucherAccountID(in.BookingID), Amount: voucherCents,
				Kind: TransferHold, VoucherID: in.VoucherID}))
		}
		if shares.CompanyCents > 0 {
			holds = append(holds, queueTransfer(b, in.BookingID, TransferInput{Key: "hold:" + in.BookingID + ":company",
				From: CompanyCreditAccountID(employee), To: BookingCompanyAccountID(in.BookingID), Amount: shares.CompanyCents,
				Kind: TransferHold}))
		}
		b.Queue(`DELETE FROM cart_items WHERE user_id = $1 AND service_id = $2`, scope.UserID, in.ServiceID)
		queueBookingView(b, in.BookingID, &res.Booking)
		// Last: the capacity's lock is held for its count and the COMMIT.
		capacity := queueCapacity(b, sv.ID, quantity)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		for _, h := range holds {
			if err := h.check(ctx, tx); err != nil {
				return err
			}
		}
		return capacity()
	})
	if err != nil {
		return CheckoutResult{}, mapProblem(err)
	}
	return res, nil
}

// paymentParts splits total between the voucher and online as in asks.
func paymentParts(in CheckoutInput, total int64) (voucher, online int64, err error) {
	switch in.Mode {
	case PayOnline:
		return 0, total, nil
	case PayVoucher:
		if in.VoucherID == "" && total > 0 {
			return 0, 0, fieldProblem("/voucher_id", "required", "checkout.err.voucher_required")
		}
		return total, 0, nil
	case PaySplit:
		if in.VoucherID == "" {
			return 0, 0, fieldProblem("/voucher_id", "required", "checkout.err.voucher_required")
		}
		if in.VoucherCents <= 0 || in.VoucherCents >= total {
			return 0, 0, fieldProblem("/voucher_cents", "out_of_range",
				"checkout.err.voucher_cents_out_of_range", total)
		}
		return in.VoucherCents, total - in.VoucherCents, nil
	}
	return 0, 0, fieldProblem("/payment", "invalid", "checkout.err.payment_unknown")
}

// fundersParts splits total for a PayFunders checkout: it locks and reads
// the funders the person chose (the company credit usable for category
// today, the voucher), splits by funding.Split and compares with the split
// the person was shown. It returns the shares and the enrolment whose
// credit pays the company part.
func fundersParts(ctx context.Context, tx pgx.Tx, scope Scope, in CheckoutInput, category string, total int64) (funding.Shares, string, error) {
	if !in.CompanyCredit && in.VoucherID == "" {
		return funding.Shares{}, "", fieldProblem("/company_credit", "funder_required", "checkout.err.funder_required")
	}
	if e := in.Expected; e != nil {
		if e.CompanyCents < 0 || e.VoucherCents < 0 || e.OnlineCents < 0 || e.Total() != total {
			return funding.Shares{}, "", fieldProblem("/expected", "does_not_add_up", "checkout.err.expected_does_not_add_up", total)
		}
	}
	var (
		av       funding.Available
		employee string
		err      error
	)
	if in.CompanyCredit {
		if employee, av.CompanyCents, err = usableCompanyCredit(ctx, tx, scope, category); err != nil {
			return funding.Shares{}, "", err
		}
	}
	if in.VoucherID != "" {
		if av.VoucherCents, err = lockVoucher(ctx, tx, scope, in.VoucherID, category); err != nil {
			return funding.Shares{}, "", err
		}
	}
	shares, err := funding.Split(total, av)
	if err != nil {
		return shares, "", err
	}
	if in.Expected != nil && *in.Expected != shares {
		return shares, "", Conflict("split_changed", fmt.Sprintf("a balance changed: the split is now %d cents of company credit, "+
			"%d of voucher and %d online", shares.CompanyCents, shares.VoucherCents, shares.OnlineCents))
	}
	return shares, employee, nil
}

// CompanyCreditOption is the company credit a citizen may use for a
// service of a category today (CompanyCreditFor).
type CompanyCreditOption struct {
	EmployeeID     string    `json:"employee_id"`
	CompanyName    string    `json:"company_name"`
	PlanName       string    `json:"plan_name"`
	AvailableCents int64     `json:"available_cents"`
	ValidUntil     time.Time `json:"valid_until"`
}

// companyCreditSQL reads the acting citizen's enrolments in the district $1
// with the plan's categories and validity (today in Europe/Rome as $2),
// usable ones first ($3: the category), the largest credit first.
const companyCreditSQL = `SELECT e.id::text, c.name, p.name, coalesce(acc.balance_cents, 0), p.valid_until,
		p.valid_from <= $2::date AND p.valid_until >= $2::date, $3 = ANY(p.categories)
	FROM company_employees e JOIN companies c ON c.id = e.company_id JOIN company_plans p ON p.id = e.plan_id
	LEFT JOIN accounts acc ON acc.id = 'company_credit:' || e.id
	WHERE e.tax_code = sportello_tax_code() AND e.district_id = $1 AND e.status = 'enrolled'
	ORDER BY (p.valid_from <= $2::date AND p.valid_until >= $2::date AND $3 = ANY(p.categories)) DESC,
		coalesce(acc.balance_cents, 0) DESC, e.id`

// companyCredit reads the acting citizen's first enrolment by
// companyCreditSQL for a service of category today: the option, whether
// its plan is valid today and covers category (found false: not enrolled).
func companyCredit(ctx context.Context, tx pgx.Tx, scope Scope, category string) (o CompanyCreditOption, found, valid, inCategory bool, err error) {
	var today time.Time
	if err = tx.QueryRow(ctx, `SELECT (now() AT TIME ZONE 'Europe/Rome')::date`).Scan(&today); err != nil {
		return o, false, false, false, err
	}
	err = tx.QueryRow(ctx, companyCreditSQL, scope.District, today, category).
		Scan(&o.EmployeeID, &o.CompanyName, &o.PlanName, &o.AvailableCents, &o.ValidUntil, &valid, &inCategory)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, false, false, false, nil
	}
	return o, err == nil, valid, inCategory, err
}

// usableCompanyCredit finds the acting citizen's company credit usable for
// a service of category today and locks its account: the enrolment and
// what it has left. Refusals (422 on /company_credit): not enrolled, the
// plan not valid today (plans are valid by calendar day, Europe/Rome), the
// category not in the plan.
func usableCompanyCredit(ctx context.Context, tx pgx.Tx, scope Scope, category string) (string, int64, error) {
	o, found, valid, inCategory, err := companyCredit(ctx, tx, scope, category)
	switch {
	case err != nil:
		return "", 0, err
	case !found:
		return "", 0, fieldProblem("/company_credit", "not_enrolled", "checkout.err.company_not_enrolled")
	case !valid:
		return "", 0, fieldProblem("/company_credit", "plan_not_valid", "checkout.err.company_plan_not_valid")
	case !inCategory:
		return "", 0, fieldProblem("/company_credit", "category_not_in_plan", "checkout.err.company_wrong_category")
	}
	var balance int64
	if err := tx.QueryRow(ctx, `SELECT balance_cents FROM accounts WHERE id = $1 FOR UPDATE`,
		CompanyCreditAccountID(o.EmployeeID)).Scan(&balance); err != nil {
		return "", 0, err
	}
	return o.EmployeeID, balance, nil
}

// CompanyCreditFor is the acting citizen's company credit usable today for
// a service of category (nil: none, or not usable for it).
func (a API) CompanyCreditFor(ctx context.Context, scope Scope, category string) (*CompanyCreditOption, error) {
	var out *CompanyCreditOption
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		o, found, valid, inCategory, err := companyCredit(ctx, tx, scope, category)
		out = nil
		if found && valid && inCategory {
			out = &o
		}
		return err
	})
	return out, MapError(err)
}

// holdable locks the voucher row and checks that it may pay cents for a
// service of category booked by the citizen of scope.
func holdable(ctx context.Context, tx pgx.Tx, scope Scope, voucherID, category string, cents int64) error {
	available, err := lockVoucher(ctx, tx, scope, voucherID, category)
	if err != nil {
		return err
	}
	if available < cents {
		return Conflict("insufficient_balance", fmt.Sprintf("the voucher has %d cents available, the voucher part is %d", available, cents))
	}
	return nil
}

// lockVoucher locks the voucher row, checks that it may pay for a service
// of category booked by the citizen of scope and returns its balance.
func lockVoucher(ctx context.Context, tx pgx.Tx, scope Scope, voucherID, category string) (int64, error) {
	var (
		holder             int64
		status, mun, kind  string
		expiresAt, now     time.Time
		categories         []string
		fundDistrict, fund string
	)
	if _, err := uuid.Parse(voucherID); err != nil {
		return 0, fieldProblem("/voucher_id", "unknown", "checkout.err.voucher_id_unknown")
	}
	// Row-level security shows a citizen their own vouchers only.
	err := tx.QueryRow(ctx, `SELECT v.holder_id, v.status, v.municipality_id, v.expires_at, f.kind, f.service_categories,
			f.district_id, f.id, now()
		FROM vouchers v JOIN funds f ON f.id = v.fund_id WHERE v.id = $1 FOR UPDATE OF v`, voucherID).
		Scan(&holder, &status, &mun, &expiresAt, &kind, &categories, &fundDistrict, &fund, &now)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && holder != scope.UserID) {
		return 0, fieldProblem("/voucher_id", "unknown", "checkout.err.voucher_id_unknown")
	}
	if err != nil {
		return 0, err
	}
	switch {
	case kind != "service":
		return 0, fieldProblem("/voucher_id", "not_a_service_voucher", "checkout.err.not_a_service_voucher")
	case !slices.Contains(categories, category):
		return 0, fieldProblem("/voucher_id", "wrong_category", "checkout.err.wrong_category")
	case mun != scope.Municipality:
		return 0, fieldProblem("/voucher_id", "other_municipality", "checkout.err.other_municipality")
	case status != "active" || !now.Before(expiresAt):
		return 0, Conflict("voucher_expired", "the voucher has expired")
	}
	return Balance(ctx, tx, VoucherAccountID(voucherID))
}

// queueBookingAccounts queues in b the opening of the accounts a booking's
// money can move through (see ledger.go).
func queueBookingAccounts(b *pgx.Batch, bookingID, district, cooperative string, company bool) {
	accs := []accountSpec{
		{BookingVoucherAccountID(bookingID), AccountBookingVoucher, false},
		{BookingOnlineAccountID(bookingID), AccountBookingOnline, false},
		{PaymentsAccountID(district), AccountPayments, true},
		{CooperativeAccountID(cooperative), AccountCooperative, false},
		{CooperativeOnlineAccountID(cooperative), AccountCooperativeOnline, false},
	}
	if company {
		accs = append(accs, accountSpec{BookingCompanyAccountID(bookingID), AccountBookingCompany, false})
	}
	queueAccounts(b, district, accs)
}

// accountSpec is an account to open: its id, kind and whether its balance
// may go negative.
type accountSpec struct {
	id, kind string
	negative bool
}

// queueAccounts queues in b EnsureAccount for several accounts of a
// district, as one statement, in their order.
func queueAccounts(b *pgx.Batch, district string, accs []accountSpec) {
	if len(accs) == 0 {
		return
	}
	ids, kinds, negative := make([]string, len(accs)), make([]string, len(accs)), make([]bool, len(accs))
	for i, a := range accs {
		ids[i], kinds[i], negative[i] = a.id, a.kind, a.negative
	}
	b.Queue(ensureAccountsSQL, district, ids, kinds, negative)
}

// ensureAccountsSQL opens the accounts $2 (kinds $3, negative allowed $4)
// of district $1 that do not exist yet, in their order. An account that
// exists is not inserted at all (NOT EXISTS, read from the statement's
// snapshot): ON CONFLICT alone would check the unique index, which waits
// for any transaction that is updating the account's row, so every
// checkout and confirmation of a cooperative's bookings queued behind the
// one posting to its account.
const ensureAccountsSQL = `INSERT INTO accounts (id, district_id, kind, allow_negative)
		SELECT a.id, $1, a.kind, a.negative FROM unnest($2::text[], $3::text[], $4::boolean[]) WITH ORDINALITY AS a(id, kind, negative, n)
		WHERE NOT EXISTS (SELECT 1 FROM accounts x WHERE x.id = a.id)
		ORDER BY a.n
		ON CONFLICT (id) DO NOTHING`
