package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/appointments"
	"sportello/internal/store"
)

// Social Points and appointments (issue 4): the use cases are in
// internal/app/appointments; these are their JSON adapters.

var anonymous = store.Scope{Kind: "anonymous"}

func (s *server) listSocialPoints(c *gin.Context) error {
	points, err := s.appointments.Points(c.Request.Context(), strings.TrimSpace(c.Query("district")))
	if err != nil {
		return err
	}
	if points == nil {
		points = []store.SocialPoint{} // an unknown district has none: [], not null
	}
	c.JSON(http.StatusOK, gin.H{"items": points})
	return nil
}

func (s *server) listSlots(c *gin.Context) error {
	p, err := s.appointments.Point(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	slots, err := s.appointments.FreeSlots(c.Request.Context(), p)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"point": p, "items": slots})
	return nil
}

func (s *server) createAppointment(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req appointments.Booking
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, replayed, err := s.appointments.Book(c.Request.Context(), httpx.CurrentUser(c), req, key)
	if err != nil {
		return err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/appointments/"+url.PathEscape(v.ID))
	c.JSON(http.StatusCreated, v)
	return nil
}

func (s *server) listAppointments(c *gin.Context) error {
	user := httpx.CurrentUser(c)
	// The filters are checked for everyone (a malformed one is a 422, as the
	// document says) but only narrow the staff's agenda: a citizen's list is
	// all their own.
	f, fields := httpx.AgendaFilter(c, s.Now())
	if len(fields) > 0 {
		return invalid(fields...)
	}
	if !app.IsStaff(user.Role) {
		f = store.AppointmentFilter{}
	}
	items, err := s.appointments.Appointments(c.Request.Context(), user, f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}
