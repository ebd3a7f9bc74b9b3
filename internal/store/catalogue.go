package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cooperatives' catalogue (issue 5): cooperatives, their services, the
// municipalities a service is offered in and its prices by ISEE band.
// Row-level security (migration 009) decides who sees what; these queries
// only add the filters the caller asked for.

// Service categories (the five areas of the district's marketplace).
var ServiceCategories = []string{"youcare", "childcare", "silvercare", "familycare", "housepetcare"}

// ServiceUnits are the units a price can be given per.
var ServiceUnits = []string{"hour", "session", "day", "week", "month", "visit"}

// CapacityPeriods are the periods a capacity is counted over.
var CapacityPeriods = []string{"week", "month"}

// Cooperative is an accredited social cooperative of a district.
type Cooperative struct {
	ID                   string     `json:"id"`
	District             string     `json:"district"`
	Name                 string     `json:"name"`
	Description          string     `json:"description"`
	Address              string     `json:"address"`
	Phone                string     `json:"phone"`
	Email                string     `json:"email"`
	Website              string     `json:"website"`
	AccreditationStatus  string     `json:"accreditation_status"` // accredited, suspended, expired
	AccreditedFrom       time.Time  `json:"accredited_from"`
	AccreditedUntil      time.Time  `json:"accredited_until"`
	Certification        string     `json:"certification"`
	CertificationExpires *time.Time `json:"certification_expires,omitempty"`
	// Public is true when citizens see the cooperative today; otherwise
	// HiddenReason says why (only staff and the cooperative itself read it).
	Public       bool   `json:"public"`
	HiddenReason string `json:"hidden_reason,omitempty"` // suspended, accreditation_expired, no_certification, certification_expired
	Services     int    `json:"services"`                // published services visible to the caller
}

// PriceBand is one ISEE band of a service's prices in a municipality: up to
// MaxISEEEuro inclusive (nil: above the other bands), either a price or a
// percentage of the list price.
type PriceBand struct {
	MaxISEEEuro *int   `json:"max_isee_euro"`
	PriceCents  *int64 `json:"price_cents,omitempty"`
	Percent     *int   `json:"percent,omitempty"`
}

// Cents is the band's price for a list price.
func (b PriceBand) Cents(list int64) int64 {
	if b.PriceCents != nil {
		return *b.PriceCents
	}
	if b.Percent != nil {
		// Rounded half up to the cent.
		return (list*int64(*b.Percent) + 50) / 100
	}
	return list
}

// Service is one entry of the catalogue.
type Service struct {
	ID              int64                  `json:"id"`
	CooperativeID   string                 `json:"cooperative_id"`
	CooperativeName string                 `json:"cooperative_name"`
	District        string                 `json:"district"`
	Category        string                 `json:"category"`
	Name            string                 `json:"name"`
	Description     string                 `json:"description"`
	Unit            string                 `json:"unit"`
	PriceCents      int64                  `json:"price_cents"`
	Capacity        int                    `json:"capacity"`
	CapacityPeriod  string                 `json:"capacity_period"`
	Published       bool                   `json:"published"`
	Municipalities  []string               `json:"municipalities"`
	Bands           map[string][]PriceBand `json:"price_bands"`
	UpdatedAt       time.Time              `json:"updated_at"`
}

// ServiceInput is what a cooperative writes for a service.
type ServiceInput struct {
	Category       string
	Name           string
	Description    string
	Unit           string
	PriceCents     int64
	Capacity       int
	CapacityPeriod string
	Municipalities []string
	Bands          map[string][]PriceBand
}

// ServiceFilter narrows a catalogue listing. Empty fields do not filter.
type ServiceFilter struct {
	District      string
	Category      string
	Municipality  string
	Cooperative   string
	Query         string // full text, Italian
	MaxPriceCents int64  // list price; 0 = no limit
	// PublicOnly keeps only published services of cooperatives citizens see
	// (the public catalogue, whoever browses it).
	PublicOnly bool
	Limit      int
	Offset     int
	// CountCap bounds the count and the block of matches a search ranks
	// together (CatalogueCountCap when 0).
	CountCap int
}

