package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/accounts"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/textcheck"
)

// sessionCookie carries the web session: the same kind of token as the
// API's bearer tokens, stored hashed in auth_sessions. The __Host- prefix
// makes the browser insist on Secure, Path=/ and no Domain.
const sessionCookie = "__Host-sportello_session"

// pageHeaders sets the security headers of HTML pages (replacing the JSON
// API's stricter defaults set by securityHeaders).
func pageHeaders(c *gin.Context) {
	setPageHeaders(c.Writer.Header())
	c.Next()
}

// setPageHeaders sets the headers of pageHeaders on h.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	// Pages show personal data and the user menu: never cache them.
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Cookie")
}

// crossOrigin refuses state-changing requests that come from another site
// (net/http's CrossOriginProtection: Sec-Fetch-Site, then Origin vs Host).
// Safe methods pass.
func (s *Site) crossOrigin() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		if err := cop.Check(c.Request); err != nil {
			s.log.InfoContext(c.Request.Context(), "cross-origin request refused", "request_id", httpx.RequestID(c),
				"path", c.Request.URL.Path, "origin", c.GetHeader("Origin"), "sec_fetch_site", c.GetHeader("Sec-Fetch-Site"))
			s.pageError(c, http.StatusForbidden)
			return
		}
		c.Next()
	}
}

// pageSession loads the user of the session cookie, when there is a live
// one; an unknown or expired cookie is cleared. It never refuses.
func (s *Site) pageSession(c *gin.Context) {
	token, err := c.Cookie(sessionCookie)
	if err != nil || token == "" || len(token) > 256 {
		c.Next()
		return
	}
	sess, err := s.accounts.Resolve(c.Request.Context(), token)
	switch {
	case err == nil:
		httpx.SetSession(c, sess.User, sess.Hash)
	case errors.Is(err, accounts.ErrSessionIdle):
		clearSessionCookie(c)
		setFlash(c, "info", "login.session_idle")
	case errors.Is(err, accounts.ErrNoSession):
		clearSessionCookie(c)
	default:
		s.pageFail(c, err)
		return
	}
	c.Next()
}

// requireLogin sends anonymous visitors to the login page, with a way back.
func (s *Site) requireLogin(c *gin.Context) {
	if !httpx.LoggedIn(c) {
		s.redirectToLogin(c)
		return
	}
	c.Next()
}

func (s *Site) redirectToLogin(c *gin.Context) {
	next := "/"
	if c.Request.Method == http.MethodGet {
		next = c.Request.URL.RequestURI()
	}
	setFlash(c, "info", "login.session_needed")
	redirect(c, "/login?next="+url.QueryEscape(next))
}

// pageRoles lets only the listed roles through; others get the 403 page.
func (s *Site) pageRoles(allowed ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(allowed, httpx.CurrentUser(c).Role) {
			s.pageError(c, http.StatusForbidden)
			return
		}
		c.Next()
	}
}

// safeNext returns next when it is a path on this site, "/" otherwise (no
// open redirects).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return u.RequestURI()
}

