// Package marketplace is the district's cooperative marketplace (issue 5):
// the catalogue of the cooperatives and their services (browsing, search,
// the price of each service for the caller's ISEE band, a cooperative's
// own services: create, update, publish, withdraw), the citizen's declared
// ISEE, the citizen's cart and checkout (which starts the Booking
// workflow), the citizen's bookings (cancel, confirm a delivery), the
// cooperative's bookings (answer a request, record the delivered sessions)
// and what follows a payment provider's callback (the event confirmed with
// the provider, signalled to the booking's workflow, a late payment
// refunded or recorded as an incident).
//
// Each use case is here once: the rule, the authorization decision beyond
// the route gate, the store calls and the Temporal calls; a cooperative's
// reads of its bookings and its answers to them are audited. The JSON API (api/catalogue.go,
// service_vouchers.go, checkout.go, coop_bookings.go, payments_callback.go)
// and the pages (api/web/catalogue.go, checkout.go,
// coop_bookings.go) only decode their input and show the result. The
// booking's workflow (workflows/booking.go) checks every answer again in
// its update validators, against its own state.
package marketplace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/outbox"
	"sportello/internal/payments"
	"sportello/internal/store"
)

// Service does the marketplace's use cases.
type Service struct {
	*app.Core
	// Payments is the payment provider's client (the callback's
	// confirmation and late refunds); nil: none.
	Payments *payments.Client
	// Mailer sends the incident e-mails of the payment callback; nil: they
	// stay in the outbox. PortalURL is the portal's address for their links.
	Mailer    outbox.Mailer
	PortalURL string
}

// New returns the marketplace service on core, with the payment provider's
// client and the mailer of the callback's incidents.
func New(core *app.Core, pay *payments.Client, mailer outbox.Mailer, portalURL string) Service {
	return Service{Core: core, Payments: pay, Mailer: mailer, PortalURL: portalURL}
}

// anonymous is the scope of a visitor who is not logged in.
var anonymous = store.Scope{Kind: "anonymous"}

// ScopeOf is the scope of user, anonymous when not logged in (ID 0).
func ScopeOf(user store.UserView) store.Scope {
	if user.ID == 0 {
		return anonymous
	}
	return user.Scope()
}

func isCitizen(u store.UserView) bool { return u.Role == string(contract.RoleCitizen) }

func isCooperative(u store.UserView) bool { return u.Role == string(contract.RoleCooperative) }

// ---- the catalogue ----

// Cooperatives lists the cooperatives of district: district staff see
// them all, everyone else the ones that are accredited and visible.
func (s Service) Cooperatives(ctx context.Context, user store.UserView, district string) ([]store.Cooperative, error) {
	return s.API.Cooperatives(ctx, ScopeOf(user), district, !app.IsStaff(user.Role))
}

// Cooperative reads a cooperative user sees.
func (s Service) Cooperative(ctx context.Context, user store.UserView, id string) (store.Cooperative, error) {
	coop, err := s.API.Cooperative(ctx, ScopeOf(user), id)
	if errors.Is(err, store.ErrNotFound) {
		return coop, app.Missing("cooperative")
	}
	return coop, err
}

// OwnCooperative reads the cooperative of a cooperative user.
func (s Service) OwnCooperative(ctx context.Context, user store.UserView) (store.Cooperative, error) {
	coopID, err := s.API.UserCooperative(ctx, user.ID)
	if err != nil {
		return store.Cooperative{}, err
	}
	return s.API.Cooperative(ctx, user.Scope(), coopID)
}

// DistrictMunicipalities lists the municipalities of district.
func (s Service) DistrictMunicipalities(ctx context.Context, district string) ([]string, error) {
	return s.API.DistrictMunicipalities(ctx, district)
}

// Pricing is how prices are shown to a caller: a citizen's municipality
// and ISEE (nil when unknown).
type Pricing struct {
	Municipality string
	ISEE         *store.CitizenISEE
}

// Quote is the price of sv for this caller.
func (p Pricing) Quote(sv store.Service) store.PriceQuote {
	var isee *int
	if p.ISEE != nil {
		v := p.ISEE.Euro
		isee = &v
	}
	return sv.Quote(p.Municipality, isee)
}

// Pricing finds the citizen's municipality and ISEE; other callers see
// list prices.
func (s Service) Pricing(ctx context.Context, u store.UserView) (Pricing, error) {
	if !isCitizen(u) {
		return Pricing{}, nil
	}
	p := Pricing{Municipality: u.Municipality}
	isee, ok, err := s.API.CitizenISEE(ctx, u.Scope(), u.ID)
	if err != nil {
		return p, err
	}
	if ok {
		p.ISEE = &isee
	}
	return p, nil
}

// PricedService is a service with the caller's price.
type PricedService struct {
	store.Service
	CallerPrice store.PriceQuote `json:"caller_price"`
}

// publicOnly says whether a listing keeps to the public catalogue: district
// staff see everything, a cooperative user its own unpublished services.
func publicOnly(u store.UserView, f store.ServiceFilter, ownCoop string) bool {
	if app.IsStaff(u.Role) {
		return false
	}
	return !(isCooperative(u) && f.Cooperative != "" && f.Cooperative == ownCoop)
}

