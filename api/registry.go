package api

import (
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/registry"
	"sportello/internal/store"
)

// importRegistry is POST /api/v1/registry/imports[?dry_run=true]
// [&municipality=ID]: the body is a municipality's registry extract (CSV,
// Content-Type text/csv). A dry run answers 200 with what would change; an
// import 201 with what changed. A file with problems is a 422 listing them
// by line (pointer /lines/<line>/<column>), and nothing is imported.
func (s *server) importRegistry(c *gin.Context) error {
	dryRun := false
	if v, ok := c.GetQuery("dry_run"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return invalid(app.Param("dry_run", "invalid", "registry.err.dry_run"))
		}
		dryRun = b
	}
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if ct != "text/csv" && ct != "application/octet-stream" {
		return invalid(app.Param("Content-Type", "unsupported", "registry.err.body_type"))
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return err // a body above the limit is 413 (httpx.From)
	}
	if len(data) == 0 {
		return invalid(app.Param("file", "required", "registry.err.file_missing"))
	}
	diff, err := s.registry.Import(c.Request.Context(), httpx.CurrentUser(c), registry.Upload{Data: data,
		FileName: c.GetHeader("X-File-Name"), Municipality: c.Query("municipality"), DryRun: dryRun,
		Source: store.RegistrySourceAPI})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if dryRun {
		status = http.StatusOK
	}
	c.JSON(status, diff)
	return nil
}

// listRegistryImports is GET /api/v1/registry/imports: the newest imports
// and dry runs the caller may see (an operator's municipality, a
// supervisor's district).
func (s *server) listRegistryImports(c *gin.Context) error {
	items, err := s.registry.Imports(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}
