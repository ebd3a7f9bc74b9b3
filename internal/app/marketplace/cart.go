package marketplace

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"sportello/internal/app"
	"sportello/internal/funding"
	"sportello/internal/jsonx"
	"sportello/internal/observe"
	"sportello/internal/store"
	"sportello/workflows"
)

// The citizen's cart and checkout (issue 5). A checkout writes the
// booking, its sessions and the voucher hold in one transaction
// (store.Checkout), then starts the booking's workflow.

// CartLine is a cart item with the citizen's unit price, the total, the
// vouchers and the company welfare credit that can pay for it, and the
// split a funders checkout would make now with both (funding.Split).
type CartLine struct {
	store.CartItem
	UnitPrice      *store.PriceQuote          `json:"unit_price,omitempty"` // nil when unavailable
	TotalCents     int64                      `json:"total_cents"`
	Vouchers       []store.ServiceVoucher     `json:"vouchers"`
	CompanyCredit  *store.CompanyCreditOption `json:"company_credit,omitempty"`
	SuggestedSplit *funding.Shares            `json:"suggested_split,omitempty"`
}

// Split is the split of a funders checkout of total with the company
// credit (nil: not used) and the voucher (nil: not used), by the rule of
// internal/funding, from the balances as read now: what the checkout page
// shows, and sends back as expected.
func Split(total int64, credit *store.CompanyCreditOption, voucher *store.ServiceVoucher) funding.Shares {
	var av funding.Available
	if credit != nil {
		av.CompanyCents = credit.AvailableCents
	}
	if voucher != nil {
		av.VoucherCents = voucher.AvailableCents
	}
	s, _ := funding.Split(max(total, 0), av)
	return s
}

// SplitInput asks for the split of a funders checkout of one cart item
// (the body of POST /bookings/split-preview): the funders the person would
// choose, as a checkout would send them.
type SplitInput struct {
	ServiceID     int64  `json:"service_id"`
	VoucherID     string `json:"voucher_id,omitempty"` // "": no voucher
	CompanyCredit bool   `json:"company_credit"`
}

// SplitPreview is what each funder would pay for a cart item with the
// funders chosen: the split a checkout makes now (by funding.Split, from
// the balances as read now), to be sent back as its expected split.
type SplitPreview struct {
	ServiceID     int64          `json:"service_id"`
	Quantity      int            `json:"quantity"`
	TotalCents    int64          `json:"total_cents"`
	CompanyCredit bool           `json:"company_credit"`
	VoucherID     string         `json:"voucher_id,omitempty"`
	Split         funding.Shares `json:"split"`
}

// PreviewSplit computes the split of a funders checkout of the cart item
// in.ServiceID with the funders of in, for the citizen user. It reads
// only: no hold, no movement of money. Refusals are 422 at the field: no
// such item in the cart (/service_id), a voucher that cannot pay for it
// (/voucher_id), company credit asked for where none is usable, or no
// funder at all (/company_credit).
func (s Service) PreviewSplit(ctx context.Context, user store.UserView, in SplitInput) (SplitPreview, error) {
	if in.ServiceID <= 0 {
		return SplitPreview{}, app.InvalidInput(app.Field("/service_id", "required", "marketplace.err.service_id_required"))
	}
	in.VoucherID = strings.TrimSpace(in.VoucherID)
	if !in.CompanyCredit && in.VoucherID == "" {
		return SplitPreview{}, app.InvalidInput(app.Field("/company_credit", "funder_required", "checkout.err.funder_required"))
	}
	lines, _, err := s.Cart(ctx, user)
	if err != nil {
		return SplitPreview{}, err
	}
	i := slices.IndexFunc(lines, func(l CartLine) bool { return l.ServiceID == in.ServiceID && l.Available })
	if i < 0 {
		return SplitPreview{}, app.InvalidInput(app.Field("/service_id", "not_in_cart", "checkout.err.not_in_cart"))
	}
	l := lines[i]
	var (
		credit  *store.CompanyCreditOption
		voucher *store.ServiceVoucher
	)
	if in.CompanyCredit {
		if credit = l.CompanyCredit; credit == nil {
			return SplitPreview{}, app.InvalidInput(app.Field("/company_credit", "company_credit_unavailable", "checkout.err.company_unavailable"))
		}
	}
	if in.VoucherID != "" {
		j := slices.IndexFunc(l.Vouchers, func(v store.ServiceVoucher) bool { return v.ID == in.VoucherID })
		if j < 0 {
			return SplitPreview{}, app.InvalidInput(app.Field("/voucher_id", "unknown", "checkout.err.voucher_not_usable"))
		}
		voucher = &l.Vouchers[j]
	}
	return SplitPreview{ServiceID: l.ServiceID, Quantity: l.Quantity, TotalCents: l.TotalCents, CompanyCredit: in.CompanyCredit,
		VoucherID: in.VoucherID, Split: Split(l.TotalCents, credit, voucher)}, nil
}