func setSessionCookie(c *gin.Context, token string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

func clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

// loginData is the login page's data.
type loginData struct {
	Next     string
	Username fieldView
	Password fieldView
	// SignIn: the "Entra con SPID/CIE" button is shown (signin.go).
	SignIn bool
	// Demo lists the demo accounts (demo mode only) and their password.
	Demo         []demoAccount
	DemoPassword string
}

func (s *Site) loginForm(c *gin.Context, username, next string) loginData {
	return loginData{
		Next: next, SignIn: s.accounts.SignInEnabled(), Demo: s.demoAccounts(), DemoPassword: seed.DemoPassword,
		Username: fieldView{Name: "username", ID: "username", Label: s.t(c, "login.username"), Value: username,
			Required: true, Autocomplete: "username"},
		Password: fieldView{Name: "password", ID: "password", Label: s.t(c, "login.password"), Type: "password",
			Required: true, Autocomplete: "current-password"},
	}
}

func (s *Site) loginPage(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if httpx.LoggedIn(c) {
		redirect(c, next)
		return
	}
	s.render(c, http.StatusOK, "login", view{Title: s.t(c, "login.title"), Data: s.loginForm(c, "", next)})
}

func (s *Site) loginSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	username := strings.TrimSpace(c.PostForm("username"))
	password := c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	d := s.loginForm(c, username, next)
	switch {
	case username == "":
		d.Username.Error = s.t(c, "login.username_req")
	case len(username) > 200:
		d.Username.Error = s.t(c, "login.too_long")
	}
	switch {
	case password == "":
		d.Password.Error = s.t(c, "login.password_req")
	case len(password) > 1024:
		d.Password.Error = s.t(c, "login.too_long")
	}
	ok := d.Username.Error == "" && d.Password.Error == ""
	status := http.StatusUnprocessableEntity
	var u store.UserView
	if ok {
		var err error
		u, err = s.accounts.Login(ctx, accounts.Credentials{Username: username, Password: password}, c.ClientIP())
		switch he := httpx.From(err); {
		case err == nil:
		case errors.Is(err, accounts.ErrBadCredentials):
			d.Password.Error = s.t(c, "login.bad")
		case he.Status == http.StatusTooManyRequests || he.Status == http.StatusServiceUnavailable && he.Code == "busy":
			status = he.Status
			c.Header("Retry-After", httpx.RetryAfterSeconds(he.RetryAfter))
			if he.Status == http.StatusTooManyRequests {
				d.Password.Error = s.t(c, "login.throttled", httpx.RetryAfterSeconds(he.RetryAfter))
			} else {
				d.Password.Error = s.t(c, "login.busy")
			}
		default:
			return err
		}
		ok = err == nil
	}
	if !ok {
		var items []summaryItem
		for _, f := range []fieldView{d.Username, d.Password} {
			if f.Error != "" {
				items = append(items, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
			}
		}
		s.render(c, status, "login", view{Title: s.t(c, "login.title"), Data: d, Errors: items})
		return nil
	}
	token, expires, err := s.accounts.Start(ctx, u)
	if err != nil {
		return err
	}
	// A session the browser held before logging in is ended.
	if old, err := c.Cookie(sessionCookie); err == nil && old != "" && len(old) <= 256 {
		_ = s.accounts.EndToken(ctx, old)
	}
	setSessionCookie(c, token, expires)
	s.log.InfoContext(ctx, "web login", "request_id", httpx.RequestID(c), "user_id", u.ID, "role", u.Role)
	setFlash(c, "success", "login.welcome", u.DisplayName)
	redirect(c, next)
	return nil
}

func (s *Site) logoutSubmit(c *gin.Context) error {
	if httpx.LoggedIn(c) {
		if err := s.accounts.End(c.Request.Context(), httpx.SessionHash(c)); err != nil {
			return err
		}
	}
	clearSessionCookie(c)
	setFlash(c, "info", "logout.done")
	redirect(c, "/")
	return nil
}

// setLang stores the language choice and goes back to where the visitor
// was (?next= or the posted next field, same-site paths only).
func (s *Site) setLang(c *gin.Context) {
	code := c.Param("code")
	if !slices.Contains(languages, code) {
		s.pageError(c, http.StatusNotFound)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: code, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	next := c.Query("next")
	if c.Request.Method == http.MethodPost {
		next = c.PostForm("next")
	}
	redirect(c, safeNext(next))
}

// formHygiene checks every field of a web form post like checkJSONText
// checks JSON: names single-line, values free text (tab and line breaks
// allowed), no NUL, control or bidi characters, valid UTF-8. A problem is a
// 422 page naming the fields.
func (s *Site) formHygiene(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		c.Next()
		return
	}
	ct := c.ContentType()
	if ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data" {
		c.Next()
		return
	}
	var err error
	if ct == "multipart/form-data" {
		err = c.Request.ParseMultipartForm(httpx.MaxBody)
	} else {
		err = c.Request.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) {
			err = &httpx.Error{Status: http.StatusBadRequest, Code: "body", Message: "could not read the form", Cause: err}
		}
		s.pageFail(c, err)
		return
	}
	var fields []FieldError
	for _, form := range []url.Values{c.Request.PostForm, c.Request.Form} {
		for k, vs := range form {
			if code := textcheck.Check(k, false); code != "" {
				fields = append(fields, FieldError{Parameter: "?", Code: code, Text: textcheck.Text(code)})
				continue
			}
			for _, v := range vs {
				if code := textcheck.Check(v, true); code != "" {
					fields = append(fields, FieldError{Parameter: k, Code: code, Text: textcheck.Text(code)})
					break
				}
			}
		}
		if len(fields) > 0 {
			break
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b FieldError) int { return strings.Compare(a.Parameter, b.Parameter) })
		s.pageInvalid(c, fields)
		return
	}
	c.Next()
}

// pageInvalid renders the 422 page listing the refused fields (Italian
// first, like every page) and aborts the chain.
func (s *Site) pageInvalid(c *gin.Context, fields []FieldError) {
	lang := pageLang(c)
	items := make([]string, 0, len(fields))
	for _, f := range fields {
		items = append(items, f.Parameter+": "+f.In(lang))
	}
	s.render(c, http.StatusUnprocessableEntity, "error", view{
		Title: s.t(c, "error.title.422"),
		Data:  map[string]any{"Text": s.t(c, "error.text.422_text"), "Status": http.StatusUnprocessableEntity, "Fields": items},
	})
	c.Abort()
}
