package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/casework"
)

func (s *server) assignTask(c *gin.Context) error {
	var a casework.Assignment
	if err := decodeJSON(c, &a); err != nil {
		return err
	}
	res, err := s.casework.Assign(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), a, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}