// Cart reads the citizen's cart with prices and eligible vouchers.
func (s Service) Cart(ctx context.Context, u store.UserView) ([]CartLine, Pricing, error) {
	items, err := s.API.Cart(ctx, u.Scope())
	if err != nil {
		return nil, Pricing{}, err
	}
	p, err := s.Pricing(ctx, u)
	if err != nil {
		return nil, p, err
	}
	lines := make([]CartLine, 0, len(items))
	vouchers := map[string][]store.ServiceVoucher{}
	credits := map[string]*store.CompanyCreditOption{}
	for _, it := range items {
		l := CartLine{CartItem: it, Vouchers: []store.ServiceVoucher{}}
		if it.Available {
			q := p.Quote(it.Service)
			l.UnitPrice, l.TotalCents = &q, q.Cents*int64(it.Quantity)
			cat := it.Service.Category
			if _, ok := vouchers[cat]; !ok {
				if vouchers[cat], err = s.API.ServiceVouchers(ctx, u.Scope(), cat); err != nil {
					return nil, p, err
				}
				if credits[cat], err = s.API.CompanyCreditFor(ctx, u.Scope(), cat); err != nil {
					return nil, p, err
				}
			}
			l.Vouchers, l.CompanyCredit = vouchers[cat], credits[cat]
			if l.CompanyCredit != nil {
				var first *store.ServiceVoucher
				if len(l.Vouchers) > 0 {
					first = &l.Vouchers[0]
				}
				split := Split(l.TotalCents, l.CompanyCredit, first)
				l.SuggestedSplit = &split
			}
		}
		lines = append(lines, l)
	}
	return lines, p, nil
}

// CartItemInput adds a service to the cart (the body of POST /cart/items).
type CartItemInput struct {
	ServiceID int64 `json:"service_id"`
	Quantity  *int  `json:"quantity"`
}

// AddCartItem adds in.Quantity (1 when not given) of a service to the
// citizen's cart.
func (s Service) AddCartItem(ctx context.Context, user store.UserView, in CartItemInput) (store.CartItem, error) {
	if in.ServiceID <= 0 {
		return store.CartItem{}, app.InvalidInput(app.Field("/service_id", "required", "marketplace.err.service_id_required"))
	}
	q := 1
	if in.Quantity != nil {
		q = *in.Quantity
	}
	return s.AddToCart(ctx, user, in.ServiceID, q)
}

// AddToCart adds qty of service serviceID to the citizen's cart.
func (s Service) AddToCart(ctx context.Context, user store.UserView, serviceID int64, qty int) (store.CartItem, error) {
	return s.API.AddToCart(ctx, user.Scope(), serviceID, qty)
}

// CartQuantity is the body of PUT /cart/items/{service_id}.
type CartQuantity struct {
	Quantity *int `json:"quantity"`
}

// PutCartItem sets the quantity of a service in the citizen's cart.
func (s Service) PutCartItem(ctx context.Context, user store.UserView, serviceID int64, in CartQuantity) (store.CartItem, error) {
	if in.Quantity == nil {
		return store.CartItem{}, app.InvalidInput(app.Field("/quantity", "required", "marketplace.err.quantity_required"))
	}
	return s.SetCartQuantity(ctx, user, serviceID, *in.Quantity)
}

