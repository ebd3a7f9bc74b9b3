package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/dashboard"
	"sportello/internal/calendar"
	"sportello/internal/i18n"
)

// The dashboard (issue 13): "how are we doing this week" on one page, for
// supervisors (their district, or one municipality) and operators (their
// municipality). Every figure is a table (caption, headers) and a chart
// drawn from that table by static/js/dashboard.js with Chart.js (npm,
// copied by make assets); without JavaScript the tables alone. The use
// case is internal/app/dashboard.

// dashData is the dashboard page's data.
type dashData struct {
	Supervisor                 bool
	Municipalities             []staffOption
	Periods                    []staffOption
	PlaceName                  string // the operator's municipality, or the chosen one
	Custom                     bool
	From, To                   fieldView
	MunicipalityErr, PeriodErr string
	Heading                    string // "from ... to ..."
	CSVURL                     string
	Summary                    []dashStat
	Figures                    []dashFigure
}

// dashStat is one headline number.
type dashStat struct{ Label, Value string }

// dashFigure is one figure: its chart (drawn from its table) and its table.
type dashFigure struct {
	ID, Title, Intro, Caption string
	Stacked                   bool
	Cols                      []string // the headers after the row header
	RowHead                   string   // the first column's header
	Rows                      []dashRow
	Empty                     string // said instead of an empty table
	Note                      string
}

// dashRow is a table row: its header and cells.
type dashRow struct {
	Head  string
	Cells []dashCell
}

// dashCell is a cell; Y, when set, is the number the chart plots for the
// cell's column (a plain decimal: euro for money).
type dashCell struct {
	Text string
	Y    string
}

func dashQuery(c *gin.Context) dashboard.Filter {
	f := dashboard.Filter{Municipality: c.Query("municipality"), Period: c.Query("period"), From: c.Query("from"), To: c.Query("to")}
	if f.Period == dashboard.PeriodWeek || f.Period == dashboard.PeriodMonth {
		f.From, f.To = "", "" // the dates belong to the custom period
	}
	return f
}

func (s *Site) dashboardPage(c *gin.Context) error {
	user := httpx.CurrentUser(c)
	lang := pageLang(c)
	f := dashQuery(c)
	d := &dashData{Supervisor: user.Role == roleSupervisor}
	d.From = fieldView{Name: "from", ID: "from", Label: s.t(c, "dashboard.from"), Type: "date", Value: f.From}
	d.To = fieldView{Name: "to", ID: "to", Label: s.t(c, "dashboard.to"), Type: "date", Value: f.To}
	for _, p := range []string{dashboard.PeriodWeek, dashboard.PeriodMonth, dashboard.PeriodCustom} {
		sel := p == f.Period || (f.Period == "" && p == dashboard.PeriodWeek)
		d.Periods = append(d.Periods, staffOption{Value: p, Label: s.t(c, "dashboard.period."+p), Selected: sel})
	}
	places, err := s.api.Municipalities(c.Request.Context(), user.District)
	if err != nil {
		return err
	}
	names := map[string]string{}
	d.Municipalities = append(d.Municipalities, staffOption{Value: "", Label: s.t(c, "dashboard.all_municipalities"), Selected: f.Municipality == ""})
	for _, p := range places {
		names[p.ID] = p.Name
		d.Municipalities = append(d.Municipalities, staffOption{Value: p.ID, Label: p.Name, Selected: p.ID == f.Municipality})
	}
	v := view{Title: s.t(c, "dashboard.title"), Nav: "dashboard", Data: d}
	res, err := dashboard.New(s.core).Read(c.Request.Context(), user, f)
	if he := httpx.From(err); err != nil && he.Status == http.StatusUnprocessableEntity {
		for _, fe := range he.Fields {
			msg := fe.In(lang)
			switch fe.Parameter {
			case "municipality":
				d.MunicipalityErr = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#municipality", Text: s.t(c, "dashboard.municipality") + ": " + msg})
			case "period":
				d.PeriodErr = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#period", Text: s.t(c, "dashboard.period") + ": " + msg})
			case "from":
				d.From.Error = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#from", Text: d.From.Label + ": " + msg})
			default:
				d.To.Error = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#to", Text: d.To.Label + ": " + msg})
			}
		}
		if user.Role != roleSupervisor {
			d.PlaceName = names[user.Municipality]
		}
		s.render(c, http.StatusUnprocessableEntity, "dashboard", v)
		return nil
	} else if err != nil {
		return err
	}
	d.PlaceName = names[res.Municipality]
	if res.Municipality == "" {
		d.PlaceName = s.t(c, "dashboard.all_municipalities")
	}
	rome := calendar.Rome()
	day := func(s string) string {
		t, err := time.ParseInLocation(time.DateOnly, s, rome)
		if err != nil {
			return s
		}
		return formatDate(lang, t)
	}
	d.Heading = s.t(c, "dashboard.heading", d.PlaceName, day(res.From), day(res.To))
	q := url.Values{}
	if res.Municipality != "" && user.Role == roleSupervisor {
		q.Set("municipality", res.Municipality)
	}
	q.Set("from", res.From)
	q.Set("to", res.To)
	d.CSVURL = "/dashboard/export.csv?" + q.Encode()
	s.dashFigures(c, d, res)
	s.render(c, http.StatusOK, "dashboard", v)
	return nil
}

