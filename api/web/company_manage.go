package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/company"
	"sportello/internal/store"
)

// The welfare manager's changes to what the company already has: an
// employee withdrawn from /azienda (a confirmation step first), and the
// hours of a hosted Social Point, kept also by the district's
// supervisors. The use cases are company.Service's Withdraw, KeptPoint
// and SetPointHours, as the API's.

// withdrawField is the tax code field of the withdrawal's confirmation.
func (s *Site) withdrawField(c *gin.Context, value string) fieldView {
	return fieldView{Name: "tax_code", ID: "f-withdraw-tax-code", Label: s.t(c, "company.form.tax_code"), Required: true,
		Value: value, Autocomplete: "off", Extra: map[string]string{"spellcheck": "false", "maxlength": "16"}}
}

func (s *Site) renderWithdraw(c *gin.Context, f fieldView, errs []summaryItem, status int) {
	s.render(c, status, "company_withdraw", view{Title: s.t(c, "company.withdraw.title"), Nav: "company", Errors: errs,
		Crumbs: []crumb{{Href: "/azienda", Text: s.t(c, "company.title")}}, Data: map[string]any{"TaxCode": f}})
}

// companyWithdrawSubmit withdraws an employee: the row's button (no
// confirm) shows the confirmation, its button (confirm=1) withdraws.
// A refusal is shown at the tax code field of the confirmation.
func (s *Site) companyWithdrawSubmit(c *gin.Context) error {
	f := s.withdrawField(c, strings.TrimSpace(c.PostForm("tax_code")))
	if c.PostForm("confirm") != "1" {
		s.renderWithdraw(c, f, nil, http.StatusOK)
		return nil
	}
	e, err := s.company.Withdraw(c.Request.Context(), httpx.CurrentUser(c), company.WithdrawRequest{TaxCode: f.Value})
	if err != nil {
		he := httpx.From(err)
		var msgs []string
		switch {
		case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
			for _, fe := range he.Fields {
				msgs = append(msgs, fe.In(pageLang(c)))
			}
		case he.Status == http.StatusNotFound:
			msgs = append(msgs, s.t(c, "company.err.not_enrolled"))
		default:
			return err
		}
		f.Error = strings.Join(msgs, " ")
		s.renderWithdraw(c, f, []summaryItem{{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error}}, he.Status)
		return nil
	}
	setFlash(c, "success", "company.flash.withdrawn", e.TaxCode)
	redirect(c, "/azienda#employees")
	return nil
}

// hoursSlots is how many intervals the form offers on a day (more when
// the point already has more).
const hoursSlots = 2

// hoursSlot is one interval of the hours form.
type hoursSlot struct {
	Opens, Closes fieldView
}

// hoursDay is one weekday of the hours form.
type hoursDay struct {
	ID, Day string
	Slots   []hoursSlot
}

// hoursForm builds the form's days from hours (the point's, or the ones sent).
func (s *Site) hoursForm(c *gin.Context, hours []store.OpeningHours) []hoursDay {
	days := make([]hoursDay, 0, 7)
	for wd := 1; wd <= 7; wd++ {
		var iv []store.OpeningHours
		for _, h := range hours {
			if h.Weekday == wd {
				iv = append(iv, h)
			}
		}
		d := hoursDay{ID: "day-" + strconv.Itoa(wd), Day: s.t(c, weekdayKeys[wd])}
		for k := 0; k < max(hoursSlots, len(iv)+1) && k < company.MaxHours; k++ {
			var h store.OpeningHours
			if k < len(iv) {
				h = iv[k]
			}
			d.Slots = append(d.Slots, s.hoursSlot(c, d.Day, wd, k, h))
		}
		days = append(days, d)
	}
	return days
}

func (s *Site) hoursSlot(c *gin.Context, day string, wd, k int, h store.OpeningHours) hoursSlot {
	field := func(part, label, value string) fieldView {
		name := fmt.Sprintf("h-%d-%d-%s", wd, k, part)
		return fieldView{Name: name, ID: "f-" + name, Label: s.t(c, label, day, k+1), Value: value,
			Extra: map[string]string{"inputmode": "numeric", "maxlength": "5", "placeholder": "HH:MM"}}
	}
	return hoursSlot{Opens: field("opens", "hours.form.opens", h.Opens), Closes: field("closes", "hours.form.closes", h.Closes)}
}

