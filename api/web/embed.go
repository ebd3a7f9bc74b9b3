package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// webFS holds the page templates and the static files. The vendor folder
// is filled by `make assets`; its committed README.txt keeps the embed
// pattern valid when the assets were never built.
//
//go:embed templates/*.html static
var webFS embed.FS

// staticFS is static as the root of the /static/ URL space.
var staticFS = func() fs.FS {
	sub, err := fs.Sub(webFS, "static")
	if err != nil {
		panic("web: static files: " + err.Error())
	}
	return sub
}()

// serveStatic serves /static/*filepath from the embedded files. Vendor files
// (copied from pinned npm packages) are cached for a year; the project's
// own files for an hour, since their URLs carry no version.
func serveStatic() gin.HandlerFunc {
	files := http.FileServer(http.FS(staticFS))
	return func(c *gin.Context) {
		p := path.Clean("/" + c.Param("filepath"))
		if strings.HasSuffix(p, "/") || p == "/" {
			c.Status(http.StatusNotFound)
			return
		}
		if f, err := fs.Stat(staticFS, strings.TrimPrefix(p, "/")); err != nil || f.IsDir() {
			c.Status(http.StatusNotFound)
			return
		}
		h := c.Writer.Header()
		if strings.HasPrefix(p, "/vendor/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=3600")
		}
		// Font files are fetched by the style sheet from the same origin.
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		r := c.Request.Clone(c.Request.Context())
		r.URL.Path = p
		files.ServeHTTP(c.Writer, r)
	}
}
