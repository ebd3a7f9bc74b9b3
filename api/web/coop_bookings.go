package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/marketplace"
	"sportello/internal/calendar"
	"sportello/internal/store"
)

// The cooperative's booking pages (issue 5): the inbox of requests with the
// deadline to answer and the bookings in progress (/coop/bookings), one
// booking with the forms to accept it (one date per session) or decline it
// and to record each delivered session (/coop/bookings/:id), and the
// sessions delivered (/coop/deliveries). The marketplace service
// (internal/app/marketplace) does the work for them and for the JSON API
// (coop_bookings.go), through the booking's workflow.

// datetimeLocal is the value format of <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

func (s *Site) coopInboxPage(c *gin.Context) error {
	ctx, user := c.Request.Context(), httpx.CurrentUser(c)
	requests, err := s.marketplace.CoopBookings(ctx, user, store.CoopRequests)
	if err != nil {
		return err
	}
	active, err := s.marketplace.CoopBookings(ctx, user, store.CoopActive)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "coop_inbox", view{Title: s.t(c, "coopbk.inbox.title"), Nav: "coop-bookings",
		Data: map[string]any{"Requests": requests, "Active": active}})
	return nil
}

func (s *Site) coopDeliveriesPage(c *gin.Context) error {
	items, err := s.marketplace.CoopDeliveries(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	type row struct {
		store.CoopDelivery
		Confirmed string
	}
	rows := make([]row, 0, len(items))
	for _, it := range items {
		r := row{CoopDelivery: it, Confirmed: s.t(c, "coopbk.awaiting")}
		if it.ConfirmedAt != nil {
			r.Confirmed = s.t(c, "coopbk.confirmed_by."+it.ConfirmedBy, formatDateTime(pageLang(c), *it.ConfirmedAt))
		}
		rows = append(rows, r)
	}
	s.render(c, http.StatusOK, "coop_deliveries", view{Title: s.t(c, "coopbk.deliveries.title"), Nav: "coop-deliveries",
		Data: map[string]any{"Items": items, "Rows": rows}})
	return nil
}

// coopSessionRow is one session on the booking page.
type coopSessionRow struct {
	store.BookingSession
	Scheduled, Delivered, Confirmed string // formatted in the page's language ("" when not set)
	CanDeliver                      bool
	DeliveredAt, Note               fieldView
}

type coopBookingData struct {
	D            store.CoopBookingDetail
	Municipality string
	RespondBy    string
	Key          string
	CanRespond   bool
	Dates        []fieldView // one per session, to accept
	Reason       fieldView   // to decline
	Sessions     []coopSessionRow
	Problem      string
	Anchor       string
}

func (s *Site) coopBookingForm(c *gin.Context, d store.CoopBookingDetail) coopBookingData {
	lang := pageLang(c)
	out := coopBookingData{D: d, Municipality: municipalityName(d.MunicipalityID), Key: newFormToken(), CanRespond: d.Pending != nil,
		Reason: fieldView{Name: "reason", ID: "reason", Label: s.t(c, "coopbk.reason"), Hint: s.t(c, "coopbk.reason_hint"),
			Required: true, Extra: map[string]string{"maxlength": "1000"}}}
	if d.Pending != nil {
		out.RespondBy = formatDateTime(lang, d.Pending.RespondBy)
	}
	now := s.Now().In(calendar.Rome())
	canDeliver := d.Holder && (d.Status == "confirmed" || d.Status == "delivered")
	for _, x := range d.Sessions {
		seq := strconv.Itoa(x.Seq)
		if out.CanRespond {
			out.Dates = append(out.Dates, fieldView{Name: "session_" + seq, ID: "session-" + seq, Type: "datetime-local",
				Label: s.t(c, "coopbk.session_date", seq), Required: true})
		}
		row := coopSessionRow{BookingSession: x, CanDeliver: canDeliver && x.Status == store.SessionPlanned,
			DeliveredAt: fieldView{Name: "delivered_at", ID: "delivered-at-" + seq, Type: "datetime-local",
				Label: s.t(c, "coopbk.delivered_at", seq), Value: now.Format(datetimeLocal), Required: true},
			Note: fieldView{Name: "note", ID: "note-" + seq, Label: s.t(c, "coopbk.note", seq), Extra: map[string]string{"maxlength": "2000"}}}
		for _, f := range []struct {
			t   *time.Time
			out *string
		}{{x.ScheduledAt, &row.Scheduled}, {x.DeliveredAt, &row.Delivered}, {x.ConfirmedAt, &row.Confirmed}} {
			if f.t != nil {
				*f.out = formatDateTime(lang, *f.t)
			}
		}
		out.Sessions = append(out.Sessions, row)
	}
	return out
}

func (s *Site) coopBookingPage(c *gin.Context) error {
	d, err := s.marketplace.CoopBooking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderCoopBooking(c, http.StatusOK, s.coopBookingForm(c, d))
}

func (s *Site) renderCoopBooking(c *gin.Context, status int, d coopBookingData) error {
	v := view{Title: s.t(c, "coopbk.booking.title", strconv.FormatInt(d.D.Number, 10)), Nav: "coop-bookings", Data: d,
		Crumbs: []crumb{{"/coop/bookings", s.t(c, "coopbk.inbox.title")}}}
	for _, f := range append(append([]fieldView{}, d.Dates...), d.Reason) {
		if f.Error != "" {
			v.Errors = append(v.Errors, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
		}
	}
	for _, r := range d.Sessions {
		for _, f := range []fieldView{r.DeliveredAt, r.Note} {
			if f.Error != "" {
				v.Errors = append(v.Errors, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
			}
		}
	}
	s.render(c, status, "coop_booking", v)
	return nil
}

// coopRefused re-renders the booking page after a refused action: field
// problems next to their fields, state conflicts on top.
func (s *Site) coopRefused(c *gin.Context, err error, fill func(d *coopBookingData, f FieldError, msg string)) error {
	he := httpx.From(err)
	if he.Status != http.StatusUnprocessableEntity && he.Status != http.StatusConflict {
		return err
	}
	det, derr := s.marketplace.CoopBooking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if derr != nil {
		return derr
	}
	d := s.coopBookingForm(c, det)
	for _, f := range he.Fields {
		fill(&d, f, f.In(pageLang(c)))
	}
	if he.Status == http.StatusConflict {
		d.Problem = s.tOr(c, "coopbk.err."+he.Code, he.Message)
	}
	return s.renderCoopBooking(c, he.Status, d)
}

func (s *Site) coopDone(c *gin.Context, key string) {
	setFlash(c, "success", key)
	redirect(c, "/coop/bookings/"+url.PathEscape(c.Param("id")))
}

func (s *Site) coopAcceptSubmit(c *gin.Context) error {
	yes := true
	req := marketplace.Response{Accept: &yes}
	values := map[string]string{}
	var bad []FieldError
	for i := 1; ; i++ {
		raw, ok := c.GetPostForm("session_" + strconv.Itoa(i))
		if !ok {
			break
		}
		values["session-"+strconv.Itoa(i)] = raw
		t, err := time.ParseInLocation(datetimeLocal, strings.TrimSpace(raw), calendar.Rome())
		if err != nil {
			bad = append(bad, app.Field(fmt.Sprintf("/sessions/%d", i-1), "invalid", "web.err.date_time_required"))
		}
		req.Sessions = append(req.Sessions, t)
	}
	fill := func(d *coopBookingData, f FieldError, msg string) {
		for i := range d.Dates {
			d.Dates[i].Value = values[d.Dates[i].ID]
			if f.Pointer == fmt.Sprintf("/sessions/%d", i) || (f.Pointer == "/sessions" && d.Dates[i].Value == "") {
				d.Dates[i].Error = msg
			}
		}
		d.Anchor = "accept"
	}
	var err error
	if len(bad) > 0 {
		err = invalid(bad...)
	} else {
		_, err = s.marketplace.Respond(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req, postedKey(c))
	}
	if err == nil {
		s.coopDone(c, "coopbk.accepted")
		return nil
	}
	return s.coopRefused(c, err, fill)
}

func (s *Site) coopDeclineSubmit(c *gin.Context) error {
	no := false
	reason := c.PostForm("reason")
	_, err := s.marketplace.Respond(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), marketplace.Response{Accept: &no, Reason: reason}, postedKey(c))
	if err == nil {
		s.coopDone(c, "coopbk.declined")
		return nil
	}
	return s.coopRefused(c, err, func(d *coopBookingData, _ FieldError, msg string) {
		d.Reason.Value, d.Reason.Error, d.Anchor = reason, msg, "decline"
	})
}

func (s *Site) coopDeliverySubmit(c *gin.Context) error {
	seq, _ := strconv.Atoi(c.PostForm("seq"))
	raw, note := strings.TrimSpace(c.PostForm("delivered_at")), c.PostForm("note")
	req := marketplace.Delivery{Seq: seq, Note: note}
	var err error
	if t, perr := time.ParseInLocation(datetimeLocal, raw, calendar.Rome()); perr == nil {
		req.DeliveredAt = &t
		_, err = s.marketplace.RecordDelivery(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req, postedKey(c))
	} else {
		err = invalid(app.Field("/delivered_at", "invalid", "web.err.date_time_required"))
	}
	if err == nil {
		s.coopDone(c, "coopbk.delivered")
		return nil
	}
	return s.coopRefused(c, err, func(d *coopBookingData, f FieldError, msg string) {
		for i := range d.Sessions {
			if d.Sessions[i].Seq != seq {
				continue
			}
			d.Sessions[i].DeliveredAt.Value, d.Sessions[i].Note.Value = raw, note
			if f.Pointer == "/note" {
				d.Sessions[i].Note.Error = msg
			} else {
				d.Sessions[i].DeliveredAt.Error = msg
			}
			d.Anchor = "deliver-" + strconv.Itoa(seq)
		}
	})
}
