package api

import (
	"strconv"

	"github.com/gin-gonic/gin"
)

// maxOffset is the furthest a list may be paged: beyond it the request is a
// 422, so no offset (nor offset + limit) can overflow on its way to SQL.
const maxOffset = 1_000_000

// pageWindow is the one place where limit and offset query parameters are
// read and bounds-checked before they reach SQL: limit from 1 to maxLimit
// (defLimit when absent; above maxLimit it is capped when capLimit is set,
// refused otherwise) and offset from 0 to maxOffset. Problems are field
// errors naming the parameter.
func pageWindow(c *gin.Context, defLimit, maxLimit int, capLimit bool) (limit, offset int, fields []FieldError) {
	limit = defLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err == nil && n >= 1 && n <= maxLimit:
			limit = n
		case err == nil && n > maxLimit && capLimit:
			limit = maxLimit
		default:
			fields = append(fields, param("limit", "invalid",
				"limit must be a whole number from 1 to "+strconv.Itoa(maxLimit),
				"limit deve essere un numero intero da 1 a "+strconv.Itoa(maxLimit)))
		}
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxOffset {
			fields = append(fields, param("offset", "invalid",
				"offset must be a whole number from 0 to "+strconv.Itoa(maxOffset),
				"offset deve essere un numero intero da 0 a "+strconv.Itoa(maxOffset)))
		} else {
			offset = n
		}
	}
	return limit, offset, fields
}

// pageNumber reads the "page" parameter of a web page listing size items a
// page: absent or not a positive number is the first page (links stay
// forgiving), a page whose offset would pass maxOffset is a 422.
func pageNumber(c *gin.Context, size int) (int, error) {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 {
		if err != nil && c.Query("page") != "" && isOutOfRange(err) {
			return 0, pageTooFar(size)
		}
		return 1, nil
	}
	if n > maxOffset/size+1 {
		return 0, pageTooFar(size)
	}
	return n, nil
}

func isOutOfRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func pageTooFar(size int) error {
	last := strconv.Itoa(maxOffset/size + 1)
	return invalid(param("page", "invalid", "page must be a whole number from 1 to "+last,
		"page deve essere un numero intero da 1 a "+last))
}
