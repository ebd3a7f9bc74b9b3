package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/marketplace"
	"sportello/internal/store"
)

// The cooperatives' catalogue (issue 5) in the JSON API: anyone browses the
// cooperatives and the published services (a logged-in citizen with the
// price of their ISEE band), cooperative users manage their own services.
// The marketplace service (internal/app/marketplace) does the work.

// optionalAuth authenticates a request that carries a bearer token and lets
// the others through as anonymous visitors.
func (s *server) optionalAuth(c *gin.Context) {
	if c.GetHeader("Authorization") == "" {
		c.Next()
		return
	}
	s.authenticate(c)
}

func (s *server) listCooperatives(c *gin.Context) error {
	u := httpx.CurrentUser(c)
	district := strings.TrimSpace(c.Query("district"))
	if district == "" {
		district = u.District
	}
	coops, err := s.marketplace.Cooperatives(c.Request.Context(), u, district)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": coops})
	return nil
}

// pricing is how prices are shown to a caller (marketplace.Pricing).
type pricing = marketplace.Pricing

// serviceJSON is a service with the caller's price.
type serviceJSON = marketplace.PricedService

// catalogueFilter reads the filters of a listing (422 on bad values).
func catalogueFilter(c *gin.Context) (store.ServiceFilter, error) {
	f := store.ServiceFilter{
		Category:     strings.TrimSpace(c.Query("category")),
		Municipality: strings.TrimSpace(c.Query("municipality")),
		Cooperative:  strings.TrimSpace(c.Query("cooperative")),
		Query:        strings.TrimSpace(c.Query("q")),
		District:     strings.TrimSpace(c.Query("district")),
	}
	var fields []FieldError
	if f.Category != "" && !slices.Contains(store.ServiceCategories, f.Category) {
		fields = append(fields, app.Param("category", "unknown_category", "api.err.category_unknown", strings.Join(store.ServiceCategories, ", ")))
	}
	if v := c.Query("max_price_cents"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			fields = append(fields, app.Param("max_price_cents", "invalid", "api.err.max_price_invalid"))
		} else {
			f.MaxPriceCents = n
		}
	}
	if len(f.Query) > 200 {
		fields = append(fields, app.Param("q", "too_long", "api.err.search_too_long"))
	}
	limit, offset, err := page(c)
	if err != nil {
		var he *httpx.Error
		if errors.As(err, &he) {
			fields = append(fields, he.Fields...)
		}
	}
	if len(fields) > 0 {
		return f, invalid(fields...)
	}
	f.Limit, f.Offset = limit, offset
	return f, nil
}

// catalogueList is a page of services with the caller's ISEE (when known).
type catalogueList struct {
	List[serviceJSON]
	ISEE *store.CitizenISEE `json:"isee"`
}

func (s *server) catalogue(c *gin.Context, f store.ServiceFilter) (catalogueList, pricing, error) {
	items, total, p, err := s.marketplace.Catalogue(c.Request.Context(), httpx.CurrentUser(c), f)
	if err != nil {
		return catalogueList{}, pricing{}, err
	}
	return catalogueList{List: List[serviceJSON]{Items: items, Total: total.N, TotalCapped: total.More, Limit: f.Limit, Offset: f.Offset},
		ISEE: p.ISEE}, p, nil
}

func (s *server) listServices(c *gin.Context) error {
	f, err := catalogueFilter(c)
	if err != nil {
		return err
	}
	out, _, err := s.catalogue(c, f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func (s *server) getService(c *gin.Context) error {
	sv, _, err := s.marketplace.ServiceByID(c.Request.Context(), httpx.CurrentUser(c), httpx.ServiceID(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, sv)
	return nil
}

// ServiceBody is the body of POST and PUT /services.
type ServiceBody = marketplace.ServiceBody

func (s *server) createService(c *gin.Context) error {
	var b ServiceBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	sv, err := s.marketplace.SaveService(c.Request.Context(), httpx.CurrentUser(c), 0, b)
	if err != nil {
		return err
	}
	c.Header("Location", fmt.Sprintf("/api/v1/services/%d", sv.ID))
	c.JSON(http.StatusCreated, sv)
	return nil
}

func (s *server) updateService(c *gin.Context) error {
	id := httpx.ServiceID(c)
	if id == 0 {
		return httpx.NotFound("service")
	}
	var b ServiceBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	sv, err := s.marketplace.SaveService(c.Request.Context(), httpx.CurrentUser(c), id, b)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, sv)
	return nil
}

func (s *server) publishService(published bool) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		sv, err := s.marketplace.SetPublished(c.Request.Context(), httpx.CurrentUser(c), httpx.ServiceID(c), published)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, sv)
		return nil
	}
}