const cooperativeColumns = `c.id, c.district_id, c.name, c.description, c.address, c.phone, c.email, c.website,
	c.accreditation_status, c.accredited_from, c.accredited_until, c.certification, c.certification_expires,
	cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires),
	CASE WHEN c.accreditation_status = 'suspended' THEN 'suspended'
	     WHEN c.accreditation_status = 'expired' OR c.accredited_until < current_date THEN 'accreditation_expired'
	     WHEN c.certification_expires IS NULL THEN 'no_certification'
	     WHEN c.certification_expires < current_date THEN 'certification_expired'
	     ELSE '' END,
	(SELECT count(*) FROM services s WHERE s.cooperative_id = c.id AND s.published)`

func scanCooperative(row pgx.Row) (Cooperative, error) {
	var c Cooperative
	err := row.Scan(&c.ID, &c.District, &c.Name, &c.Description, &c.Address, &c.Phone, &c.Email, &c.Website,
		&c.AccreditationStatus, &c.AccreditedFrom, &c.AccreditedUntil, &c.Certification, &c.CertificationExpires,
		&c.Public, &c.HiddenReason, &c.Services)
	return c, err
}

// Cooperatives lists the cooperatives the scope sees, of district (” = all),
// by name. publicOnly keeps those citizens see.
func (a API) Cooperatives(ctx context.Context, scope Scope, district string, publicOnly bool) ([]Cooperative, error) {
	out := []Cooperative{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+cooperativeColumns+` FROM cooperatives c
			WHERE ($1 = '' OR c.district_id = $1)
			  AND (NOT $2 OR cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires))
			ORDER BY c.name`, district, publicOnly)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCooperative(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// Cooperative reads one cooperative (ErrNotFound when the scope does not see it).
func (a API) Cooperative(ctx context.Context, scope Scope, id string) (Cooperative, error) {
	var c Cooperative
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		c, err = scanCooperative(tx.QueryRow(ctx, `SELECT `+cooperativeColumns+` FROM cooperatives c WHERE c.id = $1`, id))
		return err
	})
	return c, MapError(err)
}

