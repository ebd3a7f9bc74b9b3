package web

import (
	"bytes"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/calendar"
	"sportello/internal/i18n"
	"sportello/internal/jsonx"
	"sportello/internal/store"
	"sportello/internal/voucherpdf"
)

// The Social Point prints what a citizen without e-mail is posted (issue
// 16): the case's voucher, and a letter (the decision, how to use the
// voucher) followed by the voucher. The rule and the audit row are
// vouchers.ForPrint's.

// printVoucher is the voucher page of case v as the citizen would print it.
func (s *Site) printVoucher(c *gin.Context, cv store.CaseView, v store.VoucherView, lang string) voucherpdf.Voucher {
	pv := voucherpdf.Voucher{
		Code: v.Code, AmountCents: v.AmountCents, AvailableCents: v.AvailableCents, PendingCents: v.PendingCents,
		Municipality: municipalityName(v.Municipality), FundName: v.FundID, ExpiresAt: v.ExpiresAt,
		HolderName: applicantName(cv), Lang: lang,
	}
	if fund, municipality, ok := s.vouchers.FundNames(c.Request.Context(), v); ok {
		pv.FundName, pv.Municipality = fund, municipality
	}
	return pv
}

func applicantName(cv store.CaseView) string {
	return strings.TrimSpace(jsonx.StringAt(cv.Data, "applicant", "first_name") + " " + jsonx.StringAt(cv.Data, "applicant", "last_name"))
}

func (s *Site) staffVoucherPDF(c *gin.Context) error {
	cv, v, err := s.vouchers.ForPrint(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	err = voucherpdf.Write(&buf, s.printVoucher(c, cv, v, i18n.IT))
	return httpx.PrivateFile(c, "application/pdf", buf.Bytes(), "buono-"+strings.ReplaceAll(v.Code, "-", "")+".pdf", err)
}

// staffLetterPDF is the letter to post, in Italian (the Social Point's
// letters are), with the voucher on its second page.
func (s *Site) staffLetterPDF(c *gin.Context) error {
	cv, v, err := s.vouchers.ForPrint(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	const lang = i18n.IT
	pv := s.printVoucher(c, cv, v, lang)
	recipient := []string{pv.HolderName}
	if addr := jsonx.StringAt(cv.Data, "residence", "address"); addr != "" {
		recipient = append(recipient, addr)
	}
	recipient = append(recipient, pv.Municipality)
	amount := i18n.Money(lang, v.AmountCents)
	expires := i18n.Date(lang, v.ExpiresAt, calendar.Rome())
	l := voucherpdf.Letter{
		Sender:    translate(lang, "letter.sender", pv.Municipality),
		Recipient: recipient,
		Place:     pv.Municipality + ", " + i18n.Date(lang, time.Now(), calendar.Rome()),
		Subject:   translate(lang, "letter.subject", cv.ID),
		Paragraphs: []string{
			translate(lang, "letter.greeting", pv.HolderName),
			translate(lang, "letter.approved", pv.FundName, amount),
			translate(lang, "letter.voucher", v.Code, expires),
			translate(lang, "letter.shops"),
			translate(lang, "letter.help"),
		},
		Signature: translate(lang, "letter.signature"),
		Voucher:   &pv,
	}
	var buf bytes.Buffer
	err = voucherpdf.WriteLetter(&buf, l)
	return httpx.PrivateFile(c, "application/pdf", buf.Bytes(), "lettera-"+cv.ID+".pdf", err)
}
