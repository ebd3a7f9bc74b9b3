package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/operations"
	"sportello/internal/store"
)

// The operations console's JSON routes (issue 13, part 2): the list of
// journeys that need a human and the console's actions, each one call of
// internal/app/operations.

// listOperations is GET /api/v1/operations: one page of the console
// (?page= the previous answer's next_page).
func (s *server) listOperations(c *gin.Context) error {
	rep, err := s.operations.List(c.Request.Context(), httpx.CurrentUser(c), c.Query("page"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, rep)
	return nil
}

// opsAction is the handler of a console action: the body decoded into a
// Req, the use case applied as the caller, answered 200 with its result.
func opsAction[Req any](do func(ctx context.Context, user store.UserView, req Req) (operations.Done, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		var req Req
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		res, err := do(c.Request.Context(), httpx.CurrentUser(c), req)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, res)
		return nil
	}
}
