package district

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/store"
)

// Options control an apply.
type Options struct {
	// Demo accepts the accounts' demo passwords (`sportello dev` and the
	// demo seed). Otherwise a file with a password is refused and new
	// accounts get no usable password: they sign in through the identity
	// provider or set one with a password reset.
	Demo bool
	// Now dates the funds that name no first day (zero: the current time).
	Now time.Time
}

// Change is one record an apply created or updated.
type Change struct {
	Kind   string `json:"kind"` // district, municipality, cooperative, service, company, social_point, shop, fund, account, team
	ID     string `json:"id"`
	Result string `json:"result"` // created, updated
}

// Report says what an apply changed; Unchanged counts the records already
// as the file says.
type Report struct {
	District  string   `json:"district"`
	Changes   []Change `json:"changes"`
	Unchanged int      `json:"unchanged"`
}

func (r *Report) note(kind, id string, created, changed bool) {
	switch {
	case created:
		r.Changes = append(r.Changes, Change{Kind: kind, ID: id, Result: "created"})
	case changed:
		r.Changes = append(r.Changes, Change{Kind: kind, ID: id, Result: "updated"})
	default:
		r.Unchanged++
	}
}

// Count is the number of changes with result ("created" or "updated").
func (r Report) Count(result string) int {
	n := 0
	for _, c := range r.Changes {
		if c.Result == result {
			n++
		}
	}
	return n
}

// Apply writes f in one transaction under the system scope.
func Apply(ctx context.Context, st *store.Store, f File, opts Options) (Report, error) {
	hashes, err := Hashes(ctx, st, []File{f}, opts)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	err = st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		var err error
		rep, err = ApplyTx(ctx, tx, f, hashes, opts)
		return err
	})
	if err != nil {
		return Report{}, err
	}
	return rep, nil
}

// Hashes hashes the demo passwords of the accounts of files that do not
// exist yet (outside any transaction: hashing is deliberately slow); one
// hash per distinct password. Outside demo mode a password is refused.
func Hashes(ctx context.Context, st *store.Store, files []File, opts Options) (map[string]string, error) {
	var problems []FieldError
	var names []string
	for _, f := range files {
		for i, a := range f.Accounts {
			if a.DemoPassword != "" && !opts.Demo {
				problems = append(problems, FieldError{Pointer: fmt.Sprintf("/accounts/%d/demo_password", i),
					Message: "passwords are accepted only with demo data (sportello dev, --demo)"})
			}
			names = append(names, a.Username)
		}
	}
	if len(problems) > 0 {
		return nil, &InvalidError{Errors: problems}
	}
	rows, err := st.Pool.Query(ctx, `SELECT username FROM users WHERE username = ANY($1)`, names)
	if err != nil {
		return nil, fmt.Errorf("district: accounts: %w", err)
	}
	existing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("district: accounts: %w", err)
	}
	byPassword := map[string]string{}
	hashes := map[string]string{}
	for _, f := range files {
		for _, a := range f.Accounts {
			if slices.Contains(existing, a.Username) {
				continue
			}
			pw := a.DemoPassword
			if pw == "" {
				// No usable password: a random one nobody knows.
				tok, _, err := auth.NewToken()
				if err != nil {
					return nil, fmt.Errorf("district: password: %w", err)
				}
				pw = "unusable:" + tok
			}
			h, ok := byPassword[pw]
			if !ok {
				if h, err = auth.HashPassword(pw); err != nil {
					return nil, fmt.Errorf("district: hash password: %w", err)
				}
				if a.DemoPassword != "" {
					byPassword[pw] = h
				}
			}
			hashes[a.Username] = h
		}
	}
	return hashes, nil
}