// UserCooperative is the cooperative of a cooperative user (ErrNotFound for
// other users).
func (a API) UserCooperative(ctx context.Context, userID int64) (string, error) {
	var id string
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT cooperative_id FROM users WHERE id = $1 AND role = 'cooperative'`, userID).Scan(&id)
	})
	return id, MapError(err)
}

const serviceColumns = `s.id, s.cooperative_id, c.name, s.district_id, s.category, s.name, s.description, s.unit,
	s.price_cents, s.capacity, s.capacity_period, s.published, s.updated_at`

func scanService(row pgx.Row, extra ...any) (Service, error) {
	var s Service
	err := row.Scan(append([]any{&s.ID, &s.CooperativeID, &s.CooperativeName, &s.District, &s.Category, &s.Name,
		&s.Description, &s.Unit, &s.PriceCents, &s.Capacity, &s.CapacityPeriod, &s.Published, &s.UpdatedAt}, extra...)...)
	return s, err
}

// CatalogueCountCap is how many matches a catalogue listing counts (and
// how many of them a search ranks together) at most, by default: beyond it
// the listing says "more than CatalogueCountCap". Counting and ranking every
// match costs a read and a row-level-security check of each; a common word
// matches most of a large catalogue.
const CatalogueCountCap = 100

// Services lists a page of the catalogue with its count (Count: exact up
// to the cap, else a lower bound, never less than the matches up to the end
// of the page, so that a full page always has a next one).
//
// Without a query the list is by name (read in order from the name
// indexes). With a query, the matches are taken in blocks of
// CatalogueCountCap, in storage order for the public catalogue (read row by
// row from the first pages, then from the rest of the table or the
// full-text index: catalogue_public_matches, migrations 017 and 039), else
// newest first (by id); each block is ordered by rank, best first (then by
// name): the first page shows the best of the first CatalogueCountCap
// matches, and paging through every block yields each match once. Only the
// blocks up to the end of the page are read.
//
// The page, its services' municipalities and price bands and the count are
// one statement, sent with the transaction and the scope in one round trip
// (readBatch).
func (a API) Services(ctx context.Context, scope Scope, f ServiceFilter) ([]Service, Count, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 20
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	block := f.CountCap
	if block <= 0 {
		block = CatalogueCountCap
	}
	// Read the blocks up to the end of the page, and one match more to know
	// whether there are more.
	upTo := (f.Offset + f.Limit + block - 1) / block * block
	out, found, err := a.servicesPage(ctx, scope, f, block, upTo)
	if err == nil && len(out) == 0 && f.Offset > 0 {
		// Past the end: the count still says how many there are.
		_, found, err = a.servicesPage(ctx, scope, ServiceFilter{District: f.District, Category: f.Category,
			Municipality: f.Municipality, Cooperative: f.Cooperative, Query: f.Query, MaxPriceCents: f.MaxPriceCents,
			PublicOnly: f.PublicOnly, Limit: 1, CountCap: f.CountCap}, block, upTo)
	}
	if err != nil {
		return nil, Count{}, MapError(err)
	}
	if found > upTo {
		return out, Count{N: upTo, More: true}, nil
	}
	return out, Count{N: found}, nil
}

// servicesPage reads the page of f among the first upTo+1 matches, and how
// many of those there are.
func (a API) servicesPage(ctx context.Context, scope Scope, f ServiceFilter, block, upTo int) ([]Service, int, error) {
	sql, args := catalogueSQL(f)
	args["up_to"] = upTo + 1
	args["block"] = block
	args["offset"] = f.Offset
	args["limit"] = f.Limit
	out := []Service{}
	found := 0
	err := a.s.readBatch(ctx, scope, sql, args, func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				muns  []string
				n     int
				bands []byte
			)
			s, err := scanService(rows, &muns, &n, &bands)
			if err != nil {
				return err
			}
			found, s.Municipalities = n, muns
			if s.Bands, err = decodeBands(bands); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, found, err
}

// catalogueSQL is the statement of a catalogue page: only the filters f
// sets are written, so that every statement has a plan of its own (a
// generic plan of "$1 = ” OR column = $1" can use no index).
//
// The public filter reads the public cooperatives once per statement (an
// uncorrelated sub-select); row-level security still decides what the
// scope sees. The query's tsquery is a materialized CTE read through
// sub-selects, computed once per statement (a CTE joined in was inlined and
// re-evaluated for every candidate). Under row-level security the planner
// may only use an index for a leakproof operator, and @@ is not: a public
// catalogue search's page comes from catalogue_public_page (migration 039),
// which finds the matches (catalogue_public_matches: the first pages row by
// row, then the GIN index or the rest of the table, as the tables' owner),
// ranks, pages and counts them and reads the page's details, all of them
// public; the statement reads only the page's services under row-level
// security. Other searches (staff, a cooperative's own services) match
// every candidate row.
func catalogueSQL(f ServiceFilter) (string, pgx.NamedArgs) {
	args := pgx.NamedArgs{}
	where := "true"
	add := func(cond, name string, v any) {
		where += "\n\t\t\tAND " + cond
		if name != "" {
			args[name] = v
		}
	}
	if f.District != "" {
		add("s.district_id = @district", "district", f.District)
	}
	if f.Category != "" {
		add("s.category = @category", "category", f.Category)
	}
	if f.Municipality != "" {
		add("EXISTS (SELECT 1 FROM service_municipalities sm WHERE sm.service_id = s.id AND sm.municipality_id = @municipality)",
			"municipality", f.Municipality)
	}
	if f.Cooperative != "" {
		add("s.cooperative_id = @cooperative", "cooperative", f.Cooperative)
	}
	if f.MaxPriceCents > 0 {
		add("s.price_cents <= @max_price", "max_price", f.MaxPriceCents)
	}
	if f.PublicOnly {
		add(`s.published AND s.cooperative_id = ANY (ARRAY(SELECT c.id FROM cooperatives c
				WHERE cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires)))`, "", nil)
	}
	with, candidateOrder, rank := "", "s.name, s.id", "0::real"
	if f.Query != "" {
		// The tsquery once per statement (each sub-select of it would be
		// computed on its own).
		with = "query AS MATERIALIZED (SELECT catalogue_query(@q) AS q),\n\t\t"
		args["q"] = f.Query
		add("s.search @@ (SELECT q FROM query)", "", nil)
		candidateOrder, rank = "s.id DESC", "ts_rank(m.search, (SELECT q FROM query))"
		if f.PublicOnly {
			// The public catalogue's page comes ranked, counted and with
			// its details from catalogue_public_page (migration 039, its
			// matches from catalogue_public_matches in storage order, with
			// the conditions above); the page's services are read under
			// row-level security, which decides what the scope sees.
			for k, v := range map[string]any{"district": f.District, "category": f.Category, "municipality": f.Municipality,
				"cooperative": f.Cooperative, "max_price": f.MaxPriceCents} {
				args[k] = v
			}
			return `WITH ` + with + `page AS MATERIALIZED (
			SELECT * FROM catalogue_public_page((SELECT q FROM query), @district, @category, @municipality,
				@cooperative, @max_price::bigint, @up_to, @block, @offset, @limit))
		SELECT ` + serviceColumns + `, p.municipalities, p.found, p.bands
		FROM page p JOIN services s ON s.id = p.service_id JOIN cooperatives c ON c.id = s.cooperative_id
		ORDER BY p.pos`, args
		}
	}
	return `WITH ` + with + `matches AS MATERIALIZED (
			SELECT s.id, s.cooperative_id, s.district_id, s.category, s.name, s.description, s.unit,
				s.price_cents, s.capacity, s.capacity_period, s.published, s.updated_at, s.search
			FROM services s
			WHERE ` + where + `
			ORDER BY ` + candidateOrder + `
			LIMIT @up_to),
		page AS (
			SELECT m.*, (row_number() OVER () - 1) / @block AS block, ` + rank + ` AS rank
			FROM matches m
			ORDER BY block, rank DESC, m.name, m.id
			OFFSET @offset LIMIT @limit)
		SELECT ` + strings.ReplaceAll(serviceColumns, "s.", "p.") + `,
			coalesce((SELECT array_agg(sm.municipality_id ORDER BY sm.municipality_id)
				FROM service_municipalities sm WHERE sm.service_id = p.id), '{}'),
			(SELECT count(*) FROM matches),
			(SELECT json_agg(json_build_array(b.municipality_id, b.max_isee_euro, b.price_cents, b.percent)
				ORDER BY b.municipality_id, b.position) FROM service_price_bands b WHERE b.service_id = p.id)
		FROM page p JOIN cooperatives c ON c.id = p.cooperative_id
		ORDER BY p.block, p.rank DESC, p.name, p.id`, args
}

// decodeBands reads the price bands of a service as catalogueSQL writes
// them: [[municipality, max_isee_euro, price_cents, percent], ...] in order.
func decodeBands(raw []byte) (map[string][]PriceBand, error) {
	out := map[string][]PriceBand{}
	if len(raw) == 0 {
		return out, nil
	}
	var rows [][4]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("price bands: %w", err)
	}
	for _, r := range rows {
		var (
			m string
			b PriceBand
		)
		if err := json.Unmarshal(r[0], &m); err != nil {
			return nil, fmt.Errorf("price bands: %w", err)
		}
		for i, dst := range []any{&b.MaxISEEEuro, &b.PriceCents, &b.Percent} {
			if err := json.Unmarshal(r[i+1], dst); err != nil {
				return nil, fmt.Errorf("price bands: %w", err)
			}
		}
		out[m] = append(out[m], b)
	}
	return out, nil
}

// loadServiceDetails fills the municipalities and price bands of services.
func loadServiceDetails(ctx context.Context, tx pgx.Tx, services []Service) error {
	if len(services) == 0 {
		return nil
	}
	ids := make([]int64, len(services))
	idx := map[int64]int{}
	for i := range services {
		ids[i] = services[i].ID
		idx[services[i].ID] = i
		services[i].Municipalities = []string{}
		services[i].Bands = map[string][]PriceBand{}
	}
	rows, err := tx.Query(ctx, `SELECT service_id, municipality_id FROM service_municipalities
		WHERE service_id = ANY($1) ORDER BY service_id, municipality_id`, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var m string
		if err := rows.Scan(&id, &m); err != nil {
			rows.Close()
			return err
		}
		services[idx[id]].Municipalities = append(services[idx[id]].Municipalities, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT service_id, municipality_id, max_isee_euro, price_cents, percent
		FROM service_price_bands WHERE service_id = ANY($1) ORDER BY service_id, municipality_id, position`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  int64
			m   string
			b   PriceBand
			pct *int16
		)
		if err := rows.Scan(&id, &m, &b.MaxISEEEuro, &b.PriceCents, &pct); err != nil {
			return err
		}
		if pct != nil {
			p := int(*pct)
			b.Percent = &p
		}
		s := &services[idx[id]]
		s.Bands[m] = append(s.Bands[m], b)
	}
	return rows.Err()
}

