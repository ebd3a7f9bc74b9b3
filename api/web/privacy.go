package web

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/privacy"
	"sportello/internal/i18n"
)

// The privacy pages: the public privacy notice (linked from every page's
// footer) and the citizen's downloads of their data from the personal
// area (privacy.Export and PDF, each audited).

// privacyNoticeData is the notice's data: the retention period in words.
type privacyNoticeData struct {
	Retention string
}

// privacyNoticePage is /privacy, for anyone.
func (s *Site) privacyNoticePage(c *gin.Context) error {
	period := retentionPeriod(pageLang(c), privacy.RetentionDaysOr(s.RetentionDays))
	s.render(c, http.StatusOK, "privacy", view{Title: s.t(c, "privacy.notice.title"), Data: privacyNoticeData{Retention: period}})
	return nil
}

// retentionPeriod is a retention period of days in words: in years when
// it is a whole number of them.
func retentionPeriod(lang string, days int) string {
	if days%365 == 0 {
		return i18n.T(lang, "privacy.notice.years", days/365)
	}
	return i18n.T(lang, "privacy.notice.days", days)
}

// retentionData is the retention page's data: the period in words and
// the recorded runs.
type retentionData struct {
	Period string
	Report privacy.RetentionReport
}

// retentionPage is /privacy/retention, for supervisors: the retention
// schedule's period and its newest recorded runs (privacy.RetentionRuns;
// the JSON twin is GET /api/v1/privacy/retention-runs).
func (s *Site) retentionPage(c *gin.Context) error {
	rep, err := privacy.New(s.core).RetentionRuns(c.Request.Context(), httpx.CurrentUser(c), s.RetentionDays)
	if err != nil {
		return err
	}
	d := retentionData{Period: retentionPeriod(pageLang(c), rep.RetentionDays), Report: rep}
	s.render(c, http.StatusOK, "retention", view{Title: s.t(c, "retention.title"), Nav: "retention", Data: d})
	return nil
}

// myDataJSON is /me/export.json: the complete copy, as a download.
func (s *Site) myDataJSON(c *gin.Context) error {
	x, err := privacy.New(s.core).Export(c.Request.Context(), httpx.CurrentUser(c), "json")
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-store")
	c.Header("Content-Disposition", `attachment; filename="sportello-`+i18n.T(pageLang(c), "privacy.pdf.file")+`.json"`)
	c.Data(http.StatusOK, "application/json; charset=utf-8", raw)
	return nil
}

// myDataPDF is /me/export.pdf: the readable copy in the page's language.
func (s *Site) myDataPDF(c *gin.Context) error {
	pdf, name, err := privacy.New(s.core).PDF(c.Request.Context(), httpx.CurrentUser(c), pageLang(c))
	return httpx.PrivateFile(c, "application/pdf", pdf, name, err)
}
