package api

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/company"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// Company welfare (issue 15): the welfare manager's company, plan,
// employees, top-ups and spending in aggregate; an employee's own credit;
// the district's companies in aggregate for supervisors. The use cases
// are in internal/app/company.

// readMine answers a GET with what read returns for the caller.
func readMine[T any](read func(ctx context.Context, user store.UserView) (T, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		v, err := read(c.Request.Context(), httpx.CurrentUser(c))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, v)
		return nil
	}
}

// create answers a POST with a JSON body: do's result, with status.
func create[Req, Res any](status int, do func(ctx context.Context, user store.UserView, req Req) (Res, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		var req Req
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		v, err := do(c.Request.Context(), httpx.CurrentUser(c), req)
		if err != nil {
			return err
		}
		c.JSON(status, v)
		return nil
	}
}

// importEmployees enrols the tax codes of the CSV file in the body (text/csv).
func (s *server) importEmployees(c *gin.Context) error {
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if ct != "text/csv" {
		return invalid(app.Param("Content-Type", "unsupported", "registry.err.body_type"))
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return err // a body above the limit is 413 (httpx.From)
	}
	res, err := s.company.Import(c.Request.Context(), httpx.CurrentUser(c), data)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, res)
	return nil
}

// confirmTopUp asks the provider about a top-up's payment and books it when paid.
func (s *server) confirmTopUp(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	t, err := s.company.ConfirmTopUp(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, t)
	return nil
}

// listStatements is GET /companies/:id/statements.
func (s *server) listStatements(c *gin.Context) error {
	v, err := s.company.Statements(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// issueStatement is POST /companies/:id/statements: 201 when issued now,
// 200 when it had been issued before.
func (s *server) issueStatement(c *gin.Context) error {
	var req company.IssueRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, created, err := s.company.Issue(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, v)
	return nil
}

// getStatement is GET /companies/:id/statements/:month.
func (s *server) getStatement(c *gin.Context) error {
	v, err := s.company.Statement(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), c.Param("month"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// statementCSV is GET /companies/:id/statements/:month/csv, in the
// language of Accept-Language (Italian by default).
func (s *server) statementCSV(c *gin.Context) error {
	raw, name, err := s.company.StatementCSV(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), c.Param("month"), acceptLang(c))
	return httpx.PrivateFile(c, "text/csv; charset=utf-8", raw, name, err)
}

// statementPDF is GET /companies/:id/statements/:month/pdf, in the
// language of Accept-Language (Italian by default).
func (s *server) statementPDF(c *gin.Context) error {
	raw, name, err := s.company.StatementPDF(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), c.Param("month"), acceptLang(c))
	return httpx.PrivateFile(c, "application/pdf", raw, name, err)
}

// acceptLang is English when Accept-Language starts with it, Italian otherwise.
func acceptLang(c *gin.Context) string {
	if strings.HasPrefix(strings.ToLower(c.GetHeader("Accept-Language")), "en") {
		return i18n.EN
	}
	return i18n.IT
}

// setPointHours is PUT /social-points/:id/hours.
func (s *server) setPointHours(c *gin.Context) error {
	var req company.HoursRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.company.SetPointHours(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, p)
	return nil
}
