package api

import (
	"bytes"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/casework"
	"sportello/internal/store"
)

var taskStatuses = []string{"open", "claimed", "done", "all"}

// parseTaskFilter checks the status and overdue filters of a task list
// (query parameters of the JSON API and of the inbox page alike).
func parseTaskFilter(status, overdue string) (store.TaskFilter, []FieldError) {
	f := store.TaskFilter{Status: status}
	if f.Status == "" {
		f.Status = "all"
	}
	var fields []FieldError
	if !slices.Contains(taskStatuses, f.Status) {
		fields = append(fields, app.Param("status", "invalid", "applications.err.status_unknown", strings.Join(taskStatuses, ", ")))
	}
	switch overdue {
	case "", "false", "0":
	case "true", "1":
		f.Overdue = true
	default:
		fields = append(fields, app.Param("overdue", "invalid", "api.err.overdue_invalid"))
	}
	return f, fields
}

func (s *server) listTasks(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f, fields := parseTaskFilter(c.DefaultQuery("status", "all"), c.Query("overdue"))
	team, teamFields := s.teamFilter(c.Request.Context(), httpx.CurrentUser(c), c.Query("team"))
	f.Team, fields = team, append(fields, teamFields...)
	if len(fields) > 0 {
		return invalid(fields...)
	}
	f.Limit, f.Offset = limit, offset
	items, total, err := s.api.Tasks(c.Request.Context(), httpx.CurrentUser(c).Scope(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.TaskView]{Items: items, Total: total.N, TotalCapped: total.More, Limit: limit, Offset: offset})
	return nil
}

// visibleTask reads the task under the caller's scope: a task of another
// municipality is simply not found.
func (s *server) visibleTask(c *gin.Context) (store.TaskView, error) {
	return s.casework.Task(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
}

func (s *server) getTask(c *gin.Context) error {
	t, err := s.visibleTask(c)
	if err != nil {
		return err
	}
	if err := s.core.AuditRead(c.Request.Context(), httpx.CurrentUser(c), store.AuditReadTask, t.CaseID, t.Municipality,
		map[string]string{"task_id": t.ID}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, t)
	return nil
}

// emptyBody accepts no body or an empty JSON object, on actions that take
// no input.
func emptyBody(c *gin.Context) error {
	body, err := readBody(c)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	var v struct{}
	return decodeBytes(body, &v)
}

func (s *server) claimTask(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	res, err := s.casework.Claim(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

func (s *server) releaseTask(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	res, err := s.casework.Release(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

func (s *server) decideTask(c *gin.Context) error {
	var d casework.Decision
	if err := decodeJSON(c, &d); err != nil {
		return err
	}
	res, err := s.casework.Decide(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), d, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// updateKey is the request's Idempotency-Key when it is valid ("" otherwise),
// as updateID reads it.
func updateKey(c *gin.Context) string {
	key, err := idempotencyKey(c)
	if err != nil {
		return ""
	}
	return key
}

// userUpdateID derives a Temporal update id from an idempotency key
// (app.UpdateID).
func userUpdateID(user store.UserView, op, key string) string { return app.UpdateID(user, op, key) }
