package httpx

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// PrivateFile writes a document for the signed-in person alone (never
// cached by a browser or a proxy), of content type ctype; a name makes it
// an inline attachment with that file name. An err from making the
// document is returned instead, for the adapter's error page or body.
func PrivateFile(c *gin.Context, ctype string, data []byte, name string, err error) error {
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-store")
	if name != "" {
		c.Header("Content-Disposition", `inline; filename="`+name+`"`)
	}
	c.Data(http.StatusOK, ctype, data)
	return nil
}
