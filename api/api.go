// Package api serves Sportello's HTTP API.
package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"sportello/internal/store"
)

// Deps are what the API needs.
type Deps struct {
	Store         *store.Store
	Temporal      client.Client
	Logger        *slog.Logger
	TaskQueue     string // workflows.TaskQueue when empty
	TemporalUIURL string // base URL of the Temporal Web UI, for links
	Namespace     string
}

// New builds the HTTP handler.
func New(d Deps) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	return r
}
