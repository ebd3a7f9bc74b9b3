package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/accounts"
	"sportello/internal/app/applications"
	"sportello/internal/app/desk"
	"sportello/internal/store"
)

// The Social Point's pages (the use cases are the desk service's,
// internal/app/desk):
//
//	/desk                                   citizens registered at the desk, search
//	/desk/register                          "Registra un cittadino" → the hand-over sheet
//	/desk/citizens/:citizen                 the citizen's page: status, new code, cases, apply on behalf
//	/desk/citizens/:citizen/apply/:form...  the citizens' application pages, on behalf
//	/desk/contacts                          "Contatti da fare", record an outcome
//	/attiva                                 the citizen activates the account (public)

const ctxDeskCitizen = "sportello.desk_citizen"

// withDeskCitizen loads the :citizen of the URL (404 page when not of the
// operator's district); the read is audited with acting_for.
func (s *Site) withDeskCitizen(c *gin.Context) {
	d, err := s.desk.Citizen(c.Request.Context(), httpx.CurrentUser(c), c.Param("citizen"))
	if err != nil {
		s.pageFail(c, err)
		c.Abort()
		return
	}
	c.Set(ctxDeskCitizen, &d)
	c.Next()
}

// onBehalfOf is the citizen an operator acts for on this page (nil: none).
func onBehalfOf(c *gin.Context) *store.DeskCitizen {
	v, ok := c.Get(ctxDeskCitizen)
	if !ok {
		return nil
	}
	d, _ := v.(*store.DeskCitizen)
	return d
}

// applicantOf is who an application page files for.
func applicantOf(c *gin.Context) store.UserView {
	if d := onBehalfOf(c); d != nil {
		return d.UserView()
	}
	return httpx.CurrentUser(c)
}

// applyBase is the prefix of the application pages: /apply/ for citizens,
// the citizen's desk URL for an operator filing on behalf.
func applyBase(c *gin.Context) string {
	if d := onBehalfOf(c); d != nil {
		return deskCitizenURL(d.PublicID) + "/apply/"
	}
	return "/apply/"
}

// applyPrefill is the data step's first values: what the portal knows
// about the applicant (at the desk, their registry names, phone, postal
// address and delivery wish), with the date of birth their tax code gives.
func (s *Site) applyPrefill(c *gin.Context) ([]byte, error) {
	d := onBehalfOf(c)
	if d == nil {
		k, err := s.applications.KnownAbout(c.Request.Context(), httpx.CurrentUser(c))
		if err != nil {
			return nil, err
		}
		return applications.PrefillData(k, s.Now()), nil
	}
	k := applications.KnownFromUser(d.UserView())
	if d.FirstName != "" {
		// The names as in the registry, which the form wants separately.
		k.FirstName, k.LastName = d.FirstName, d.LastName
	}
	k.Phone, k.Address, k.HomeDelivery = d.Phone, d.Address, d.HomeDelivery
	return applications.PrefillData(k, s.Now()), nil
}

func deskCitizenURL(publicID string) string { return "/desk/citizens/" + publicID }

// caseOrCitizenURL is where to go after a filing was refused for a case in
// progress: the case, or at the desk the citizen's page.
func caseOrCitizenURL(c *gin.Context, caseID string) string {
	if d := onBehalfOf(c); d != nil {
		return deskCitizenURL(d.PublicID)
	}
	return "/cases/" + url.PathEscape(caseID)
}

// ---- /desk ----

type deskHomeData struct {
	Query    string
	Citizens []store.DeskCitizen
}

func (s *Site) deskHomePage(c *gin.Context) error {
	ctx, user := c.Request.Context(), httpx.CurrentUser(c)
	q := desk.SearchQuery(c.Query("q"))
	list, err := s.desk.Citizens(ctx, user, q)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "desk_home", view{Title: s.t(c, "desk.title"), Nav: "desk",
		Data: deskHomeData{Query: q, Citizens: list}})
	return nil
}

// ---- registration ----

type deskRegisterData struct {
	Fields       []fieldView
	HomeDelivery bool
}