// Service reads one service (ErrNotFound when the scope does not see it).
func (a API) Service(ctx context.Context, scope Scope, id int64) (Service, error) {
	var s Service
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		s, err = readService(ctx, tx, id)
		return err
	})
	return s, MapError(err)
}

func readService(ctx context.Context, tx pgx.Tx, id int64) (Service, error) {
	s, err := scanService(tx.QueryRow(ctx, `SELECT `+serviceColumns+`
		FROM services s JOIN cooperatives c ON c.id = s.cooperative_id WHERE s.id = $1`, id))
	if err != nil {
		return s, err
	}
	list := []Service{s}
	if err := loadServiceDetails(ctx, tx, list); err != nil {
		return s, err
	}
	return list[0], nil
}

// DistrictMunicipalities are the ids of a district's municipalities.
func (a API) DistrictMunicipalities(ctx context.Context, district string) ([]string, error) {
	var out []string
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM municipalities WHERE district_id = $1 ORDER BY name`, district)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, MapError(err)
}

// SaveService creates (id 0) or updates a service of cooperative, writing
// its municipalities and bands. A service the scope may not write is
// ErrNotFound. A new service starts unpublished.
func (a API) SaveService(ctx context.Context, scope Scope, cooperative string, id int64, in ServiceInput) (Service, error) {
	var s Service
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		if id == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO services (cooperative_id, district_id, category, name, description, unit,
					price_cents, capacity, capacity_period)
				SELECT c.id, c.district_id, $2, $3, $4, $5, $6, $7, $8 FROM cooperatives c WHERE c.id = $1
				RETURNING id`, cooperative, in.Category, in.Name, in.Description, in.Unit, in.PriceCents,
				in.Capacity, in.CapacityPeriod).Scan(&id)
		} else {
			err = tx.QueryRow(ctx, `UPDATE services SET category = $3, name = $4, description = $5, unit = $6,
					price_cents = $7, capacity = $8, capacity_period = $9, updated_at = now()
				WHERE id = $1 AND cooperative_id = $2 RETURNING id`, id, cooperative, in.Category, in.Name,
				in.Description, in.Unit, in.PriceCents, in.Capacity, in.CapacityPeriod).Scan(&id)
		}
		if err != nil {
			return err
		}
		if err := writeServiceDetails(ctx, tx, id, in); err != nil {
			return err
		}
		s, err = readService(ctx, tx, id)
		return err
	})
	return s, MapError(err)
}

