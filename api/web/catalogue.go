package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// The catalogue's pages: "Servizi" (browse, filter, search) and the pages of
// a service and of a cooperative for everyone; the cooperatives with their
// accreditation and certification expiry for staff; "Il nostro catalogo"
// (list, create, edit, publish) for cooperative users.

// pageDistrict is the district a page shows: the signed-in user's, or for
// an anonymous visitor the one serving the host, else the default of the
// district files (app.Core.DefaultDistrict).
func (s *Site) pageDistrict(c *gin.Context) (string, error) {
	if u := httpx.CurrentUser(c); u.District != "" {
		return u.District, nil
	}
	return s.core.DefaultDistrict(c.Request.Context(), httpx.Host(c))
}

// wholeEuro formats an ISEE (whole euro): "10.000 €" / "€10,000".
func wholeEuro(lang string, euro int) string { return i18n.WholeEuro(lang, int64(euro)) }

// quoteText explains a caller's price: "Fascia ISEE fino a 10.000 € a
// Tradate: 50% del prezzo di listino".
func quoteText(lang string, q store.PriceQuote) string {
	mun := municipalityName(q.Municipality)
	switch q.Basis {
	case "not_served":
		return translate(lang, "cat.quote.not_served", mun)
	case "band":
		var band string
		switch {
		case q.Band.MaxISEEEuro != nil:
			band = translate(lang, "cat.band.upto", wholeEuro(lang, *q.Band.MaxISEEEuro))
		case q.LowerEuro != nil:
			band = translate(lang, "cat.band.above", wholeEuro(lang, *q.LowerEuro))
		default:
			band = translate(lang, "cat.band.all")
		}
		var price string
		if q.Band.Percent != nil {
			price = translate(lang, "cat.band.percent", *q.Band.Percent)
		} else {
			price = translate(lang, "cat.band.fixed", formatEuro(lang, *q.Band.PriceCents))
		}
		return translate(lang, "cat.quote.band", band, mun, price)
	}
	if q.ISEEEuro != nil && q.Municipality != "" {
		return translate(lang, "cat.quote.no_bands", mun)
	}
	return translate(lang, "cat.quote.list")
}

// iseeText says which ISEE the prices use.
func iseeText(lang string, u store.UserView, p pricing) string {
	switch {
	case u.Role != roleCitizen:
		return ""
	case p.ISEE == nil:
		return translate(lang, "cat.isee.none")
	case p.ISEE.Source == "application":
		return translate(lang, "cat.isee.application", wholeEuro(lang, p.ISEE.Euro), p.ISEE.CaseID)
	}
	return translate(lang, "cat.isee.profile", wholeEuro(lang, p.ISEE.Euro))
}

type catalogueCard struct {
	serviceJSON
	Category  string
	Unit      string
	QuoteText string
	Band      bool
}

func (s *Site) card(c *gin.Context, sv serviceJSON) catalogueCard {
	lang := pageLang(c)
	return catalogueCard{serviceJSON: sv, Category: s.t(c, "cat.category."+sv.Service.Category),
		Unit: s.t(c, "cat.unit."+sv.Service.Unit), QuoteText: quoteText(lang, sv.CallerPrice), Band: sv.CallerPrice.Basis == "band"}
}

type servicesData struct {
	Cards                    []catalogueCard
	Q, MaxPrice              fieldView
	Categories, Muns, Coops  []staffOption
	ISEEText                 string
	Total                    string // "42", or "più di 100" past the count's cap
	Page, Pages              int
	PrevURL, NextURL, Pager  string
	MaxPriceErr, CategoryErr string
}

func options(values []string, label func(string) string, selected string) []staffOption {
	out := make([]staffOption, 0, len(values))
	for _, v := range values {
		out = append(out, staffOption{Value: v, Label: label(v), Selected: v == selected})
	}
	return out
}

const servicesPerPage = 12

