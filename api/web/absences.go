package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/teams"
	"sportello/internal/calendar"
	"sportello/internal/store"
)

// The "Assenze e deleghe" page of the staff: the current and future
// absences of the municipality (supervisors: of the district), a form to
// record one with its delegate, and cancellation. The same service as the
// JSON API (internal/app/teams: RecordAbsence, CancelAbsence) does the work.

type absencesData struct {
	Supervisor        bool
	Users, Delegates  []staffOption
	UserErr, DelegErr string
	From, To, Reason  fieldView
	Rows              []absenceRow
	Caption           string
}

type absenceRow struct {
	store.AbsenceView
	FromText, ToText string
	StatusText       string
	CanCancel        bool
}

func (s *Site) absencesPage(c *gin.Context) error {
	return s.renderAbsences(c, http.StatusOK, teams.AbsenceRequest{}, nil)
}

// renderAbsences shows the page with the form filled from req and the
// problems of a refused submission next to their fields.
func (s *Site) renderAbsences(c *gin.Context, status int, req teams.AbsenceRequest, problems []FieldError) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	d := absencesData{Supervisor: user.Role == roleSupervisor}
	var candidates []store.UserView
	var err error
	if d.Supervisor {
		candidates, err = s.api.DistrictStaff(ctx, user.District)
	} else {
		candidates, err = s.api.Assignees(ctx, user.District, user.Municipality)
	}
	if err != nil {
		return err
	}
	if req.User == "" {
		req.User = user.Username
	}
	names, _, err := s.municipalityNames(ctx, user)
	if err != nil {
		return err
	}
	label := func(u store.UserView) string {
		if u.Role == roleSupervisor {
			return u.DisplayName + " — " + s.t(c, "absences.supervisor")
		}
		return u.DisplayName + " — " + names[u.Municipality]
	}
	for _, u := range candidates {
		if d.Supervisor {
			d.Users = append(d.Users, staffOption{Value: u.Username, Label: label(u), Selected: u.Username == req.User})
		}
		if u.Username != user.Username || d.Supervisor {
			d.Delegates = append(d.Delegates, staffOption{Value: u.Username, Label: label(u), Selected: u.Username == req.Delegate})
		}
	}
	today := time.Now().In(calendar.Rome()).Format(teams.DateLayout)
	d.From = fieldView{Name: "from", ID: "from", Type: "date", Label: s.t(c, "absences.from"), Value: req.From, Required: true,
		Extra: map[string]string{"min": today}}
	d.To = fieldView{Name: "to", ID: "to", Type: "date", Label: s.t(c, "absences.to"), Value: req.To, Required: true,
		Hint: s.t(c, "absences.to_hint"), Extra: map[string]string{"min": today}}
	d.Reason = fieldView{Name: "reason", ID: "reason", Label: s.t(c, "absences.reason"), Value: req.Reason, Required: true,
		Hint: s.t(c, "absences.reason_hint"), Extra: map[string]string{"maxlength": "500"}}
	v := view{Title: s.t(c, "absences.title"), Nav: "absences", Data: &d}
	for _, p := range problems {
		msg := p.In(pageLang(c))
		href, label := "#delegate", s.t(c, "absences.delegate")
		switch p.Pointer {
		case "/user":
			d.UserErr, href, label = msg, "#user", s.t(c, "absences.user")
		case "/delegate":
			d.DelegErr = msg
		case "/from":
			d.From.Error, href, label = msg, "#from", d.From.Label
		case "/to":
			d.To.Error, href, label = msg, "#to", d.To.Label
		case "/reason":
			d.Reason.Error, href, label = msg, "#reason", d.Reason.Label
		default:
			href, label = "#absence-form-title", s.t(c, "absences.form")
		}
		v.Errors = append(v.Errors, summaryItem{Href: href, Text: label + ": " + msg})
	}
	list, err := s.teams.Absences(ctx, user)
	if err != nil {
		return err
	}
	for _, a := range list {
		d.Rows = append(d.Rows, absenceRow{AbsenceView: a,
			FromText:   a.StartsAt.In(calendar.Rome()).Format("02/01/2006"),
			ToText:     a.EndsAt.In(calendar.Rome()).Add(-time.Minute).Format("02/01/2006"),
			StatusText: s.t(c, "absences.status."+a.Status),
			CanCancel:  d.Supervisor || a.UserID == user.ID})
	}
	d.Caption = s.t(c, "absences.caption_municipality")
	if d.Supervisor {
		d.Caption = s.t(c, "absences.caption_district")
	}
	s.render(c, status, "absences", v)
	return nil
}

func (s *Site) absenceSubmit(c *gin.Context) error {
	req := teams.AbsenceRequest{User: c.PostForm("user"), Delegate: c.PostForm("delegate"), From: c.PostForm("from"),
		To: c.PostForm("to"), Reason: c.PostForm("reason")}
	user := httpx.CurrentUser(c)
	if user.Role != roleSupervisor {
		req.User = user.Username
	}
	a, err := s.teams.RecordAbsence(c.Request.Context(), user, req)
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "success", "absences.recorded", a.DisplayName, a.DelegateName)
		redirect(c, "/absences")
		return nil
	case he.Status == http.StatusUnprocessableEntity:
		return s.renderAbsences(c, http.StatusUnprocessableEntity, req, he.Fields)
	case he.Status == http.StatusConflict:
		return s.renderAbsences(c, http.StatusConflict, req, []FieldError{app.Field("", he.Code, "web.err.absence_overlap")})
	}
	return err
}

func (s *Site) absenceCancelSubmit(c *gin.Context) error {
	_, err := s.teams.CancelAbsence(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "success", "absences.cancelled")
	case he.Status == http.StatusConflict || he.Status == http.StatusForbidden:
		setFlash(c, "danger", "absences.err.cancel")
	default:
		return err
	}
	redirect(c, "/absences")
	return nil
}
