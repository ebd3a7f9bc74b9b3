package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/store"
)

// readByID is the handler of a GET of one record: the use case read, for
// the path's id as the caller, answered 200 with what it returns. The
// decision of who may read it is read's own.
func readByID[T any](read func(ctx context.Context, user store.UserView, id string) (T, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		v, err := read(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, v)
		return nil
	}
}

// jsonAction is the handler of a POST that changes one record through its
// workflow: the body decoded into a Req, the use case do applied to the
// path's id as the caller with the request's idempotency key (updateKey),
// answered 200 with its result.
func jsonAction[Req, Res any](do func(ctx context.Context, user store.UserView, id string, req Req, key string) (Res, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		var req Req
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		res, err := do(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req, updateKey(c))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, res)
		return nil
	}
}