// dashFigures fills the headline numbers and the figures of res.
func (s *Site) dashFigures(c *gin.Context, d *dashData, res dashboard.Dashboard) {
	lang := pageLang(c)
	num := func(n int64) string { return i18n.Number(lang, n) }
	euroY := func(cents int64) string { return strconv.FormatFloat(float64(cents)/100, 'f', 2, 64) }
	cnt := func(n int64) dashCell { return dashCell{Text: num(n), Y: strconv.FormatInt(n, 10)} }
	money := func(cents int64) dashCell { return dashCell{Text: formatEuro(lang, cents), Y: euroY(cents)} }
	text := func(t string) dashCell { return dashCell{Text: t} }
	hours := func(h float64) string { return strconv.FormatFloat(h, 'f', 1, 64) }
	if lang == "it" {
		hours = func(h float64) string {
			b := []byte(strconv.FormatFloat(h, 'f', 1, 64))
			return string(bytes.ReplaceAll(b, []byte("."), []byte(",")))
		}
	}
	rome := calendar.Rome()
	dayText := func(iso string) string {
		t, err := time.ParseInLocation(time.DateOnly, iso, rome)
		if err != nil {
			return iso
		}
		return formatDate(lang, t)
	}
	formName := func(id string) string {
		if f, ok := s.Forms.Get(id); ok && f.Title != "" {
			if lang == langEN {
				return f.TitleEN
			}
			return f.Title
		}
		return id
	}

	// Headline numbers.
	var filed, failures, overdue int64
	for _, a := range res.Applications {
		filed += a.Count
	}
	for _, f := range res.Failures {
		failures += f.Count
	}
	for _, b := range res.Backlog {
		overdue += b.Overdue
	}
	dc := res.Decisions
	d.Summary = []dashStat{
		{s.t(c, "dashboard.stat.filed"), num(filed)},
		{s.t(c, "dashboard.stat.on_time"), s.t(c, "dashboard.stat.on_time_value", num(dc.OnTime), num(dc.Decided))},
		{s.t(c, "dashboard.stat.median"), s.t(c, "dashboard.hours", hours(dc.MedianHours))},
		{s.t(c, "dashboard.stat.overdue"), num(overdue)},
		{s.t(c, "dashboard.stat.failures"), num(failures)},
	}

	// Applications per day or week and form: one row per bucket, one
	// column per form.
	var forms []string
	seen := map[string]bool{}
	for _, a := range res.Applications {
		if !seen[a.Form] {
			seen[a.Form] = true
			forms = append(forms, a.Form)
		}
	}
	apps := dashFigure{ID: "applications", Title: s.t(c, "dashboard.applications.title"),
		Intro: s.t(c, "dashboard.applications.intro_"+res.Bucket), Caption: s.t(c, "dashboard.applications.caption_"+res.Bucket),
		RowHead: s.t(c, "dashboard.applications.col."+res.Bucket), Stacked: true, Empty: s.t(c, "dashboard.applications.none")}
	for _, f := range forms {
		apps.Cols = append(apps.Cols, formName(f))
	}
	byBucket := map[string]map[string]int64{}
	var buckets []string
	for _, a := range res.Applications {
		if byBucket[a.Bucket] == nil {
			byBucket[a.Bucket] = map[string]int64{}
			buckets = append(buckets, a.Bucket)
		}
		byBucket[a.Bucket][a.Form] = a.Count
	}
	for _, b := range buckets {
		r := dashRow{Head: dayText(b)}
		for _, f := range forms {
			r.Cells = append(r.Cells, cnt(byBucket[b][f]))
		}
		apps.Rows = append(apps.Rows, r)
	}

	dec := dashFigure{ID: "decisions", Title: s.t(c, "dashboard.decisions.title"), Intro: s.t(c, "dashboard.decisions.intro"),
		Caption: s.t(c, "dashboard.decisions.caption"), RowHead: s.t(c, "dashboard.decisions.col.what"),
		Cols: []string{s.t(c, "dashboard.decisions.col.tasks")}, Empty: s.t(c, "dashboard.decisions.none"),
		Note: s.t(c, "dashboard.decisions.note", hours(dc.MedianHours), hours(dc.P90Hours))}
	if dc.Opened > 0 {
		dec.Rows = []dashRow{
			{s.t(c, "dashboard.decisions.on_time"), []dashCell{cnt(dc.OnTime)}},
			{s.t(c, "dashboard.decisions.late"), []dashCell{cnt(dc.Late)}},
			{s.t(c, "dashboard.decisions.pending"), []dashCell{cnt(dc.Pending - dc.Overdue)}},
			{s.t(c, "dashboard.decisions.overdue"), []dashCell{cnt(dc.Overdue)}},
		}
	}

	backlog := dashFigure{ID: "backlog", Title: s.t(c, "dashboard.backlog.title"), Intro: s.t(c, "dashboard.backlog.intro"),
		Caption: s.t(c, "dashboard.backlog.caption"), RowHead: s.t(c, "dashboard.backlog.col.team"),
		Cols:  []string{s.t(c, "dashboard.backlog.col.open"), s.t(c, "dashboard.backlog.col.claimed"), s.t(c, "dashboard.backlog.col.overdue")},
		Empty: s.t(c, "dashboard.backlog.none")}
	for _, b := range res.Backlog {
		name := b.TeamName
		if b.Team == "" {
			name = s.t(c, "dashboard.backlog.no_team")
		}
		backlog.Rows = append(backlog.Rows, dashRow{name, []dashCell{cnt(b.Open), cnt(b.Claimed), cnt(b.Overdue)}})
	}

	funds := dashFigure{ID: "funds", Title: s.t(c, "dashboard.funds.title"), Intro: s.t(c, "dashboard.funds.intro"),
		Caption: s.t(c, "dashboard.funds.caption"), RowHead: s.t(c, "dashboard.funds.col.fund"),
		Cols: []string{s.t(c, "dashboard.funds.col.budget"), s.t(c, "dashboard.funds.col.awarded"), s.t(c, "dashboard.funds.col.spent"),
			s.t(c, "dashboard.funds.col.available"), s.t(c, "dashboard.funds.col.period_awarded"), s.t(c, "dashboard.funds.col.period_spent"),
			s.t(c, "dashboard.funds.col.runs_out")},
		Empty: s.t(c, "dashboard.funds.none"), Note: s.t(c, "dashboard.funds.note")}
	for _, f := range res.Funds {
		runs := s.t(c, "dashboard.funds.no_projection")
		switch {
		case f.Exhausted:
			runs = s.t(c, "dashboard.funds.exhausted")
		case f.RunsOutOn != "":
			runs = dayText(f.RunsOutOn)
		}
		spent := money(f.SpentCents)
		if f.BookedCents != 0 {
			spent.Text = s.t(c, "dashboard.funds.spent_booked", formatEuro(lang, f.SpentCents), formatEuro(lang, f.BookedCents))
		}
		funds.Rows = append(funds.Rows, dashRow{f.Name + " (" + f.MunicipalityName + ")", []dashCell{
			text(formatEuro(lang, f.BudgetCents)), money(f.AwardedCents), spent, money(f.AvailableCents),
			text(formatEuro(lang, f.PeriodAwardedCents)), text(formatEuro(lang, f.PeriodSpentCents)), text(runs)}})
	}

	red := dashFigure{ID: "redemptions", Title: s.t(c, "dashboard.redemptions.title"), Intro: s.t(c, "dashboard.redemptions.intro"),
		Caption: s.t(c, "dashboard.redemptions.caption"), RowHead: s.t(c, "dashboard.redemptions.col.kind"),
		Cols:  []string{s.t(c, "dashboard.redemptions.col.count"), s.t(c, "dashboard.redemptions.col.amount")},
		Empty: s.t(c, "dashboard.redemptions.none")}
	for _, r := range res.Redemptions {
		red.Rows = append(red.Rows, dashRow{s.t(c, "dashboard.merchant_kind."+r.MerchantKind), []dashCell{text(num(r.Count)), money(r.AmountCents)}})
	}

	bk := dashFigure{ID: "bookings", Title: s.t(c, "dashboard.bookings.title"), Intro: s.t(c, "dashboard.bookings.intro"),
		Caption: s.t(c, "dashboard.bookings.caption"), RowHead: s.t(c, "dashboard.bookings.col.cooperative"),
		Cols: []string{s.t(c, "dashboard.bookings.col.bookings"), s.t(c, "dashboard.bookings.col.cancelled"),
			s.t(c, "dashboard.bookings.col.delivered"), s.t(c, "dashboard.bookings.col.total")},
		Empty: s.t(c, "dashboard.bookings.none")}
	for _, b := range res.Bookings {
		bk.Rows = append(bk.Rows, dashRow{b.CooperativeName + " · " + s.t(c, "cat.category."+b.Category), []dashCell{
			cnt(b.Bookings), text(num(b.Cancelled)), cnt(b.SessionsDelivered), text(formatEuro(lang, b.TotalCents))}})
	}

	fail := dashFigure{ID: "failures", Title: s.t(c, "dashboard.failures.title"), Intro: s.t(c, "dashboard.failures.intro"),
		Caption: s.t(c, "dashboard.failures.caption"), RowHead: s.t(c, "dashboard.failures.col.kind"),
		Cols:  []string{s.t(c, "dashboard.failures.col.count"), s.t(c, "dashboard.failures.col.amount")},
		Empty: s.t(c, "dashboard.failures.none")}
	if d.Supervisor {
		fail.Note = ""
	} else {
		fail.Note = s.t(c, "dashboard.failures.operator_note")
	}
	for _, f := range res.Failures {
		fail.Rows = append(fail.Rows, dashRow{s.t(c, "dashboard.failure."+f.Kind), []dashCell{cnt(f.Count), text(formatEuro(lang, f.AmountCents))}})
	}
	d.Figures = []dashFigure{apps, dec, backlog, funds, red, bk, fail}
}

// dashboardCSV is the CSV export of the page's figures, with its filters.
func (s *Site) dashboardCSV(c *gin.Context) error {
	res, err := dashboard.New(s.core).Read(c.Request.Context(), httpx.CurrentUser(c), dashQuery(c))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := dashboard.WriteCSV(&buf, res); err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename="`+dashboard.FileName(res)+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	return nil
}
