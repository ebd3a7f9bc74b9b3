package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"sportello/api"
	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/bookingtest"
	"sportello/internal/registry"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// The authorization matrix: every route of openapi.json has a row in the
// policy table (api/routes.go) and the other way round; then every route is
// called as every role (and anonymously) on a record of the caller's own
// place and of another place, and the answer must be what the row says:
// 401 without a session, 403 for a role the row does not list, and for the
// roles it lists, the own place's record reached (never 401/403/404/5xx)
// while another place's is 404 or 403, and lists that never show another
// place's record. Places: a citizen's other is another citizen (of another
// municipality), an operator's another municipality, a supervisor's
// another district, a cooperative's or a merchant's another cooperative or
// merchant.

// matrixActor is one caller of the matrix.
type matrixActor struct {
	role     string // "" anonymous
	username string
	other    string // the place key of "another place" for this caller
}

var matrixActors = []matrixActor{
	{"", "", ""},
	{"citizen", "cittadino.tradate", "V"},
	{"operator", "operatore.tradate", "V"},
	{"supervisor", "supervisore", "P"},
	{"merchant", "esercente.tradate", "M2"},
	{"cooperative", "coop.baobab", "K2"},
	{"commerce_manager", "commercio.tradate", "P"},
	{"welfare_manager", seed.DemoWelfareManager, "C2"},
}

// ownPlace is the place of every actor's own records.
const ownPlace = "T"

// matrixKinds names the record kind of each path parameter, by the path it
// appears in (gin syntax) and the parameter name.
var matrixKinds = map[string]string{
	"/api/v1/applications/:id":                "case",
	"/api/v1/tasks/:id":                       "task",
	"/api/v1/vouchers/:id":                    "voucher",
	"/api/v1/municipalities/:id":              "municipality",
	"/api/v1/citizens/:id":                    "citizen",
	"/api/v1/contact-tasks/:id":               "contact",
	"/api/v1/recoveries/:id":                  "recovery",
	"/api/v1/absences/:id":                    "absence",
	"/api/v1/teams/:id":                       "team",
	"/api/v1/teams/:id/members/:username":     "member",
	"/api/v1/funds/:id":                       "fund",
	"/api/v1/appointments/:id":                "appointment",
	"/api/v1/services/:id":                    "service",
	"/api/v1/cart/items/:service_id":          "service",
	"/api/v1/bookings/:id":                    "booking",
	"/api/v1/invoices/:id":                    "invoice",
	"/api/v1/coop/bookings/:id":               "coopbooking",
	"/api/v1/cooperatives/:id":                "cooperative",
	"/api/v1/social-points/:id":               "point",
	"/api/v1/forms/:id":                       "form",
	"/api/v1/form-versions/:form":             "form",
	"/api/v1/form-versions/:form/:version":    "form_version",
	"/api/v1/calls/:id":                       "call",
	"/api/v1/open-calls/:id":                  "open_call",
	"/api/v1/campaigns/:id":                   "campaign",
	"/api/v1/campaign-applications/:id":       "campaign_application",
	"/api/v1/info-pages/:slug":                "info_page",
	"/api/v1/editor/info-pages/:slug":         "info_page",
	"/api/v1/editor/news/:id":                 "news",
	"/api/v1/company/top-ups/:id":             "topup",
	"/api/v1/companies/:id":                   "company",
	"/api/v1/companies/:id/statements/:month": "statement_month",
}

// matrixListKinds names the record kind a list route shows: another place's
// record of that kind must never be in the list.
var matrixListKinds = map[string]string{
	"/api/v1/applications":          "case",
	"/api/v1/tasks":                 "task",
	"/api/v1/vouchers":              "voucher",
	"/api/v1/bookings":              "booking",
	"/api/v1/coop/bookings":         "coopbooking",
	"/api/v1/invoices":              "invoice",
	"/api/v1/absences":              "absence",
	"/api/v1/teams":                 "team",
	"/api/v1/contact-tasks":         "contact",
	"/api/v1/recoveries":            "recovery",
	"/api/v1/appointments":          "appointment",
	"/api/v1/funds":                 "fund",
	"/api/v1/fund-reviews":          "fund",
	"/api/v1/registry/imports":      "registry_import",
	"/api/v1/calls":                 "call",
	"/api/v1/campaign-applications": "campaign_application",
	"/api/v1/company/top-ups":       "topup",
	"/api/v1/company/employees":     "employee",
	"/api/v1/companies":             "company",
}

