package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/casework"
	"sportello/internal/i18n"
)

// The results of a bulk action (casework.Bulk).
type (
	BulkItem   = casework.BulkItem
	BulkResult = casework.BulkResult
)

// BulkItemBody is the outcome of one task of a bulk action, as the API
// returns it: a refusal's reason in English and Italian.
type BulkItemBody struct {
	casework.BulkItem
	Message   string `json:"message,omitempty"`
	MessageIT string `json:"message_it,omitempty"`
}

// BulkResultBody is the outcome of a bulk action, as the API returns it.
type BulkResultBody struct {
	Action  string         `json:"action"`
	Done    int            `json:"done"`
	Refused int            `json:"refused"`
	Items   []BulkItemBody `json:"items"`
}

// bulkBody writes res for the JSON API, each refusal's reason in both
// languages.
func bulkBody(res BulkResult) BulkResultBody {
	out := BulkResultBody{Action: res.Action, Done: res.Done, Refused: res.Refused, Items: make([]BulkItemBody, len(res.Items))}
	for i, it := range res.Items {
		out.Items[i] = BulkItemBody{BulkItem: it}
		if !it.Text.IsZero() {
			out.Items[i].Message, out.Items[i].MessageIT = it.Text.In(i18n.EN), it.Text.In(i18n.IT)
		}
	}
	return out
}

func (s *server) bulkTasks(c *gin.Context) error {
	var req casework.BulkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.casework.Bulk(c.Request.Context(), httpx.CurrentUser(c), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, bulkBody(res))
	return nil
}
