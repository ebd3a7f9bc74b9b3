package api

import (
	"bytes"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/dashboard"
)

// The dashboard in the JSON API (issue 13): every figure of a period, as
// JSON or as one CSV file. The use case is internal/app/dashboard.

// dashboardFilter reads the query parameters both routes take.
func dashboardFilter(c *gin.Context) dashboard.Filter {
	return dashboard.Filter{Municipality: c.Query("municipality"), Period: c.Query("period"),
		From: c.Query("from"), To: c.Query("to")}
}

func (s *server) getDashboard(c *gin.Context) error {
	d, err := dashboard.New(s.core).Read(c.Request.Context(), httpx.CurrentUser(c), dashboardFilter(c))
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(200, d)
	return nil
}

func (s *server) getDashboardCSV(c *gin.Context) error {
	d, err := dashboard.New(s.core).Read(c.Request.Context(), httpx.CurrentUser(c), dashboardFilter(c))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := dashboard.WriteCSV(&buf, d); err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-store")
	c.Header("Content-Disposition", `attachment; filename="`+dashboard.FileName(d)+`"`)
	c.Data(200, "text/csv; charset=utf-8", buf.Bytes())
	return nil
}
