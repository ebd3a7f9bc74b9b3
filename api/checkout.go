package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sportello/internal/jsonx"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"sportello/internal/store"
	"sportello/workflows"
)

// The citizen's cart, checkout and bookings in the JSON API (issue 5). A
// checkout writes the booking, its sessions and the voucher hold in one
// transaction (store.Checkout), then starts the booking's workflow; the
// payment provider's callbacks are signalled to it.

// cartLine is a cart item with the citizen's unit price, the total and the
// vouchers that can pay for it.
type cartLine struct {
	store.CartItem
	UnitPrice  *store.PriceQuote      `json:"unit_price,omitempty"` // nil when unavailable
	TotalCents int64                  `json:"total_cents"`
	Vouchers   []store.ServiceVoucher `json:"vouchers"`
}

// cartLines reads the citizen's cart with prices and eligible vouchers.
func (s *server) cartLines(ctx context.Context, u store.UserView) ([]cartLine, pricing, error) {
	items, err := s.api.Cart(ctx, u.Scope())
	if err != nil {
		return nil, pricing{}, err
	}
	p, err := s.callerPricing(ctx, u)
	if err != nil {
		return nil, p, err
	}
	lines := make([]cartLine, 0, len(items))
	vouchers := map[string][]store.ServiceVoucher{}
	for _, it := range items {
		l := cartLine{CartItem: it, Vouchers: []store.ServiceVoucher{}}
		if it.Available {
			q := p.quote(it.Service)
			l.UnitPrice, l.TotalCents = &q, q.Cents*int64(it.Quantity)
			cat := it.Service.Category
			if _, ok := vouchers[cat]; !ok {
				if vouchers[cat], err = s.api.ServiceVouchers(ctx, u.Scope(), cat); err != nil {
					return nil, p, err
				}
			}
			l.Vouchers = vouchers[cat]
		}
		lines = append(lines, l)
	}
	return lines, p, nil
}

func (s *server) getCart(c *gin.Context) error {
	lines, p, err := s.cartLines(c.Request.Context(), currentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": lines, "isee": p.ISEE})
	return nil
}

type cartItemRequest struct {
	ServiceID int64 `json:"service_id"`
	Quantity  *int  `json:"quantity"`
}

func (s *server) postCartItem(c *gin.Context) error {
	var req cartItemRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ServiceID <= 0 {
		return invalid(field("/service_id", "required", "service_id is required", "service_id è obbligatorio"))
	}
	q := 1
	if req.Quantity != nil {
		q = *req.Quantity
	}
	it, err := s.api.AddToCart(c.Request.Context(), currentUser(c).Scope(), req.ServiceID, q)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/cart")
	c.JSON(http.StatusOK, it)
	return nil
}

// cartServiceID reads the :service_id of a cart route (404 when not a number).
func cartServiceID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("service_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("cart item")
	}
	return id, nil
}

