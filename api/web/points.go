package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/appointments"
	"sportello/internal/calendar"
	"sportello/internal/store"
	"sportello/workflows"
)

// The Social Points' pages: the public list with opening hours, booking a
// slot and "I miei appuntamenti" for citizens, the agenda and the
// appointment page (attendance and personal plan) for staff.

// weekdayKeys are the catalogue keys of ISO weekdays 1..7.
var weekdayKeys = [...]string{"", "wd.1", "wd.2", "wd.3", "wd.4", "wd.5", "wd.6", "wd.7"}

type hoursRow struct {
	Day       string
	Intervals []string
}

type pointCard struct {
	store.SocialPoint
	Rows []hoursRow
}

func (s *Site) pointCards(c *gin.Context, points []store.SocialPoint) []pointCard {
	out := make([]pointCard, 0, len(points))
	for _, p := range points {
		card := pointCard{SocialPoint: p}
		for wd := 1; wd <= 7; wd++ {
			var iv []string
			for _, h := range p.Hours {
				if h.Weekday == wd {
					iv = append(iv, h.Opens+"–"+h.Closes)
				}
			}
			if len(iv) > 0 {
				card.Rows = append(card.Rows, hoursRow{Day: s.t(c, weekdayKeys[wd]), Intervals: iv})
			}
		}
		out = append(out, card)
	}
	return out
}

func (s *Site) pointsPage(c *gin.Context) error {
	district := ""
	if httpx.LoggedIn(c) {
		district = httpx.CurrentUser(c).District
	}
	points, err := s.appointments.Points(c.Request.Context(), district)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "points", view{Title: s.t(c, "points.title"), Nav: "points", Data: s.pointCards(c, points)})
	return nil
}

// ---- booking ----

type slotOption struct {
	Value, Text string
	Selected    bool
}

type slotDay struct {
	Day   string
	Slots []slotOption
}

type bookData struct {
	Point   pointCard
	Days    []slotDay
	Slot    fieldView
	Topic   fieldView
	Key     string
	Problem string
}

func (s *Site) bookForm(c *gin.Context, p store.SocialPoint, slots []store.Slot, chosen, topic string) bookData {
	lang := pageLang(c)
	d := bookData{Point: s.pointCards(c, []store.SocialPoint{p})[0], Key: newFormToken(),
		Slot:  fieldView{Name: "starts_at", ID: "slot", Label: s.t(c, "book.slot"), Hint: s.t(c, "book.slot_hint"), Required: true},
		Topic: fieldView{Name: "topic", ID: "topic", Label: s.t(c, "book.topic"), Hint: s.t(c, "book.topic_hint"), Value: topic, Extra: map[string]string{"maxlength": "1000"}}}
	for _, sl := range slots {
		r := sl.StartsAt.In(calendar.Rome())
		day := s.t(c, weekdayKeys[isoWeekday(r)]) + " " + formatDate(lang, r)
		if len(d.Days) == 0 || d.Days[len(d.Days)-1].Day != day {
			d.Days = append(d.Days, slotDay{Day: day})
		}
		v := sl.StartsAt.Format(time.RFC3339)
		last := &d.Days[len(d.Days)-1]
		last.Slots = append(last.Slots, slotOption{Value: v, Text: r.Format("15:04") + "–" + sl.EndsAt.In(calendar.Rome()).Format("15:04"),
			Selected: v == chosen})
	}
	return d
}

func isoWeekday(t time.Time) int {
	if wd := int(t.Weekday()); wd != 0 {
		return wd
	}
	return 7
}