func (s Service) ownCooperativeID(ctx context.Context, u store.UserView) (string, error) {
	if !isCooperative(u) {
		return "", nil
	}
	return s.API.UserCooperative(ctx, u.ID)
}

// Catalogue lists the services of f that user sees, each with user's
// price, with their count (up to store.CatalogueCountCap, see
// store.API.Services) and user's pricing.
func (s Service) Catalogue(ctx context.Context, user store.UserView, f store.ServiceFilter) ([]PricedService, store.Count, Pricing, error) {
	own, err := s.ownCooperativeID(ctx, user)
	if err != nil {
		return nil, store.Count{}, Pricing{}, err
	}
	f.PublicOnly = publicOnly(user, f, own)
	items, total, err := s.API.Services(ctx, ScopeOf(user), f)
	if err != nil {
		return nil, store.Count{}, Pricing{}, err
	}
	p, err := s.Pricing(ctx, user)
	if err != nil {
		return nil, store.Count{}, Pricing{}, err
	}
	out := make([]PricedService, 0, len(items))
	for _, sv := range items {
		out = append(out, PricedService{Service: sv, CallerPrice: p.Quote(sv)})
	}
	return out, total, p, nil
}

// ServiceByID reads a service user sees, with their price.
func (s Service) ServiceByID(ctx context.Context, user store.UserView, id int64) (PricedService, Pricing, error) {
	if id <= 0 {
		return PricedService{}, Pricing{}, app.Missing("service")
	}
	sv, err := s.API.Service(ctx, ScopeOf(user), id)
	if errors.Is(err, store.ErrNotFound) {
		return PricedService{}, Pricing{}, app.Missing("service")
	}
	if err != nil {
		return PricedService{}, Pricing{}, err
	}
	p, err := s.Pricing(ctx, user)
	if err != nil {
		return PricedService{}, Pricing{}, err
	}
	return PricedService{Service: sv, CallerPrice: p.Quote(sv)}, p, nil
}

// OwnService reads a service of the cooperative user's cooperative (not
// found otherwise).
func (s Service) OwnService(ctx context.Context, user store.UserView, id int64) (store.Service, error) {
	if id <= 0 {
		return store.Service{}, app.Missing("service")
	}
	coopID, err := s.API.UserCooperative(ctx, user.ID)
	if err != nil {
		return store.Service{}, err
	}
	sv, err := s.API.Service(ctx, user.Scope(), id)
	if err != nil || sv.CooperativeID != coopID {
		return sv, app.Missing("service")
	}
	return sv, nil
}

// ServiceBody is a cooperative's service as it writes it (the body of
// POST and PUT /services).
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

func oneOf(ptr, code string, v string, allowed []string, what string) []app.FieldError {
	if slices.Contains(allowed, v) {
		return nil
	}
	list := strings.Join(allowed, ", ")
	return []app.FieldError{app.Field(ptr, code, "marketplace.err.not_one_of", what, list)}
}

