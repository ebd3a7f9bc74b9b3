package httpx

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/internal/app"
)

// MaxOffset is the furthest a list may be paged: beyond it the request is a
// 422, so no offset (nor offset + limit) can overflow on its way to SQL.
const MaxOffset = 1_000_000

// PageWindow is the one place where limit and offset query parameters are
// read and bounds-checked before they reach SQL: limit from 1 to maxLimit
// (defLimit when absent; above maxLimit it is capped when capLimit is set,
// refused otherwise) and offset from 0 to MaxOffset. Problems are field
// errors naming the parameter.
func PageWindow(c *gin.Context, defLimit, maxLimit int, capLimit bool) (limit, offset int, fields []FieldError) {
	limit = defLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err == nil && n >= 1 && n <= maxLimit:
			limit = n
		case err == nil && n > maxLimit && capLimit:
			limit = maxLimit
		default:
			fields = append(fields, app.Param("limit", "invalid", "paging.err.limit", maxLimit))
		}
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxOffset {
			fields = append(fields, app.Param("offset", "invalid", "paging.err.offset", MaxOffset))
		} else {
			offset = n
		}
	}
	return limit, offset, fields
}

// PageNumber reads the "page" parameter of a web page listing size items a
// page: absent or not a positive number is the first page (links stay
// forgiving), a page whose offset would pass MaxOffset is a 422.
func PageNumber(c *gin.Context, size int) (int, error) {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 {
		if err != nil && c.Query("page") != "" && isOutOfRange(err) {
			return 0, pageTooFar(size)
		}
		return 1, nil
	}
	if n > MaxOffset/size+1 {
		return 0, pageTooFar(size)
	}
	return n, nil
}

func isOutOfRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func pageTooFar(size int) error {
	return Invalid(app.Param("page", "invalid", "paging.err.page", MaxOffset/size+1))
}