func (s *Site) bookPage(c *gin.Context) error {
	p, err := s.appointments.Point(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	slots, err := s.appointments.FreeSlots(c.Request.Context(), p)
	if err != nil {
		return err
	}
	return s.renderBook(c, http.StatusOK, s.bookForm(c, p, slots, "", ""))
}

func (s *Site) renderBook(c *gin.Context, status int, d bookData) error {
	v := view{Title: s.t(c, "book.title", d.Point.Name), Nav: "points", Data: d,
		Crumbs: []crumb{{"/social-points", s.t(c, "points.title")}}}
	for _, f := range []fieldView{d.Slot, d.Topic} {
		if f.Error != "" {
			v.Errors = append(v.Errors, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
		}
	}
	s.render(c, status, "point_book", v)
	return nil
}

func (s *Site) bookSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	p, err := s.appointments.Point(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	req := appointments.Booking{PointID: p.ID, StartsAt: c.PostForm("starts_at"), Topic: c.PostForm("topic")}
	key := postedKey(c)
	v, _, err := s.appointments.Book(ctx, httpx.CurrentUser(c), req, key)
	if err == nil {
		setFlash(c, "success", "book.done")
		redirect(c, "/appointments/"+url.PathEscape(v.ID))
		return nil
	}
	he := httpx.From(err)
	if he.Status != http.StatusUnprocessableEntity && he.Status != http.StatusConflict {
		return err
	}
	slots, serr := s.appointments.FreeSlots(ctx, p)
	if serr != nil {
		return serr
	}
	d := s.bookForm(c, p, slots, req.StartsAt, req.Topic)
	lang := pageLang(c)
	for _, f := range he.Fields {
		msg := f.In(lang)
		switch f.Pointer {
		case "/topic":
			d.Topic.Error = msg
		default:
			d.Slot.Error = msg
		}
	}
	if he.Status == http.StatusConflict {
		d.Problem = s.tOr(c, "book.err."+he.Code, he.Message)
		// Nothing was stored: the next try is a new booking.
	} else if key != "" {
		d.Key = key
	}
	return s.renderBook(c, he.Status, d)
}

// ---- the citizen's list ----

type myAppointments struct {
	Upcoming, Past []store.AppointmentView
}

func (s *Site) myAppointmentsPage(c *gin.Context) error {
	items, err := s.appointments.Appointments(c.Request.Context(), httpx.CurrentUser(c), store.AppointmentFilter{})
	if err != nil {
		return err
	}
	var d myAppointments
	now := s.Now()
	for _, a := range items {
		if a.Status == store.AppointmentBooked && a.EndsAt.After(now) {
			d.Upcoming = append(d.Upcoming, a)
		} else {
			d.Past = append([]store.AppointmentView{a}, d.Past...) // newest first
		}
	}
	s.render(c, http.StatusOK, "appointments", view{Title: s.t(c, "appts.title"), Nav: "appointments", Data: d})
	return nil
}

// ---- one appointment ----

type appointmentData struct {
	A          store.AppointmentView
	Staff      bool
	CanCancel  bool
	CanRecord  bool
	Reason     fieldView
	Attended   string // "yes", "no" or "" (the radio group's value)
	AttErr     string
	Plan       []fieldView
	Key        string
	Problem    string
	FormAnchor string
}

func (s *Site) appointmentForm(c *gin.Context, a store.AppointmentView) appointmentData {
	user := httpx.CurrentUser(c)
	now := s.Now()
	d := appointmentData{A: a, Staff: app.IsStaff(user.Role), Key: newFormToken(),
		CanCancel: appointments.CanCancel(a, now),
		Reason: fieldView{Name: "reason", ID: "reason", Label: s.t(c, "appt.reason"), Hint: s.t(c, "appt.reason_hint"),
			Required: true, Extra: map[string]string{"maxlength": "1000"}}}
	d.CanRecord = appointments.CanRecord(user, a, now)
	for _, f := range []struct{ name, key string }{{"needs", "plan.needs"}, {"services", "plan.services"},
		{"next_steps", "plan.next_steps"}, {"notes", "plan.notes"}} {
		d.Plan = append(d.Plan, fieldView{Name: f.name, ID: "plan-" + strings.ReplaceAll(f.name, "_", "-"), Label: s.t(c, f.key),
			Hint: s.t(c, f.key+"_hint"), Extra: map[string]string{"maxlength": "4000"}})
	}
	return d
}

func (s *Site) appointmentPage(c *gin.Context) error {
	a, err := s.appointments.Appointment(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderAppointment(c, http.StatusOK, s.appointmentForm(c, a))
}

func (s *Site) renderAppointment(c *gin.Context, status int, d appointmentData) error {
	v := view{Title: s.t(c, "appt.title", d.A.PointName), Data: d}
	if d.Staff {
		v.Nav, v.Crumbs = "agenda", []crumb{{"/agenda", s.t(c, "agenda.title")}}
	} else {
		v.Nav, v.Crumbs = "appointments", []crumb{{"/appointments", s.t(c, "appts.title")}}
	}
	if d.Reason.Error != "" {
		v.Errors = append(v.Errors, summaryItem{Href: "#reason", Text: d.Reason.Label + ": " + d.Reason.Error})
	}
	if d.AttErr != "" {
		v.Errors = append(v.Errors, summaryItem{Href: "#attended-yes", Text: s.t(c, "appt.attended") + ": " + d.AttErr})
	}
	for _, f := range d.Plan {
		if f.Error != "" {
			v.Errors = append(v.Errors, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
		}
	}
	s.render(c, status, "appointment", v)
	return nil
}

// appointmentRefused re-renders the appointment page after a refused
// action: field problems next to their fields, state conflicts on top.
func (s *Site) appointmentRefused(c *gin.Context, err error, fill func(d *appointmentData, f FieldError, msg string)) error {
	he := httpx.From(err)
	if he.Status != http.StatusUnprocessableEntity && he.Status != http.StatusConflict {
		return err
	}
	a, aerr := s.appointments.Appointment(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if aerr != nil {
		return aerr
	}
	d := s.appointmentForm(c, a)
	for _, f := range he.Fields {
		fill(&d, f, f.In(pageLang(c)))
	}
	if he.Status == http.StatusConflict {
		d.Problem = s.tOr(c, "appt.err."+he.Code, he.Message)
	}
	return s.renderAppointment(c, he.Status, d)
}

func (s *Site) cancelSubmit(c *gin.Context) error {
	reason := c.PostForm("reason")
	_, err := s.appointments.Cancel(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), appointments.Cancellation{Reason: reason}, postedKey(c))
	if err == nil {
		setFlash(c, "success", "appt.cancelled")
		redirect(c, "/appointments/"+url.PathEscape(c.Param("id")))
		return nil
	}
	return s.appointmentRefused(c, err, func(d *appointmentData, _ FieldError, msg string) {
		d.Reason.Value, d.Reason.Error = reason, msg
		d.FormAnchor = "cancel"
	})
}

func (s *Site) attendanceSubmit(c *gin.Context) error {
	req := appointments.Attendance{Plan: &workflows.PersonalPlan{Needs: c.PostForm("needs"), Services: c.PostForm("services"),
		NextSteps: c.PostForm("next_steps"), Notes: c.PostForm("notes")}}
	choice := c.PostForm("attended")
	switch choice {
	case "yes", "no":
		b := choice == "yes"
		req.Attended = &b
	}
	_, err := s.appointments.RecordAttendance(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req, postedKey(c))
	if err == nil {
		setFlash(c, "success", "appt.recorded")
		redirect(c, "/appointments/"+url.PathEscape(c.Param("id")))
		return nil
	}
	values := map[string]string{"needs": req.Plan.Needs, "services": req.Plan.Services, "next_steps": req.Plan.NextSteps,
		"notes": req.Plan.Notes}
	return s.appointmentRefused(c, err, func(d *appointmentData, f FieldError, msg string) {
		d.Attended = choice
		for i := range d.Plan {
			d.Plan[i].Value = values[d.Plan[i].Name]
			if f.Pointer == "/plan/"+d.Plan[i].Name {
				d.Plan[i].Error = msg
			}
		}
		if f.Pointer == "/attended" {
			d.AttErr = msg
		}
		d.FormAnchor = "attendance"
	})
}

// ---- the staff agenda ----

type agendaItem struct {
	store.AppointmentView
	Time string // "09:30–10:00", Rome time
}

type agendaDay struct {
	Day   string
	Items []agendaItem
}

type agendaData struct {
	Days    []agendaDay
	Points  []store.SocialPoint
	PointID string
	From    string
	Count   int
}

func (s *Site) agendaPage(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	f, fields := httpx.AgendaFilter(c, s.Now())
	if len(fields) > 0 {
		return invalid(fields...)
	}
	items, err := s.appointments.Appointments(ctx, user, f)
	if err != nil {
		return err
	}
	points, err := s.appointments.AgendaPoints(ctx, user)
	if err != nil {
		return err
	}
	d := agendaData{Points: points, PointID: f.PointID, From: f.From.Format(time.DateOnly), Count: len(items)}
	lang := pageLang(c)
	for _, a := range items {
		r := a.StartsAt.In(calendar.Rome())
		day := s.t(c, weekdayKeys[isoWeekday(r)]) + " " + formatDate(lang, r)
		if len(d.Days) == 0 || d.Days[len(d.Days)-1].Day != day {
			d.Days = append(d.Days, agendaDay{Day: day})
		}
		d.Days[len(d.Days)-1].Items = append(d.Days[len(d.Days)-1].Items, agendaItem{AppointmentView: a,
			Time: r.Format("15:04") + "–" + a.EndsAt.In(calendar.Rome()).Format("15:04")})
	}
	s.render(c, http.StatusOK, "agenda", view{Title: s.t(c, "agenda.title"), Nav: "agenda", Data: d})
	return nil
}
