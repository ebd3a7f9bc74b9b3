package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
)

// FormSummary describes a form in the catalogue.
type FormSummary struct {
	ID            string `json:"id"`
	Version       int    `json:"version"`
	Title         string `json:"title"`
	TitleEN       string `json:"title_en"`
	Description   string `json:"description"`
	DescriptionEN string `json:"description_en"`
	CasePrefix    string `json:"case_prefix"`
	SchemaURL     string `json:"schema_url"`
}

func (s *server) listForms(c *gin.Context) error {
	items := []FormSummary{}
	for _, f := range s.Forms.List() {
		items = append(items, FormSummary{
			ID: f.ID, Version: f.Version, Title: f.Title, TitleEN: f.TitleEN,
			Description: f.Description, DescriptionEN: f.DescriptionEN, CasePrefix: f.CasePrefix,
			SchemaURL: "/api/v1/forms/" + f.ID,
		})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

// getForm answers with the JSON Schema of the form itself, the latest
// version or the published one asked for (?version=N); its version is in
// the Form-Version header. The document is standard JSON Schema: the
// municipality choices are an enum and a oneOf of the caller's district.
func (s *server) getForm(c *gin.Context) error {
	version := 0
	if q := c.Query("version"); q != "" {
		v, err := strconv.ParseInt(q, 10, 32) // a form version is an integer column: above it is no version
		if err != nil || v <= 0 {
			return httpx.Invalid(app.Param("version", "invalid", "calls.err.version_param"))
		}
		version = int(v)
	}
	f, err := s.calls.Schema(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), version)
	if err != nil {
		return err
	}
	c.Header("Form-Version", strconv.Itoa(f.Version))
	c.Data(http.StatusOK, "application/schema+json", f.Schema)
	return nil
}
