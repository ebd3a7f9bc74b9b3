package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/accounts"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// Sign-in like the national systems and recovery (issue 16): the start and
// the callback of the SPID/CIE-style sign-in, the login page's help, the
// password reset by e-mail. The rules are internal/app/accounts' (signin.go,
// reset.go); these pages only carry them.

// signInCookie keeps the state of a started sign-in in the browser that
// started it: the callback is finished only with the same state.
const signInCookie = "__Host-sportello_signin"

// signInPath is the callback the identity provider sends the browser back to.
const signInPath = "/login/spid/callback"

// SignInCallbackPath is the path of the callback (the redirect URL
// registered at the identity provider is the portal's address and it).
const SignInCallbackPath = signInPath

// demoAccount is a line of the login page's demo hint.
type demoAccount struct {
	Username, Role, Who string
}

// demoAccounts are the demo accounts of the seed, shown on the login page
// in demo mode only.
func (s *Site) demoAccounts() []demoAccount {
	if !s.Demo {
		return nil
	}
	var list []demoAccount
	for _, u := range seed.DemoUsers() {
		list = append(list, demoAccount{Username: u.Username, Role: u.Role, Who: u.DisplayName})
	}
	return list
}

// authPage tells whether path is one of the sign-in pages (the header's
// "Accedi" does not send back to them).
func authPage(path string) bool {
	return path == "/login" || strings.HasPrefix(path, "/login/") || path == "/attiva" || strings.HasPrefix(path, "/password/")
}

// loginHref is the header's "Accedi" link on a page of path and query q:
// back to the page itself, except from the sign-in pages.
func loginHref(path, requestURI string, q url.Values) string {
	if !authPage(path) {
		return "/login?next=" + url.QueryEscape(requestURI)
	}
	if next := q.Get("next"); next != "" && !authPage(strings.SplitN(safeNext(next), "?", 2)[0]) {
		return "/login?next=" + url.QueryEscape(safeNext(next))
	}
	return "/login"
}

// signInStart sends the browser to the identity provider.
func (s *Site) signInStart(c *gin.Context) error {
	next := safeNext(c.Query("next"))
	if authPage(strings.SplitN(next, "?", 2)[0]) {
		next = "/"
	}
	started, err := s.accounts.BeginSignIn(c.Request.Context(), next)
	if err != nil {
		return s.signInFailed(c, err)
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: signInCookie, Value: started.State, Path: "/", MaxAge: 600,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusSeeOther, started.URL)
	c.Abort()
	return nil
}

// signInCallback finishes the sign-in: a session with its level of
// assurance, or a page that says why not.
func (s *Site) signInCallback(c *gin.Context) error {
	ctx := c.Request.Context()
	browserState, _ := c.Cookie(signInCookie)
	http.SetCookie(c.Writer, &http.Cookie{Name: signInCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	in, err := s.accounts.FinishSignIn(ctx, accounts.Callback{State: c.Query("state"), Code: c.Query("code"),
		Error: c.Query("error"), BrowserState: browserState})
	if err != nil {
		return s.signInFailed(c, err)
	}
	if old, err := c.Cookie(sessionCookie); err == nil && old != "" && len(old) <= 256 {
		_ = s.accounts.EndToken(ctx, old)
	}
	setSessionCookie(c, in.Token, in.Expires)
	s.log.InfoContext(ctx, "web sign-in", "request_id", httpx.RequestID(c), "user_id", in.User.ID, "loa", in.LoA,
		"enrolled", in.Enrolled)
	setFlash(c, "success", "login.welcome", in.User.DisplayName)
	redirect(c, safeNext(in.Next))
	return nil
}

// signInFailed renders the page of a sign-in that did not finish: a person
// not in the registry learns why and whom to contact; other refusals say
// what went wrong and offer to start again. Faults stay faults.
func (s *Site) signInFailed(c *gin.Context, err error) error {
	he := httpx.From(err)
	if he.Status >= 500 && he.Status != http.StatusServiceUnavailable {
		return err
	}
	status := he.Status
	if status == http.StatusUnauthorized {
		status = http.StatusBadRequest
	}
	code := he.Code
	if !hasMessage("signin.err." + code) {
		code = "signin_state"
	}
	title := s.t(c, "signin.failed_title")
	if errors.Is(err, accounts.ErrNotResident) {
		title = s.t(c, "signin.not_resident_title")
	}
	s.render(c, status, "signin_failed", view{Title: title, Data: map[string]any{
		"Text": s.t(c, "signin.err."+code), "NotResident": errors.Is(err, accounts.ErrNotResident)}})
	return nil
}

// loaLevel is the level of a SPID or CIE level of assurance ("2" of
// https://www.spid.gov.it/SpidL2), "" when it is none of theirs.
func loaLevel(acr string) string {
	for _, p := range []string{"https://www.spid.gov.it/SpidL", "SpidL", "CieL"} {
		if rest, ok := strings.CutPrefix(acr, p); ok && len(rest) == 1 && rest >= "1" && rest <= "3" {
			return rest
		}
	}
	return ""
}

// signInView is how the session of a page was opened, for the personal area.
type signInView struct {
	OIDC  bool
	Level string // "1".."3", "" unknown
	LoA   string // the acr as received
}

func (s *Site) signInOf(c *gin.Context) (signInView, error) {
	by, err := s.accounts.SignInOf(c.Request.Context(), httpx.SessionHash(c))
	if errors.Is(err, store.ErrNotFound) {
		return signInView{}, nil
	}
	if err != nil {
		return signInView{}, err
	}
	return signInView{OIDC: by.Method == store.SessionOIDC, Level: loaLevel(by.LoA), LoA: by.LoA}, nil
}

// ---- password reset by e-mail ----

func (s *Site) forgotForm(c *gin.Context, username, problem string) (view, fieldView) {
	f := fieldView{Name: "username", ID: "username", Label: s.t(c, "login.username"), Value: username,
		Required: true, Autocomplete: "username", Error: problem}
	v := view{Title: s.t(c, "reset.forgot_title"), Data: map[string]any{"Username": f}}
	if problem != "" {
		v.Errors = []summaryItem{{Href: "#username", Text: f.Label + ": " + problem}}
	}
	return v, f
}

func (s *Site) forgotPage(c *gin.Context) error {
	v, _ := s.forgotForm(c, c.Query("username"), "")
	s.render(c, http.StatusOK, "password_forgot", v)
	return nil
}

// forgotSubmit asks a reset link. The page that follows is the same
// whether or not the account exists.
func (s *Site) forgotSubmit(c *gin.Context) error {
	username := c.PostForm("username")
	err := s.accounts.RequestReset(c.Request.Context(), accounts.ResetRequest{Username: username}, c.ClientIP())
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "info", "reset.sent")
		redirect(c, "/login")
		return nil
	case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
		v, _ := s.forgotForm(c, username, he.Fields[0].In(pageLang(c)))
		s.render(c, he.Status, "password_forgot", v)
		return nil
	case he.Status == http.StatusTooManyRequests:
		c.Header("Retry-After", httpx.RetryAfterSeconds(he.RetryAfter))
		v, _ := s.forgotForm(c, username, s.t(c, "reset.throttled", httpx.RetryAfterSeconds(he.RetryAfter)))
		s.render(c, he.Status, "password_forgot", v)
		return nil
	}
	return err
}

