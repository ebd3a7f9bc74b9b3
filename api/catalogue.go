package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// The cooperatives' catalogue (issue 5) in the JSON API: anyone browses the
// cooperatives and the published services (a logged-in citizen with the
// price of their ISEE band), cooperative users manage their own services.

// optionalAuth authenticates a request that carries a bearer token and lets
// the others through as anonymous visitors.
func (s *server) optionalAuth(c *gin.Context) {
	if c.GetHeader("Authorization") == "" {
		c.Next()
		return
	}
	s.authenticate(c)
}

// callerScope is the scope of the caller, anonymous when not logged in.
func callerScope(c *gin.Context) (store.UserView, store.Scope) {
	u := currentUser(c)
	if u.ID == 0 {
		return u, anonymous
	}
	return u, u.Scope()
}

func (s *server) listCooperatives(c *gin.Context) error {
	u, scope := callerScope(c)
	district := strings.TrimSpace(c.Query("district"))
	if district == "" {
		district = u.District
	}
	coops, err := s.api.Cooperatives(c.Request.Context(), scope, district, !isStaff(u.Role))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": coops})
	return nil
}

func (s *server) cooperative(c *gin.Context) (store.Cooperative, error) {
	_, scope := callerScope(c)
	coop, err := s.api.Cooperative(c.Request.Context(), scope, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return coop, notFound("cooperative")
	}
	return coop, err
}

func (s *server) getCooperative(c *gin.Context) error {
	coop, err := s.cooperative(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, coop)
	return nil
}

// pricing is how prices are shown to a caller: a citizen's municipality and
// ISEE (nil when unknown).
type pricing struct {
	Municipality string
	ISEE         *store.CitizenISEE
}

func (p pricing) quote(sv store.Service) store.PriceQuote {
	var isee *int
	if p.ISEE != nil {
		v := p.ISEE.Euro
		isee = &v
	}
	return sv.Quote(p.Municipality, isee)
}

// callerPricing finds the citizen's municipality and ISEE; other callers
// see list prices.
func (s *server) callerPricing(ctx context.Context, u store.UserView) (pricing, error) {
	if u.Role != roleCitizen {
		return pricing{}, nil
	}
	p := pricing{Municipality: u.Municipality}
	isee, ok, err := s.api.CitizenISEE(ctx, u.Scope(), u.ID)
	if err != nil {
		return p, err
	}
	if ok {
		p.ISEE = &isee
	}
	return p, nil
}

// serviceJSON is a service with the caller's price.
type serviceJSON struct {
	store.Service
	CallerPrice store.PriceQuote `json:"caller_price"`
}

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
		fields = append(fields, param("category", "unknown_category",
			"category must be one of "+strings.Join(store.ServiceCategories, ", "),
			"la categoria deve essere una tra "+strings.Join(store.ServiceCategories, ", ")))
	}
	if v := c.Query("max_price_cents"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			fields = append(fields, param("max_price_cents", "invalid", "max_price_cents must be a non-negative integer (cents)",
				"max_price_cents deve essere un intero non negativo (centesimi)"))
		} else {
			f.MaxPriceCents = n
		}
	}
	if len(f.Query) > 200 {
		fields = append(fields, param("q", "too_long", "the search is longer than 200 characters", "la ricerca supera i 200 caratteri"))
	}
	limit, offset, err := page(c)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			fields = append(fields, he.fields...)
		}
	}
	if len(fields) > 0 {
		return f, invalid(fields...)
	}
	f.Limit, f.Offset = limit, offset
	return f, nil
}

// publicOnly says whether a listing keeps to the public catalogue: district
// staff see everything, a cooperative user its own unpublished services.
func publicOnly(u store.UserView, f store.ServiceFilter, ownCoop string) bool {
	if isStaff(u.Role) {
		return false
	}
	return !(u.Role == roleCooperative && f.Cooperative != "" && f.Cooperative == ownCoop)
}