var ginParamRE = regexp.MustCompile(`:([A-Za-z_]+)`)

// kindOf is the record kind of parameter name in path.
func kindOf(path, name string) string {
	i := strings.Index(path, ":"+name)
	return matrixKinds[path[:i+len(name)+1]]
}

func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	w := buildMatrixWorld(t, e)

	// Every documented route has a row, every row is documented.
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	rows := map[string]api.PolicyRow{}
	for _, r := range api.Policy() {
		rows[r.Method+" "+ginParamRE.ReplaceAllString(r.Path, "{$1}")] = r
	}
	var documented []string
	for p, item := range doc.Paths {
		for m := range item {
			switch m {
			case "get", "post", "put", "patch", "delete":
				k := strings.ToUpper(m) + " " + p
				documented = append(documented, k)
				if _, ok := rows[k]; !ok {
					t.Errorf("%s is in openapi.json but has no row in the policy table (api/routes.go)", k)
				}
			}
		}
	}
	for k := range rows {
		if !slices.Contains(documented, k) {
			t.Errorf("policy row %s is not in openapi.json", k)
		}
	}
	slices.Sort(documented)

	pairs, requests := 0, 0
	for _, k := range documented {
		row, ok := rows[k]
		if !ok {
			continue
		}
		for _, a := range matrixActors {
			pairs++
			requests += w.check(t, row, a)
		}
	}
	t.Logf("authorization matrix: %d routes × %d callers = %d pairs, %d requests", len(documented), len(matrixActors), pairs, requests)
	if pairs < 80*len(matrixActors) {
		t.Errorf("only %d pairs tried: is the policy table complete?", pairs)
	}
}

// matrixWorld holds the records of each place and the callers' users.
type matrixWorld struct {
	e     *env
	users map[string]store.UserView
	// ids[kind][place] is a record of that kind in that place.
	ids map[string]map[string]string
}

// set records id as the record of kind in place; the first one set also
// gives the kind a record of the same shape that does not exist.
func (w *matrixWorld) set(kind, place, id string) {
	if w.ids[kind] == nil {
		w.ids[kind] = map[string]string{"missing": missingLike(id)}
	}
	w.ids[kind][place] = id
}

// missingLike is an id of the same shape as id that names no record.
func missingLike(id string) string {
	if _, err := uuid.Parse(id); err == nil {
		return uuid.NewString()
	}
	if strings.Trim(id, "0123456789") == "" {
		return "987654321"
	}
	if strings.HasPrefix(id, "BS") {
		return "BS-1999-987654"
	}
	return id + "-missing"
}

// path fills the route's parameters with the records of place as role
// reaches them (a record set for "place:role" wins over the place's); ok is
// false when a parameter has no record there.
func (w *matrixWorld) path(route, place, role string) (string, bool) {
	ok := true
	p := ginParamRE.ReplaceAllStringFunc(route, func(m string) string {
		kind := kindOf(route, m[1:])
		id := w.ids[kind][place+":"+role]
		if id == "" {
			id = w.ids[kind][place]
		}
		if id == "" {
			ok = false
		}
		return id
	})
	return p, ok
}

