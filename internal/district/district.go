// Package district reads, checks and applies district files: everything a
// district is and shows (name, logo, colours, contacts, municipalities with
// their patron saints and office hours, cooperatives and their services
// with prices by ISEE band, companies and their welfare plans, Social
// Points, shops, funds and calls, staff accounts), declared in one JSON
// document (schema.json) and applied by `sportello district apply FILE`
// and by the demo seed. A new district needs a file, not code.
//
// Parse checks a file against the schema (github.com/santhosh-tekuri/
// jsonschema/v5) and then the rules a schema cannot say (references
// between sections, unique ids, the brand colour's contrast with white
// text, dates in order); every problem is a FieldError with the JSON
// pointer of the field. Apply writes a checked file in one transaction
// under the system scope, idempotently: applying the same file twice
// changes nothing, and the Report says what was created and updated.
package district

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Rome on machines without a zoneinfo database

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:embed schema.json
var schemaJSON []byte

// Schema is the JSON Schema of district files.
func Schema() []byte { return bytes.Clone(schemaJSON) }

const schemaURL = "https://sportello.example/district.schema.json"

var compiled = func() *jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = func(s string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("district: remote schema references are not allowed: %s", s)
	}
	if err := c.AddResource(schemaURL, bytes.NewReader(schemaJSON)); err != nil {
		panic("district: schema: " + err.Error())
	}
	return c.MustCompile(schemaURL)
}()

// Text is a text in Italian and English.
type Text struct {
	IT string `json:"it"`
	EN string `json:"en"`
}

// In returns the text in lang ("it" or "en"; Italian otherwise).
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.IT
}

// File is a district file.
type File struct {
	ID             string         `json:"id"`
	Name           Text           `json:"name"`
	ShortName      string         `json:"short_name"`
	About          Text           `json:"about"`
	Logo           Logo           `json:"logo"`
	Colours        Colours        `json:"colours"`
	Contacts       Contacts       `json:"contacts"`
	Hosts          []string       `json:"hosts,omitempty"`
	Default        bool           `json:"default,omitempty"`
	Municipalities []Municipality `json:"municipalities"`
	Cooperatives   []Cooperative  `json:"cooperatives,omitempty"`
	Services       []Service      `json:"services,omitempty"`
	SocialPoints   []SocialPoint  `json:"social_points,omitempty"`
	Shops          []Shop         `json:"shops,omitempty"`
	Companies      []Company      `json:"companies,omitempty"`
	Funds          []Fund         `json:"funds,omitempty"`
	Accounts       []Account      `json:"accounts,omitempty"`
	Teams          []Team         `json:"teams,omitempty"`
}

// Logo is the district's logo: an SVG file next to the district file
// (Path) or inline (SVG). Load reads Path into SVG.
type Logo struct {
	Path string `json:"path,omitempty"`
	SVG  string `json:"svg,omitempty"`
	Alt  Text   `json:"alt"`
}

// Colours are the brand colours: Primary is the header's background under
// white text, Dark (optional) the footer's.
type Colours struct {
	Primary string `json:"primary"`
	Dark    string `json:"dark,omitempty"`
}

// Contacts are the district office's contacts, shown in the footer.
type Contacts struct {
	Address         string `json:"address"`
	Phone           string `json:"phone"`
	Email           string `json:"email"`
	PEC             string `json:"pec,omitempty"`
	CallCentreHours Text   `json:"call_centre_hours"`
	Website         string `json:"website,omitempty"`
	DPO             string `json:"dpo,omitempty"`           // the data protection officer's e-mail
	Accessibility   string `json:"accessibility,omitempty"` // the accessibility contact
}

// Patron is a municipality's patron saint and feast day (the offices close).
type Patron struct {
	Saint string `json:"saint"`
	Month int    `json:"month"`
	Day   int    `json:"day"`
}