func writeServiceDetails(ctx context.Context, tx pgx.Tx, id int64, in ServiceInput) error {
	if _, err := tx.Exec(ctx, `DELETE FROM service_price_bands WHERE service_id = $1`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM service_municipalities WHERE service_id = $1`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO service_municipalities (service_id, municipality_id)
		SELECT $1, unnest($2::text[])`, id, in.Municipalities); err != nil {
		return err
	}
	ms := make([]string, 0, len(in.Bands))
	for m := range in.Bands {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	for _, m := range ms {
		for pos, b := range in.Bands[m] {
			if _, err := tx.Exec(ctx, `INSERT INTO service_price_bands (service_id, municipality_id, position,
					max_isee_euro, price_cents, percent) VALUES ($1, $2, $3, $4, $5, $6)`,
				id, m, pos, b.MaxISEEEuro, b.PriceCents, b.Percent); err != nil {
				return err
			}
		}
	}
	return nil
}

// PublishService publishes or withdraws a service of cooperative.
func (a API) PublishService(ctx context.Context, scope Scope, cooperative string, id int64, published bool) (Service, error) {
	var s Service
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `UPDATE services SET published = $3, updated_at = now()
			WHERE id = $1 AND cooperative_id = $2 RETURNING id`, id, cooperative, published).Scan(&id); err != nil {
			return err
		}
		var err error
		s, err = readService(ctx, tx, id)
		return err
	})
	return s, MapError(err)
}