func (s *server) putCartItem(c *gin.Context) error {
	id, err := cartServiceID(c)
	if err != nil {
		return err
	}
	var req struct {
		Quantity *int `json:"quantity"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Quantity == nil {
		return invalid(field("/quantity", "required", "quantity is required", "la quantità è obbligatoria"))
	}
	it, err := s.api.SetCartQuantity(c.Request.Context(), currentUser(c).Scope(), id, *req.Quantity)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, it)
	return nil
}

func (s *server) deleteCartItem(c *gin.Context) error {
	id, err := cartServiceID(c)
	if err != nil {
		return err
	}
	if err := s.api.RemoveFromCart(c.Request.Context(), currentUser(c).Scope(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("cart item")
		}
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// checkoutRequest books one cart item.
type checkoutRequest struct {
	ServiceID    int64  `json:"service_id"`
	Payment      string `json:"payment"` // voucher, online or split
	VoucherID    string `json:"voucher_id,omitempty"`
	VoucherCents int64  `json:"voucher_cents,omitempty"`
}

// bookingJSON is a booking with its price derivation decoded.
type bookingJSON struct {
	store.BookingView
	PriceQuote *store.PriceQuote `json:"price_quote,omitempty"`
}

func newBookingJSON(b store.BookingView) bookingJSON {
	out := bookingJSON{BookingView: b}
	var q store.PriceQuote
	if json.Unmarshal([]byte(b.PriceBasis), &q) == nil {
		out.PriceQuote = &q
	}
	return out
}

// checkout books a cart item for the citizen user and starts the booking's
// workflow (on a replay of the key too: that heals a start that failed).
// The JSON handler and the checkout page share it.
func (s *server) checkout(ctx context.Context, user store.UserView, req checkoutRequest, key string) (store.CheckoutResult, error) {
	if req.ServiceID <= 0 {
		return store.CheckoutResult{}, invalid(field("/service_id", "required", "service_id is required", "service_id è obbligatorio"))
	}
	hash, err := jsonx.RequestHash(req)
	if err != nil {
		return store.CheckoutResult{}, err
	}
	p, err := s.callerPricing(ctx, user)
	if err != nil {
		return store.CheckoutResult{}, err
	}
	var isee *int
	if p.ISEE != nil {
		isee = &p.ISEE.Euro
	}
	res, err := s.api.Checkout(ctx, user.Scope(), store.CheckoutInput{BookingID: uuid.NewString(), ServiceID: req.ServiceID,
		ISEEEuro: isee, Mode: req.Payment, VoucherID: strings.TrimSpace(req.VoucherID), VoucherCents: req.VoucherCents,
		IdempotencyKey: key, RequestHash: hash, WorkflowID: workflows.BookingWorkflowID})
	if err != nil {
		return res, err
	}
	b := res.Booking
	if err := s.startOnce(ctx, b.WorkflowID, workflows.BookingWorkflowName, workflows.BookingInput{
		BookingID: b.ID, DistrictID: b.DistrictID, CitizenID: b.CitizenID, OnlineCents: b.OnlineCents}); err != nil {
		return res, &httpError{status: http.StatusServiceUnavailable, code: "workflow_start_failed",
			message: "the booking " + strconv.FormatInt(b.Number, 10) + " is stored but its processing could not start; " +
				"resend the same request with the same Idempotency-Key to retry", cause: err}
	}
	return res, nil
}

func (s *server) postBooking(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req checkoutRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.checkout(c.Request.Context(), currentUser(c), req, key)
	if err != nil {
		return err
	}
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/bookings/"+url.PathEscape(res.Booking.ID))
	c.JSON(http.StatusCreated, newBookingJSON(res.Booking))
	return nil
}

func (s *server) listBookings(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	items, total, err := s.api.Bookings(c.Request.Context(), currentUser(c).Scope(), limit, offset)
	if err != nil {
		return err
	}
	out := make([]bookingJSON, 0, len(items))
	for _, b := range items {
		out = append(out, newBookingJSON(b))
	}
	c.JSON(http.StatusOK, List[bookingJSON]{Items: out, Total: total, Limit: limit, Offset: offset})
	return nil
}

// bookingFor reads a booking visible to user (404 otherwise).
func (s *server) bookingFor(ctx context.Context, user store.UserView, id string) (store.BookingView, error) {
	b, err := s.api.Booking(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return b, notFound("booking")
	}
	return b, err
}

func (s *server) getBooking(c *gin.Context) error {
	b, err := s.bookingFor(c.Request.Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newBookingJSON(b))
	return nil
}

type bookingCancelRequest struct {
	Reason string `json:"reason"`
}

// cancelBooking cancels what is not delivered of a booking of user.
func (s *server) cancelBooking(ctx context.Context, user store.UserView, id string, req bookingCancelRequest, key string) (store.BookingView, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if utf8.RuneCountInString(req.Reason) > 1000 {
		return store.BookingView{}, invalid(field("/reason", "too_long", "the reason may be at most 1000 characters",
			"il motivo può avere al massimo 1000 caratteri"))
	}
	b, err := s.bookingFor(ctx, user, id)
	if err != nil {
		return b, err
	}
	if _, err := s.bookingUpdate(ctx, b, workflows.UpdateBookingCancel, userUpdateID(user, "cancel-booking:"+b.ID, key),
		workflows.BookingCancelInput{Actor: actor(user), Reason: req.Reason}); err != nil {
		return b, err
	}
	return s.bookingFor(ctx, user, id)
}

type confirmDeliveryRequest struct {
	Seqs []int `json:"seqs"`
}

// confirmDelivery confirms delivered sessions of a booking of user.
func (s *server) confirmDelivery(ctx context.Context, user store.UserView, id string, req confirmDeliveryRequest, key string) (store.BookingView, error) {
	b, err := s.bookingFor(ctx, user, id)
	if err != nil {
		return b, err
	}
	if len(req.Seqs) == 0 {
		return b, invalid(field("/seqs", "required", "choose the sessions to confirm", "scegliere gli incontri da confermare"))
	}
	seen := map[int]bool{}
	var fields []FieldError
	for i, q := range req.Seqs {
		if q < 1 || q > len(b.Sessions) || seen[q] {
			fields = append(fields, field("/seqs/"+strconv.Itoa(i), "invalid",
				"not a session of this booking (or repeated)", "non è un incontro di questa prenotazione (o è ripetuto)"))
		}
		seen[q] = true
	}
	if len(fields) > 0 {
		return b, invalid(fields...)
	}
	if _, err := s.bookingUpdate(ctx, b, workflows.UpdateBookingConfirmDelivery, userUpdateID(user, "confirm-delivery:"+b.ID, key),
		workflows.BookingConfirmInput{Actor: actor(user), Seqs: req.Seqs}); err != nil {
		return b, err
	}
	return s.bookingFor(ctx, user, id)
}

func (s *server) cancelBookingJSON(c *gin.Context) error {
	var req bookingCancelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	b, err := s.cancelBooking(c.Request.Context(), currentUser(c), c.Param("id"), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newBookingJSON(b))
	return nil
}

func (s *server) confirmDeliveryJSON(c *gin.Context) error {
	var req confirmDeliveryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	b, err := s.confirmDelivery(c.Request.Context(), currentUser(c), c.Param("id"), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newBookingJSON(b))
	return nil
}