// registerFields are the registration form's fields with values and errors.
func (s *Site) registerFields(c *gin.Context, req desk.NewCitizen, errs map[string]string) []fieldView {
	f := func(name, label, hint, value, typ, auto string, required bool) fieldView {
		return fieldView{Name: name, Label: s.t(c, label), Hint: hint, Value: value, Type: typ, Autocomplete: auto,
			Required: required, Error: errs["/"+name]}
	}
	return []fieldView{
		f("tax_code", "desk.f.tax_code", s.t(c, "desk.f.tax_code_hint"), req.TaxCode, "text", "off", true),
		f("first_name", "desk.f.first_name", "", req.FirstName, "text", "off", true),
		f("last_name", "desk.f.last_name", "", req.LastName, "text", "off", true),
		f("email", "desk.f.email", s.t(c, "desk.f.email_hint"), req.Email, "email", "off", false),
		f("phone", "desk.f.phone", s.t(c, "desk.f.phone_hint"), req.Phone, "tel", "off", false),
		f("address", "desk.f.address", s.t(c, "desk.f.address_hint"), req.Address, "text", "off", true),
	}
}

func (s *Site) renderRegister(c *gin.Context, status int, req desk.NewCitizen, fields []FieldError) {
	errs := map[string]string{}
	v := view{Title: s.t(c, "desk.register"), Nav: "desk", Crumbs: []crumb{{Href: "/desk", Text: s.t(c, "desk.title")}}}
	for _, fe := range fields {
		msg := fe.In(pageLang(c))
		errs[fe.Pointer] = msg
		id := "f-" + strings.ReplaceAll(strings.TrimPrefix(fe.Pointer, "/"), "_", "-")
		v.Errors = append(v.Errors, summaryItem{Href: "#" + id, Text: s.t(c, "desk.f."+strings.TrimPrefix(fe.Pointer, "/")) + ": " + msg})
	}
	v.Data = deskRegisterData{Fields: s.registerFields(c, req, errs), HomeDelivery: req.HomeDelivery}
	s.render(c, status, "desk_register", v)
}

func (s *Site) deskRegisterPage(c *gin.Context) error {
	s.renderRegister(c, http.StatusOK, desk.NewCitizen{}, nil)
	return nil
}

func (s *Site) deskRegisterSubmit(c *gin.Context) error {
	req := desk.NewCitizen{TaxCode: c.PostForm("tax_code"), FirstName: c.PostForm("first_name"),
		LastName: c.PostForm("last_name"), Email: c.PostForm("email"), Phone: c.PostForm("phone"),
		Address: c.PostForm("address"), HomeDelivery: c.PostForm("home_delivery") == "1"}
	out, err := s.desk.Register(c.Request.Context(), httpx.CurrentUser(c), req)
	if err != nil {
		he := httpx.From(err)
		switch {
		case he.Status == http.StatusUnprocessableEntity:
			s.renderRegister(c, he.Status, req, he.Fields)
			return nil
		case he.Code == "citizen_exists":
			s.renderRegister(c, http.StatusConflict, req, []FieldError{app.Field("/tax_code", "citizen_exists", "web.err.citizen_exists")})
			return nil
		}
		return err
	}
	s.renderSheet(c, out.Citizen, out.Activation)
	return nil
}

// sheetData is the printable hand-over sheet.
type sheetData struct {
	Citizen      store.DeskCitizen
	Code         string
	ExpiresIT    string
	ExpiresEN    string
	ActivateURL  string
	CitizenURL   string
	MinPassword  int
	PortalOrigin string
}

// renderSheet shows the activation code once, on a sheet to print and hand over.
func (s *Site) renderSheet(c *gin.Context, d store.DeskCitizen, code store.IssuedCode) {
	scheme := "https"
	if c.Request.TLS == nil && strings.HasPrefix(c.Request.Host, "127.0.0.1") {
		scheme = "http"
	}
	origin := scheme + "://" + c.Request.Host
	s.render(c, http.StatusOK, "desk_sheet", view{Title: s.t(c, "desk.sheet_title"), Nav: "desk",
		Crumbs: []crumb{{Href: "/desk", Text: s.t(c, "desk.title")}},
		Data: sheetData{Citizen: d, Code: code.Code, ExpiresIT: formatDate("it", code.ExpiresAt),
			ExpiresEN: formatDate(langEN, code.ExpiresAt), ActivateURL: origin + "/attiva", CitizenURL: deskCitizenURL(d.PublicID),
			MinPassword: 10, PortalOrigin: origin}})
}

// ---- the citizen's page ----

type deskCitizenData struct {
	Citizen     store.DeskCitizen
	CodeExpires string
	Cases       []store.CaseSummary
	Calls       []callView
}

