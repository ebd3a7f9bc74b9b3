package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/marketplace"
	"sportello/internal/store"
	"sportello/workflows"
)

// The cooperative's inbox of bookings (issue 5) in the JSON API: the
// requests pending on it with their deadline, the bookings it holds, its
// deliveries; it confirms a request with one date per session or declines
// it with a reason, and records each delivered session. The marketplace
// service (internal/app/marketplace) does the work, through the booking's
// workflow, audited.

func (s *server) listCoopBookings(c *gin.Context) error {
	items, err := s.marketplace.CoopBookings(c.Request.Context(), httpx.CurrentUser(c), c.DefaultQuery("view", store.CoopRequests))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

func (s *server) listCoopDeliveries(c *gin.Context) error {
	items, err := s.marketplace.CoopDeliveries(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

// respondRequest is a cooperative's answer (marketplace.Response).
type respondRequest = marketplace.Response

// respondBooking answers a request pending on the user's cooperative.
func (s *server) respondBooking(ctx context.Context, user store.UserView, id string, req respondRequest, key string) (workflows.BookingUpdateResult, error) {
	return s.marketplace.Respond(ctx, user, id, req, key)
}

// deliveryRequest records one delivered session (marketplace.Delivery).
type deliveryRequest = marketplace.Delivery

// recordDelivery records a delivered session of a booking the user's
// cooperative holds.
func (s *server) recordDelivery(ctx context.Context, user store.UserView, id string, req deliveryRequest, key string) (workflows.BookingUpdateResult, error) {
	return s.marketplace.RecordDelivery(ctx, user, id, req, key)
}