// SetCartQuantity sets the quantity of a service in the citizen's cart
// (adding it when it is not there).
func (s Service) SetCartQuantity(ctx context.Context, user store.UserView, serviceID int64, qty int) (store.CartItem, error) {
	return s.API.SetCartQuantity(ctx, user.Scope(), serviceID, qty)
}

// RemoveFromCart takes a service out of the citizen's cart.
func (s Service) RemoveFromCart(ctx context.Context, user store.UserView, serviceID int64) error {
	err := s.API.RemoveFromCart(ctx, user.Scope(), serviceID)
	if errors.Is(err, store.ErrNotFound) {
		return app.Missing("cart item")
	}
	return err
}

// CheckoutInput books one cart item (the body of POST /bookings).
type CheckoutInput struct {
	ServiceID    int64  `json:"service_id"`
	Payment      string `json:"payment"` // voucher, online, split or funders
	VoucherID    string `json:"voucher_id,omitempty"`
	VoucherCents int64  `json:"voucher_cents,omitempty"`
	// Funders (payment "funders", issue 15): whether the company welfare
	// credit pays, and the split the person was shown. The amounts are
	// computed by the rule of internal/funding (company credit first, then
	// the voucher, the rest online) from the balances read under lock;
	// Expected only detects a balance that changed meanwhile (409).
	CompanyCredit bool            `json:"company_credit,omitempty"`
	Expected      *funding.Shares `json:"expected,omitempty"`
}

// Checkout books a cart item for the citizen user and starts the booking's
// workflow (on a replay of key too: that heals a start that failed).
func (s Service) Checkout(ctx context.Context, user store.UserView, in CheckoutInput, key string) (store.CheckoutResult, error) {
	if in.ServiceID <= 0 {
		return store.CheckoutResult{}, app.InvalidInput(app.Field("/service_id", "required", "marketplace.err.service_id_required"))
	}
	hash, err := jsonx.RequestHash(in)
	if err != nil {
		return store.CheckoutResult{}, err
	}
	p, err := s.Pricing(ctx, user)
	if err != nil {
		return store.CheckoutResult{}, err
	}
	var isee *int
	if p.ISEE != nil {
		isee = &p.ISEE.Euro
	}
	res, err := s.API.Checkout(ctx, user.Scope(), store.CheckoutInput{BookingID: uuid.NewString(), ServiceID: in.ServiceID,
		ISEEEuro: isee, Mode: in.Payment, VoucherID: strings.TrimSpace(in.VoucherID), VoucherCents: in.VoucherCents,
		CompanyCredit: in.CompanyCredit, Expected: in.Expected,
		IdempotencyKey: key, RequestHash: hash, WorkflowID: workflows.BookingWorkflowID})
	if err != nil {
		return res, err
	}
	if !res.Replayed {
		observe.Bookings.Inc()
	}
	b := res.Booking
	if err := s.StartOnce(ctx, b.WorkflowID, workflows.BookingWorkflowName, workflows.BookingInput{
		BookingID: b.ID, DistrictID: b.DistrictID, CitizenID: b.CitizenID, OnlineCents: b.OnlineCents}); err != nil {
		return res, &app.Error{Kind: app.Unavailable, Code: "workflow_start_failed",
			Message: "the booking " + strconv.FormatInt(b.Number, 10) + " is stored but its processing could not start; " +
				"resend the same request with the same Idempotency-Key to retry", Cause: err}
	}
	return res, nil
}

// Returned is what each funder of b got back for its cancelled sessions
// (funding.Refund: exactly their parts). The online part is refunded
// through the provider, in the background: b.PaymentStatus says when it is.
func Returned(b store.BookingView) funding.Shares {
	var r funding.Shares
	for _, x := range b.Sessions {
		if x.Status == store.SessionCancelled {
			r = r.Add(funding.Shares{CompanyCents: x.CompanyCents, VoucherCents: x.VoucherCents, OnlineCents: x.OnlineCents})
		}
	}
	if b.PaymentStatus != store.PaymentRefunded && b.PaymentStatus != store.PaymentPartiallyRefunded {
		r.OnlineCents = 0 // not paid, or the refund not booked yet
	}
	return r
}