// Validate checks a service body against the district's municipalities
// and returns the input to store.
func (b ServiceBody) Validate(district []string) (store.ServiceInput, []app.FieldError) {
	in := store.ServiceInput{Category: b.Category, Name: strings.TrimSpace(b.Name), Description: strings.TrimSpace(b.Description),
		Unit: b.Unit, CapacityPeriod: b.CapacityPeriod, Municipalities: b.Municipalities, Bands: b.PriceBands}
	var fe []app.FieldError
	fe = append(fe, oneOf("/category", "unknown_category", b.Category, store.ServiceCategories, "category")...)
	if n := len([]rune(in.Name)); n < 3 || n > 200 {
		fe = append(fe, app.Field("/name", "length", "marketplace.err.name_length"))
	}
	if len([]rune(in.Description)) > 5000 {
		fe = append(fe, app.Field("/description", "too_long", "marketplace.err.description_too_long"))
	}
	fe = append(fe, oneOf("/unit", "unknown_unit", b.Unit, store.ServiceUnits, "unit")...)
	switch {
	case b.PriceCents == nil:
		fe = append(fe, app.Field("/price_cents", "required", "marketplace.err.price_cents_required"))
	case *b.PriceCents < 0:
		fe = append(fe, app.Field("/price_cents", "negative", "marketplace.err.price_negative"))
	case *b.PriceCents > maxPriceCents:
		fe = append(fe, app.Field("/price_cents", "too_high", "marketplace.err.price_too_high"))
	default:
		in.PriceCents = *b.PriceCents
	}
	if b.Capacity == nil || *b.Capacity < 1 || *b.Capacity > 100_000 {
		fe = append(fe, app.Field("/capacity", "invalid", "marketplace.err.capacity_invalid"))
	} else {
		in.Capacity = *b.Capacity
	}
	fe = append(fe, oneOf("/capacity_period", "unknown_period", b.CapacityPeriod, store.CapacityPeriods, "capacity_period")...)
	if len(b.Municipalities) == 0 {
		fe = append(fe, app.Field("/municipalities", "required", "marketplace.err.municipalities_required"))
	}
	seen := map[string]bool{}
	for i, m := range b.Municipalities {
		ptr := fmt.Sprintf("/municipalities/%d", i)
		switch {
		case !slices.Contains(district, m):
			fe = append(fe, app.Field(ptr, "outside_district", "marketplace.err.outside_district", m))
		case seen[m]:
			fe = append(fe, app.Field(ptr, "duplicate", "marketplace.err.municipality_twice"))
		}
		seen[m] = true
	}
	if in.Bands == nil {
		in.Bands = map[string][]store.PriceBand{}
	}
	for m, bands := range in.Bands {
		fe = append(fe, validateBands("/price_bands/"+m, m, bands, seen[m], in.PriceCents)...)
	}
	slices.SortFunc(fe, func(a, b app.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
	return in, fe
}

// validateBands checks the ISEE bands of one municipality: upper bounds
// strictly rising, the last one open, each a price (at most the list price)
// or a percentage, prices never falling as the ISEE rises.
func validateBands(ptr, m string, bands []store.PriceBand, served bool, list int64) []app.FieldError {
	var fe []app.FieldError
	if !served {
		return []app.FieldError{app.Field(ptr, "not_served", "marketplace.err.not_served", m)}
	}
	if len(bands) == 0 || len(bands) > 10 {
		return []app.FieldError{app.Field(ptr, "count", "marketplace.err.bands_count")}
	}
	prev, prevCents := -1, int64(-1)
	for i, b := range bands {
		bp := fmt.Sprintf("%s/%d", ptr, i)
		last := i == len(bands)-1
		switch {
		case b.MaxISEEEuro == nil && !last:
			fe = append(fe, app.Field(bp+"/max_isee_euro", "open_not_last", "marketplace.err.open_not_last"))
		case b.MaxISEEEuro != nil && last:
			fe = append(fe, app.Field(bp+"/max_isee_euro", "last_not_open", "marketplace.err.last_not_open"))
		case b.MaxISEEEuro != nil && *b.MaxISEEEuro <= prev:
			fe = append(fe, app.Field(bp+"/max_isee_euro", "not_rising", "marketplace.err.not_rising"))
		case b.MaxISEEEuro != nil && *b.MaxISEEEuro > 1_000_000:
			fe = append(fe, app.Field(bp+"/max_isee_euro", "too_high", "marketplace.err.max_isee_euro_too_high"))
		}
		if b.MaxISEEEuro != nil {
			prev = *b.MaxISEEEuro
		}
		switch {
		case (b.PriceCents == nil) == (b.Percent == nil):
			fe = append(fe, app.Field(bp, "price_or_percent", "marketplace.err.price_or_percent"))
			continue
		case b.PriceCents != nil && *b.PriceCents < 0:
			fe = append(fe, app.Field(bp+"/price_cents", "negative", "marketplace.err.price_negative"))
			continue
		case b.PriceCents != nil && *b.PriceCents > list:
			fe = append(fe, app.Field(bp+"/price_cents", "above_list", "marketplace.err.above_list"))
			continue
		case b.Percent != nil && (*b.Percent < 0 || *b.Percent > 100):
			fe = append(fe, app.Field(bp+"/percent", "range", "marketplace.err.percent_range"))
			continue
		}
		cents := b.Cents(list)
		if cents < prevCents {
			fe = append(fe, app.Field(bp, "inconsistent", "marketplace.err.band_cheaper"))
		}
		prevCents = cents
	}
	return fe
}

// SaveService validates b and writes the service of the cooperative user's
// cooperative (id 0: a new one).
func (s Service) SaveService(ctx context.Context, user store.UserView, id int64, b ServiceBody) (store.Service, error) {
	coop, err := s.API.UserCooperative(ctx, user.ID)
	if err != nil {
		return store.Service{}, err
	}
	district, err := s.API.DistrictMunicipalities(ctx, user.District)
	if err != nil {
		return store.Service{}, err
	}
	in, fe := b.Validate(district)
	if len(fe) > 0 {
		return store.Service{}, app.InvalidInput(fe...)
	}
	sv, err := s.API.SaveService(ctx, user.Scope(), coop, id, in)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return sv, app.Missing("service")
	case errors.Is(err, store.ErrConflict):
		return sv, app.InvalidInput(app.Field("/name", "duplicate", "marketplace.err.name_duplicate"))
	}
	return sv, err
}

// SetPublished publishes or withdraws a service of the cooperative user's
// cooperative.
func (s Service) SetPublished(ctx context.Context, user store.UserView, id int64, published bool) (store.Service, error) {
	if id <= 0 {
		return store.Service{}, app.Missing("service")
	}
	coop, err := s.API.UserCooperative(ctx, user.ID)
	if err != nil {
		return store.Service{}, err
	}
	sv, err := s.API.PublishService(ctx, user.Scope(), coop, id, published)
	if errors.Is(err, store.ErrNotFound) {
		return sv, app.Missing("service")
	}
	return sv, err
}
