package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/calls"
	"sportello/internal/store"
)

// New calls without a release (issue 15): a supervisor's form versions
// (upload, edit, publish) and calls (create, edit, publish), and the open
// calls a citizen may apply to. The handlers decode and answer; the rules,
// the registry and the audit are internal/app/calls'.

// FormVersionDetail is one form version with its schema document.
type FormVersionDetail struct {
	store.FormVersion
	Schema any `json:"schema"`
}

func formVersionDetail(v store.FormVersion) FormVersionDetail {
	return FormVersionDetail{FormVersion: v, Schema: v.Schema}
}

// formVersionParam reads the path's form version number (NotFound when it
// is not one).
func formVersionParam(c *gin.Context) (int, error) {
	v, err := strconv.ParseInt(c.Param("version"), 10, 32) // an integer column: above it is no version
	if err != nil || v <= 0 {
		return 0, app.Missing("form version")
	}
	return int(v), nil
}

func (s *server) listFormVersions(c *gin.Context) error {
	items, err := s.calls.FormVersions(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.FormVersion]{Items: items, Total: len(items), Limit: len(items)})
	return nil
}

func (s *server) postFormVersion(c *gin.Context) error {
	var req calls.NewFormVersion
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.calls.CreateFormVersion(c.Request.Context(), httpx.CurrentUser(c), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, formVersionDetail(v))
	return nil
}

func (s *server) getFormVersion(c *gin.Context) error {
	version, err := formVersionParam(c)
	if err != nil {
		return err
	}
	v, err := s.calls.FormVersion(c.Request.Context(), httpx.CurrentUser(c), c.Param("form"), version)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, formVersionDetail(v))
	return nil
}

func (s *server) putFormVersion(c *gin.Context) error {
	var req calls.NewFormVersion
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	version, err := formVersionParam(c)
	if err != nil {
		return err
	}
	v, err := s.calls.UpdateFormVersion(c.Request.Context(), httpx.CurrentUser(c), c.Param("form"), version, req.Schema)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, formVersionDetail(v))
	return nil
}

func (s *server) publishFormVersion(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	version, err := formVersionParam(c)
	if err != nil {
		return err
	}
	v, err := s.calls.PublishFormVersion(c.Request.Context(), httpx.CurrentUser(c), c.Param("form"), version)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, formVersionDetail(v))
	return nil
}

func (s *server) listCalls(c *gin.Context) error {
	items, err := s.calls.Calls(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.Call]{Items: items, Total: len(items), Limit: len(items)})
	return nil
}

func (s *server) postCall(c *gin.Context) error {
	var req calls.CallBody
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.calls.CreateCall(c.Request.Context(), httpx.CurrentUser(c), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, v)
	return nil
}

func (s *server) putCall(c *gin.Context) error {
	var req calls.CallBody
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.calls.UpdateCall(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// callStep answers a step of the call the path names (an empty body):
// publishing it (202: its budget commitment is asked in the background,
// calls.Service.PublishCall) or withdrawing its publication (200: a draft
// again, calls.Service.CancelPublication).
func callStep(status int, step func(context.Context, store.UserView, string) (store.Call, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		if err := emptyBody(c); err != nil {
			return err
		}
		v, err := step(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(status, v)
		return nil
	}
}

// OpenCallOut is an open call with the portal's path to apply to it.
type OpenCallOut struct {
	store.OpenCall
	ApplyPath string `json:"apply_path"`
}

// visitorDistrict is ?district=, else the caller's district, else the one
// shown to an anonymous visitor of the request's host.
func (s *server) visitorDistrict(c *gin.Context) (string, error) {
	if d := c.Query("district"); d != "" {
		return d, nil
	}
	if d := httpx.CurrentUser(c).District; d != "" {
		return d, nil
	}
	return s.core.DefaultDistrict(c.Request.Context(), httpx.Host(c))
}

func (s *server) listOpenCalls(c *gin.Context) error {
	district, err := s.visitorDistrict(c)
	if err != nil {
		return err
	}
	items, err := s.calls.OpenCalls(c.Request.Context(), district)
	if err != nil {
		return err
	}
	out := make([]OpenCallOut, 0, len(items))
	for _, it := range items {
		out = append(out, OpenCallOut{OpenCall: it, ApplyPath: calls.ApplyPath(it)})
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *server) getOpenCall(c *gin.Context) error {
	it, err := s.calls.OpenCall(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, OpenCallOut{OpenCall: it, ApplyPath: calls.ApplyPath(it)})
	return nil
}