// ApplyTx writes f in tx (system scope), with the password hashes of new
// accounts from Hashes. Records of the file that belong to another district
// are refused: a file never moves another district's data.
func ApplyTx(ctx context.Context, tx pgx.Tx, f File, hashes map[string]string, opts Options) (Report, error) {
	rep := Report{District: f.ID}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return rep, err
	}
	today := now.In(rome)
	// A yearly fund is the call of the year it opens; the teams review it.
	f.Funds, f.Teams = slices.Clone(f.Funds), slices.Clone(f.Teams)
	ofYear := map[string]string{}
	for i, fd := range f.Funds {
		f.Funds[i] = fd.In(fundOpens(fd, today).Year())
		ofYear[fd.ID] = f.Funds[i].ID
	}
	for i, t := range f.Teams {
		f.Teams[i].Reviews = make([]string, len(t.Reviews))
		for j, id := range t.Reviews {
			f.Teams[i].Reviews[j] = ofYear[id]
		}
	}
	if err := foreign(ctx, tx, f); err != nil {
		return rep, err
	}
	pres, err := json.Marshal(presentation(f))
	if err != nil {
		return rep, err
	}
	var created bool
	err = tx.QueryRow(ctx, `INSERT INTO districts (id, name, short_name, presentation, hosts) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, short_name = EXCLUDED.short_name,
			presentation = EXCLUDED.presentation, hosts = EXCLUDED.hosts
		WHERE (districts.name, districts.short_name, districts.presentation, districts.hosts)
			IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.short_name, EXCLUDED.presentation, EXCLUDED.hosts)
		RETURNING xmax = 0`, f.ID, f.Name.IT, f.ShortName, pres, nonNil(f.Hosts)).Scan(&created)
	if err := rep.step(err, "district", f.ID, created); err != nil {
		return rep, err
	}
	if f.Default {
		// One default per deployment: this file's district becomes it.
		var moved int64
		for _, q := range []string{`UPDATE districts SET is_default = false WHERE is_default AND id <> $1`,
			`UPDATE districts SET is_default = true WHERE id = $1 AND NOT is_default`} {
			tag, err := tx.Exec(ctx, q, f.ID)
			if err != nil {
				return rep, fmt.Errorf("district: default: %w", err)
			}
			moved += tag.RowsAffected()
		}
		if moved > 0 && !created && !slices.ContainsFunc(rep.Changes, func(c Change) bool { return c.Kind == "district" }) {
			rep.Unchanged--
			rep.note("district", f.ID, false, true)
		}
	}
	if err := store.EnsureAccount(ctx, tx, store.FundingAccountID(f.ID), f.ID, store.AccountFunding, true); err != nil {
		return rep, fmt.Errorf("district: funding account: %w", err)
	}
	for _, m := range f.Municipalities {
		var saint, opens, closes *string
		var month, day *int
		if p := m.Patron; p != nil {
			saint, month, day = &p.Saint, &p.Month, &p.Day
		}
		if o := m.Office; o != nil {
			opens, closes = &o.Opens, &o.Closes
		}
		var istat *string
		if m.ISTATCode != "" {
			istat = &m.ISTATCode
		}
		// A municipality without patron or office hours in the file keeps
		// what its supervisors set on the office calendar page.
		err := tx.QueryRow(ctx, `INSERT INTO municipalities (id, district_id, name, cadastral_code, residents, istat_code,
				patron_saint, patron_month, patron_day, office_opens, office_closes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10::time, '08:30'), coalesce($11::time, '17:00'))
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, cadastral_code = EXCLUDED.cadastral_code,
				residents = EXCLUDED.residents, istat_code = EXCLUDED.istat_code,
				patron_saint = CASE WHEN $7::text IS NULL THEN municipalities.patron_saint ELSE EXCLUDED.patron_saint END,
				patron_month = CASE WHEN $7::text IS NULL THEN municipalities.patron_month ELSE EXCLUDED.patron_month END,
				patron_day = CASE WHEN $7::text IS NULL THEN municipalities.patron_day ELSE EXCLUDED.patron_day END,
				office_opens = CASE WHEN $10::time IS NULL THEN municipalities.office_opens ELSE EXCLUDED.office_opens END,
				office_closes = CASE WHEN $10::time IS NULL THEN municipalities.office_closes ELSE EXCLUDED.office_closes END
			WHERE (municipalities.name, municipalities.cadastral_code, municipalities.residents, municipalities.istat_code)
					IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.cadastral_code, EXCLUDED.residents, EXCLUDED.istat_code)
				OR ($7::text IS NOT NULL AND (municipalities.patron_saint, municipalities.patron_month, municipalities.patron_day)
					IS DISTINCT FROM (EXCLUDED.patron_saint, EXCLUDED.patron_month, EXCLUDED.patron_day))
				OR ($10::time IS NOT NULL AND (municipalities.office_opens, municipalities.office_closes)
					IS DISTINCT FROM (EXCLUDED.office_opens, EXCLUDED.office_closes))
			RETURNING xmax = 0`, m.ID, f.ID, m.Name, m.CadastralCode, m.Residents, istat,
			saint, month, day, opens, closes).Scan(&created)
		if err := rep.step(err, "municipality", m.ID, created); err != nil {
			return rep, err
		}
	}
	for _, c := range f.Cooperatives {
		days := map[string]*string{}
		for _, d := range []string{c.AccreditedFrom, c.AccreditedUntil, c.CertificationExpires} {
			if d == "" {
				continue
			}
			t, err := Day(d, today)
			if err != nil {
				return rep, fmt.Errorf("district: cooperative %s: %w", c.ID, err)
			}
			v := t.Format(time.DateOnly)
			days[d] = &v
		}
		status := c.Accreditation
		if status == "" {
			status = "accredited"
		}
		err := tx.QueryRow(ctx, `INSERT INTO cooperatives (id, district_id, name, description, address, phone, email, website,
				accreditation_status, accredited_from, accredited_until, certification, certification_expires)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $13, $9::date, $10::date, $11, $12::date)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, address = EXCLUDED.address,
				phone = EXCLUDED.phone, email = EXCLUDED.email, website = EXCLUDED.website,
				accreditation_status = EXCLUDED.accreditation_status,
				accredited_from = EXCLUDED.accredited_from, accredited_until = EXCLUDED.accredited_until,
				certification = EXCLUDED.certification, certification_expires = EXCLUDED.certification_expires
			WHERE (cooperatives.name, cooperatives.description, cooperatives.address, cooperatives.phone, cooperatives.email,
					cooperatives.website, cooperatives.accreditation_status, cooperatives.accredited_from,
					cooperatives.accredited_until, cooperatives.certification, cooperatives.certification_expires)
				IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.address, EXCLUDED.phone, EXCLUDED.email,
					EXCLUDED.website, EXCLUDED.accreditation_status, EXCLUDED.accredited_from, EXCLUDED.accredited_until,
					EXCLUDED.certification, EXCLUDED.certification_expires)
			RETURNING xmax = 0`, c.ID, f.ID, c.Name, c.Description, c.Address, c.Phone, c.Email, c.Website,
			days[c.AccreditedFrom], days[c.AccreditedUntil], c.Certification, days[c.CertificationExpires], status).Scan(&created)
		if err := rep.step(err, "cooperative", c.ID, created); err != nil {
			return rep, err
		}
	}
	for _, s := range f.Services {
		// A service is created once; afterwards it is its cooperative's to
		// edit, so a later apply leaves it alone.
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM services WHERE cooperative_id = $1 AND name = $2)`,
			s.Cooperative, s.Name).Scan(&exists); err != nil {
			return rep, fmt.Errorf("district: service %s/%s: %w", s.Cooperative, s.Name, err)
		}
		if exists {
			rep.Unchanged++
			continue
		}
		if err := store.EnsureService(ctx, tx, s.Cooperative, serviceInput(s), s.Published == nil || *s.Published); err != nil {
			return rep, fmt.Errorf("district: %w", err)
		}
		rep.note("service", s.Cooperative+"/"+s.Name, true, false)
	}
	for i, c := range f.Companies {
		changed, fresh, err := company(ctx, tx, f.ID, i, c, today)
		if err != nil {
			return rep, err
		}
		rep.note("company", c.ID, fresh, changed)
	}
	for _, p := range f.SocialPoints {
		changed, fresh, err := socialPoint(ctx, tx, f.ID, p)
		if err != nil {
			return rep, err
		}
		rep.note("social_point", p.ID, fresh, changed)
	}
	for _, s := range f.Shops {
		err := tx.QueryRow(ctx, `INSERT INTO merchants (id, district_id, municipality_id, name, kind, address, category)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET municipality_id = EXCLUDED.municipality_id, name = EXCLUDED.name,
				kind = EXCLUDED.kind, address = EXCLUDED.address, category = EXCLUDED.category
			WHERE (merchants.municipality_id, merchants.name, merchants.kind, merchants.address, merchants.category)
				IS DISTINCT FROM (EXCLUDED.municipality_id, EXCLUDED.name, EXCLUDED.kind, EXCLUDED.address, EXCLUDED.category)
			RETURNING xmax = 0`, s.ID, f.ID, s.Municipality, s.Name, s.Kind, s.Address, s.category()).Scan(&created)
		if err := rep.step(err, "shop", s.ID, created); err != nil {
			return rep, err
		}
		if err := store.EnsureAccount(ctx, tx, store.MerchantAccountID(s.ID), f.ID, store.AccountMerchant, false); err != nil {
			return rep, fmt.Errorf("district: account of shop %s: %w", s.ID, err)
		}
	}
	for _, fd := range f.Funds {
		fresh, err := fund(ctx, tx, f.ID, fd, now)
		if err != nil {
			return rep, err
		}
		rep.note("fund", fd.ID, fresh, false)
	}
	for _, a := range f.Accounts {
		changed, fresh, err := account(ctx, tx, f.ID, a, hashes[a.Username])
		if err != nil {
			return rep, err
		}
		if a.Company != "" {
			if err := store.SetCompanyManager(ctx, tx, a.Username, a.Company); err != nil {
				return rep, fmt.Errorf("district: account %s: company: %w", a.Username, err)
			}
		}
		rep.note("account", a.Username, fresh, changed)
	}
	for _, t := range f.Teams {
		changed, fresh, err := team(ctx, tx, f, t)
		if err != nil {
			return rep, err
		}
		rep.note("team", t.ID, fresh, changed)
	}
	return rep, nil
}

// category is the shop's category, by its kind when the file names none.
func (s Shop) category() string {
	switch {
	case s.Category != "":
		return s.Category
	case s.Kind == "pharmacy":
		return "health"
	}
	return "food"
}

// team creates or renames a team, adds its missing members (accounts of
// the district; those a supervisor added stay) and makes it the reviewer
// of its funds that have none (t.Reviews are the funds of the apply's year).
func team(ctx context.Context, tx pgx.Tx, f File, t Team) (changed, created bool, err error) {
	err = tx.QueryRow(ctx, `INSERT INTO teams (id, district_id, municipality_id, name) VALUES ($1, $2, nullif($3, ''), $4)
		ON CONFLICT (id) DO UPDATE SET municipality_id = EXCLUDED.municipality_id, name = EXCLUDED.name
		WHERE (teams.municipality_id, teams.name) IS DISTINCT FROM (EXCLUDED.municipality_id, EXCLUDED.name)
		RETURNING xmax = 0`, t.ID, f.ID, t.Municipality, t.Name).Scan(&created)
	switch {
	case err == pgx.ErrNoRows:
	case err != nil:
		return false, false, fmt.Errorf("district: team %s: %w", t.ID, err)
	default:
		changed = !created
	}
	tag, err := tx.Exec(ctx, `INSERT INTO team_members (team_id, user_id)
		SELECT $1, u.id FROM users u WHERE u.username = ANY($2) AND u.district_id = $3 ON CONFLICT DO NOTHING`,
		t.ID, t.Members, f.ID)
	if err != nil {
		return false, false, fmt.Errorf("district: members of team %s: %w", t.ID, err)
	}
	changed = changed || tag.RowsAffected() > 0
	tag, err = tx.Exec(ctx, `UPDATE funds SET team_id = $1 WHERE id = ANY($2) AND district_id = $3 AND team_id IS NULL`,
		t.ID, t.Reviews, f.ID)
	if err != nil {
		return false, false, fmt.Errorf("district: funds of team %s: %w", t.ID, err)
	}
	changed = changed || tag.RowsAffected() > 0
	return changed && !created, created, nil
}

// step notes an upsert that returned whether it inserted (no row: nothing
// to change).
func (r *Report) step(err error, kind, id string, created bool) error {
	switch {
	case err == pgx.ErrNoRows:
		r.Unchanged++
		return nil
	case err != nil:
		return fmt.Errorf("district: %s %s: %w", kind, id, err)
	}
	r.note(kind, id, created, !created)
	return nil
}

// foreign refuses a file whose ids belong to another district.
func foreign(ctx context.Context, tx pgx.Tx, f File) error {
	type set struct {
		table, col, section, field string
		ids                        []string
	}
	var muns, coops, points, shops, companies, funds, users, teams []string
	for _, m := range f.Municipalities {
		muns = append(muns, m.ID)
	}
	for _, c := range f.Cooperatives {
		coops = append(coops, c.ID)
	}
	for _, p := range f.SocialPoints {
		points = append(points, p.ID)
	}
	for _, s := range f.Shops {
		shops = append(shops, s.ID)
	}
	for _, c := range f.Companies {
		companies = append(companies, c.ID)
	}
	for _, fd := range f.Funds {
		funds = append(funds, fd.ID)
	}
	for _, a := range f.Accounts {
		users = append(users, a.Username)
	}
	for _, t := range f.Teams {
		teams = append(teams, t.ID)
	}
	var errs []FieldError
	for _, s := range []set{{"municipalities", "id", "municipalities", "id", muns}, {"cooperatives", "id", "cooperatives", "id", coops},
		{"social_points", "id", "social_points", "id", points}, {"merchants", "id", "shops", "id", shops},
		{"companies", "id", "companies", "id", companies},
		{"funds", "id", "funds", "id", funds}, {"users", "username", "accounts", "username", users},
		{"teams", "id", "teams", "id", teams}} {
		rows, err := tx.Query(ctx, `SELECT `+s.col+` FROM `+s.table+` WHERE `+s.col+` = ANY($1) AND district_id <> $2`, s.ids, f.ID)
		if err != nil {
			return fmt.Errorf("district: %s: %w", s.table, err)
		}
		taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("district: %s: %w", s.table, err)
		}
		for i, id := range s.ids {
			if slices.Contains(taken, id) {
				errs = append(errs, FieldError{Pointer: fmt.Sprintf("/%s/%d/%s", s.section, i, s.field),
					Message: fmt.Sprintf("%q belongs to another district", id)})
			}
		}
	}
	if len(errs) > 0 {
		return &InvalidError{Errors: errs}
	}
	return nil
}

// Presentation is what the portal shows of a district (stored as JSON on
// districts.presentation).
type Presentation struct {
	Name     Text     `json:"name"`
	About    Text     `json:"about"`
	LogoSVG  string   `json:"logo_svg,omitempty"`
	LogoAlt  Text     `json:"logo_alt"`
	Colours  Colours  `json:"colours"`
	Contacts Contacts `json:"contacts"`
}

func presentation(f File) Presentation {
	return Presentation{Name: f.Name, About: f.About, LogoSVG: f.Logo.SVG, LogoAlt: f.Logo.Alt, Colours: f.Colours, Contacts: f.Contacts}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func serviceInput(s Service) store.ServiceInput {
	in := store.ServiceInput{Category: s.Category, Name: s.Name, Description: s.Description, Unit: s.Unit,
		PriceCents: s.PriceCents, Capacity: s.Capacity, CapacityPeriod: s.CapacityPeriod, Municipalities: s.Municipalities}
	if in.CapacityPeriod == "" {
		in.CapacityPeriod = "week"
	}
	if len(s.ISEEBands) > 0 {
		in.Bands = map[string][]store.PriceBand{}
		banded := s.ISEEBandsIn
		if len(banded) == 0 {
			banded = s.Municipalities
		}
		for _, m := range banded {
			bands := make([]store.PriceBand, len(s.ISEEBands))
			for i, b := range s.ISEEBands {
				bands[i] = store.PriceBand{MaxISEEEuro: b.MaxISEEEuro, PriceCents: b.PriceCents, Percent: b.Percent}
			}
			in.Bands[m] = bands
		}
	}
	return in
}

// socialPoint writes a point when it is new or differs from the file.
func socialPoint(ctx context.Context, tx pgx.Tx, district string, p SocialPoint) (changed, created bool, err error) {
	if p.SlotMinutes == 0 {
		p.SlotMinutes = 30
	}
	want := []string{p.Municipality, p.Name, p.Address, p.Phone, p.Email, fmt.Sprint(p.SlotMinutes), p.HostCompany}
	for _, h := range p.Hours {
		want = append(want, fmt.Sprintf("%d %s-%s", h.Weekday, h.Opens, h.Closes))
	}
	var have []string
	err = tx.QueryRow(ctx, `SELECT ARRAY[sp.municipality_id, sp.name, sp.address, coalesce(sp.phone, ''), coalesce(sp.email, ''),
			sp.slot_minutes::text, coalesce(sp.host_company_id, '')] || coalesce((SELECT array_agg(h.weekday || ' ' || to_char(h.opens, 'HH24:MI') || '-' ||
				to_char(h.closes, 'HH24:MI') ORDER BY h.weekday, h.opens) FROM social_point_hours h WHERE h.point_id = sp.id), '{}')
		FROM social_points sp WHERE sp.id = $1`, p.ID).Scan(&have)
	switch {
	case err == pgx.ErrNoRows:
		created = true
	case err != nil:
		return false, false, fmt.Errorf("district: social point %s: %w", p.ID, err)
	}
	sortedHours := slices.Clone(want[7:])
	slices.Sort(sortedHours)
	if !created && slices.Equal(have, append(slices.Clone(want[:7]), sortedHours...)) {
		return false, false, nil
	}
	hours := make([]store.OpeningHours, len(p.Hours))
	for i, h := range p.Hours {
		hours[i] = store.OpeningHours{Weekday: h.Weekday, Opens: h.Opens, Closes: h.Closes}
	}
	if err := store.UpsertSocialPoint(ctx, tx, store.SocialPoint{ID: p.ID, District: district, Municipality: p.Municipality,
		Name: p.Name, Address: p.Address, Phone: p.Phone, Email: p.Email, SlotMinutes: p.SlotMinutes, Hours: hours,
		HostCompanyID: p.HostCompany}); err != nil {
		return false, false, fmt.Errorf("district: %w", err)
	}
	return !created, created, nil
}

// company writes a company (the i-th of the file) and its plans; a plan id
// of another company is refused. Its account in the ledger is opened empty:
// money comes only from top-ups the payment provider confirms.
func company(ctx context.Context, tx pgx.Tx, district string, i int, c Company, today time.Time) (changed, created bool, err error) {
	snapshot := func() (string, error) {
		var s string
		err := tx.QueryRow(ctx, `SELECT c.name || '|' || c.vat_number || coalesce((SELECT string_agg(p.id || '|' || p.name || '|' ||
				p.annual_credit_cents || '|' || array_to_string(p.categories, ',') || '|' || p.valid_from || '|' || p.valid_until, ';'
				ORDER BY p.id) FROM company_plans p WHERE p.company_id = c.id), '')
			FROM companies c WHERE c.id = $1`, c.ID).Scan(&s)
		if err == pgx.ErrNoRows {
			return "", nil
		}
		return s, err
	}
	before, err := snapshot()
	if err != nil {
		return false, false, fmt.Errorf("district: company %s: %w", c.ID, err)
	}
	if err := store.UpsertCompany(ctx, tx, store.Company{ID: c.ID, District: district, Name: c.Name, VATNumber: c.VATNumber}); err != nil {
		return false, false, fmt.Errorf("district: company %s: %w", c.ID, err)
	}
	for j, p := range c.Plans {
		var owner string
		err := tx.QueryRow(ctx, `SELECT company_id FROM company_plans WHERE id = $1`, p.ID).Scan(&owner)
		if err != nil && err != pgx.ErrNoRows {
			return false, false, fmt.Errorf("district: plan %s: %w", p.ID, err)
		}
		if owner != "" && owner != c.ID {
			return false, false, &InvalidError{Errors: []FieldError{{Pointer: fmt.Sprintf("/companies/%d/plans/%d/id", i, j),
				Message: fmt.Sprintf("%q is another company's plan", p.ID)}}}
		}
		from, err := Day(p.ValidFrom, today)
		if err != nil {
			return false, false, fmt.Errorf("district: plan %s: %w", p.ID, err)
		}
		until, err := Day(p.ValidUntil, today)
		if err != nil {
			return false, false, fmt.Errorf("district: plan %s: %w", p.ID, err)
		}
		if err := store.UpsertCompanyPlan(ctx, tx, district, store.CompanyPlan{ID: p.ID, CompanyID: c.ID, Name: p.Name,
			AnnualCreditCents: p.AnnualCreditCents, Categories: p.Categories, ValidFrom: from, ValidUntil: until}); err != nil {
			return false, false, fmt.Errorf("district: plan %s: %w", p.ID, err)
		}
	}
	after, err := snapshot()
	if err != nil {
		return false, false, fmt.Errorf("district: company %s: %w", c.ID, err)
	}
	return before != "" && before != after, before == "", nil
}

// Fund defaults: those of food-voucher calls.
const (
	defaultReviewDays    = 3
	defaultInfoReplyDays = 10
	defaultOpenDays      = 60
	defaultExpiryDays    = 120
	defaultFourEyesCents = 500_00
)

func (fd Fund) openDays() int {
	if fd.OpenDays == 0 {
		return defaultOpenDays
	}
	return fd.OpenDays
}

// fundOpens is the first day of fd's call: its OpensOn, or the start of
// now's day (both in Europe/Rome).
func fundOpens(fd Fund, now time.Time) time.Time {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic("district: Europe/Rome: " + err.Error()) // time/tzdata is linked in by the seed and the binary
	}
	if fd.OpensOn != "" {
		if t, err := time.ParseInLocation(time.DateOnly, fd.OpensOn, rome); err == nil {
			return t
		}
	}
	local := now.In(rome)
	return time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, rome)
}

// fund creates a call and pays its budget from the district's funding
// account, once: a fund already there is never reopened or refunded.
func fund(ctx context.Context, tx pgx.Tx, district string, fd Fund, now time.Time) (bool, error) {
	opens := fundOpens(fd, now)
	expiry := fd.ExpiryDays
	if expiry == 0 {
		expiry = max(defaultExpiryDays, fd.openDays())
	}
	review, reply := fd.ReviewWorkingDays, fd.InfoReplyWorkingDays
	if review == 0 {
		review = defaultReviewDays
	}
	if reply == 0 {
		reply = defaultInfoReplyDays
	}
	fourEyes := int64(defaultFourEyesCents)
	if fd.FourEyesAboveCents != nil {
		fourEyes = *fd.FourEyesAboveCents
	}
	form, kind := FoodVoucherForm, "food"
	cats := []string{}
	if fd.Kind == "service" {
		form, kind, cats = forms.ServiceVoucherForm, "service", fd.ServiceCategories
	}
	rule, err := json.Marshal(fd.Rule)
	if err != nil {
		return false, err
	}
	tranches, err := json.Marshal(fd.Tranches)
	if err != nil {
		return false, err
	}
	var version *int
	if fd.FormVersion > 0 {
		version = &fd.FormVersion
	}
	var id string
	err = tx.QueryRow(ctx, `INSERT INTO funds (id, district_id, municipality_id, form_id, kind, service_categories, name,
			isee_threshold_cents, rule, tranches, review_working_days, opens_at, closes_at, expires_at,
			four_eyes_above_cents, info_reply_working_days, form_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (id) DO NOTHING RETURNING id`,
		fd.ID, district, fd.Municipality, form, kind, cats, fd.Name, fd.ISEEThresholdCents, string(rule), string(tranches),
		review, opens, opens.AddDate(0, 0, fd.openDays()), opens.AddDate(0, 0, expiry), fourEyes, reply, version).Scan(&id)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("district: fund %s: %w", fd.ID, err)
	}
	if err := store.EnsureAccount(ctx, tx, store.FundAccountID(fd.ID), district, store.AccountFund, false); err != nil {
		return false, fmt.Errorf("district: account of fund %s: %w", fd.ID, err)
	}
	if _, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "funding:" + fd.ID, From: store.FundingAccountID(district),
		To: store.FundAccountID(fd.ID), Amount: fd.BudgetCents, Kind: store.TransferFunding, FundID: fd.ID}); err != nil {
		return false, fmt.Errorf("district: fund %s: %w", fd.ID, err)
	}
	return true, nil
}

// FoodVoucherForm is the form of food-voucher calls.
const FoodVoucherForm = "buoni-spesa"

// account creates an account with hash, or refreshes its profile (its
// password is left alone).
func account(ctx context.Context, tx pgx.Tx, district string, a Account, hash string) (changed, created bool, err error) {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	args := []any{a.Username, a.Role, a.DisplayName, district, null(a.Municipality), null(a.Shop), null(strings.ToUpper(a.TaxCode)),
		null(a.Email), null(a.Cooperative)}
	tag, err := tx.Exec(ctx, `UPDATE users SET role = $2, display_name = $3, district_id = $4, municipality_id = $5,
			merchant_id = $6, tax_code = $7, email = $8, cooperative_id = $9
		WHERE username = $1
		  AND (role, display_name, district_id, municipality_id, merchant_id, tax_code, email, cooperative_id)
		      IS DISTINCT FROM ($2, $3, $4, $5, $6, $7, $8, $9)`, args...)
	if err != nil {
		return false, false, fmt.Errorf("district: account %s: %w", a.Username, err)
	}
	if tag.RowsAffected() > 0 {
		return true, false, nil
	}
	if hash == "" {
		return false, false, nil // present and unchanged
	}
	tag, err = tx.Exec(ctx, `INSERT INTO users (username, role, display_name, district_id, municipality_id, merchant_id,
			tax_code, email, cooperative_id, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (username) DO NOTHING`, append(args, hash)...)
	if err != nil {
		return false, false, fmt.Errorf("district: account %s: %w", a.Username, err)
	}
	return false, tag.RowsAffected() > 0, nil
}