func (s *Site) servicesPage(c *gin.Context) error {
	ctx := c.Request.Context()
	lang := pageLang(c)
	d := servicesData{Pager: "cat", Page: 1,
		Q: fieldView{Name: "q", ID: "q", Label: s.t(c, "cat.filter.q"), Hint: s.t(c, "cat.filter.q_hint"), Type: "search", Value: c.Query("q")},
		MaxPrice: fieldView{Name: "max_price", ID: "max-price", Label: s.t(c, "cat.filter.max_price"), Value: c.Query("max_price"),
			Extra: map[string]string{"inputmode": "decimal"}}}
	district, err := s.pageDistrict(c)
	if err != nil {
		return err
	}
	f := store.ServiceFilter{District: district, Query: strings.TrimSpace(c.Query("q")), Category: c.Query("category"),
		Municipality: c.Query("municipality"), Cooperative: c.Query("cooperative"), Limit: servicesPerPage}
	if f.Category != "" && !slices.Contains(store.ServiceCategories, f.Category) {
		f.Category = ""
	}
	if v := strings.TrimSpace(d.MaxPrice.Value); v != "" {
		if cents, ok := parseEuroInput(v); ok {
			f.MaxPriceCents = cents
		} else {
			d.MaxPrice.Error = s.t(c, "cat.filter.max_price_invalid")
		}
	}
	if n, err := strconv.Atoi(c.Query("page")); err == nil && n > 1 && n < 10_000 {
		d.Page = n
	}
	f.Offset = (d.Page - 1) * servicesPerPage
	items, total, p, err := s.marketplace.Catalogue(c.Request.Context(), httpx.CurrentUser(c), f)
	if err != nil {
		return err
	}
	for _, sv := range items {
		d.Cards = append(d.Cards, s.card(c, sv))
	}
	// The count stops at a cap (store.CatalogueCountCap, never before the
	// end of this page): past it, there is at least one page more.
	d.Total = countText(lang, total)
	d.Pages = max(1, (total.N+servicesPerPage-1)/servicesPerPage)
	if total.More {
		d.Pages++
	}
	pageURL := func(n int) string {
		q := c.Request.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return "/services?" + q.Encode()
	}
	if d.Page > 1 {
		d.PrevURL = pageURL(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.NextURL = pageURL(d.Page + 1)
	}
	d.ISEEText = iseeText(lang, httpx.CurrentUser(c), p)
	d.Categories = options(store.ServiceCategories, func(v string) string { return s.t(c, "cat.category."+v) }, f.Category)
	muns, err := s.marketplace.DistrictMunicipalities(ctx, f.District)
	if err != nil {
		return err
	}
	d.Muns = options(muns, municipalityName, f.Municipality)
	coops, err := s.marketplace.Cooperatives(ctx, store.UserView{}, f.District) // the public list
	if err != nil {
		return err
	}
	for _, co := range coops {
		d.Coops = append(d.Coops, staffOption{Value: co.ID, Label: co.Name, Selected: co.ID == f.Cooperative})
	}
	status := http.StatusOK
	if d.MaxPrice.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(c, status, "services", view{Title: s.t(c, "cat.title"), Nav: "services", Data: d})
	return nil
}

type serviceData struct {
	catalogueCard
	ISEEText     string
	MunNames     []string
	BandRows     []bandRow
	BandMun      string
	Coop         store.Cooperative
	CapacityText string
}

type bandRow struct {
	Range, Price string
	Current      bool
}

func (s *Site) bandRows(lang string, sv store.Service, mun string, q store.PriceQuote) []bandRow {
	var rows []bandRow
	var lower *int
	for _, b := range sv.Bands[mun] {
		r := bandRow{Price: formatEuro(lang, b.Cents(sv.PriceCents))}
		switch {
		case b.MaxISEEEuro != nil:
			r.Range = translate(lang, "cat.band.upto", wholeEuro(lang, *b.MaxISEEEuro))
		case lower != nil:
			r.Range = translate(lang, "cat.band.above", wholeEuro(lang, *lower))
		default:
			r.Range = translate(lang, "cat.band.all")
		}
		if b.Percent != nil {
			r.Price += " (" + translate(lang, "cat.band.percent", *b.Percent) + ")"
		}
		r.Current = q.Basis == "band" && q.Band != nil && ((q.Band.MaxISEEEuro == nil && b.MaxISEEEuro == nil) ||
			(q.Band.MaxISEEEuro != nil && b.MaxISEEEuro != nil && *q.Band.MaxISEEEuro == *b.MaxISEEEuro))
		rows = append(rows, r)
		lower = b.MaxISEEEuro
	}
	return rows
}

func (s *Site) servicePage(c *gin.Context) error {
	sv, p, err := s.marketplace.ServiceByID(c.Request.Context(), httpx.CurrentUser(c), httpx.ServiceID(c))
	if err != nil {
		return err
	}
	lang := pageLang(c)
	d := serviceData{catalogueCard: s.card(c, sv), ISEEText: iseeText(lang, httpx.CurrentUser(c), p)}
	for _, m := range sv.Municipalities {
		d.MunNames = append(d.MunNames, municipalityName(m))
	}
	d.BandMun = p.Municipality
	if d.BandMun == "" || len(sv.Bands[d.BandMun]) == 0 {
		d.BandMun = ""
		for _, m := range sv.Municipalities {
			if len(sv.Bands[m]) > 0 {
				d.BandMun = m
				break
			}
		}
	}
	if d.BandMun != "" {
		d.BandRows = s.bandRows(lang, sv.Service, d.BandMun, sv.CallerPrice)
		d.BandMun = municipalityName(d.BandMun)
	}
	d.CapacityText = s.t(c, "cat.capacity."+sv.CapacityPeriod, sv.Capacity)
	if d.Coop, err = s.marketplace.Cooperative(c.Request.Context(), httpx.CurrentUser(c), sv.CooperativeID); err != nil {
		return err
	}
	s.render(c, http.StatusOK, "service", view{Title: sv.Name, Nav: "services",
		Crumbs: []crumb{{Href: "/services", Text: s.t(c, "cat.title")}}, Data: d})
	return nil
}

type coopRow struct {
	store.Cooperative
	Expiring    bool // certification expires within 60 days
	ReasonText  string
	StatusText  string
	ExpiresText string
}

func (s *Site) coopRow(c *gin.Context, co store.Cooperative, today time.Time) coopRow {
	lang := pageLang(c)
	r := coopRow{Cooperative: co, StatusText: s.t(c, "cat.acc."+co.AccreditationStatus)}
	if co.HiddenReason != "" {
		r.ReasonText = s.t(c, "cat.hidden."+co.HiddenReason)
	}
	if co.CertificationExpires != nil {
		r.ExpiresText = formatDate(lang, *co.CertificationExpires)
		left := co.CertificationExpires.Sub(today)
		r.Expiring = left >= 0 && left <= 60*24*time.Hour
	}
	return r
}

func (s *Site) cooperativesPage(c *gin.Context) error {
	u := httpx.CurrentUser(c)
	district, err := s.pageDistrict(c)
	if err != nil {
		return err
	}
	coops, err := s.marketplace.Cooperatives(c.Request.Context(), u, district)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	rows := make([]coopRow, 0, len(coops))
	for _, co := range coops {
		rows = append(rows, s.coopRow(c, co, today))
	}
	nav := "services"
	if app.IsStaff(u.Role) {
		nav = "cooperatives"
	}
	s.render(c, http.StatusOK, "cooperatives", view{Title: s.t(c, "cat.coops.title"), Nav: nav,
		Data: map[string]any{"Rows": rows, "Staff": app.IsStaff(u.Role)}})
	return nil
}

func (s *Site) cooperativePage(c *gin.Context) error {
	co, err := s.marketplace.Cooperative(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	items, _, _, err := s.marketplace.Catalogue(c.Request.Context(), httpx.CurrentUser(c), store.ServiceFilter{Cooperative: co.ID, Limit: 200})
	if err != nil {
		return err
	}
	cards := make([]catalogueCard, 0, len(items))
	for _, sv := range items {
		cards = append(cards, s.card(c, sv))
	}
	now := s.Now().UTC()
	s.render(c, http.StatusOK, "cooperative", view{Title: co.Name, Nav: "services",
		Crumbs: []crumb{{Href: "/cooperatives", Text: s.t(c, "cat.coops.title")}},
		Data: map[string]any{"Coop": s.coopRow(c, co, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)),
			"Cards": cards, "Website": safeWebsite(co.Website)}})
	return nil
}

// safeWebsite keeps only http(s) links.
func safeWebsite(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.String()
}

// ---- the cooperative's own catalogue ----

func (s *Site) ourCataloguePage(c *gin.Context) error {
	co, err := s.marketplace.OwnCooperative(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	items, _, _, err := s.marketplace.Catalogue(c.Request.Context(), httpx.CurrentUser(c), store.ServiceFilter{Cooperative: co.ID, Limit: 200})
	if err != nil {
		return err
	}
	cards := make([]catalogueCard, 0, len(items))
	for _, sv := range items {
		cards = append(cards, s.card(c, sv))
	}
	s.render(c, http.StatusOK, "our_catalogue", view{Title: s.t(c, "cat.ours.title"), Nav: "our-catalogue",
		Data: map[string]any{"Coop": s.coopRow(c, co, s.Now()), "Cards": cards}})
	return nil
}

type serviceForm struct {
	ID                       int64
	Published                bool
	Name, Description, Price fieldView
	Capacity, Bands          fieldView
	Category, Unit, Period   []staffOption
	Muns                     []staffOption
	CategoryErr, UnitErr     string
	PeriodErr, MunsErr       string
	Action                   string
}

func (s *Site) newServiceForm(c *gin.Context, sv store.Service, district []string) serviceForm {
	lang := pageLang(c)
	f := serviceForm{ID: sv.ID, Published: sv.Published, Action: "/our-catalogue/new",
		Name: fieldView{Name: "name", ID: "name", Label: s.t(c, "cat.form.name"), Value: sv.Name, Required: true, Extra: map[string]string{"maxlength": "200"}},
		Description: fieldView{Name: "description", ID: "description", Label: s.t(c, "cat.form.description"), Value: sv.Description,
			Extra: map[string]string{"maxlength": "5000"}},
		Price: fieldView{Name: "price", ID: "price", Label: s.t(c, "cat.form.price"), Hint: s.t(c, "cat.form.price_hint"), Required: true,
			Extra: map[string]string{"inputmode": "decimal"}},
		Capacity: fieldView{Name: "capacity", ID: "capacity", Label: s.t(c, "cat.form.capacity"), Required: true, Type: "number",
			Extra: map[string]string{"min": "1", "inputmode": "numeric"}},
		Bands: fieldView{Name: "bands", ID: "bands", Label: s.t(c, "cat.form.bands"), Hint: s.t(c, "cat.form.bands_hint"),
			Value: formatBands(lang, sv.Bands)},
	}
	if sv.ID != 0 {
		f.Action = fmt.Sprintf("/our-catalogue/%d", sv.ID)
		f.Price.Value = i18n.Amount(lang, sv.PriceCents)
		f.Capacity.Value = strconv.Itoa(sv.Capacity)
	}
	f.Category = options(store.ServiceCategories, func(v string) string { return s.t(c, "cat.category."+v) }, sv.Category)
	f.Unit = options(store.ServiceUnits, func(v string) string { return s.t(c, "cat.unit."+v) }, sv.Unit)
	f.Period = options(store.CapacityPeriods, func(v string) string { return s.t(c, "cat.period."+v) }, sv.CapacityPeriod)
	for _, m := range district {
		f.Muns = append(f.Muns, staffOption{Value: m, Label: municipalityName(m), Selected: slices.Contains(sv.Municipalities, m)})
	}
	return f
}

// formatBands writes bands one municipality a line:
// "tradate: 10000=50%; 20000=12,50; oltre=100%".
func formatBands(lang string, bands map[string][]store.PriceBand) string {
	ms := make([]string, 0, len(bands))
	for m := range bands {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	var lines []string
	above := translate(lang, "cat.form.above_word")
	for _, m := range ms {
		var parts []string
		for _, b := range bands[m] {
			k := above
			if b.MaxISEEEuro != nil {
				k = strconv.Itoa(*b.MaxISEEEuro)
			}
			v := ""
			if b.Percent != nil {
				v = strconv.Itoa(*b.Percent) + "%"
			} else if b.PriceCents != nil {
				v = i18n.Amount(lang, *b.PriceCents)
			}
			parts = append(parts, k+"="+v)
		}
		lines = append(lines, m+": "+strings.Join(parts, "; "))
	}
	return strings.Join(lines, "\n")
}

// parseBands reads formatBands' syntax; ok is false on a malformed line.
func parseBands(text string) (map[string][]store.PriceBand, bool) {
	out := map[string][]store.PriceBand{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, false
		}
		m = strings.TrimSpace(m)
		for _, part := range strings.Split(rest, ";") {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, false
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			var b store.PriceBand
			if k != "oltre" && k != "above" {
				n, err := strconv.Atoi(strings.ReplaceAll(k, ".", ""))
				if err != nil {
					return nil, false
				}
				b.MaxISEEEuro = &n
			}
			if pct, isPct := strings.CutSuffix(v, "%"); isPct {
				n, err := strconv.Atoi(strings.TrimSpace(pct))
				if err != nil {
					return nil, false
				}
				b.Percent = &n
			} else {
				cents, ok := parseEuroInput(v)
				if !ok {
					return nil, false
				}
				b.PriceCents = &cents
			}
			out[m] = append(out[m], b)
		}
	}
	return out, true
}

func (s *Site) ownService(c *gin.Context) (store.Service, error) {
	if c.Param("id") == "" {
		return store.Service{}, nil
	}
	return s.marketplace.OwnService(c.Request.Context(), httpx.CurrentUser(c), httpx.ServiceID(c))
}

func (s *Site) renderServiceForm(c *gin.Context, status int, f serviceForm, errs []summaryItem) {
	title := s.t(c, "cat.form.new")
	if f.ID != 0 {
		title = s.t(c, "cat.form.edit", f.Name.Value)
	}
	s.render(c, status, "service_edit", view{Title: title, Nav: "our-catalogue", Errors: errs,
		Crumbs: []crumb{{Href: "/our-catalogue", Text: s.t(c, "cat.ours.title")}}, Data: f})
}

// ownServiceForm reads the caller's service (none for a new one) and the
// district's municipalities, which the form offers.
func (s *Site) ownServiceForm(c *gin.Context) (store.Service, []string, error) {
	sv, err := s.ownService(c)
	if err != nil {
		return sv, nil, err
	}
	district, err := s.marketplace.DistrictMunicipalities(c.Request.Context(), httpx.CurrentUser(c).District)
	return sv, district, err
}

func (s *Site) serviceFormPage(c *gin.Context) error {
	sv, district, err := s.ownServiceForm(c)
	if err != nil {
		return err
	}
	s.renderServiceForm(c, http.StatusOK, s.newServiceForm(c, sv, district), nil)
	return nil
}

func (s *Site) serviceFormSubmit(c *gin.Context) error {
	sv, district, err := s.ownServiceForm(c)
	if err != nil {
		return err
	}
	lang := pageLang(c)
	// Keep what was typed for a re-render.
	typed := sv
	typed.Category, typed.Name, typed.Description = c.PostForm("category"), c.PostForm("name"), c.PostForm("description")
	typed.Unit, typed.CapacityPeriod, typed.Municipalities = c.PostForm("unit"), c.PostForm("capacity_period"), c.PostFormArray("municipalities")
	f := s.newServiceForm(c, typed, district)
	f.Price.Value, f.Capacity.Value, f.Bands.Value = c.PostForm("price"), c.PostForm("capacity"), c.PostForm("bands")

	b := serviceBody{Category: typed.Category, Name: typed.Name, Description: typed.Description, Unit: typed.Unit,
		CapacityPeriod: typed.CapacityPeriod, Municipalities: typed.Municipalities}
	var pre []FieldError
	if cents, ok := parseEuroInput(f.Price.Value); ok {
		b.PriceCents = &cents
	} else if strings.HasPrefix(strings.TrimSpace(f.Price.Value), "-") {
		pre = append(pre, app.Field("/price_cents", "negative", "marketplace.err.price_negative"))
	} else {
		pre = append(pre, app.Field("/price_cents", "invalid", "web.err.price_invalid"))
	}
	if n, err := strconv.Atoi(strings.TrimSpace(f.Capacity.Value)); err == nil {
		b.Capacity = &n
	}
	if bands, ok := parseBands(f.Bands.Value); ok {
		b.PriceBands = bands
	} else {
		pre = append(pre, app.Field("/price_bands", "syntax", "web.err.price_bands_syntax"))
	}
	var saved store.Service
	if len(pre) > 0 {
		err = invalid(pre...)
	} else {
		saved, err = s.marketplace.SaveService(c.Request.Context(), httpx.CurrentUser(c), sv.ID, b)
	}
	if err != nil {
		he := httpx.From(err)
		if he.Status != http.StatusUnprocessableEntity {
			return err
		}
		var errs []summaryItem
		for _, fe := range he.Fields {
			msg := fe.In(lang)
			id, label := "name", ""
			switch top := strings.SplitN(strings.TrimPrefix(fe.Pointer, "/"), "/", 2)[0]; top {
			case "name":
				f.Name.Error, label = msg, f.Name.Label
			case "description":
				f.Description.Error, id, label = msg, "description", f.Description.Label
			case "price_cents":
				f.Price.Error, id, label = msg, "price", f.Price.Label
			case "capacity":
				f.Capacity.Error, id, label = msg, "capacity", f.Capacity.Label
			case "price_bands":
				f.Bands.Error, id, label = msg, "bands", f.Bands.Label
			case "category":
				f.CategoryErr, id, label = msg, "category", s.t(c, "cat.form.category")
			case "unit":
				f.UnitErr, id, label = msg, "unit", s.t(c, "cat.form.unit")
			case "capacity_period":
				f.PeriodErr, id, label = msg, "capacity-period", s.t(c, "cat.form.period")
			case "municipalities":
				f.MunsErr, id, label = msg, "mun-0", s.t(c, "cat.form.municipalities")
			}
			errs = append(errs, summaryItem{Href: "#" + id, Text: label + ": " + msg})
		}
		s.renderServiceForm(c, http.StatusUnprocessableEntity, f, errs)
		return nil
	}
	setFlash(c, "success", "cat.form.saved", saved.Name)
	redirect(c, "/our-catalogue")
	return nil
}

func (s *Site) servicePublishSubmit(published bool) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		sv, err := s.marketplace.SetPublished(c.Request.Context(), httpx.CurrentUser(c), httpx.ServiceID(c), published)
		if err != nil {
			return err
		}
		key := "cat.ours.published"
		if !published {
			key = "cat.ours.unpublished"
		}
		setFlash(c, "success", key, sv.Name)
		redirect(c, "/our-catalogue")
		return nil
	}
}
