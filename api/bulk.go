package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/casework"
)

// The results of a bulk action (casework.Bulk), as the API returns them.
type (
	BulkItem   = casework.BulkItem
	BulkResult = casework.BulkResult
)

func (s *server) bulkTasks(c *gin.Context) error {
	var req casework.BulkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.casework.Bulk(c.Request.Context(), httpx.CurrentUser(c), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}
