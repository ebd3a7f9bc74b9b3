package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/privacy"
	"sportello/internal/i18n"
)

// exportMyData is GET /me/export: everything held about the signed-in
// citizen (privacy.Export), as JSON; with ?format=pdf, or an Accept header
// that asks for application/pdf and not JSON, the readable PDF in the
// language of ?lang= or Accept-Language (Italian by default). Each
// download is audited.
func (s *server) exportMyData(c *gin.Context) error {
	svc := privacy.New(s.core)
	user := httpx.CurrentUser(c)
	format := c.Query("format")
	if format == "" {
		if accept := c.GetHeader("Accept"); strings.Contains(accept, "application/pdf") && !strings.Contains(accept, "json") {
			format = "pdf"
		} else {
			format = "json"
		}
	}
	if l := c.Query("lang"); l != "" && l != i18n.IT && l != i18n.EN {
		return httpx.Invalid(app.Param("lang", "invalid", "privacy.err.lang"))
	}
	switch format {
	case "json":
		x, err := svc.Export(c.Request.Context(), user, "json")
		if err != nil {
			return err
		}
		c.Header("Cache-Control", "private, no-store")
		c.Header("Content-Disposition", `attachment; filename="sportello-personal-data.json"`)
		c.JSON(http.StatusOK, x)
		return nil
	case "pdf":
		lang := c.Query("lang")
		if lang == "" && strings.HasPrefix(strings.ToLower(c.GetHeader("Accept-Language")), "en") {
			lang = i18n.EN
		}
		pdf, name, err := svc.PDF(c.Request.Context(), user, i18n.Lang(lang))
		return httpx.PrivateFile(c, "application/pdf", pdf, name, err)
	default:
		return httpx.Invalid(app.Param("format", "invalid", "privacy.err.format"))
	}
}

// listRetentionRuns is GET /api/v1/privacy/retention-runs: the retention
// period in force and the newest recorded runs of the retention schedule,
// for supervisors (privacy.RetentionRuns).
func (s *server) listRetentionRuns(c *gin.Context) error {
	rep, err := privacy.New(s.core).RetentionRuns(c.Request.Context(), httpx.CurrentUser(c), s.RetentionDays)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, rep)
	return nil
}