// Office is a municipality office's opening hours ("08:30", "17:00").
type Office struct {
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// Municipality is a comune of the district.
type Municipality struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	ISTATCode     string  `json:"istat_code"`
	CadastralCode string  `json:"cadastral_code"`
	Residents     int     `json:"residents"`
	Patron        *Patron `json:"patron,omitempty"`
	Office        *Office `json:"office,omitempty"`
}

// Cooperative is an accredited social cooperative. Its dates are days
// ("2028-12-31") or, in demo files whose dates must stay current, days
// relative to the day the file is applied ("-700d", "+45d"): such a
// cooperative's dates move with every apply.
type Cooperative struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Address     string `json:"address"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
	Website     string `json:"website,omitempty"`
	// Accreditation is "accredited" (none) or "suspended" (its services
	// are hidden from citizens).
	Accreditation        string `json:"accreditation,omitempty"`
	AccreditedFrom       string `json:"accredited_from"`
	AccreditedUntil      string `json:"accredited_until"`
	Certification        string `json:"certification,omitempty"`
	CertificationExpires string `json:"certification_expires,omitempty"`
}

// Band is one ISEE band of a service's price: up to MaxISEEEuro (none: the
// rest), a price or a percentage of the list price.
type Band struct {
	MaxISEEEuro *int   `json:"max_isee_euro,omitempty"`
	PriceCents  *int64 `json:"price_cents,omitempty"`
	Percent     *int   `json:"percent,omitempty"`
}

// Service is a cooperative's service in the catalogue.
type Service struct {
	Cooperative    string   `json:"cooperative"`
	Category       string   `json:"category"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Unit           string   `json:"unit"`
	PriceCents     int64    `json:"price_cents"`
	Capacity       int      `json:"capacity"`
	CapacityPeriod string   `json:"capacity_period,omitempty"`
	Municipalities []string `json:"municipalities"`
	// ISEEBands price the service by ISEE band in the municipalities of
	// ISEEBandsIn (none: every municipality it serves); elsewhere, and
	// without bands, everybody pays the list price.
	ISEEBands   []Band   `json:"isee_bands,omitempty"`
	ISEEBandsIn []string `json:"isee_bands_in,omitempty"`
	Published   *bool    `json:"published,omitempty"`
}

// Hours are a Social Point's opening hours on a weekday (1 Monday).
type Hours struct {
	Weekday int    `json:"weekday"`
	Opens   string `json:"opens"`
	Closes  string `json:"closes"`
}

// SocialPoint is a listening desk.
type SocialPoint struct {
	ID           string  `json:"id"`
	Municipality string  `json:"municipality"`
	Name         string  `json:"name"`
	Address      string  `json:"address"`
	Phone        string  `json:"phone,omitempty"`
	Email        string  `json:"email,omitempty"`
	SlotMinutes  int     `json:"slot_minutes,omitempty"`
	Hours        []Hours `json:"hours"`
	HostCompany  string  `json:"host_company,omitempty"` // a company of the file hosting the point
}

// Company is a company of the district with a welfare plan for its
// employees (issue 15, part 1). The file writes the company and its plans;
// its money comes only from top-ups confirmed by the payment provider.
type Company struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	VATNumber string        `json:"vat_number"`
	Plans     []CompanyPlan `json:"plans"`
}

// CompanyPlan is a company's welfare plan: a credit for each enrolled
// employee over the plan's period, on some service categories.
type CompanyPlan struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	AnnualCreditCents int64    `json:"annual_credit_cents"`
	Categories        []string `json:"categories"`
	ValidFrom         string   `json:"valid_from"`  // a Day
	ValidUntil        string   `json:"valid_until"` // a Day
}

