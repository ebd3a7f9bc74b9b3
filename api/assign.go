package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
	"sportello/workflows"
)

// assignRequest is the body of POST /api/v1/tasks/{id}/assign.
type assignRequest struct {
	Assignee string `json:"assignee"`
	Reason   string `json:"reason"`
}

func (s *server) assignTask(c *gin.Context) error {
	var req assignRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.assign(c.Request.Context(), currentUser(c), c.Param("id"), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// validate trims the request and checks what does not depend on the task.
func (req *assignRequest) validate() []FieldError {
	req.Assignee, req.Reason = strings.TrimSpace(req.Assignee), strings.TrimSpace(req.Reason)
	if req.Assignee == "" {
		return []FieldError{field("/assignee", "required", "Name the person to assign the task to.", "Indicare a chi assegnare la pratica.")}
	}
	if len(req.Reason) > 2000 {
		return []FieldError{field("/reason", "max_length", "At most 2000 characters.", "Al massimo 2000 caratteri.")}
	}
	return nil
}

// assign gives a task to a staff member of its municipality (supervisors
// only), with a reason when it is taken from someone.
func (s *server) assign(ctx context.Context, user store.UserView, taskID string, req assignRequest, key string) (workflows.AssignResult, error) {
	var res workflows.AssignResult
	if fields := req.validate(); len(fields) > 0 {
		return res, invalid(fields...)
	}
	t, err := s.reviewTaskFor(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	who, err := s.Store.API().Assignee(ctx, req.Assignee, user.District, t.Municipality)
	if errors.Is(err, store.ErrNotFound) {
		return res, invalid(field("/assignee", "unknown_assignee",
			"No social worker of the task's municipality or supervisor of the district has this username.",
			"Nessun operatore del comune della pratica o supervisore dell'ambito ha questo nome utente."))
	}
	if err != nil {
		return res, err
	}
	if err := s.refuseAbsent(ctx, who); err != nil {
		return res, err
	}
	err = s.audited(ctx, user, taskAudit("assign", t, req.Reason, map[string]any{"assignee": who.Username}), func() error {
		return s.update(ctx, t.CaseID, workflows.UpdateAssign, userUpdateID(user, "assign:"+t.ID+":"+who.Username, key), &res,
			workflows.AssignInput{TaskID: t.ID, Actor: actor(user), Assignee: actor(who), Reason: req.Reason})
	})
	return res, err
}
