package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/calls"
	"sportello/internal/store"
)

// The open calls of a district, for anyone (issue 15): /open-calls lists
// the calls open now in the page's district (pageDistrict) with their
// municipality, dates, what they give and a link to apply; /open-calls/:id
// is one call (any district's: an open call is public). Applying carries
// the call (?call=) through the application steps, so the case is filed
// under the call the citizen chose (calls.Service.FilingCall). The JSON
// equivalent is GET /api/v1/open-calls.

// openCallCard is an open call as the pages show it.
type openCallCard struct {
	ID, Name, Municipality, Form, FormDescription string
	Period, Gives, Threshold                      string
	Categories                                    []string
	ApplyHref                                     string // the application, or the login page leading to it
	Citizen                                       bool   // a signed-in citizen, who applies
	Staff                                         bool   // a signed-in staff member, who does not
}

func (s *Site) openCallCard(c *gin.Context, oc store.OpenCall) openCallCard {
	lang, u := pageLang(c), httpx.CurrentUser(c)
	k := openCallCard{ID: oc.ID, Name: oc.Name, Municipality: oc.MunicipalityName, Form: oc.FormID,
		Period:    s.t(c, "opencalls.period", formatDate(lang, oc.OpensAt), formatDate(lang, oc.ClosesAt.Add(-1))),
		Threshold: s.t(c, "opencalls.threshold", formatEuro(lang, oc.ISEEThresholdCents)),
		ApplyHref: calls.ApplyPath(oc)}
	if f, ok := s.Forms.Get(oc.FormID); ok {
		k.Form, k.FormDescription = formTitle(f, lang), formDescription(f, lang)
	}
	switch {
	case oc.MaxAwardCents > 0 && oc.BaseAwardCents > 0 && oc.BaseAwardCents < oc.MaxAwardCents:
		k.Gives = s.t(c, "opencalls.gives_range", formatEuro(lang, oc.BaseAwardCents), formatEuro(lang, oc.MaxAwardCents))
	case oc.MaxAwardCents > 0:
		k.Gives = s.t(c, "opencalls.gives_up_to", formatEuro(lang, oc.MaxAwardCents))
	}
	for _, cat := range oc.Categories {
		k.Categories = append(k.Categories, s.t(c, "cat.category."+cat))
	}
	switch {
	case u.Role == roleCitizen:
		k.Citizen = true
	case u.Role != "":
		k.Staff = true
	default:
		k.ApplyHref = "/login?next=" + url.QueryEscape(k.ApplyHref)
	}
	return k
}

// openCallsPage is /open-calls: the open calls of the page's district.
func (s *Site) openCallsPage(c *gin.Context) error {
	district, err := s.pageDistrict(c)
	if err != nil {
		return err
	}
	list, err := s.applications.Calls.OpenCalls(c.Request.Context(), district)
	if err != nil {
		return err
	}
	cards := make([]openCallCard, 0, len(list))
	for _, oc := range list {
		cards = append(cards, s.openCallCard(c, oc))
	}
	s.render(c, http.StatusOK, "open_calls", view{Title: s.t(c, "opencalls.title"), Nav: "open-calls", Data: cards,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}}})
	return nil
}

// openCallPage is /open-calls/:id: one open call.
func (s *Site) openCallPage(c *gin.Context) error {
	oc, err := s.applications.Calls.OpenCall(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "open_call", view{Title: oc.Name, Nav: "open-calls", Data: s.openCallCard(c, oc),
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}, {Href: "/open-calls", Text: s.t(c, "opencalls.title")}}})
	return nil
}