// Shop is an affiliated shop or pharmacy taking food vouchers.
type Shop struct {
	ID           string `json:"id"`
	Municipality string `json:"municipality"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Address      string `json:"address"`
	// Category is what a local campaign may admit (none: "health" for a
	// pharmacy, "food" for a shop).
	Category string `json:"category,omitempty"`
}

// Rule is how much a household is awarded.
type Rule struct {
	BaseCents           int64 `json:"base_cents"`
	PerExtraMemberCents int64 `json:"per_extra_member_cents"`
	PerMinorCents       int64 `json:"per_minor_cents"`
	MaxCents            int64 `json:"max_cents"`
}

// Tranche is a part of an award, released after_days after the approval.
type Tranche struct {
	Percent   int `json:"percent"`
	AfterDays int `json:"after_days"`
}

// Fund is a municipality's call: food vouchers (buoni spesa) or service
// vouchers, with its budget, paid once from the district's funding account.
// A yearly call has "{year}" in its id and name: applying the file makes
// the call of the year it opens (OpensOn's, or the apply day's), once.
type Fund struct {
	ID                   string    `json:"id"`
	Municipality         string    `json:"municipality"`
	Kind                 string    `json:"kind"`
	Name                 string    `json:"name"`
	BudgetCents          int64     `json:"budget_cents"`
	ISEEThresholdCents   int64     `json:"isee_threshold_cents"`
	ServiceCategories    []string  `json:"service_categories,omitempty"`
	Rule                 Rule      `json:"rule"`
	Tranches             []Tranche `json:"tranches"`
	ReviewWorkingDays    int       `json:"review_working_days,omitempty"`
	FourEyesAboveCents   *int64    `json:"four_eyes_above_cents,omitempty"`
	InfoReplyWorkingDays int       `json:"info_reply_working_days,omitempty"`
	// OpensOn is the call's first day (none: the day the file is first
	// applied); it stays open OpenDays and its vouchers last ExpiryDays.
	OpensOn    string `json:"opens_on,omitempty"`
	OpenDays   int    `json:"open_days,omitempty"`
	ExpiryDays int    `json:"expiry_days,omitempty"`
	// FormVersion pins the version of the fund's form its applications are
	// filed with (none: the latest published).
	FormVersion int `json:"form_version,omitempty"`
}

// YearPlaceholder in a fund's id or name is the year the call opens.
const YearPlaceholder = "{year}"

// In returns the fund of year: its id and name with the year.
func (fd Fund) In(year int) Fund {
	y := strconv.Itoa(year)
	fd.ID, fd.Name = strings.ReplaceAll(fd.ID, YearPlaceholder, y), strings.ReplaceAll(fd.Name, YearPlaceholder, y)
	return fd
}

// Team is a team of social workers (a candidate group of the review
// tasks): district-wide, or of one municipality (its members are then that
// municipality's operators, or supervisors). Members are usernames of the
// file's staff accounts; Reviews are the funds of the file the team
// reviews (set where no team reviews them yet: a supervisor's choice on
// the team page stays). Applying adds missing members and keeps those a
// supervisor added.
type Team struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Municipality string   `json:"municipality,omitempty"`
	Members      []string `json:"members"`
	Reviews      []string `json:"reviews,omitempty"`
}

// Account is a user account: staff (operator, supervisor), a shop's or a
// cooperative's account, or a demo citizen. DemoPassword is accepted only
// when applying demo data.
type Account struct {
	Username     string `json:"username"`
	Role         string `json:"role"`
	DisplayName  string `json:"display_name"`
	Municipality string `json:"municipality,omitempty"`
	Shop         string `json:"shop,omitempty"`
	Cooperative  string `json:"cooperative,omitempty"`
	Company      string `json:"company,omitempty"` // a welfare manager's
	TaxCode      string `json:"tax_code,omitempty"`
	Email        string `json:"email"`
	DemoPassword string `json:"demo_password,omitempty"`
}

// FieldError is one problem of a file, at the JSON pointer of its field.
type FieldError struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

func (e FieldError) String() string {
	p := e.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + e.Message
}

// InvalidError lists every problem of a refused file.
type InvalidError struct {
	Errors []FieldError
}

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.String()
	}
	return "district file refused:\n  " + strings.Join(lines, "\n  ")
}

// Load reads the district file at path, reads its logo file (a path
// relative to the file) and checks it like Parse.
func Load(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("district: %w", err)
	}
	return parse(data, func(name string) ([]byte, error) {
		return os.ReadFile(filepath.Join(filepath.Dir(path), filepath.FromSlash(name)))
	})
}

// Parse checks data, a district file whose logo is inline or read by
// readLogo (nil: a logo path is refused), and returns it.
func Parse(data []byte, readLogo func(name string) ([]byte, error)) (File, error) {
	return parse(data, readLogo)
}

func parse(data []byte, readLogo func(string) ([]byte, error)) (File, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return File{}, &InvalidError{Errors: []FieldError{{Pointer: "", Message: "not a JSON document: " + err.Error()}}}
	}
	if err := compiled.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return File{}, fmt.Errorf("district: validate: %w", err)
		}
		return File{}, &InvalidError{Errors: leaves(ve)}
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return File{}, &InvalidError{Errors: []FieldError{{Message: err.Error()}}}
	}
	if f.Logo.Path != "" {
		p := FieldError{Pointer: "/logo/path"}
		switch {
		case readLogo == nil:
			p.Message = "a logo file cannot be read here: put the SVG inline (svg)"
			return File{}, &InvalidError{Errors: []FieldError{p}}
		case strings.Contains(f.Logo.Path, "..") || filepath.IsAbs(f.Logo.Path):
			p.Message = "the logo file must be next to the district file or below it"
			return File{}, &InvalidError{Errors: []FieldError{p}}
		}
		svg, err := readLogo(f.Logo.Path)
		if err != nil {
			p.Message = "cannot read the logo file: " + err.Error()
			return File{}, &InvalidError{Errors: []FieldError{p}}
		}
		f.Logo.SVG, f.Logo.Path = string(svg), ""
	}
	if errs := check(f); len(errs) > 0 {
		return File{}, &InvalidError{Errors: errs}
	}
	return f, nil
}

// leaves are the innermost errors of a schema validation, one per field
// and message, sorted by pointer.
func leaves(ve *jsonschema.ValidationError) []FieldError {
	var out []FieldError
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			fe := FieldError{Pointer: e.InstanceLocation, Message: e.Message}
			if !seen[fe.String()] {
				seen[fe.String()] = true
				out = append(out, fe)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

// MinContrast is the WCAG 2.1 AA contrast ratio for normal text: the brand
// colours carry white text.
const MinContrast = 4.5

// Contrast is the WCAG contrast ratio of colour ("#rrggbb") with white.
func Contrast(colour string) float64 {
	lum := func(hex string) float64 {
		v, _ := strconv.ParseUint(hex, 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	s := strings.TrimPrefix(colour, "#")
	if len(s) != 6 {
		return 1
	}
	l := 0.2126*lum(s[0:2]) + 0.7152*lum(s[2:4]) + 0.0722*lum(s[4:6])
	return 1.05 / (l + 0.05)
}

var svgScript = regexp.MustCompile(`(?i)<script|\son[a-z]+\s*=|javascript:|<foreignObject|xlink:href\s*=\s*["']?https?:|href\s*=\s*["']?https?:`)

// check holds the rules the schema cannot say.
func check(f File) []FieldError {
	var errs []FieldError
	add := func(ptr, format string, args ...any) {
		errs = append(errs, FieldError{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
	for _, c := range []struct{ ptr, v string }{{"/colours/primary", f.Colours.Primary}, {"/colours/dark", f.Colours.Dark}} {
		if c.v != "" && Contrast(c.v) < MinContrast {
			add(c.ptr, "white text on %s has contrast %.2f:1, below %.1f:1 (WCAG 2.1 AA): choose a darker colour", c.v, Contrast(c.v), MinContrast)
		}
	}
	if f.Logo.SVG != "" {
		if !strings.HasPrefix(strings.TrimSpace(f.Logo.SVG), "<svg") {
			add("/logo", "the logo is not an SVG image")
		} else if svgScript.MatchString(f.Logo.SVG) {
			add("/logo", "the logo may not hold scripts, event handlers, embedded HTML or outside links")
		}
		if len(f.Logo.SVG) > 65536 {
			add("/logo", "the logo is larger than 64 KB")
		}
	}
	muns := map[string]bool{}
	for i, m := range f.Municipalities {
		ptr := fmt.Sprintf("/municipalities/%d", i)
		if muns[m.ID] {
			add(ptr+"/id", "municipality %q is listed twice", m.ID)
		}
		muns[m.ID] = true
		if p := m.Patron; p != nil && p.Day > daysIn(time.Month(p.Month)) {
			add(ptr+"/patron/day", "month %d has no day %d", p.Month, p.Day)
		}
		if o := m.Office; o != nil && o.Opens >= o.Closes {
			add(ptr+"/office/closes", "the office closes before it opens")
		}
	}
	ref := func(ptr, kind, id string, known map[string]bool) {
		if id != "" && !known[id] {
			add(ptr, "no %s %q in this file", kind, id)
		}
	}
	coops := map[string]bool{}
	for i, c := range f.Cooperatives {
		ptr := fmt.Sprintf("/cooperatives/%d", i)
		if coops[c.ID] {
			add(ptr+"/id", "cooperative %q is listed twice", c.ID)
		}
		coops[c.ID] = true
		if from, until, ok := comparableDays(c.AccreditedFrom, c.AccreditedUntil); ok && until < from {
			add(ptr+"/accredited_until", "the accreditation ends before it starts")
		}
	}
	names := map[string]bool{}
	for i, s := range f.Services {
		ptr := fmt.Sprintf("/services/%d", i)
		ref(ptr+"/cooperative", "cooperative", s.Cooperative, coops)
		if names[s.Cooperative+"\x00"+s.Name] {
			add(ptr+"/name", "the cooperative already has a service named %q", s.Name)
		}
		names[s.Cooperative+"\x00"+s.Name] = true
		for j, m := range s.Municipalities {
			ref(fmt.Sprintf("%s/municipalities/%d", ptr, j), "municipality", m, muns)
		}
		for j, m := range s.ISEEBandsIn {
			if !slices.Contains(s.Municipalities, m) {
				add(fmt.Sprintf("%s/isee_bands_in/%d", ptr, j), "the service does not serve %q", m)
			}
		}
		if len(s.ISEEBandsIn) > 0 && len(s.ISEEBands) == 0 {
			add(ptr+"/isee_bands_in", "there are no ISEE bands to apply")
		}
		last := -1
		for j, b := range s.ISEEBands {
			bp := fmt.Sprintf("%s/isee_bands/%d", ptr, j)
			switch {
			case b.MaxISEEEuro == nil && j != len(s.ISEEBands)-1:
				add(bp+"/max_isee_euro", "only the last band may be open-ended")
			case b.MaxISEEEuro != nil && *b.MaxISEEEuro <= last:
				add(bp+"/max_isee_euro", "bands go up: %d is not above the band before", *b.MaxISEEEuro)
			case b.MaxISEEEuro != nil:
				last = *b.MaxISEEEuro
			}
		}
		if n := len(s.ISEEBands); n > 0 && s.ISEEBands[n-1].MaxISEEEuro != nil {
			add(fmt.Sprintf("%s/isee_bands/%d", ptr, n-1), "the last band has no upper limit (leave out max_isee_euro)")
		}
	}
	companies := checkCompanies(f.Companies, add)
	points := map[string]bool{}
	for i, p := range f.SocialPoints {
		ptr := fmt.Sprintf("/social_points/%d", i)
		if points[p.ID] {
			add(ptr+"/id", "Social Point %q is listed twice", p.ID)
		}
		points[p.ID] = true
		ref(ptr+"/municipality", "municipality", p.Municipality, muns)
		ref(ptr+"/host_company", "company", p.HostCompany, companies)
		for j, h := range p.Hours {
			if h.Opens >= h.Closes {
				add(fmt.Sprintf("%s/hours/%d/closes", ptr, j), "closes before it opens")
			}
		}
	}
	shops := map[string]bool{}
	for i, s := range f.Shops {
		ptr := fmt.Sprintf("/shops/%d", i)
		if shops[s.ID] {
			add(ptr+"/id", "shop %q is listed twice", s.ID)
		}
		shops[s.ID] = true
		ref(ptr+"/municipality", "municipality", s.Municipality, muns)
	}
	funds := map[string]bool{}
	for i, fd := range f.Funds {
		ptr := fmt.Sprintf("/funds/%d", i)
		if funds[fd.ID] {
			add(ptr+"/id", "fund %q is listed twice", fd.ID)
		}
		funds[fd.ID] = true
		ref(ptr+"/municipality", "municipality", fd.Municipality, muns)
		total := 0
		for _, t := range fd.Tranches {
			total += t.Percent
		}
		if total != 100 {
			add(ptr+"/tranches", "the tranches add up to %d%%, not 100%%", total)
		}
		if fd.Rule.BaseCents > fd.Rule.MaxCents {
			add(ptr+"/rule/max_cents", "the maximum is below the base amount")
		}
		if fd.Kind == "service" && len(fd.ServiceCategories) == 0 {
			add(ptr+"/service_categories", "a service-voucher fund names the categories it pays for")
		}
		if fd.Kind == "food" && len(fd.ServiceCategories) > 0 {
			add(ptr+"/service_categories", "a food-voucher fund pays at shops, not for services")
		}
		if fd.ExpiryDays != 0 && fd.ExpiryDays < fd.openDays() {
			add(ptr+"/expiry_days", "the vouchers expire before the call closes")
		}
	}
	fundMun := map[string]string{}
	for _, fd := range f.Funds {
		fundMun[fd.ID] = fd.Municipality
	}
	users := map[string]Account{}
	for i, a := range f.Accounts {
		ptr := fmt.Sprintf("/accounts/%d", i)
		if _, twice := users[a.Username]; twice {
			add(ptr+"/username", "account %q is listed twice", a.Username)
		}
		users[a.Username] = a
		ref(ptr+"/municipality", "municipality", a.Municipality, muns)
		ref(ptr+"/shop", "shop", a.Shop, shops)
		ref(ptr+"/cooperative", "cooperative", a.Cooperative, coops)
		ref(ptr+"/company", "company", a.Company, companies)
		if a.Company != "" && a.Role != "welfare_manager" {
			add(ptr+"/company", "only a welfare manager's account names a company")
		}
		switch a.Role {
		case "operator", "citizen":
			if a.Municipality == "" {
				add(ptr+"/municipality", "an account of role %s belongs to a municipality", a.Role)
			}
		case "merchant":
			if a.Shop == "" {
				add(ptr+"/shop", "a merchant's account names its shop")
			}
		case "cooperative":
			if a.Cooperative == "" {
				add(ptr+"/cooperative", "a cooperative's account names its cooperative")
			}
		case "welfare_manager":
			if a.Company == "" {
				add(ptr+"/company", "a welfare manager's account names its company")
			}
		}
		if a.Role == "citizen" && a.TaxCode == "" {
			add(ptr+"/tax_code", "a citizen's account has a tax code")
		}
		if a.Role != "citizen" && a.TaxCode != "" {
			add(ptr+"/tax_code", "only citizens have a tax code here")
		}
	}
	errs = append(errs, checkTeams(f.Teams, muns, users, fundMun)...)
	return errs
}

// checkCompanies checks the companies (unique ids, unique plan ids, each
// plan ending after it starts) and returns their ids.
func checkCompanies(list []Company, add func(ptr, format string, args ...any)) map[string]bool {
	companies, plans := map[string]bool{}, map[string]bool{}
	for i, c := range list {
		ptr := fmt.Sprintf("/companies/%d", i)
		if companies[c.ID] {
			add(ptr+"/id", "company %q is listed twice", c.ID)
		}
		companies[c.ID] = true
		for j, p := range c.Plans {
			pp := fmt.Sprintf("%s/plans/%d", ptr, j)
			if plans[p.ID] {
				add(pp+"/id", "plan %q is listed twice", p.ID)
			}
			plans[p.ID] = true
			if from, until, ok := comparableDays(p.ValidFrom, p.ValidUntil); ok && until < from {
				add(pp+"/valid_until", "the plan ends before it starts")
			}
		}
	}
	return companies
}

// checkTeams checks the teams: unique ids and names, members who may be
// members (a supervisor, or an operator of the team's municipality), funds
// of the file (of the team's municipality).
func checkTeams(teams []Team, muns map[string]bool, users map[string]Account, fundMun map[string]string) []FieldError {
	var errs []FieldError
	add := func(ptr, format string, args ...any) {
		errs = append(errs, FieldError{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
	ids, names := map[string]bool{}, map[string]bool{}
	for i, t := range teams {
		ptr := fmt.Sprintf("/teams/%d", i)
		if ids[t.ID] {
			add(ptr+"/id", "team %q is listed twice", t.ID)
		}
		ids[t.ID] = true
		if key := strings.ToLower(strings.TrimSpace(t.Name)); names[key] {
			add(ptr+"/name", "another team is named %q", t.Name)
		} else {
			names[key] = true
		}
		if t.Municipality != "" && !muns[t.Municipality] {
			add(ptr+"/municipality", "no municipality %q in this file", t.Municipality)
		}
		member := func(u string) string {
			a, ok := users[u]
			switch {
			case !ok:
				return fmt.Sprintf("no account %q in this file", u)
			case a.Role == "supervisor":
			case a.Role != "operator":
				return fmt.Sprintf("%s is not a social worker or a supervisor (%s)", u, a.Role)
			case t.Municipality != "" && a.Municipality != t.Municipality:
				return fmt.Sprintf("%s works in %s, not in the team's municipality", u, a.Municipality)
			}
			return ""
		}
		reviewed := func(id string) string {
			mun, ok := fundMun[id]
			switch {
			case !ok:
				return fmt.Sprintf("no fund %q in this file", id)
			case t.Municipality != "" && mun != t.Municipality:
				return fmt.Sprintf("fund %q is of %s, not of the team's municipality", id, mun)
			}
			return ""
		}
		for _, list := range []struct {
			field string
			items []string
			check func(string) string
		}{{"members", t.Members, member}, {"reviews", t.Reviews, reviewed}} {
			for j, item := range list.items {
				if msg := list.check(item); msg != "" {
					errs = append(errs, FieldError{Pointer: fmt.Sprintf("%s/%s/%d", ptr, list.field, j), Message: msg})
				}
			}
		}
	}
	return errs
}

// relativeDay matches a day relative to the day of the apply ("+45d").
var relativeDay = regexp.MustCompile(`^[+-][0-9]{1,4}d$`)

// Day resolves a file's day, a date or a relative day, against today.
func Day(s string, today time.Time) (time.Time, error) {
	if relativeDay.MatchString(s) {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return time.Time{}, err
		}
		y, m, d := today.Date()
		return time.Date(y, m, d+n, 0, 0, 0, 0, time.UTC), nil
	}
	return time.Parse(time.DateOnly, s)
}

// comparableDays orders two days when both are dates or both relative
// (ok false: one of each, which only the day of the apply orders).
func comparableDays(a, b string) (int, int, bool) {
	if relativeDay.MatchString(a) != relativeDay.MatchString(b) {
		return 0, 0, false
	}
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	da, errA := Day(a, ref)
	db, errB := Day(b, ref)
	if errA != nil || errB != nil {
		return 0, 0, false
	}
	return int(da.Sub(ref).Hours() / 24), int(db.Sub(ref).Hours() / 24), true
}

func daysIn(m time.Month) int {
	return time.Date(2024, m+1, 0, 0, 0, 0, 0, time.UTC).Day() // 2024: 29 February is a patron's day too
}

// LoadFS reads and checks the district file name of fsys (its logo path
// relative to it), like Load.
func LoadFS(fsys fs.FS, name string) (File, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return File{}, fmt.Errorf("district: %w", err)
	}
	return parse(data, func(logo string) ([]byte, error) {
		return fs.ReadFile(fsys, path.Join(path.Dir(name), logo))
	})
}