func (s *server) ownCooperative(ctx context.Context, u store.UserView) (string, error) {
	if u.Role != roleCooperative {
		return "", nil
	}
	return s.api.UserCooperative(ctx, u.ID)
}

// catalogueList is a page of services with the caller's ISEE (when known).
type catalogueList struct {
	List[serviceJSON]
	ISEE *store.CitizenISEE `json:"isee"`
}

func (s *server) catalogue(c *gin.Context, f store.ServiceFilter) (catalogueList, pricing, error) {
	ctx := c.Request.Context()
	u, scope := callerScope(c)
	own, err := s.ownCooperative(ctx, u)
	if err != nil {
		return catalogueList{}, pricing{}, err
	}
	f.PublicOnly = publicOnly(u, f, own)
	items, total, err := s.api.Services(ctx, scope, f)
	if err != nil {
		return catalogueList{}, pricing{}, err
	}
	p, err := s.callerPricing(ctx, u)
	if err != nil {
		return catalogueList{}, pricing{}, err
	}
	out := catalogueList{List: List[serviceJSON]{Items: make([]serviceJSON, 0, len(items)), Total: total, Limit: f.Limit, Offset: f.Offset}, ISEE: p.ISEE}
	for _, sv := range items {
		out.Items = append(out.Items, serviceJSON{Service: sv, CallerPrice: p.quote(sv)})
	}
	return out, p, nil
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

func serviceID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("service")
	}
	return id, nil
}

// service reads a service the caller sees, with their price.
func (s *server) service(c *gin.Context) (serviceJSON, pricing, error) {
	id, err := serviceID(c)
	if err != nil {
		return serviceJSON{}, pricing{}, err
	}
	u, scope := callerScope(c)
	sv, err := s.api.Service(c.Request.Context(), scope, id)
	if errors.Is(err, store.ErrNotFound) {
		return serviceJSON{}, pricing{}, notFound("service")
	}
	if err != nil {
		return serviceJSON{}, pricing{}, err
	}
	p, err := s.callerPricing(c.Request.Context(), u)
	if err != nil {
		return serviceJSON{}, pricing{}, err
	}
	return serviceJSON{Service: sv, CallerPrice: p.quote(sv)}, p, nil
}

func (s *server) getService(c *gin.Context) error {
	sv, _, err := s.service(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, sv)
	return nil
}

// ServiceBody is the body of POST and PUT /services.
type ServiceBody struct {
	Category       string                       `json:"category"`
	Name           string                       `json:"name"`
	Description    string                       `json:"description"`
	Unit           string                       `json:"unit"`
	PriceCents     *int64                       `json:"price_cents"`
	Capacity       *int                         `json:"capacity"`
	CapacityPeriod string                       `json:"capacity_period"`
	Municipalities []string                     `json:"municipalities"`
	PriceBands     map[string][]store.PriceBand `json:"price_bands"`
}

// maxPriceCents bounds a list price (EUR 100,000).
const maxPriceCents = 10_000_000

func oneOf(ptr, code string, v string, allowed []string, what string) []FieldError {
	if slices.Contains(allowed, v) {
		return nil
	}
	list := strings.Join(allowed, ", ")
	return []FieldError{field(ptr, code, fmt.Sprintf("%s must be one of %s", what, list),
		fmt.Sprintf("il campo %s deve essere uno tra %s", what, list))}
}

