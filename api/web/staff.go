package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/casework"
	"sportello/internal/calendar"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// The pages of the staff (operators and supervisors) and of the merchants:
// the inbox, the staff view of a case with the decision form, the search,
// the funds and the till. Every action goes through the same methods as the
// JSON API (claim, release, decide, redeemVoucher, funds), under the user's
// row-level-security scope.

// postedKey reads the hidden idempotency field ("" when it is missing or
// not a valid key).
func postedKey(c *gin.Context) string {
	k := strings.TrimSpace(c.PostForm("key"))
	if !httpx.ValidIdempotencyKey.MatchString(k) {
		return ""
	}
	return k
}

// romeDateTime formats an instant as dd/mm/yyyy HH:MM in Europe/Rome.
func romeDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendar.Rome()).Format("02/01/2006 15:04")
}

// htmlTime is an instant for a <time datetime> attribute.
func htmlTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// municipalityNames maps the municipality ids the user can see to their
// names (from the funds, one per municipality and call).
func (s *Site) municipalityNames(ctx context.Context, user store.UserView) (map[string]string, []staffOption, error) {
	funds, err := s.vouchers.Funds(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	var opts []staffOption
	for _, f := range funds {
		if _, ok := names[f.Municipality]; ok {
			continue
		}
		names[f.Municipality] = f.MunicipalityName
		opts = append(opts, staffOption{Value: f.Municipality, Label: f.MunicipalityName})
	}
	slices.SortFunc(opts, func(a, b staffOption) int { return strings.Compare(a.Label, b.Label) })
	return names, opts, nil
}

// staffOption is one choice of a select or radio group.
type staffOption struct {
	Value, Label string
	Selected     bool
}

// ---- inbox ----

// inboxPageSize is the number of tasks per inbox page.
const inboxPageSize = 25

var (
	inboxStatuses = []string{"active", "open", "claimed", "done", "all"}
	inboxSorts    = []string{"overdue", "due"}
)

type inboxData struct {
	Status, Sort, Municipality string
	Overdue                    bool
	Statuses, Sorts            []staffOption
	Municipalities             []staffOption // supervisors only
	Team                       string
	Teams                      []staffOption
	Rows                       []inboxRow
	Total                      string // the count as read: "1.234", "più di 1.000"
	Page, Pages                int
	PagesMore                  bool // there are more than Pages pages (the count is capped)
	PrevURL, NextURL           string
	Back                       string // this inbox URL, where claim and release come back
	Caption                    string
	Bulk                       *inboxBulk // the bulk actions panel (bulk.go)
}

type inboxRow struct {
	store.TaskView
	MunicipalityName string
	Due, DueISO      string
	CanClaim         bool
	CanRelease       bool
	Key              string
	Selected         bool // checked for the bulk actions
}

func pickValue(v string, allowed []string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return allowed[0]
}

func (s *Site) inboxPage(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	d := inboxData{
		Status:  pickValue(c.Query("status"), inboxStatuses),
		Sort:    pickValue(c.Query("sort"), inboxSorts),
		Overdue: c.Query("overdue") == "1" || c.Query("overdue") == "true" || c.Query("overdue") == "on",
	}
	pageNo, err := httpx.PageNumber(c, inboxPageSize)
	if err != nil {
		return err
	}
	names, opts, err := s.municipalityNames(ctx, user)
	if err != nil {
		return err
	}
	if user.Role == roleSupervisor {
		if m := c.Query("municipality"); names[m] != "" {
			d.Municipality = m
		}
		d.Municipalities = append([]staffOption{{Value: "", Label: s.t(c, "inbox.all_municipalities")}}, opts...)
		for i := range d.Municipalities {
			d.Municipalities[i].Selected = d.Municipalities[i].Value == d.Municipality
		}
		d.Caption = s.t(c, "inbox.caption_district")
	} else {
		d.Caption = s.t(c, "inbox.caption_municipality", names[user.Municipality])
	}
	for _, st := range inboxStatuses {
		d.Statuses = append(d.Statuses, staffOption{Value: st, Label: s.t(c, "inbox.status."+st), Selected: st == d.Status})
	}
	for _, so := range inboxSorts {
		d.Sorts = append(d.Sorts, staffOption{Value: so, Label: s.t(c, "inbox.sort."+so), Selected: so == d.Sort})
	}
	if d.Team, d.Teams, err = s.inboxTeams(c, user); err != nil {
		return err
	}
	f := store.TaskFilter{Status: d.Status, Overdue: d.Overdue, Municipality: d.Municipality, Team: d.Team,
		Limit: inboxPageSize, Offset: (pageNo - 1) * inboxPageSize}
	if d.Sort == "due" {
		f.Sort = "due"
	}
	tasks, total, err := s.api.Tasks(ctx, user.Scope(), f)
	if err != nil {
		return err
	}
	// The count stops at store.TaskCountCap: beyond it the inbox says "more
	// than" (of tasks and of pages) and always links the next page.
	d.Total, d.Page = countText(pageLang(c), total), pageNo
	d.Pages = max(1, (total.N+inboxPageSize-1)/inboxPageSize)
	d.PagesMore = total.More
	q := url.Values{}
	q.Set("status", d.Status)
	q.Set("sort", d.Sort)
	if d.Overdue {
		q.Set("overdue", "1")
	}
	if d.Municipality != "" {
		q.Set("municipality", d.Municipality)
	}
	if d.Team != "" {
		q.Set("team", d.Team)
	}
	at := func(n int) string {
		q.Set("page", strconv.Itoa(n))
		return "/inbox?" + q.Encode()
	}
	if pageNo > 1 {
		d.PrevURL = at(pageNo - 1)
	}
	if pageNo < d.Pages || d.PagesMore {
		d.NextURL = at(pageNo + 1)
	}
	d.Back = at(pageNo)
	for _, t := range tasks {
		r := inboxRow{TaskView: t, MunicipalityName: names[t.Municipality], Due: romeDateTime(t.DueAt), DueISO: htmlTime(t.DueAt)}
		if r.MunicipalityName == "" {
			r.MunicipalityName = t.Municipality
		}
		r.CanClaim = t.Status == "open"
		r.CanRelease = t.Status == "claimed" && t.ClaimedBy == user.Username
		if r.CanClaim || r.CanRelease {
			r.Key = newFormToken()
		}
		d.Rows = append(d.Rows, r)
	}
	status, errs := s.withBulk(c, &d)
	s.render(c, status, "staff_inbox", view{Title: s.t(c, "inbox.title"), Nav: "inbox", Data: d, Errors: errs})
	return nil
}

// ---- claim, release ----

// backTo is where a claim or release form returns: the posted "next" when
// it is a page of this site, the inbox otherwise.
func backTo(c *gin.Context) string {
	next := safeNext(c.PostForm("next"))
	if next == "/" {
		return "/inbox"
	}
	return next
}

func (s *Site) claimSubmit(c *gin.Context) error {
	return s.taskAction(c, "claim")
}

// assignSubmit gives the task to someone (supervisors), back to the case
// page with a flash message; a refusal or a missing reason is a flash alert.
func (s *Site) assignSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	t, err := s.casework.Task(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	res, err := s.casework.Assign(ctx, user, t.ID, casework.Assignment{Assignee: c.PostForm("assignee"), Reason: c.PostForm("reason")}, postedKey(c))
	switch he := httpx.From(err); {
	case err == nil:
		setFlash(c, "success", "task.assigned", t.CaseID, res.AssignedTo)
	case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
		setFlash(c, "danger", "task.err.assign", t.CaseID, he.Fields[0].In(pageLang(c)))
	case !s.flashRefusal(c, err, t):
		return err
	}
	redirect(c, "/cases/"+t.CaseID)
	return nil
}

func (s *Site) releaseSubmit(c *gin.Context) error {
	return s.taskAction(c, "release")
}

// taskAction claims or releases a task and comes back with a flash
// message; a refusal of the workflow (409, 403) is a flash alert too.
func (s *Site) taskAction(c *gin.Context, op string) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	t, err := s.casework.Task(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	if op == "claim" {
		_, err = s.casework.Claim(ctx, user, t.ID, postedKey(c))
	} else {
		_, err = s.casework.Release(ctx, user, t.ID, postedKey(c))
	}
	if err != nil {
		if !s.flashRefusal(c, err, t) {
			return err
		}
	} else if op == "claim" {
		setFlash(c, "success", "task.claimed", t.CaseID)
	} else {
		setFlash(c, "success", "task.released", t.CaseID)
	}
	redirect(c, backTo(c))
	return nil
}

// flashRefusal turns a refused task action (409 or 403) into a flash alert
// and reports whether it did.
func (s *Site) flashRefusal(c *gin.Context, err error, t store.TaskView) bool {
	he := httpx.From(err)
	if he.Status != http.StatusConflict && he.Status != http.StatusForbidden {
		return false
	}
	switch he.Code {
	case "task_already_claimed":
		by := ""
		if cur, rerr := s.casework.Task(c.Request.Context(), httpx.CurrentUser(c), t.ID); rerr == nil {
			by = cur.ClaimedBy
		}
		if by == "" {
			by = "?"
		}
		setFlash(c, "danger", "task.err.already_claimed", t.CaseID, by)
	case "task_not_open", "task_not_claimed", "insufficient_budget", "case_not_active", "forbidden":
		setFlash(c, "danger", "task.err."+he.Code, t.CaseID)
	default:
		setFlash(c, "danger", "task.err.conflict", t.CaseID)
	}
	return true
}

// ---- search ----

type searchData struct {
	Q       string
	Field   fieldView
	Results []store.CaseSummary
	Rows    []searchRow
	Done    bool   // a search was made
	Shown   string // "the newest N of M are shown", when not all are
}

type searchRow struct {
	store.CaseSummary
	MunicipalityName string
	Created          string
	CreatedISO       string
}

func (s *Site) searchPage(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	q := strings.TrimSpace(c.Query("q"))
	d := searchData{Q: q, Field: fieldView{Name: "q", ID: "q", Label: s.t(c, "search.label"), Value: q,
		Hint: s.t(c, "search.hint"), Autocomplete: "off", Type: "search",
		Extra: map[string]string{"maxlength": "64", "spellcheck": "false"}}}
	status := http.StatusOK
	switch {
	case q == "":
	case len(q) > 64:
		d.Field.Error = s.t(c, "search.too_long")
		status = http.StatusUnprocessableEntity
	default:
		d.Done = true
		upper := strings.ToUpper(q)
		// A case number goes straight to the case.
		if v, err := s.api.Case(ctx, user.Scope(), upper); err == nil {
			if err := s.core.AuditRead(ctx, user, store.AuditSearch, v.ID, v.Municipality, map[string]string{"q": upper}); err != nil {
				return err
			}
			redirect(c, "/cases/"+url.PathEscape(v.ID))
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		items, total, err := s.api.Cases(ctx, user.Scope(), store.CaseFilter{TaxCode: upper, Limit: 100})
		if err != nil {
			return err
		}
		if err := s.core.AuditRead(ctx, user, store.AuditSearch, "", "", map[string]any{"q": upper, "results": total.N, "more": total.More}); err != nil {
			return err
		}
		names, _, err := s.municipalityNames(ctx, user)
		if err != nil {
			return err
		}
		for _, it := range items {
			r := searchRow{CaseSummary: it, MunicipalityName: names[it.Municipality],
				Created: romeDateTime(it.CreatedAt), CreatedISO: htmlTime(it.CreatedAt)}
			if r.MunicipalityName == "" {
				r.MunicipalityName = it.Municipality
			}
			d.Rows = append(d.Rows, r)
		}
		if total.More || total.N > len(d.Rows) {
			d.Shown = s.t(c, "search.shown", len(d.Rows), countText(pageLang(c), total))
		}
	}
	v := view{Title: s.t(c, "search.title"), Nav: "search", Data: d}
	if d.Field.Error != "" {
		v.Errors = []summaryItem{{Href: "#q", Text: d.Field.Label + ": " + d.Field.Error}}
	}
	s.render(c, status, "search", v)
	return nil
}

// ---- funds ----

type fundsData struct {
	Caption string
	Funds   []store.FundView
	Total   store.FundView
	ShowSum bool
}

func (s *Site) fundsPage(c *gin.Context) error {
	user := httpx.CurrentUser(c)
	funds, err := s.vouchers.Funds(c.Request.Context(), user)
	if err != nil {
		return err
	}
	d := fundsData{Funds: funds, ShowSum: len(funds) > 1}
	for _, f := range funds {
		d.Total.BudgetCents += f.BudgetCents
		d.Total.AwardedCents += f.AwardedCents
		d.Total.ReleasedCents += f.ReleasedCents
		d.Total.RedeemedCents += f.RedeemedCents
		d.Total.ReturnedCents += f.ReturnedCents
		d.Total.BookedCents += f.BookedCents
		d.Total.AvailableCents += f.AvailableCents
	}
	if user.Role == roleOperator && len(funds) > 0 {
		d.Caption = s.t(c, "funds.caption_municipality", funds[0].MunicipalityName)
	} else {
		d.Caption = s.t(c, "funds.caption_district")
	}
	s.render(c, http.StatusOK, "funds", view{Title: s.t(c, "funds.title"), Nav: "funds", Data: d})
	return nil
}

// ---- amounts ----

// parseEuroInput reads an amount in euro as typed by an Italian (or English)
// user: "12", "12,5", "12,50", "1.234,50", "€ 12,50", "12.50". It returns
// cents; ok is false when the text is not an amount with at most two
// decimals.
func parseEuroInput(s string) (cents int64, ok bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "€")
	s = strings.TrimSuffix(s, "€")
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "EUR"))
	s = strings.ReplaceAll(s, " ", "")
	s = strings.ReplaceAll(s, "\u00a0", "")
	if s == "" || len(s) > 20 {
		return 0, false
	}
	whole, frac := s, ""
	switch {
	case strings.Contains(s, ","):
		// Decimal comma; dots group thousands.
		i := strings.LastIndexByte(s, ',')
		whole, frac = s[:i], s[i+1:]
		if strings.Contains(frac, ".") {
			return 0, false
		}
		if !groupedDigits(whole, '.') {
			return 0, false
		}
		whole = strings.ReplaceAll(whole, ".", "")
	case strings.Count(s, ".") == 1 && len(s)-strings.IndexByte(s, '.')-1 <= 2:
		// "12.5" or "12.50": a decimal point.
		i := strings.IndexByte(s, '.')
		whole, frac = s[:i], s[i+1:]
	case strings.Contains(s, "."):
		// "1.234" or "1.234.567": thousands.
		if !groupedDigits(s, '.') {
			return 0, false
		}
		whole = strings.ReplaceAll(s, ".", "")
	}
	if whole == "" || len(frac) > 2 || !allDigits(whole) || (frac != "" && !allDigits(frac)) || len(whole) > 12 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// groupedDigits accepts "1234", "1.234" and "12.345.678" with sep '.'.
func groupedDigits(s string, sep byte) bool {
	if !strings.Contains(s, string(sep)) {
		return allDigits(s)
	}
	parts := strings.Split(s, string(sep))
	if len(parts[0]) < 1 || len(parts[0]) > 3 || !allDigits(parts[0]) {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 || !allDigits(p) {
			return false
		}
	}
	return true
}

// euroInputValue formats cents for an input field in the language's style
// ("12,50" or "12.50"), without the currency sign.
func euroInputValue(lang string, cents int64) string { return i18n.MoneyInput(lang, cents) }

// Pager is the catalogue prefix of the list's page links (part_pager.html).
// A capped count has its own "page N of more than M".
func (d inboxData) Pager() string {
	if d.PagesMore {
		return "inbox.more"
	}
	return "inbox"
}