// call sends one request as a (a fresh session for every request, so that
// logging out or any other change to a session affects nothing else).
func (w *matrixWorld) call(t *testing.T, method, path string, a matrixActor) (int, []byte) {
	t.Helper()
	var body io.Reader
	if method != "GET" && method != "DELETE" {
		body = bytes.NewReader([]byte("{}"))
	}
	req, err := http.NewRequest(method, w.e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.username != "" {
		tok, hash, err := auth.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.e.st.API().CreateSession(context.Background(), w.users[a.username].ID, hash, time.Hour); err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// check calls the row as a and compares the answers with the row; it
// returns the number of requests sent.
func (w *matrixWorld) check(t *testing.T, row api.PolicyRow, a matrixActor) int {
	t.Helper()
	who := a.role
	if who == "" {
		who = "anonymous"
	}
	name := row.Method + " " + row.Path + " as " + who
	own, ok := w.path(row.Path, ownPlace, a.role)
	if !ok {
		t.Errorf("%s: no record of the own place for the route's parameters (add it to buildMatrixWorld)", name)
		return 0
	}
	st, body := w.call(t, row.Method, own, a)
	n := 1
	if st >= 500 {
		t.Errorf("%s: %d on the own record: %s", name, st, body)
		return n
	}
	if row.Access != "session" {
		if st == http.StatusUnauthorized || st == http.StatusForbidden {
			t.Errorf("%s: %d on a route open to anyone: %s", name, st, body)
		}
		if row.Reach == "public" && row.Method == "GET" && st != http.StatusOK {
			t.Errorf("%s: %d on a public record: %s", name, st, body)
		}
		return n
	}
	switch {
	case a.role == "":
		if st != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401: %s", name, st, body)
		}
		return n
	case !slices.Contains(row.Roles, a.role):
		if st != http.StatusForbidden {
			t.Errorf("%s: %d, want 403 (role not in the policy row): %s", name, st, body)
		}
		return n
	}
	if st == http.StatusUnauthorized || st == http.StatusForbidden {
		t.Errorf("%s: %d for a role of the policy row: %s", name, st, body)
		return n
	}
	switch row.Reach {
	case "own":
		if st == http.StatusNotFound {
			t.Errorf("%s: 404 on the caller's own record %s: %s", name, own, body)
		}
		other, ok := w.path(row.Path, a.other, a.role)
		if !ok {
			t.Errorf("%s: no record of another place (%s) for the route's parameters (add it to buildMatrixWorld)", name, a.other)
			return n
		}
		st, body = w.call(t, row.Method, other, a)
		n++
		if st == http.StatusNotFound || st == http.StatusForbidden {
			break
		}
		// A write may check its body before looking the record up: then
		// another place's record must answer exactly as a record that does
		// not exist (nothing told, nothing changed).
		missing, _ := w.path(row.Path, "missing", a.role)
		ms, mbody := w.call(t, row.Method, missing, a)
		n++
		if st < 300 || st != ms {
			t.Errorf("%s: %d on another place's record %s (%s), want 404 or 403, or the answer for no such record (%d %s)",
				name, st, other, body, ms, mbody)
		}
	case "list":
		if st != http.StatusOK {
			t.Errorf("%s: %d on the list, want 200: %s", name, st, body)
		}
		if kind := matrixListKinds[row.Path]; kind != "" {
			other := w.ids[kind][a.other+":"+a.role]
			if other == "" {
				other = w.ids[kind][a.other]
			}
			if other == "" {
				t.Errorf("%s: no %s of another place (%s) to look for in the list", name, kind, a.other)
			} else if bytes.Contains(body, []byte(`"`+other+`"`)) {
				t.Errorf("%s: the list shows another place's %s %s", name, kind, other)
			}
		}
	}
	return n
}

// buildMatrixWorld creates the records of each place: T (Tradate: the own
// place of every caller; cooperative Baobab, the Tradate pharmacy), V
// (Vedano Olona, another municipality of the same district), P (Alta
// Padovana, another district), K2 (another cooperative), M2 (another
// merchant), C2 (another company of Tradate, for its welfare manager).
func buildMatrixWorld(t *testing.T, e *env) *matrixWorld {
	t.Helper()
	ctx := context.Background()
	w := &matrixWorld{e: e, users: map[string]store.UserView{}, ids: map[string]map[string]string{}}
	sql := func(q string, args ...any) {
		t.Helper()
		if _, err := e.st.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	one := func(q string, args ...any) string {
		t.Helper()
		var v string
		if err := e.st.Pool.QueryRow(ctx, q, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}

	// The extra users of the other places (password as the demo users').
	sql(`INSERT INTO users (username, role, display_name, district_id, municipality_id, password_hash)
		SELECT 'cittadino.padova', 'citizen', 'Lucia Ferro', 'alta-padovana', 'limena', password_hash
		FROM users WHERE username = 'cittadino.tradate'`)
	coop2 := one(`SELECT id FROM cooperatives WHERE id <> 'baobab' AND district_id = 'tradate' ORDER BY id LIMIT 1`)
	sql(`INSERT INTO users (username, role, display_name, district_id, cooperative_id, password_hash)
		SELECT 'coop.altra', 'cooperative', 'Altra cooperativa', 'tradate', $1, password_hash
		FROM users WHERE username = 'coop.baobab'`, coop2)
	merchant2 := one(`SELECT id FROM merchants WHERE id <> (SELECT merchant_id FROM users WHERE username = 'esercente.tradate') ORDER BY id LIMIT 1`)
	for _, a := range matrixActors {
		if a.username != "" {
			w.users[a.username] = bookingtest.User(t, e.st, a.username)
		}
	}
	for _, u := range []string{"cittadino.vedano", "operatore.vedano", "cittadino.padova", "supervisore.padova", "coop.altra"} {
		w.users[u] = bookingtest.User(t, e.st, u)
	}

	// Cases and review tasks: real applications in T and V through the API.
	for place, who := range map[string][2]string{"T": {"cittadino.tradate", "operatore.tradate"}, "V": {"cittadino.vedano", "operatore.vedano"}} {
		c := e.apply(who[0])
		tk := e.waitTask(who[1], c.ID)
		w.set("case", place, c.ID)
		w.set("task", place, tk.ID)
	}
	// Vouchers (with their cases) in every place; P's case and task.
	for place, holder := range map[string]string{"T": "cittadino.tradate", "V": "cittadino.vedano", "P": "cittadino.padova"} {
		w.set("voucher", place, bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: holder, Cents: 50_000}))
	}
	w.set("case", "P", one(`SELECT case_id FROM vouchers WHERE id = $1`, w.ids["voucher"]["P"]))
	taskP := uuid.NewString()
	if err := e.st.OpenTask(ctx, store.OpenTaskInput{TaskID: taskP, CaseID: w.ids["case"]["P"], Round: 1,
		DueAt: time.Now().Add(72 * time.Hour), At: time.Now()}); err != nil {
		t.Fatalf("open task in P: %v", err)
	}
	w.set("task", "P", taskP)

	// Places of the staff: municipalities, funds, teams, citizens.
	year := time.Now().Year()
	w.set("municipality", "T", "tradate")
	w.set("municipality", "P", "limena")
	w.set("fund", "T", seed.FundID("tradate", year))
	w.set("fund", "V", seed.FundID("vedano-olona", year))
	w.set("fund", "P", "buoni-spesa-limena") // Welfare Bene Comune's call, from its district file
	w.set("team", "T", "istruttoria-buoni-spesa-tradate")
	w.set("member", "T", "operatrice.tradate")
	sql(`INSERT INTO teams (id, district_id, name) VALUES ('team-matrix-p', 'alta-padovana', 'Istruttoria Alta Padovana')`)
	w.set("team", "P", "team-matrix-p")
	w.set("member", "P", "supervisore.padova")
	w.set("citizen", "T", one(`SELECT public_id::text FROM users WHERE username = 'cittadino.tradate'`))
	w.set("citizen", "V", one(`SELECT public_id::text FROM users WHERE username = 'cittadino.vedano'`))

	// The catalogue: services and cooperatives of Baobab and of another one.
	w.set("service", "T", one(`SELECT id::text FROM services WHERE cooperative_id = 'baobab' ORDER BY id LIMIT 1`))
	w.set("service", "K2", one(`SELECT id::text FROM services WHERE cooperative_id = $1 ORDER BY id LIMIT 1`, coop2))
	w.set("cooperative", "T", "baobab")
	w.set("point", "T", one(`SELECT id FROM social_points WHERE district_id = 'tradate' AND host_company_id IS NULL ORDER BY id LIMIT 1`))
	// The welfare manager keeps the hours of the point their company hosts,
	// not those of the district's other points.
	w.set("point", "T:welfare_manager", seed.DemoCompanyPointID)
	w.set("point", "C2", "sp-vedano-olona")
	w.set("form", "T", "buoni-spesa")
	// The information pages (seeded, the same slugs in every district) and news of T and P.
	w.set("info_page", "T", "contatti")
	for _, n := range seed.NewsItems() {
		if n.Lang == "it" {
			w.set("news", map[string]string{"tradate": "T", "alta-padovana": "P"}[n.District], n.ID)
		}
	}
	// Welfare Bene Comune's catalogue, Social Point and citizen, from its district file.
	w.set("service", "P", one(`SELECT id::text FROM services WHERE cooperative_id = 'jonathan' ORDER BY id LIMIT 1`))
	w.set("cooperative", "P", "jonathan")
	w.set("point", "P", "sp-piazzola-sul-brenta")
	w.set("citizen", "P", one(`SELECT public_id::text FROM users WHERE username = 'cittadino.limena'`))

	// Appointments, bookings, invoices and recoveries of each place, written
	// directly: only who may reach them matters here (the journeys that make
	// them have their own tests).
	point := w.ids["point"]["T"]
	pointP := "point-matrix-p"
	sql(`INSERT INTO social_points (id, district_id, municipality_id, name, address)
		VALUES ($1, 'alta-padovana', 'limena', 'Social Point Limena', 'Via Roma 1, Limena')`, pointP)
	for place, who := range map[string][2]string{"T": {"cittadino.tradate", point}, "V": {"cittadino.vedano", point}, "P": {"cittadino.padova", pointP}} {
		u, id := w.users[who[0]], uuid.NewString()
		sql(`INSERT INTO appointments (id, point_id, district_id, municipality_id, citizen_id, starts_at, ends_at, status, workflow_id)
			VALUES ($1, $2, $3, $4, $5, now() + interval '7 days', now() + interval '7 days 30 minutes', 'booked', $6)`,
			id, who[1], u.District, u.Municipality, u.ID, "matrix-appointment:"+id)
		w.set("appointment", place, id)
	}
	for place, who := range map[string][2]string{"T": {"cittadino.tradate", "baobab"}, "V": {"cittadino.vedano", coop2}, "P": {"cittadino.padova", "jonathan"}} {
		u, id := w.users[who[0]], uuid.NewString()
		sql(`INSERT INTO bookings (id, district_id, municipality_id, citizen_id, service_id, cooperative_id, service_name, category, unit,
				quantity, unit_price_cents, total_cents, online_cents, status, workflow_id)
			SELECT $1, $2, $3, $4, id, cooperative_id, name, category, unit, 1, price_cents, price_cents, price_cents, 'requested', $6
			FROM services WHERE cooperative_id = $5 ORDER BY id LIMIT 1`, id, u.District, u.Municipality, u.ID, who[1], "matrix-booking:"+id)
		sql(`INSERT INTO booking_offers (booking_id, attempt, cooperative_id, service_id, respond_by)
			SELECT id, 1, cooperative_id, service_id, now() + interval '2 days' FROM bookings WHERE id = $1`, id)
		w.set("booking", place, id)
		w.set("coopbooking", map[string]string{"T": "T", "V": "K2", "P": "P"}[place], id)
	}
	invoice := func(place, kind, district, municipality, payee string) {
		id := uuid.NewString()
		coop, merch, status := any(nil), any(nil), "awaiting_declaration"
		if kind == "cooperative" {
			coop, status = payee, "ready"
		} else {
			merch = payee
		}
		data := fmt.Sprintf(`{"id": %q, "number": 1, "kind": %q, "district": %q, "municipality": %q, "municipality_name": %q,
			"payee_id": %q, "payee_name": %q, "period": %q, "issued_at": %q, "total_cents": 1000,
			"lines": [{"seq": 1, "description": "Sessione", "date": %q, "amount_cents": 1000, "reference": "matrix"}]}`,
			id, kind, district, municipality, municipality, payee, payee, time.Now().Format("2006-01"),
			time.Now().Format(time.RFC3339), time.Now().Format(time.RFC3339))
		sql(`INSERT INTO invoices (id, kind, district_id, municipality_id, cooperative_id, merchant_id, period, status, total_cents, line_count, data)
			VALUES ($1, $2, $3, $4, $5, $6, date_trunc('month', now())::date, $7, 1000, 1, $8)`,
			id, kind, district, municipality, coop, merch, status, data)
		w.set("invoice", place, id)
	}
	invoice("T", "merchant", "tradate", "tradate", w.users["esercente.tradate"].MerchantID)
	invoice("T:cooperative", "cooperative", "tradate", "tradate", "baobab")
	invoice("M2", "merchant", "tradate", "tradate", merchant2)
	invoice("K2", "cooperative", "tradate", "tradate", coop2)
	sql(`INSERT INTO cooperatives (id, district_id, name, accreditation_status, accredited_from, accredited_until)
		VALUES ('coop-matrix-p', 'alta-padovana', 'Cooperativa Alta Padovana', 'accredited', now()::date, now()::date + 365)`)
	invoice("P", "cooperative", "alta-padovana", "limena", "coop-matrix-p")
	for place, who := range map[string][2]string{"T": {"cittadino.tradate", "operatore.tradate"}, "P": {"cittadino.padova", "supervisore.padova"}} {
		id := uuid.NewString()
		sql(`INSERT INTO account_recoveries (id, user_id, district_id, requested_by, requested_at, channel, status)
			VALUES ($1, $2, $3, $4, now(), 'approval', 'awaiting_approval')`, id, w.users[who[0]].ID, w.users[who[0]].District, w.users[who[1]].ID)
		w.set("recovery", place, id)
	}

	// Contact tasks (a notice to give by phone or letter) on each place's case.
	for place, holder := range map[string]string{"T": "cittadino.tradate", "V": "cittadino.vedano", "P": "cittadino.padova"} {
		key := "matrix-contact-" + place
		if _, err := e.st.OpenContactTask(ctx, store.ContactTaskInput{Key: key, CaseID: w.ids["case"][place], Kind: "approved",
			CitizenID: w.users[holder].ID, MessageIT: "La domanda è stata accolta.", At: time.Now()}); err != nil {
			t.Fatalf("contact task in %s: %v", place, err)
		}
		w.set("contact", place, one(`SELECT task_id::text FROM contact_tasks WHERE notification_key = $1`, key))
	}

	// Absences: T's filed through the API (it plans the handover), V's and
	// P's written directly (only who may see them matters here).
	from := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	r := e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]string{"user": "operatore.tradate",
		"delegate": "operatrice.tradate", "from": from, "to": from, "reason": "ferie"})
	if r.status != http.StatusCreated {
		t.Fatalf("absence in T: %d %s", r.status, r.body)
	}
	var ab struct {
		ID string `json:"id"`
	}
	r.json(t, &ab)
	w.set("absence", "T", ab.ID)
	for place, who := range map[string][3]string{"V": {"vedano-olona", "operatore.vedano", "supervisore"},
		"P": {"", "supervisore.padova", "cittadino.padova"}} {
		id := uuid.NewString()
		sql(`INSERT INTO absences (id, district_id, municipality_id, user_id, delegate_id, starts_at, ends_at, reason, created_by)
			VALUES ($1, $2, nullif($3, ''), $4, $5, now() + interval '30 days', now() + interval '31 days', 'ferie', $4)`,
			id, w.users[who[1]].District, who[0], w.users[who[1]].ID, bookingtest.User(t, e.st, who[2]).ID)
		w.set("absence", place, id)
	}
	// Form versions and calls: a draft version and a draft call of each
	// district (T, P); published calls open now in Tradate (what its
	// citizen and operator read) and in Vedano (V).
	w.set("form", "P", "buoni-spesa")
	v1, _ := forms.MustRegistry().GetVersion("buoni-spesa", 1)
	if err := e.st.API().ImportFormVersion(ctx, "buoni-spesa", 1, v1.Schema, time.Now()); err != nil {
		t.Fatal(err)
	}
	terms := func(municipality string) store.CallTerms {
		now := time.Now()
		return store.CallTerms{Municipality: municipality, Name: "Bando " + municipality, FormID: "buoni-spesa", FormVersion: 1,
			ISEEThresholdCents: 15_000_00, Rule: []byte(`{"base_cents":15000,"per_extra_member_cents":0,"per_minor_cents":0,"max_cents":15000}`),
			Tranches: []byte(`[{"percent":100,"after_days":0}]`), BudgetCents: 1_000_00,
			OpensAt: now.Add(-time.Hour), ClosesAt: now.AddDate(0, 0, 30), ExpiresAt: now.AddDate(0, 0, 60)}
	}
	for place, who := range map[string][2]string{"T": {"supervisore", "tradate"}, "P": {"supervisore.padova", "limena"}} {
		u := w.users[who[0]]
		fv, err := e.st.API().CreateFormVersion(ctx, u.Scope(), "buoni-spesa", v1.Schema, u.Username, time.Now())
		if err != nil {
			t.Fatalf("form version of %s: %v", place, err)
		}
		w.set("form_version", place, strconv.Itoa(fv.Version))
		c, err := e.st.API().CreateCall(ctx, u.Scope(), uuid.NewString(), terms(who[1]), u.Username, time.Now())
		if err != nil {
			t.Fatalf("call of %s: %v", place, err)
		}
		w.set("call", place, c.ID)
	}
	for place, m := range map[string]string{"T:citizen": "tradate", "V": "vedano-olona"} {
		sup := w.users["supervisore"]
		c, err := e.st.API().CreateCall(ctx, sup.Scope(), uuid.NewString(), terms(m), sup.Username, time.Now())
		if err == nil {
			_, err = e.st.API().BeginCallPublication(ctx, sup.Scope(), c.ID, time.Now())
		}
		if err == nil { // as the funding workflow does once the budget is committed
			_, err = e.st.API().OpenCommittedCall(ctx, c.ID, "IMP-TEST-"+m, c.BudgetCents, time.Now())
		}
		if err != nil {
			t.Fatalf("published call of %s: %v", m, err)
		}
		w.set("call", place, c.ID)
	}
	w.set("call", "T:operator", w.ids["call"]["T:citizen"])
	w.set("open_call", "T", w.ids["call"]["T:citizen"]) // published and open: public
	// Campaigns: the demo campaign of Tradate (published, with the seeded
	// applications) and a published one of Alta Padovana with a shop's
	// application there; another merchant's application in Tradate.
	w.set("campaign", "T", one(`SELECT id::text FROM campaigns WHERE district_id = 'tradate' AND status = 'published' ORDER BY id LIMIT 1`))
	campaignP := uuid.NewString()
	sql(`INSERT INTO campaigns (id, district_id, municipality_id, name_it, name_en, starts_on, ends_on, budget_cents, rule, categories,
			status, created_by, published_by, published_at)
		SELECT $1, 'alta-padovana', 'limena', 'Campagna Limena', 'Limena campaign', now()::date, now()::date + 30, 100000,
			'{"percent": 10, "cap_per_person_cents": 1000, "min_purchase_cents": 0}', '{food,health}', 'published', id, id, now()
		FROM users WHERE username = 'supervisore.padova'`, campaignP)
	w.set("campaign", "P", campaignP)
	w.set("campaign", "M2", campaignP)
	sql(`INSERT INTO merchants (id, district_id, municipality_id, name, kind, category) VALUES ('limena-matrix', 'alta-padovana', 'limena', 'Negozio Limena', 'shop', 'food')`)
	application := func(place, campaign, merchant, district string) {
		id := uuid.NewString()
		sql(`INSERT INTO campaign_merchants (id, campaign_id, merchant_id, district_id, status, applied_by)
			SELECT $1, $2, $3, $4, 'applied', id FROM users WHERE username = 'supervisore'`, id, campaign, merchant, district)
		w.set("campaign_application", place, id)
	}
	application("T", w.ids["campaign"]["T"], w.users["esercente.tradate"].MerchantID, "tradate")
	application("M2", w.ids["campaign"]["T"], merchant2, "tradate")
	application("P", campaignP, "limena-matrix", "alta-padovana")

	// Registry imports (dry runs of the demo extracts) of T, V and P.
	for place, m := range map[string]string{"T": "tradate", "V": "vedano-olona", "P": "limena"} {
		d, err := registry.Import(ctx, e.st, store.System, registry.Request{Data: seed.DemoExtract(m), Municipality: m,
			DryRun: true, Source: store.RegistrySourceCLI, Actor: "cli:matrix"})
		if err != nil {
			t.Fatalf("registry dry run of %s: %v", m, err)
		}
		w.set("registry_import", place, d.ImportID)
	}

	// Company welfare: the demo company (T) and its paid top-up and
	// employees; another company of Tradate (C2) and one of Alta Padovana
	// (P), each with a top-up and an employee, written directly.
	w.set("company", "T", seed.DemoCompanyID)
	// Last month's statement of the demo company, as the schedule issues it.
	lastMonthStart := store.StatementMonth(time.Now()).AddDate(0, -1, 0)
	if _, _, err := e.st.API().IssueCompanyStatement(ctx, seed.DemoCompanyID, lastMonthStart, time.Now(), "schedule"); err != nil {
		t.Fatalf("statement: %v", err)
	}
	lastMonth := lastMonthStart.Format("2006-01")
	w.set("statement_month", "T", lastMonth)
	w.set("topup", "T", one(`SELECT id::text FROM company_topups WHERE company_id = $1 ORDER BY created_at LIMIT 1`, seed.DemoCompanyID))
	w.set("employee", "T", one(`SELECT id::text FROM company_employees WHERE company_id = $1 ORDER BY tax_code LIMIT 1`, seed.DemoCompanyID))
	for place, c := range map[string][3]string{"C2": {"matrix-c2", "tradate", "01234567897"}, "P": {"matrix-p", "alta-padovana", "00743110157"}} {
		sql(`INSERT INTO companies (id, district_id, name, vat_number) VALUES ($1, $2, $1, $3)`, c[0], c[1], c[2])
		sql(`INSERT INTO company_plans (id, company_id, district_id, name, annual_credit_cents, categories, valid_from, valid_until)
			VALUES ($1, $1, $2, 'Piano', 1000, '{childcare}', now()::date - 1, now()::date + 365)`, c[0], c[1])
		topUp, employee := uuid.NewString(), uuid.NewString()
		sql(`INSERT INTO company_topups (id, company_id, district_id, amount_cents, status) VALUES ($1, $2, $3, 1000, 'pending')`, topUp, c[0], c[1])
		sql(`INSERT INTO company_employees (id, plan_id, company_id, district_id, tax_code, status) VALUES ($1, $2, $2, $3, $4, 'enrolled')`,
			employee, c[0], c[1], seed.Residents()[5].TaxCode())
		w.set("company", place, c[0])
		w.set("statement_month", place, lastMonth)
		w.set("topup", place, topUp)
		w.set("employee", place, employee)
	}
	return w
}
