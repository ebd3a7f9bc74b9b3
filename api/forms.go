package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
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

// getForm answers with the current JSON Schema of the form itself; its
// version is in the Form-Version header.
func (s *server) getForm(c *gin.Context) error {
	f, ok := s.Forms.Get(c.Param("id"))
	if !ok {
		return httpx.NotFound("form")
	}
	c.Header("Form-Version", strconv.Itoa(f.Version))
	c.Data(http.StatusOK, "application/schema+json", f.Schema)
	return nil
}
