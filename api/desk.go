package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/accounts"
	"sportello/internal/app/desk"
	"sportello/internal/store"
)

// The Social Point's desk (issue 4): an operator registers a citizen who
// cannot do it alone and hands over a one-time activation code, files
// applications on the citizen's behalf, and reaches citizens without e-mail
// through contact tasks. The use cases are the desk service's
// (internal/app/desk); these are its JSON adapters, web/desk.go its pages.

// ---- JSON handlers ----

func (s *server) createCitizen(c *gin.Context) error {
	var req desk.NewCitizen
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := s.desk.Register(c.Request.Context(), httpx.CurrentUser(c), req)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/citizens/"+out.Citizen.PublicID)
	c.JSON(http.StatusCreated, out)
	return nil
}

func (s *server) reissueCitizenCode(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	ctx, user := c.Request.Context(), httpx.CurrentUser(c)
	d, err := s.desk.Citizen(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	out, err := s.desk.ReissueCode(ctx, user, &d, httpx.PortalOrigin(c, s.PortalURL))
	if err != nil {
		return err
	}
	if out.Recovery != nil {
		// An active account: the code went to the citizen (or waits for a
		// supervisor); the desk gets the recovery, never the code.
		c.JSON(http.StatusAccepted, out.Recovery)
		return nil
	}
	c.JSON(http.StatusCreated, out.Code)
	return nil
}

// onBehalfRequest is the body of POST /api/v1/citizens/{id}/applications.
type onBehalfRequest struct {
	Form                 string          `json:"form"`
	Call                 string          `json:"call,omitempty"`
	Data                 json.RawMessage `json:"data"`
	PrivacyConsentSigned bool            `json:"privacy_consent_signed"`
}

func (s *server) createApplicationOnBehalf(c *gin.Context) error {
	ctx, user := c.Request.Context(), httpx.CurrentUser(c)
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req onBehalfRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Form = strings.TrimSpace(req.Form)
	fields := applicationFields(req.Form, req.Data)
	if !req.PrivacyConsentSigned {
		fields = append(fields, app.Field("/privacy_consent_signed", "required", "api.err.privacy_consent_required"))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	d, err := s.desk.Citizen(ctx, user, c.Param("id"))
	if err != nil {
		return err
	}
	if key != "" {
		key = "desk:" + strconv.FormatInt(user.ID, 10) + ":" + key
	}
	v, replayed, err := s.submitApplication(ctx, user, req.Form, req.Call, req.Data, key, &d)
	if err != nil {
		return err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/applications/"+url.PathEscape(v.ID))
	c.JSON(http.StatusCreated, s.caseJSON(c, v))
	return nil
}

func (s *server) activateAccount(c *gin.Context) error {
	var req accounts.Activation
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.accounts.Activate(c.Request.Context(), req, c.ClientIP())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, u)
	return nil
}

func (s *server) listContactTasks(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f := store.ContactFilter{Status: c.DefaultQuery("status", "active"), Limit: limit, Offset: offset}
	// The overdue filter reads as the review inbox's.
	tf, fields := parseTaskFilter("all", c.Query("overdue"))
	f.Overdue = tf.Overdue
	if !slices.Contains(desk.ContactStatuses, f.Status) {
		fields = append(fields, app.Param("status", "invalid", "applications.err.status_unknown", "active, done, all"))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	items, total, err := s.desk.ContactTasks(c.Request.Context(), httpx.CurrentUser(c), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.ContactTaskView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

func (s *server) recordContactOutcome(c *gin.Context) error {
	var req desk.ContactOutcome
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.desk.RecordContact(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}
