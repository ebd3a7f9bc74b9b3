package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/teams"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// The supervisors' "Calendario degli uffici": the district's municipalities
// with their patron saint's day and office hours (/calendar), each editable
// on its own page (/calendar/:id) through the same service as
// PUT /api/v1/municipalities/{id}/calendar (internal/app/teams).

type officeCalendarRow struct {
	store.OfficeCalendar
	Patron, Hours string
}

func (s *Site) officeCalendarsPage(c *gin.Context) error {
	cals, err := s.teams.OfficeCalendars(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	rows := make([]officeCalendarRow, 0, len(cals))
	for _, o := range cals {
		r := officeCalendarRow{OfficeCalendar: o, Patron: s.t(c, "calendar.not_set"), Hours: s.t(c, "calendar.all_day")}
		if o.PatronSaint != nil && o.PatronDay != nil && o.PatronMonth != nil {
			r.Patron = s.t(c, "calendar.patron_on", *o.PatronSaint, *o.PatronDay, monthName(pageLang(c), *o.PatronMonth))
		}
		if o.OfficeOpens != nil && o.OfficeCloses != nil {
			r.Hours = s.t(c, "calendar.hours_value", *o.OfficeOpens, *o.OfficeCloses)
		}
		rows = append(rows, r)
	}
	s.render(c, http.StatusOK, "office_calendar", view{Title: s.t(c, "calendar.title"), Nav: "calendar", Data: rows})
	return nil
}

type officeCalendarForm struct {
	Municipality, Name string
	Saint, Day         fieldView
	Opens, Closes      fieldView
	Month              string
	MonthError         string
	Months             []staffOption
}

// calendarFormValues are the posted (or stored) values of the edit form.
type calendarFormValues struct {
	saint, day, month, opens, closes string
}

func (s *Site) officeCalendarForm(c *gin.Context, o store.OfficeCalendar, v calendarFormValues, errs map[string]string) officeCalendarForm {
	f := officeCalendarForm{Municipality: o.Municipality, Name: o.Name, Month: v.month, MonthError: errs["/patron_month"],
		Saint: fieldView{Name: "patron_saint", ID: "patron-saint", Label: s.t(c, "calendar.saint"), Value: v.saint,
			Hint: s.t(c, "calendar.saint_hint"), Error: errs["/patron_saint"], Autocomplete: "off",
			Extra: map[string]string{"maxlength": "100"}},
		Day: fieldView{Name: "patron_day", ID: "patron-day", Label: s.t(c, "calendar.day"), Value: v.day,
			Error: errs["/patron_day"], Autocomplete: "off",
			Extra: map[string]string{"inputmode": "numeric", "maxlength": "2", "pattern": "[0-9]*"}},
		Opens: fieldView{Name: "office_opens", ID: "office-opens", Label: s.t(c, "calendar.opens"), Type: "time", Value: v.opens,
			Hint: s.t(c, "calendar.hours_hint"), Error: errs["/office_opens"]},
		Closes: fieldView{Name: "office_closes", ID: "office-closes", Label: s.t(c, "calendar.closes"), Type: "time", Value: v.closes,
			Error: errs["/office_closes"]},
	}
	f.Months = append(f.Months, staffOption{Value: "", Label: s.t(c, "calendar.no_month"), Selected: v.month == ""})
	for m := 1; m <= 12; m++ {
		k := strconv.Itoa(m)
		f.Months = append(f.Months, staffOption{Value: k, Label: monthName(pageLang(c), m), Selected: v.month == k})
	}
	return f
}

// monthName is the name of month (1-12) in lang, lower case in Italian.
func monthName(lang string, month int) string { return i18n.Month(lang, month) }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func (s *Site) officeCalendarEditPage(c *gin.Context) error {
	o, err := s.teams.OfficeCalendar(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil && httpx.From(err).Status == http.StatusNotFound {
		s.pageError(c, http.StatusNotFound)
		return nil
	}
	if err != nil {
		return err
	}
	v := calendarFormValues{saint: str(o.PatronSaint), day: num(o.PatronDay), month: num(o.PatronMonth),
		opens: str(o.OfficeOpens), closes: str(o.OfficeCloses)}
	s.renderCalendarForm(c, http.StatusOK, o, v, nil, nil)
	return nil
}

func (s *Site) renderCalendarForm(c *gin.Context, status int, o store.OfficeCalendar, v calendarFormValues,
	errs map[string]string, summary []summaryItem) {
	s.render(c, status, "office_calendar_edit", view{Title: s.t(c, "calendar.edit_title", o.Name), Nav: "calendar",
		Crumbs: []crumb{{Href: "/calendar", Text: s.t(c, "calendar.title")}},
		Data:   s.officeCalendarForm(c, o, v, errs), Errors: summary})
}

// calendarFieldIDs maps request pointers to the form's element ids.
var calendarFieldIDs = map[string]string{
	"/patron_saint": "patron-saint", "/patron_day": "patron-day", "/patron_month": "patron-month",
	"/office_opens": "office-opens", "/office_closes": "office-closes",
}

func (s *Site) officeCalendarSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	o, err := s.teams.OfficeCalendar(ctx, user, c.Param("id"))
	if err != nil && httpx.From(err).Status == http.StatusNotFound {
		s.pageError(c, http.StatusNotFound)
		return nil
	}
	if err != nil {
		return err
	}
	v := calendarFormValues{saint: strings.TrimSpace(c.PostForm("patron_saint")), day: strings.TrimSpace(c.PostForm("patron_day")),
		month: strings.TrimSpace(c.PostForm("patron_month")), opens: strings.TrimSpace(c.PostForm("office_opens")),
		closes: strings.TrimSpace(c.PostForm("office_closes"))}
	req := teams.OfficeCalendarRequest{PatronSaint: &v.saint, OfficeOpens: &v.opens, OfficeCloses: &v.closes}
	errs := map[string]string{}
	for _, p := range []struct {
		text, ptr string
		dst       **int
	}{{v.day, "/patron_day", &req.PatronDay}, {v.month, "/patron_month", &req.PatronMonth}} {
		if p.text == "" {
			continue
		}
		n, perr := strconv.Atoi(p.text)
		if perr != nil {
			errs[p.ptr] = s.t(c, "calendar.not_a_number")
			continue
		}
		*p.dst = &n
	}
	if len(errs) == 0 {
		_, err = s.teams.SetOfficeCalendar(ctx, user, o.Municipality, req)
		he := httpx.From(err)
		switch {
		case err == nil:
			setFlash(c, "success", "calendar.saved", o.Name)
			redirect(c, "/calendar")
			return nil
		case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
			for _, f := range he.Fields {
				if _, dup := errs[f.Pointer]; !dup {
					errs[f.Pointer] = f.In(pageLang(c))
				}
			}
		default:
			return err
		}
	}
	var summary []summaryItem
	for _, ptr := range []string{"/patron_saint", "/patron_day", "/patron_month", "/office_opens", "/office_closes"} {
		if msg, ok := errs[ptr]; ok {
			summary = append(summary, summaryItem{Href: "#" + calendarFieldIDs[ptr], Text: s.t(c, "calendar.field"+strings.ReplaceAll(ptr, "/", ".")) + ": " + msg})
		}
	}
	s.renderCalendarForm(c, http.StatusUnprocessableEntity, o, v, errs, summary)
	return nil
}