// validateService checks a service body against the district's
// municipalities and returns the input to store.
func validateService(b ServiceBody, district []string) (store.ServiceInput, []FieldError) {
	in := store.ServiceInput{Category: b.Category, Name: strings.TrimSpace(b.Name), Description: strings.TrimSpace(b.Description),
		Unit: b.Unit, CapacityPeriod: b.CapacityPeriod, Municipalities: b.Municipalities, Bands: b.PriceBands}
	var fe []FieldError
	fe = append(fe, oneOf("/category", "unknown_category", b.Category, store.ServiceCategories, "category")...)
	if n := len([]rune(in.Name)); n < 3 || n > 200 {
		fe = append(fe, field("/name", "length", "the name must be 3 to 200 characters long", "il nome deve avere da 3 a 200 caratteri"))
	}
	if len([]rune(in.Description)) > 5000 {
		fe = append(fe, field("/description", "too_long", "the description is longer than 5000 characters", "la descrizione supera i 5000 caratteri"))
	}
	fe = append(fe, oneOf("/unit", "unknown_unit", b.Unit, store.ServiceUnits, "unit")...)
	switch {
	case b.PriceCents == nil:
		fe = append(fe, field("/price_cents", "required", "the price is required", "il prezzo è obbligatorio"))
	case *b.PriceCents < 0:
		fe = append(fe, field("/price_cents", "negative", "the price cannot be negative", "il prezzo non può essere negativo"))
	case *b.PriceCents > maxPriceCents:
		fe = append(fe, field("/price_cents", "too_high", "the price is above EUR 100,000", "il prezzo supera 100.000 €"))
	default:
		in.PriceCents = *b.PriceCents
	}
	if b.Capacity == nil || *b.Capacity < 1 || *b.Capacity > 100_000 {
		fe = append(fe, field("/capacity", "invalid", "the capacity must be a whole number from 1 to 100,000", "la capacità deve essere un numero intero da 1 a 100.000"))
	} else {
		in.Capacity = *b.Capacity
	}
	fe = append(fe, oneOf("/capacity_period", "unknown_period", b.CapacityPeriod, store.CapacityPeriods, "capacity_period")...)
	if len(b.Municipalities) == 0 {
		fe = append(fe, field("/municipalities", "required", "choose at least one municipality", "scegli almeno un comune"))
	}
	seen := map[string]bool{}
	for i, m := range b.Municipalities {
		ptr := fmt.Sprintf("/municipalities/%d", i)
		switch {
		case !slices.Contains(district, m):
			fe = append(fe, field(ptr, "outside_district", fmt.Sprintf("%q is not a municipality of the district", m),
				fmt.Sprintf("%q non è un comune dell'ambito", m)))
		case seen[m]:
			fe = append(fe, field(ptr, "duplicate", "this municipality is listed twice", "questo comune è indicato due volte"))
		}
		seen[m] = true
	}
	if in.Bands == nil {
		in.Bands = map[string][]store.PriceBand{}
	}
	for m, bands := range in.Bands {
		fe = append(fe, validateBands("/price_bands/"+m, m, bands, seen[m], in.PriceCents)...)
	}
	slices.SortFunc(fe, func(a, b FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
	return in, fe
}

// validateBands checks the ISEE bands of one municipality: upper bounds
// strictly rising, the last one open, each a price (at most the list price)
// or a percentage, prices never falling as the ISEE rises.
func validateBands(ptr, m string, bands []store.PriceBand, served bool, list int64) []FieldError {
	var fe []FieldError
	if !served {
		return []FieldError{field(ptr, "not_served", fmt.Sprintf("bands for %q, which the service is not offered in", m),
			fmt.Sprintf("fasce per %q, dove il servizio non è offerto", m))}
	}
	if len(bands) == 0 || len(bands) > 10 {
		return []FieldError{field(ptr, "count", "give 1 to 10 bands", "indica da 1 a 10 fasce")}
	}
	prev, prevCents := -1, int64(-1)
	for i, b := range bands {
		bp := fmt.Sprintf("%s/%d", ptr, i)
		last := i == len(bands)-1
		switch {
		case b.MaxISEEEuro == nil && !last:
			fe = append(fe, field(bp+"/max_isee_euro", "open_not_last", "only the last band can be open-ended", "solo l'ultima fascia può essere senza limite"))
		case b.MaxISEEEuro != nil && last:
			fe = append(fe, field(bp+"/max_isee_euro", "last_not_open", "the last band must be open-ended (no max_isee_euro)", "l'ultima fascia deve essere senza limite ISEE"))
		case b.MaxISEEEuro != nil && *b.MaxISEEEuro <= prev:
			fe = append(fe, field(bp+"/max_isee_euro", "not_rising", "the ISEE limits must rise from band to band", "i limiti ISEE devono crescere da una fascia alla successiva"))
		case b.MaxISEEEuro != nil && *b.MaxISEEEuro > 1_000_000:
			fe = append(fe, field(bp+"/max_isee_euro", "too_high", "the ISEE limit is above EUR 1,000,000", "il limite ISEE supera 1.000.000 €"))
		}
		if b.MaxISEEEuro != nil {
			prev = *b.MaxISEEEuro
		}
		switch {
		case (b.PriceCents == nil) == (b.Percent == nil):
			fe = append(fe, field(bp, "price_or_percent", "give either price_cents or percent", "indica un prezzo oppure una percentuale"))
			continue
		case b.PriceCents != nil && *b.PriceCents < 0:
			fe = append(fe, field(bp+"/price_cents", "negative", "the price cannot be negative", "il prezzo non può essere negativo"))
			continue
		case b.PriceCents != nil && *b.PriceCents > list:
			fe = append(fe, field(bp+"/price_cents", "above_list", "a band's price cannot exceed the list price", "il prezzo di una fascia non può superare il prezzo di listino"))
			continue
		case b.Percent != nil && (*b.Percent < 0 || *b.Percent > 100):
			fe = append(fe, field(bp+"/percent", "range", "the percentage must be from 0 to 100", "la percentuale deve essere tra 0 e 100"))
			continue
		}
		cents := b.Cents(list)
		if cents < prevCents {
			fe = append(fe, field(bp, "inconsistent", "a band with a higher ISEE cannot cost less than the band before",
				"una fascia con ISEE più alto non può costare meno della precedente"))
		}
		prevCents = cents
	}
	return fe
}

// saveService validates the body and writes the service of the caller's
// cooperative (id 0: a new one).
func (s *server) saveService(c *gin.Context, id int64, b ServiceBody) (store.Service, error) {
	ctx := c.Request.Context()
	u := currentUser(c)
	coop, err := s.api.UserCooperative(ctx, u.ID)
	if err != nil {
		return store.Service{}, err
	}
	district, err := s.api.DistrictMunicipalities(ctx, u.District)
	if err != nil {
		return store.Service{}, err
	}
	in, fe := validateService(b, district)
	if len(fe) > 0 {
		return store.Service{}, invalid(fe...)
	}
	sv, err := s.api.SaveService(ctx, u.Scope(), coop, id, in)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return sv, notFound("service")
	case errors.Is(err, store.ErrConflict):
		return sv, invalid(field("/name", "duplicate", "your cooperative already has a service with this name",
			"la cooperativa ha già un servizio con questo nome"))
	}
	return sv, err
}

func (s *server) createService(c *gin.Context) error {
	var b ServiceBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	sv, err := s.saveService(c, 0, b)
	if err != nil {
		return err
	}
	c.Header("Location", fmt.Sprintf("/api/v1/services/%d", sv.ID))
	c.JSON(http.StatusCreated, sv)
	return nil
}

func (s *server) updateService(c *gin.Context) error {
	id, err := serviceID(c)
	if err != nil {
		return err
	}
	var b ServiceBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	sv, err := s.saveService(c, id, b)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, sv)
	return nil
}

// setPublished publishes or withdraws a service of the caller's cooperative.
func (s *server) setPublished(c *gin.Context, published bool) (store.Service, error) {
	id, err := serviceID(c)
	if err != nil {
		return store.Service{}, err
	}
	ctx := c.Request.Context()
	u := currentUser(c)
	coop, err := s.api.UserCooperative(ctx, u.ID)
	if err != nil {
		return store.Service{}, err
	}
	sv, err := s.api.PublishService(ctx, u.Scope(), coop, id, published)
	if errors.Is(err, store.ErrNotFound) {
		return sv, notFound("service")
	}
	return sv, err
}

func (s *server) publishService(published bool) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		sv, err := s.setPublished(c, published)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, sv)
		return nil
	}
}