func (s *Site) deskCitizenPage(c *gin.Context) error {
	d := onBehalfOf(c)
	ctx, user := c.Request.Context(), httpx.CurrentUser(c)
	cases, err := s.desk.Cases(ctx, user, d)
	if err != nil {
		return err
	}
	data := deskCitizenData{Citizen: *d, Cases: cases}
	if d.CodeExpiresAt != nil {
		data.CodeExpires = formatDate(pageLang(c), *d.CodeExpiresAt)
	}
	for _, f := range s.Forms.List() {
		data.Calls = append(data.Calls, callView{ID: f.ID, Title: formTitle(f, pageLang(c))})
	}
	s.render(c, http.StatusOK, "desk_citizen", view{Title: d.DisplayName, Nav: "desk",
		Crumbs: []crumb{{Href: "/desk", Text: s.t(c, "desk.title")}}, Data: data})
	return nil
}

func (s *Site) deskReissueSubmit(c *gin.Context) error {
	d := onBehalfOf(c)
	out, err := s.desk.ReissueCode(c.Request.Context(), httpx.CurrentUser(c), d, httpx.PortalOrigin(c, s.PortalURL))
	if err != nil {
		return err
	}
	if out.Recovery != nil {
		// An active account: no code for the desk (see desk.NewCode).
		s.render(c, http.StatusAccepted, "desk_recovery", view{Title: s.t(c, "desk.recovery_title"), Nav: "desk",
			Crumbs: []crumb{{Href: "/desk", Text: s.t(c, "desk.title")}}, Data: deskRecoveryData{Citizen: *d, Recovery: *out.Recovery}})
		return nil
	}
	s.renderSheet(c, *d, *out.Code)
	return nil
}

type deskRecoveryData struct {
	Citizen  store.DeskCitizen
	Recovery store.Recovery
}

// ---- contacts ----

type contactsData struct {
	Status   string
	Overdue  bool
	Items    []contactView
	Total    int
	Outcomes []string
}

type contactView struct {
	store.ContactTaskView
	Due      string
	DueISO   string
	KindText string
	Done     string
}

func (s *Site) contactsPage(c *gin.Context) error {
	f := store.ContactFilter{Status: c.DefaultQuery("status", "active"), Overdue: c.Query("overdue") == "1", Limit: 100}
	if !slices.Contains(desk.ContactStatuses, f.Status) {
		f.Status = "active"
	}
	return s.renderContacts(c, http.StatusOK, f)
}

func (s *Site) renderContacts(c *gin.Context, status int, f store.ContactFilter) error {
	items, total, err := s.desk.ContactTasks(c.Request.Context(), httpx.CurrentUser(c), f)
	if err != nil {
		return err
	}
	d := contactsData{Status: f.Status, Overdue: f.Overdue, Total: total, Outcomes: store.ContactOutcomes}
	for _, t := range items {
		cv := contactView{ContactTaskView: t, Due: romeDateTime(t.DueAt), DueISO: htmlTime(t.DueAt),
			KindText: s.tOr(c, "desk.kind."+t.NotificationKind, t.NotificationKind)}
		if t.Outcome != nil {
			cv.Done = s.tOr(c, "desk.outcome."+*t.Outcome, *t.Outcome)
		}
		d.Items = append(d.Items, cv)
	}
	s.render(c, status, "desk_contacts", view{Title: s.t(c, "desk.contacts"), Nav: "contacts", Data: d})
	return nil
}

