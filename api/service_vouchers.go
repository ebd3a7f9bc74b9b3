package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/marketplace"
	"sportello/internal/store"
)

// Service vouchers (issue 5, part A): the citizen's declared ISEE (JSON
// and the personal area), and the wording of service vouchers on the
// citizen's pages, the till and the funds page. The form itself is
// forms/schemas/buono-servizi; its cases run the same case workflow as food
// vouchers, and the redemption refusal lives in store.Redeem. The ISEE's
// rules are the marketplace service's (internal/app/marketplace).

func (s *server) getISEE(c *gin.Context) error {
	v, err := s.marketplace.ISEE(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// parseISEE reads the isee_euro of a request (marketplace.ParseISEE) as
// the API answers it, a 422 when refused (FuzzParseISEE checks both).
func parseISEE(raw json.RawMessage) (*int, error) {
	euro, err := marketplace.ParseISEE(raw)
	if err != nil {
		return nil, httpx.From(err)
	}
	return euro, nil
}

func (s *server) putISEE(c *gin.Context) error {
	var in marketplace.ISEEInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.marketplace.PutISEE(c.Request.Context(), httpx.CurrentUser(c), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// iseeSection is the ISEE part of the personal area.
type iseeSection struct {
	Field fieldView
	Used  string // "8.500 € (from your profile)"; "" when none is known
}

func (s *server) iseeSectionFor(c *gin.Context, typed *string, problem string) (iseeSection, error) {
	lang := pageLang(c)
	v, err := s.marketplace.ISEE(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return iseeSection{}, err
	}
	value := ""
	if v.Euro != nil {
		value = strconv.Itoa(*v.Euro)
	}
	if typed != nil {
		value = *typed
	}
	d := iseeSection{Field: fieldView{Name: "isee", ID: "isee", Label: s.t(c, "me.isee_label"), Value: value,
		Hint: s.t(c, "me.isee_hint"), Error: problem, Autocomplete: "off",
		Extra: map[string]string{"inputmode": "decimal", "maxlength": "20"}}}
	if u := v.Catalogue; u != nil {
		from := translate(lang, "me.isee_from_me")
		if u.Source == "application" {
			from = translate(lang, "me.isee_from_app", u.CaseID)
		}
		d.Used = fmt.Sprintf("%s (%s)", formatEuro(lang, int64(u.Euro)*100), from)
	}
	return d, nil
}

// meISEESubmit saves the ISEE typed on the personal area (empty: removed).
func (s *server) meISEESubmit(c *gin.Context) error {
	typed := strings.TrimSpace(c.PostForm("isee"))
	var euro *int
	if typed != "" {
		cents, ok := parseEuroInput(typed)
		if !ok || cents < 0 || cents > store.MaxISEEEuro*100 {
			return s.renderMe(c, http.StatusUnprocessableEntity, &typed, s.t(c, "me.isee_invalid"))
		}
		euro = marketplace.ISEEEuroUp(cents)
	}
	if err := s.marketplace.SetISEE(c.Request.Context(), httpx.CurrentUser(c), euro); err != nil {
		return err
	}
	if euro == nil {
		setFlash(c, "success", "me.isee_cleared")
	} else {
		setFlash(c, "success", "me.isee_saved")
	}
	redirect(c, "/me#isee-title")
	return nil
}

// serviceCategoryLinks are the catalogue links of a service voucher's
// categories.
func (s *server) serviceCategoryLinks(c *gin.Context, v store.VoucherView) []crumb {
	var out []crumb
	for _, cat := range v.Categories {
		out = append(out, crumb{Href: "/services?category=" + cat, Text: s.t(c, "cat.category."+cat)})
	}
	return out
}
