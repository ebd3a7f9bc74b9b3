package api

import (
	"context"
	_ "embed"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
)

//go:embed openapi.json
var openAPIDocument []byte

func (s *server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz reports whether the database and Temporal answer.
func (s *server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	body := gin.H{"database": "ok", "temporal": "ok"}
	status := http.StatusOK
	if s.Store == nil || s.Store.Pool == nil {
		body["database"], status = "not configured", http.StatusServiceUnavailable
	} else if err := s.Store.Pool.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness: database", "err", err)
		body["database"], status = "unavailable", http.StatusServiceUnavailable
	}
	if s.Temporal == nil {
		body["temporal"], status = "not configured", http.StatusServiceUnavailable
	} else if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		s.log.WarnContext(ctx, "readiness: temporal", "err", err)
		body["temporal"], status = "unavailable", http.StatusServiceUnavailable
	}
	c.JSON(status, body)
}

func (s *server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