// CitizenISEE is the ISEE the catalogue uses for a citizen's prices.
type CitizenISEE struct {
	Euro   int    `json:"euro"`
	Source string `json:"source"` // application, profile
	CaseID string `json:"case_id,omitempty"`
}

// CitizenISEE returns the citizen's newest ISEE declaration: the one in
// their profile when they updated it after their latest application that
// states one, else that application's, else the profile's; ok is false when
// neither is known.
func (a API) CitizenISEE(ctx context.Context, scope Scope, userID int64) (CitizenISEE, bool, error) {
	var (
		out CitizenISEE
		ok  bool
	)
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, ok, err = citizenISEETx(ctx, tx, userID)
		return err
	})
	return out, ok, MapError(err)
}

// citizenISEETx reads a citizen's ISEE inside tx (see CitizenISEE).
func citizenISEETx(ctx context.Context, tx pgx.Tx, userID int64) (CitizenISEE, bool, error) {
	var out CitizenISEE
	var (
		euro      *float64
		filedAt   time.Time
		profile   *int
		profileAt *time.Time
	)
	err := tx.QueryRow(ctx, `SELECT id, (data->>'isee_euro')::numeric, created_at FROM cases
		WHERE applicant_id = $1 AND jsonb_typeof(data->'isee_euro') = 'number'
		ORDER BY created_at DESC, id DESC LIMIT 1`, userID).Scan(&out.CaseID, &euro, &filedAt)
	if err != nil && err != pgx.ErrNoRows {
		return out, false, err
	}
	if err := tx.QueryRow(ctx, `SELECT isee_euro, isee_updated_at FROM users WHERE id = $1`, userID).Scan(&profile, &profileAt); err != nil {
		return out, false, err
	}
	newerProfile := profile != nil && profileAt != nil && !profileAt.Before(filedAt)
	if euro != nil && !newerProfile {
		out.Euro, out.Source = int(*euro), "application"
		return out, true, nil
	}
	out.CaseID = ""
	if profile != nil {
		out.Euro, out.Source = *profile, "profile"
		return out, true, nil
	}
	return out, false, nil
}