func (s *Site) resetForm(c *gin.Context, token string, errs map[string]string) view {
	pw := fieldView{Name: "password", ID: "password", Label: s.t(c, "activate.password"), Type: "password",
		Required: true, Autocomplete: "new-password", Hint: s.t(c, "activate.password_hint"), Error: errs["/password"]}
	confirm := fieldView{Name: "confirm", ID: "confirm", Label: s.t(c, "activate.confirm"), Type: "password",
		Required: true, Autocomplete: "new-password", Error: errs["/confirm"]}
	v := view{Title: s.t(c, "reset.title"), Data: map[string]any{"Token": token, "Password": pw, "Confirm": confirm}}
	for _, f := range []fieldView{pw, confirm} {
		if f.Error != "" {
			v.Errors = append(v.Errors, summaryItem{Href: "#" + f.ID, Text: f.Label + ": " + f.Error})
		}
	}
	return v
}

// resetPage asks the new password of a live reset link; a link that is
// not (any more) live gets a page that says so and offers a new one.
func (s *Site) resetPage(c *gin.Context) error {
	token := c.Query("token")
	live, err := s.accounts.ResetLinkLive(c.Request.Context(), token)
	if err != nil {
		return err
	}
	if !live {
		s.render(c, http.StatusNotFound, "password_reset_dead", view{Title: s.t(c, "reset.dead_title")})
		return nil
	}
	s.render(c, http.StatusOK, "password_reset", s.resetForm(c, token, nil))
	return nil
}

func (s *Site) resetSubmit(c *gin.Context) error {
	token, password := c.PostForm("token"), c.PostForm("password")
	if password != c.PostForm("confirm") {
		s.render(c, http.StatusUnprocessableEntity, "password_reset",
			s.resetForm(c, token, map[string]string{"/confirm": s.t(c, "activate.mismatch")}))
		return nil
	}
	_, err := s.accounts.ResetPassword(c.Request.Context(), accounts.NewPassword{Token: token, Password: password})
	he := httpx.From(err)
	if err != nil && he.Status == http.StatusUnprocessableEntity {
		errs := map[string]string{}
		for _, f := range he.Fields {
			if f.Pointer == "/token" {
				s.render(c, http.StatusNotFound, "password_reset_dead", view{Title: s.t(c, "reset.dead_title")})
				return nil
			}
			errs[f.Pointer] = f.In(pageLang(c))
		}
		s.render(c, he.Status, "password_reset", s.resetForm(c, token, errs))
		return nil
	}
	if err != nil {
		return err
	}
	// Every session of the account ended, this browser's too.
	clearSessionCookie(c)
	setFlash(c, "success", "reset.done")
	redirect(c, "/login")
	return nil
}
