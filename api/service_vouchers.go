package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// Service vouchers (issue 5, part A): the citizen's declared ISEE (JSON
// and the personal area), and the wording of service vouchers on the
// citizen's pages, the till and the funds page. The form itself is
// forms/schemas/buono-servizi; its cases run the same case workflow as food
// vouchers, and the redemption refusal lives in store.Redeem.

// iseeJSON is the citizen's ISEE: the one in the profile and the one the
// catalogue uses (the newer of the profile's and the latest application's).
type iseeJSON struct {
	store.ProfileISEE
	Catalogue *store.CitizenISEE `json:"catalogue"`
}

func (s *server) iseeOf(ctx context.Context, user store.UserView) (iseeJSON, error) {
	p, err := s.api.ProfileISEE(ctx, user.Scope(), user.ID)
	if err != nil {
		return iseeJSON{}, err
	}
	out := iseeJSON{ProfileISEE: p}
	used, ok, err := s.api.CitizenISEE(ctx, user.Scope(), user.ID)
	if err != nil {
		return iseeJSON{}, err
	}
	if ok {
		out.Catalogue = &used
	}
	return out, nil
}

func (s *server) getISEE(c *gin.Context) error {
	v, err := s.iseeOf(c.Request.Context(), currentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

var errISEEField = field("/isee_euro", "invalid",
	"isee_euro must be a number of euro from 0 to 1,000,000 with at most two decimals, or null to remove it",
	"isee_euro deve essere un importo in euro da 0 a 1.000.000 con al massimo due decimali, o null per toglierlo")

// parseISEE reads the isee_euro of a request: null clears it; a number of
// euro with at most two decimals is rounded up to the whole euro.
func parseISEE(raw json.RawMessage) (*int, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, invalid(field("/isee_euro", "required", "isee_euro is required (null removes it)",
			"isee_euro è obbligatorio (null lo toglie)"))
	}
	if string(trimmed) == "null" {
		return nil, nil
	}
	if trimmed[0] == '"' {
		return nil, invalid(errISEEField) // json.Number would take "8500"
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var n json.Number
	if err := dec.Decode(&n); err != nil || len(n) > 30 {
		return nil, invalid(errISEEField)
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(store.MaxISEEEuro, 1)) > 0 ||
		!new(big.Rat).Mul(r, big.NewRat(100, 1)).IsInt() {
		return nil, invalid(errISEEField)
	}
	return iseeEuroUp(new(big.Rat).Mul(r, big.NewRat(100, 1)).Num().Int64()), nil
}

// iseeEuroUp turns cents into whole euro, rounding up (bands are bounded in
// whole euro: 10,000.50 is above a band that ends at 10,000).
func iseeEuroUp(cents int64) *int {
	e := int((cents + 99) / 100)
	return &e
}

func (s *server) putISEE(c *gin.Context) error {
	var req struct {
		ISEE json.RawMessage `json:"isee_euro"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	euro, err := parseISEE(req.ISEE)
	if err != nil {
		return err
	}
	user := currentUser(c)
	ctx := c.Request.Context()
	if _, err := s.api.SetProfileISEE(ctx, user, euro, requestIDFrom(ctx)); err != nil {
		return err
	}
	v, err := s.iseeOf(ctx, user)
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
	v, err := s.iseeOf(c.Request.Context(), currentUser(c))
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
		euro = iseeEuroUp(cents)
	}
	ctx := c.Request.Context()
	if _, err := s.api.SetProfileISEE(ctx, currentUser(c), euro, requestIDFrom(ctx)); err != nil {
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
