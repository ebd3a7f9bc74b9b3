package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/applications"
	"sportello/internal/app/marketplace"
	"sportello/internal/store"
	"sportello/internal/voucherpdf"
)

// meData is the personal area's data.
type meData struct {
	Cases    []store.CaseSummary
	Vouchers []store.VoucherView
	ISEE     iseeSection
	SignIn   signInView // how this session was opened (signin.go)
}

func (s *Site) mePage(c *gin.Context) error { return s.renderMe(c, http.StatusOK, nil, "") }

// renderMe renders the personal area; typedISEE and iseeErr are the ISEE
// form's value and problem after a refused submission (nil, "" otherwise).
func (s *Site) renderMe(c *gin.Context, status int, typedISEE *string, iseeErr string) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	cases, _, err := s.applications.Cases(ctx, user, store.CaseFilter{Limit: 200})
	if err != nil {
		return err
	}
	vouchers, _, err := s.vouchers.List(ctx, user, store.VoucherFilter{Limit: 200})
	if err != nil {
		return err
	}
	isee, err := s.iseeSectionFor(c, typedISEE, iseeErr)
	if err != nil {
		return err
	}
	signIn, err := s.signInOf(c)
	if err != nil {
		return err
	}
	v := view{Title: s.t(c, "me.title"), Nav: "me", Data: meData{Cases: cases, Vouchers: vouchers, ISEE: isee, SignIn: signIn}}
	if iseeErr != "" {
		v.Errors = []summaryItem{{Href: "#" + isee.Field.FieldID(), Text: isee.Field.Label + ": " + iseeErr}}
	}
	s.render(c, status, "me", v)
	return nil
}

// caseData is the citizen's case page data.
type caseData struct {
	Case     store.CaseView
	FormName string
	Filed    bool // just filed: show the confirmation
	Events   []citizenEvent
	Reply    fieldView
	Token    string // idempotency token of the reply form
	// DecisionBy is when to expect an answer ("" once decided).
	DecisionBy string
	// Appeal is a rejection's next step and how to appeal ("" otherwise).
	Appeal string
}

// citizenEvent is a timeline entry in plain language.
type citizenEvent struct {
	At     string
	Text   string
	Detail string
}

// ownCase reads a case of the logged-in citizen (404 for anyone else's).
func (s *Site) ownCase(c *gin.Context) (store.CaseView, error) {
	return s.applications.OwnCase(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
}

// citizenCasePage is /cases/:id for the citizen who filed the case: also
// the confirmation page after filing (?filed=1).
func (s *Site) citizenCasePage(c *gin.Context) error {
	v, err := s.ownCase(c)
	if err != nil {
		return err
	}
	return s.renderCitizenCase(c, http.StatusOK, v, "", "")
}

func (s *Site) renderCitizenCase(c *gin.Context, status int, v store.CaseView, reply, replyErr string) error {
	lang := pageLang(c)
	events, err := s.applications.Timeline(c.Request.Context(), httpx.CurrentUser(c), v.ID)
	if err != nil {
		return err
	}
	d := caseData{Case: v, Filed: c.Query("filed") == "1", Token: newFormToken(),
		Reply: fieldView{Name: "message", ID: "reply-message", Label: s.t(c, "case.reply_label"), Value: reply,
			Hint: s.t(c, "case.reply_hint"), Error: replyErr, Required: true, Extra: map[string]string{"maxlength": "4000"}}}
	if f, ok := s.Forms.Get(v.Form); ok {
		d.FormName = formTitle(f, lang)
	}
	d.Events = citizenTimeline(lang, events)
	if due, ok, err := s.applications.DecisionExpected(c.Request.Context(), v, events); err != nil {
		return err
	} else if ok {
		d.DecisionBy = formatDate(lang, due)
	}
	if v.Status == "rejected" {
		if d.Appeal, err = s.appealText(c, v); err != nil {
			return err
		}
	}
	vw := view{Title: s.t(c, "case.title", v.ID), Nav: "me", Data: d,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}, {Href: "/me", Text: s.t(c, "nav.me")}}}
	if replyErr != "" {
		vw.Errors = []summaryItem{{Href: "#" + d.Reply.FieldID(), Text: d.Reply.Label + ": " + replyErr}}
	}
	s.render(c, status, "case_citizen", vw)
	return nil
}

func translateEvent(lang, typ string) string {
	if hasMessage("event." + typ) {
		return translate(lang, "event."+typ)
	}
	return typ
}

// eventDetail is the part of an event's detail a citizen should read: the
// reason of a request or rejection, an amount.
func eventDetail(lang string, e store.CaseEvent) string {
	var d struct {
		Reason      string `json:"reason"`
		AmountCents *int64 `json:"amount_cents"`
		Message     string `json:"message"`
		FiledByName string `json:"filed_by_name"`
		ForName     string `json:"on_behalf_of_name"`
	}
	_ = json.Unmarshal(e.Detail, &d)
	switch e.Type {
	case "submitted":
		if d.FiledByName != "" {
			return translate(lang, "desk.event.on_behalf", d.FiledByName, d.ForName)
		}
	case "information_requested", "rejected":
		return d.Reason
	case "approved", "tranche_released":
		if d.AmountCents != nil {
			return formatEuro(lang, *d.AmountCents)
		}
	}
	return ""
}