// PriceQuote is the price of a service for a caller, with how it was derived.
type PriceQuote struct {
	Cents int64 `json:"price_cents"`
	// Basis: list (no ISEE known, or no bands where the caller lives), band,
	// not_served (the service is not offered in the caller's municipality:
	// list price).
	Basis        string     `json:"basis"`
	Municipality string     `json:"municipality,omitempty"`
	ISEEEuro     *int       `json:"isee_euro,omitempty"`
	Band         *PriceBand `json:"band,omitempty"`
	// LowerEuro is the band's lower bound (exclusive), nil for the first band.
	LowerEuro *int `json:"band_above_euro,omitempty"`
}

// Quote derives the price of s for someone living in municipality with
// ISEE isee (nil: unknown). Bands are taken in order; the first whose upper
// bound is at or above the ISEE applies (bounds are inclusive).
func (s Service) Quote(municipality string, isee *int) PriceQuote {
	q := PriceQuote{Cents: s.PriceCents, Basis: "list", Municipality: municipality, ISEEEuro: isee}
	if municipality == "" {
		q.Municipality = ""
		return q
	}
	served := false
	for _, m := range s.Municipalities {
		if m == municipality {
			served = true
		}
	}
	if !served {
		q.Basis = "not_served"
		return q
	}
	if isee == nil {
		return q
	}
	var lower *int
	for _, b := range s.Bands[municipality] {
		if b.MaxISEEEuro == nil || *isee <= *b.MaxISEEEuro {
			band := b
			q.Cents, q.Basis, q.Band, q.LowerEuro = b.Cents(s.PriceCents), "band", &band, lower
			return q
		}
		lower = b.MaxISEEEuro
	}
	return q
}

// UpsertCooperative writes a cooperative (seed data; system scope).
func UpsertCooperative(ctx context.Context, tx pgx.Tx, c Cooperative) error {
	_, err := tx.Exec(ctx, `INSERT INTO cooperatives (id, district_id, name, description, address, phone, email, website,
			accreditation_status, accredited_from, accredited_until, certification, certification_expires)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (id) DO UPDATE SET district_id = EXCLUDED.district_id, name = EXCLUDED.name,
			description = EXCLUDED.description, address = EXCLUDED.address, phone = EXCLUDED.phone,
			email = EXCLUDED.email, website = EXCLUDED.website, accreditation_status = EXCLUDED.accreditation_status,
			accredited_from = EXCLUDED.accredited_from, accredited_until = EXCLUDED.accredited_until,
			certification = EXCLUDED.certification, certification_expires = EXCLUDED.certification_expires`,
		c.ID, c.District, c.Name, c.Description, c.Address, c.Phone, c.Email, c.Website, c.AccreditationStatus,
		c.AccreditedFrom, c.AccreditedUntil, c.Certification, c.CertificationExpires)
	if err != nil {
		return fmt.Errorf("cooperative %s: %w", c.ID, err)
	}
	return nil
}

// EnsureService creates a seed service of cooperative when no service of
// that name exists (an existing one, perhaps edited by its cooperative, is
// left alone).
func EnsureService(ctx context.Context, tx pgx.Tx, cooperative string, in ServiceInput, published bool) error {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO services (cooperative_id, district_id, category, name, description, unit,
			price_cents, capacity, capacity_period, published)
		SELECT c.id, c.district_id, $2, $3, $4, $5, $6, $7, $8, $9 FROM cooperatives c WHERE c.id = $1
		ON CONFLICT (cooperative_id, name) DO NOTHING RETURNING id`, cooperative, in.Category, in.Name,
		in.Description, in.Unit, in.PriceCents, in.Capacity, in.CapacityPeriod, published).Scan(&id)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("service %s/%s: %w", cooperative, in.Name, err)
	}
	return writeServiceDetails(ctx, tx, id, in)
}