func (s *Site) contactOutcomeSubmit(c *gin.Context) error {
	req := desk.ContactOutcome{Outcome: c.PostForm("outcome"), Note: c.PostForm("note")}
	_, err := s.desk.RecordContact(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	switch he := httpx.From(err); {
	case err == nil:
		setFlash(c, "success", "desk.outcome_saved")
	case he.Status == http.StatusUnprocessableEntity:
		setFlash(c, "danger", "desk.outcome_invalid")
	case he.Code == "task_not_open":
		setFlash(c, "warning", "desk.outcome_closed")
	default:
		return err
	}
	redirect(c, "/desk/contacts")
	return nil
}

// ---- activation ----

type activateData struct {
	Username, Code, Password, Confirm fieldView
}

func (s *Site) renderActivate(c *gin.Context, status int, username, code string, errs map[string]string) {
	d := activateData{
		Username: fieldView{Name: "username", ID: "username", Label: s.t(c, "login.username"), Value: username,
			Required: true, Autocomplete: "username", Error: errs["/username"]},
		Code: fieldView{Name: "code", ID: "code", Label: s.t(c, "activate.code"), Value: code, Required: true,
			Autocomplete: "one-time-code", Hint: s.t(c, "activate.code_hint"), Error: errs["/code"]},
		Password: fieldView{Name: "password", ID: "password", Label: s.t(c, "activate.password"), Type: "password",
			Required: true, Autocomplete: "new-password", Hint: s.t(c, "activate.password_hint"), Error: errs["/password"]},
		Confirm: fieldView{Name: "confirm", ID: "confirm", Label: s.t(c, "activate.confirm"), Type: "password",
			Required: true, Autocomplete: "new-password", Error: errs["/confirm"]},
	}
	v := view{Title: s.t(c, "activate.title"), Data: d}
	for _, k := range []string{"/username", "/code", "/password", "/confirm"} {
		if errs[k] != "" {
			v.Errors = append(v.Errors, summaryItem{Href: "#" + strings.TrimPrefix(k, "/"), Text: errs[k]})
		}
	}
	s.render(c, status, "activate", v)
}

func (s *Site) activatePage(c *gin.Context) error {
	s.renderActivate(c, http.StatusOK, c.Query("username"), "", nil)
	return nil
}

func (s *Site) activateSubmit(c *gin.Context) error {
	req := accounts.Activation{Username: c.PostForm("username"), Code: c.PostForm("code"), Password: c.PostForm("password")}
	errs := map[string]string{}
	if req.Password != c.PostForm("confirm") {
		errs["/confirm"] = s.t(c, "activate.mismatch")
		s.renderActivate(c, http.StatusUnprocessableEntity, req.Username, req.Code, errs)
		return nil
	}
	u, err := s.accounts.Activate(c.Request.Context(), req, c.ClientIP())
	if he := httpx.From(err); err != nil && he.Status == http.StatusUnprocessableEntity {
		for _, fe := range he.Fields {
			errs[fe.Pointer] = fe.In(pageLang(c))
		}
		s.renderActivate(c, he.Status, req.Username, req.Code, errs)
		return nil
	}
	if he := httpx.From(err); err != nil && (he.Status == http.StatusTooManyRequests || he.Code == "busy") {
		c.Header("Retry-After", httpx.RetryAfterSeconds(he.RetryAfter))
		errs["/code"] = s.t(c, "login.busy")
		if he.Status == http.StatusTooManyRequests {
			errs["/code"] = s.t(c, "login.throttled", httpx.RetryAfterSeconds(he.RetryAfter))
		}
		s.renderActivate(c, he.Status, req.Username, req.Code, errs)
		return nil
	}
	if err != nil {
		return err
	}
	setFlash(c, "success", "activate.done", u.Username)
	redirect(c, "/login?next=%2Fme")
	return nil
}

// ---- trust at the desk (desk_trust.go) ----

type recoveriesData struct {
	Waiting []recoveryView
	Shared  bool
}

type recoveryView struct {
	store.Recovery
	When string
}

func (s *Site) recoveriesPage(c *gin.Context) error {
	ctx, user := c.Request.Context(), httpx.CurrentUser(c)
	list, err := s.desk.Recoveries(ctx, user, store.RecoveryAwaitingApproval)
	if err != nil {
		return err
	}
	shared, err := s.desk.DeskShared(ctx, user)
	if err != nil {
		return err
	}
	d := recoveriesData{Shared: shared}
	for _, r := range list {
		d.Waiting = append(d.Waiting, recoveryView{Recovery: r, When: romeDateTime(r.RequestedAt)})
	}
	s.render(c, http.StatusOK, "desk_recoveries", view{Title: s.t(c, "rec.title"), Nav: "recoveries", Data: d})
	return nil
}

func (s *Site) recoveryDecisionSubmit(c *gin.Context) error {
	approve := c.PostForm("decision") == "approve"
	_, code, err := s.desk.DecideRecovery(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), desk.RecoveryDecision{Approve: &approve})
	if err != nil {
		return err
	}
	if code == nil {
		redirect(c, "/desk/recoveries")
		return nil
	}
	s.renderSheet(c, code.Citizen, code.Code)
	return nil
}

func (s *Site) deskSharingSubmit(c *gin.Context) error {
	shared := c.PostForm("shared") == "true"
	if err := s.desk.SetSharing(c.Request.Context(), httpx.CurrentUser(c), desk.Sharing{Shared: &shared}); err != nil {
		return err
	}
	redirect(c, "/desk/recoveries")
	return nil
}
