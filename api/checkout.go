package api

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/marketplace"
	"sportello/internal/store"
)

// The citizen's cart, checkout and bookings in the JSON API (issue 5). The
// marketplace service (internal/app/marketplace) does the work: a checkout
// writes the booking, its sessions and the voucher hold in one transaction,
// then starts the booking's workflow; the payment provider's callbacks are
// signalled to it (payments_callback.go).

// cartLine is a cart item with the citizen's unit price, the total and the
// vouchers that can pay for it.
type cartLine = marketplace.CartLine

func (s *server) getCart(c *gin.Context) error {
	lines, p, err := s.marketplace.Cart(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": lines, "isee": p.ISEE})
	return nil
}

func (s *server) postCartItem(c *gin.Context) error {
	var in marketplace.CartItemInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	it, err := s.marketplace.AddCartItem(c.Request.Context(), httpx.CurrentUser(c), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/cart")
	c.JSON(http.StatusOK, it)
	return nil
}

func (s *server) putCartItem(c *gin.Context) error {
	id, err := httpx.CartServiceID(c)
	if err != nil {
		return err
	}
	var in marketplace.CartQuantity
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	it, err := s.marketplace.PutCartItem(c.Request.Context(), httpx.CurrentUser(c), id, in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, it)
	return nil
}

func (s *server) deleteCartItem(c *gin.Context) error {
	id, err := httpx.CartServiceID(c)
	if err != nil {
		return err
	}
	if err := s.marketplace.RemoveFromCart(c.Request.Context(), httpx.CurrentUser(c), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// checkoutRequest books one cart item.
type checkoutRequest = marketplace.CheckoutInput

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

func (s *server) postBooking(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req checkoutRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.marketplace.Checkout(c.Request.Context(), httpx.CurrentUser(c), req, key)
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
	items, total, err := s.marketplace.Bookings(c.Request.Context(), httpx.CurrentUser(c), limit, offset)
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

func (s *server) getBooking(c *gin.Context) error {
	b, err := s.marketplace.Booking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newBookingJSON(b))
	return nil
}

func (s *server) cancelBookingJSON(c *gin.Context) error {
	var in marketplace.CancelInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	b, err := s.marketplace.Cancel(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), in, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newBookingJSON(b))
	return nil
}

func (s *server) confirmDeliveryJSON(c *gin.Context) error {
	var in marketplace.ConfirmInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	b, err := s.marketplace.ConfirmDelivery(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), in, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newBookingJSON(b))
	return nil
}