func (s *Site) renderHours(c *gin.Context, p store.SocialPoint, days []hoursDay, errs []summaryItem, status int) {
	back, nav := crumb{Href: "/social-points", Text: s.t(c, "points.title")}, "points"
	if httpx.CurrentUser(c).Role != roleSupervisor {
		back, nav = crumb{Href: "/azienda", Text: s.t(c, "company.title")}, "company"
	}
	s.render(c, status, "point_hours", view{Title: s.t(c, "hours.title", p.Name), Nav: nav, Errors: errs,
		Crumbs: []crumb{back}, Data: map[string]any{"Point": p, "Days": days, "Back": back.Href}})
}

// pointHoursPage is /social-points/:id/hours: the form of a point's hours.
func (s *Site) pointHoursPage(c *gin.Context) error {
	p, err := s.company.KeptPoint(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	s.renderHours(c, p, s.hoursForm(c, p.Hours), nil, http.StatusOK)
	return nil
}

// pointHoursSubmit replaces a point's hours with the intervals filled in
// (none: the point is closed); each refused interval is shown at its field.
func (s *Site) pointHoursSubmit(c *gin.Context) error {
	ctx, u, id := c.Request.Context(), httpx.CurrentUser(c), c.Param("id")
	p, err := s.company.KeptPoint(ctx, u, id)
	if err != nil {
		return err
	}
	// The intervals sent, in the form's order (the domain's errors point
	// at /hours/<i>; hoursField finds the slot of each). None: closed.
	hours := []store.OpeningHours{}
	for wd := 1; wd <= 7; wd++ {
		for k := 0; k < company.MaxHours; k++ {
			opens, hasOpens := c.GetPostForm(fmt.Sprintf("h-%d-%d-opens", wd, k))
			closes, hasCloses := c.GetPostForm(fmt.Sprintf("h-%d-%d-closes", wd, k))
			if !hasOpens && !hasCloses {
				break
			}
			opens, closes = strings.TrimSpace(opens), strings.TrimSpace(closes)
			if opens == "" && closes == "" {
				continue
			}
			hours = append(hours, store.OpeningHours{Weekday: wd, Opens: opens, Closes: closes})
		}
	}
	if _, err := s.company.SetPointHours(ctx, u, id, company.HoursRequest{Hours: hours}); err != nil {
		he := httpx.From(err)
		if he.Status != http.StatusUnprocessableEntity || len(he.Fields) == 0 {
			return err
		}
		days := s.hoursForm(c, hours)
		var errs []summaryItem
		for _, fe := range he.Fields {
			msg := fe.In(pageLang(c))
			f := hoursField(days, hours, fe.Pointer)
			if f == nil {
				errs = append(errs, summaryItem{Href: "#hours-form", Text: msg})
				continue
			}
			f.Error = strings.TrimSpace(f.Error + " " + msg)
			errs = append(errs, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + msg})
		}
		s.renderHours(c, p, days, errs, he.Status)
		return nil
	}
	setFlash(c, "success", "hours.flash.saved", p.Name)
	if u.Role == roleSupervisor {
		redirect(c, "/social-points")
	} else {
		redirect(c, "/azienda")
	}
	return nil
}

// hoursField is the form field a domain error's pointer names
// (/hours/<i>/opens, /hours/<i>/closes, /hours/<i> for an overlap: its
// opening), nil when it names none.
func hoursField(days []hoursDay, hours []store.OpeningHours, pointer string) *fieldView {
	rest, ok := strings.CutPrefix(pointer, "/hours/")
	if !ok {
		return nil
	}
	idx, part, _ := strings.Cut(rest, "/")
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(hours) {
		return nil
	}
	wd := hours[i].Weekday
	k := 0 // the interval's place on its day, as hoursForm lays them out
	for j := 0; j < i; j++ {
		if hours[j].Weekday == wd {
			k++
		}
	}
	slot := &days[wd-1].Slots[k]
	if part == "closes" {
		return &slot.Closes
	}
	return &slot.Opens
}
