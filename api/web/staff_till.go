package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/vouchers"
)

// The merchant's till: type or scan a voucher code, enter the amount, get a
// receipt. The merchant never sees who holds the voucher.

// tillRecent is how many of the merchant's redemptions the till lists.
const tillRecent = 10

type tillData struct {
	Code     fieldView
	Amount   fieldView
	Key      string
	Receipt  *receiptView
	Problem  string // why the last redemption was refused
	Recent   []recentView
	Merchant string
}

type receiptView struct {
	Number    string
	Amount    string
	Remaining string
	At, AtISO string
	Merchant  string
	Replayed  bool
}

type recentView struct {
	Number     string
	CodeSuffix string
	Amount     string
	Remaining  string
	At, AtISO  string
}

// receiptNumber is the short form of a redemption id shown on receipts.
func receiptNumber(id string) string {
	short := strings.ToUpper(strings.ReplaceAll(id, "-", ""))
	if len(short) > 10 {
		short = short[:10]
	}
	return short
}

func (s *Site) tillForm(c *gin.Context, code, amount string) tillData {
	return tillData{
		Code: fieldView{Name: "code", ID: "code", Label: s.t(c, "till.code"), Value: code, Hint: s.t(c, "till.code_hint"),
			Required: true, Autocomplete: "off",
			Extra: map[string]string{"inputmode": "text", "autocapitalize": "characters", "spellcheck": "false", "maxlength": "64"}},
		Amount: fieldView{Name: "amount", ID: "amount", Label: s.t(c, "till.amount"), Value: amount, Hint: s.t(c, "till.amount_hint"),
			Required: true, Autocomplete: "off", Extra: map[string]string{"inputmode": "decimal", "maxlength": "20"}},
		Key:      newFormToken(),
		Merchant: httpx.CurrentUser(c).MerchantName,
	}
}

func (s *Site) tillPage(c *gin.Context) error {
	return s.renderTill(c, http.StatusOK, s.tillForm(c, "", ""), nil)
}

func (s *Site) tillSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	lang := pageLang(c)
	code := strings.TrimSpace(c.PostForm("code"))
	amount := strings.TrimSpace(c.PostForm("amount"))
	d := s.tillForm(c, code, amount)
	// A form posted twice carries the same key: the second is a replay.
	key := postedKey(c)
	if key != "" {
		d.Key = key
	}
	req := vouchers.Redemption{Code: code}
	if amount == "" {
		d.Amount.Error = s.t(c, "till.amount_required")
	} else if cents, ok := parseEuroInput(amount); !ok || cents <= 0 {
		d.Amount.Error = s.t(c, "till.amount_invalid")
	} else {
		req.AmountCents = &cents
	}
	if code == "" {
		d.Code.Error = s.t(c, "till.code_required")
	}
	if d.Code.Error != "" || d.Amount.Error != "" {
		return s.renderTill(c, http.StatusUnprocessableEntity, d, nil)
	}
	res, err := s.vouchers.Redeem(ctx, user, req, key)
	if err != nil {
		he := httpx.From(err)
		switch {
		case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
			for _, f := range he.Fields {
				msg := f.In(lang)
				if f.Pointer == "/code" {
					d.Code.Error = msg
				} else {
					d.Amount.Error = s.t(c, "till.amount_invalid")
				}
			}
			return s.renderTill(c, http.StatusUnprocessableEntity, d, nil)
		case he.Status == http.StatusNotFound:
			d.Code.Error = s.t(c, "till.err.not_found")
			return s.renderTill(c, http.StatusNotFound, d, nil)
		case he.Status == http.StatusConflict:
			d.Problem = s.tOr(c, "till.err."+he.Code, s.t(c, "till.err.conflict"))
			// A refused redemption stored nothing: the next try is a new one.
			d.Key = newFormToken()
			return s.renderTill(c, http.StatusConflict, d, nil)
		}
		return err
	}
	// Done: a receipt, and an empty form with a new key for the next sale.
	next := s.tillForm(c, "", "")
	return s.renderTill(c, http.StatusOK, next, &receiptView{
		Number: receiptNumber(res.ID), Amount: formatEuro(lang, res.AmountCents),
		Remaining: formatEuro(lang, res.RemainingCents), At: romeDateTime(res.CreatedAt), AtISO: htmlTime(res.CreatedAt),
		Merchant: user.MerchantName, Replayed: res.Replayed,
	})
}

func (s *Site) renderTill(c *gin.Context, status int, d tillData, receipt *receiptView) error {
	user := httpx.CurrentUser(c)
	lang := pageLang(c)
	d.Receipt = receipt
	items, _, err := s.vouchers.Redemptions(c.Request.Context(), user, tillRecent, 0)
	if err != nil {
		return err
	}
	for _, r := range items {
		d.Recent = append(d.Recent, recentView{Number: receiptNumber(r.ID), CodeSuffix: r.VoucherCodeSuffix,
			Amount: formatEuro(lang, r.AmountCents), Remaining: formatEuro(lang, r.RemainingCents),
			At: romeDateTime(r.CreatedAt), AtISO: htmlTime(r.CreatedAt)})
	}
	v := view{Title: s.t(c, "till.title"), Nav: "till", Data: d}
	for _, f := range []fieldView{d.Code, d.Amount} {
		if f.Error != "" {
			v.Errors = append(v.Errors, summaryItem{Href: "#" + f.FieldID(), Text: f.Label + ": " + f.Error})
		}
	}
	s.render(c, status, "till", v)
	return nil
}