// caseReplySubmit sends the citizen's reply to a request for information,
// through the same domain code as the JSON endpoint.
func (s *Site) caseReplySubmit(c *gin.Context) error {
	v, err := s.ownCase(c)
	if err != nil {
		return err
	}
	msgText := strings.TrimSpace(c.PostForm("message"))
	switch {
	case msgText == "":
		return s.renderCitizenCase(c, http.StatusUnprocessableEntity, v, msgText, s.t(c, "case.reply_required"))
	case utf8.RuneCountInString(msgText) > applications.MaxReply:
		return s.renderCitizenCase(c, http.StatusUnprocessableEntity, v, msgText, s.t(c, "case.reply_too_long"))
	}
	key := ""
	if tok := c.PostForm("token"); validFormToken.MatchString(tok) {
		key = "web:" + tok
	}
	caseURL := "/cases/" + url.PathEscape(v.ID)
	_, err = s.applications.ProvideInfo(c.Request.Context(), httpx.CurrentUser(c), v.ID,
		applications.Reply{Data: &applications.ReplyData{Message: msgText}}, key)
	if err != nil {
		he := httpx.From(err)
		if he.Status == http.StatusConflict {
			setFlash(c, "warning", "case.reply_not_needed")
			redirect(c, caseURL)
			return nil
		}
		if he.Status == http.StatusUnprocessableEntity {
			text := he.Message
			if len(he.Fields) > 0 {
				text = he.Fields[0].In(pageLang(c))
			}
			return s.renderCitizenCase(c, http.StatusUnprocessableEntity, v, msgText, text)
		}
		return err
	}
	setFlash(c, "success", "case.reply_sent")
	redirect(c, caseURL)
	return nil
}

// ownVoucher reads a voucher of the logged-in citizen (404 otherwise: the
// citizen's scope sees only their own vouchers).
func (s *Site) ownVoucher(c *gin.Context) (store.VoucherView, error) {
	return s.vouchers.Own(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
}

// voucherData is the voucher page's data.
type voucherData struct {
	Voucher    store.VoucherView
	Moves      []citizenMove
	QRURL      string
	PDFURL     string
	Categories []crumb // a service voucher's categories, linked to the catalogue
}

// citizenMove is a voucher movement in plain language.
type citizenMove struct {
	At     string
	Text   string
	Effect string // signed amount on the available balance, "" when none
}

func (s *Site) voucherPage(c *gin.Context) error {
	v, err := s.ownVoucher(c)
	if err != nil {
		return err
	}
	lang := pageLang(c)
	base := "/vouchers/" + url.PathEscape(v.ID)
	d := voucherData{Voucher: v, QRURL: base + "/qr.png", PDFURL: base + "/pdf", Categories: s.serviceCategoryLinks(c, v)}
	for _, m := range v.Movements {
		mv := citizenMove{At: formatDateTime(lang, m.At), Text: translate(lang, "move."+m.Kind)}
		if !hasMessage("move." + m.Kind) {
			mv.Text = m.Kind
		}
		if m.Kind == "redemption" && m.Merchant != "" {
			mv.Text = translate(lang, "move.redemption_at", m.Merchant)
		}
		switch {
		case m.AvailableEffectCents > 0:
			mv.Effect = "+" + formatEuro(lang, m.AvailableEffectCents)
		case m.AvailableEffectCents < 0:
			mv.Effect = "−" + formatEuro(lang, -m.AvailableEffectCents)
		}
		d.Moves = append(d.Moves, mv)
	}
	s.render(c, http.StatusOK, "voucher", view{Title: s.t(c, "voucher.title", v.Code), Nav: "me", Data: d,
		Crumbs: []crumb{{Href: "/", Text: s.t(c, "nav.home")}, {Href: "/me", Text: s.t(c, "nav.me")}}})
	return nil
}

// voucherQR serves the QR code of the voucher's code as a PNG.
func (s *Site) voucherQR(c *gin.Context) error {
	v, err := s.ownVoucher(c)
	if err != nil {
		return err
	}
	png, err := voucherpdf.QRPNG(v.Code, 330)
	return httpx.PrivateFile(c, "image/png", png, "", err)
}

// voucherPDF serves the printable voucher (food vouchers: a service
// voucher is spent in the catalogue, not shown at a shop).
func (s *Site) voucherPDF(c *gin.Context) error {
	v, err := s.ownVoucher(c)
	if err != nil {
		return err
	}
	if v.Kind == store.FundKindService {
		return httpx.NotFound("voucher")
	}
	user := httpx.CurrentUser(c)
	pv := voucherpdf.Voucher{
		Code: v.Code, AmountCents: v.AmountCents, AvailableCents: v.AvailableCents, PendingCents: v.PendingCents,
		Municipality: municipalityName(v.Municipality), FundName: v.FundID, ExpiresAt: v.ExpiresAt,
		HolderName: user.DisplayName, Lang: pageLang(c),
	}
	if fund, municipality, ok := s.vouchers.FundNames(c.Request.Context(), v); ok {
		pv.FundName, pv.Municipality = fund, municipality
	}
	var buf bytes.Buffer
	err = voucherpdf.Write(&buf, pv)
	return httpx.PrivateFile(c, "application/pdf", buf.Bytes(), "buono-"+strings.ReplaceAll(v.Code, "-", "")+".pdf", err)
}

// municipalityName turns a municipality id into a display name
// ("vedano-olona" → "Vedano Olona"), when nothing better is known.
func municipalityName(id string) string {
	words := strings.Split(id, "-")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// iseeSection is the ISEE part of the personal area.
type iseeSection struct {
	Field fieldView
	Used  string // "8.500 € (from your profile)"; "" when none is known
}

func (s *Site) iseeSectionFor(c *gin.Context, typed *string, problem string) (iseeSection, error) {
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
func (s *Site) meISEESubmit(c *gin.Context) error {
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
func (s *Site) serviceCategoryLinks(c *gin.Context, v store.VoucherView) []crumb {
	var out []crumb
	for _, cat := range v.Categories {
		out = append(out, crumb{Href: "/services?category=" + cat, Text: s.t(c, "cat.category."+cat)})
	}
	return out
}
