package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"sportello/api"
	"sportello/internal/apicontract"
	"sportello/internal/seed"
	"sportello/internal/testenv"
)

func TestSession(t *testing.T) {
	e := newEnv(t)

	r := e.do("POST", "/api/v1/session", "", map[string]string{"username": "operatore.tradate", "password": "demo"})
	expectStatus(t, r, http.StatusOK)
	var lr api.LoginResponse
	r.json(t, &lr)
	if lr.Token == "" || lr.User.Role != "operator" || lr.User.Municipality != "tradate" {
		t.Fatalf("login response %s", r.body)
	}
	bearer := hdr{"Authorization": "Bearer " + lr.Token}

	r = e.do("GET", "/api/v1/me", "", nil, bearer)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"username":"operatore.tradate"`) {
		t.Errorf("me: %s", r.body)
	}

	for name, creds := range map[string]map[string]string{
		"wrong password": {"username": "operatore.tradate", "password": "nope"},
		"unknown user":   {"username": "nessuno", "password": "demo"},
	} {
		r := e.do("POST", "/api/v1/session", "", creds)
		expectStatus(t, r, http.StatusUnauthorized)
		if got := r.errorBody(t).Code; got != "invalid_credentials" {
			t.Errorf("%s: code %q", name, got)
		}
	}

	r = e.do("POST", "/api/v1/session", "", map[string]string{})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 2 {
		t.Errorf("empty login: want 2 field errors, got %+v", f)
	}

	r = e.do("GET", "/api/v1/me", "", nil)
	expectStatus(t, r, http.StatusUnauthorized)
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	expectStatus(t, e.do("GET", "/api/v1/applications", "", nil, hdr{"Authorization": "Bearer not-a-token"}), http.StatusUnauthorized)
	expectStatus(t, e.do("GET", "/api/v1/applications", "", nil, hdr{"Authorization": "Basic Zm9vOmJhcg=="}), http.StatusUnauthorized)

	// Wrong role.
	for _, c := range []struct{ method, path, user string }{
		{"GET", "/api/v1/tasks", "cittadino.tradate"},
		{"POST", "/api/v1/applications", "operatore.tradate"},
		{"POST", "/api/v1/redemptions", "cittadino.tradate"},
		{"GET", "/api/v1/funds", "cittadino.tradate"},
		{"GET", "/api/v1/vouchers", "esercente.tradate"},
		{"GET", "/api/v1/applications", "esercente.tradate"},
	} {
		r := e.do(c.method, c.path, c.user, "{}")
		if r.status != http.StatusForbidden || r.errorBody(t).Code != "forbidden" {
			t.Errorf("%s %s as %s: %d %s", c.method, c.path, c.user, r.status, r.body)
		}
	}

	// Logout revokes the token.
	expectStatus(t, e.do("DELETE", "/api/v1/session", "", nil, bearer), http.StatusNoContent)
	expectStatus(t, e.do("GET", "/api/v1/me", "", nil, bearer), http.StatusUnauthorized)
}

func TestHeadersAndErrors(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/forms", "cittadino.tradate", nil, hdr{"X-Request-ID": "abc-123"})
	expectStatus(t, r, http.StatusOK)
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Request-Id":           "abc-123",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", r.header.Get("Content-Security-Policy"))
	}

	r = e.do("GET", "/api/v1/nothing-here", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusNotFound)
	if r.errorBody(t).Code != "not_found" {
		t.Errorf("unknown route: %s", r.body)
	}

	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", `{"form": "buoni-spesa", "data": {`)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if r.errorBody(t).Code != "json" {
		t.Errorf("malformed JSON: %s", r.body)
	}

	big := `{"form":"buoni-spesa","data":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", big)
	expectStatus(t, r, http.StatusRequestEntityTooLarge)

	r = e.do("GET", "/api/v1/applications?limit=abc&status=lost", "supervisore", nil)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 1 || f[0].Parameter != "limit" {
		t.Errorf("bad limit: %s", r.body)
	}
}

func TestForms(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/forms", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var l list[api.FormSummary]
	r.json(t, &l)
	if !slices.ContainsFunc(l.Items, func(f api.FormSummary) bool { return f.ID == "buoni-spesa" && f.Version >= 1 && f.Title != "" }) {
		t.Fatalf("forms: %s", r.body)
	}
	r = e.do("GET", "/api/v1/forms/buoni-spesa", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var schema map[string]any
	r.json(t, &schema)
	if schema["$schema"] == nil || schema["properties"] == nil || r.header.Get("Form-Version") == "" {
		t.Fatalf("schema: %.200s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/forms/nope", "cittadino.tradate", nil), http.StatusNotFound)
}

func TestApplicationValidation(t *testing.T) {
	e := newEnv(t)

	app := application(t, "cittadino.tradate")
	d := dataOf(app)
	delete(d, "isee_euro")                                         // required
	d["household"].(map[string]any)["members"] = 0                 // minimum
	d["applicant"].(map[string]any)["tax_code"] = "RSSMRA80A41L31" // format
	d["delivery"] = "drone"                                        // enum
	r := e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	eb := r.errorBody(t)
	if eb.Code != "validation" {
		t.Errorf("code %q", eb.Code)
	}
	want := []string{"/data/applicant/tax_code", "/data/delivery", "/data/household/members", "/data/isee_euro"}
	var got []string
	for _, f := range eb.Fields {
		got = append(got, f.Pointer)
		if f.Message == "" || f.MessageIT == "" || f.Code == "" {
			t.Errorf("incomplete field error %+v", f)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("pointers %v, want %v (one per problem): %s", got, want, r.body)
	}

	for name, body := range map[string]any{
		"no form":      map[string]any{"data": dataOf(application(t, "cittadino.tradate"))},
		"unknown form": map[string]any{"form": "nope", "data": map[string]any{}},
		"data array":   map[string]any{"form": "buoni-spesa", "data": []int{1}},
		"extra member": `{"form":"buoni-spesa","data":{},"extra":1}`,
	} {
		r := e.do("POST", "/api/v1/applications", "cittadino.tradate", body)
		if r.status != http.StatusUnprocessableEntity || len(r.errorBody(t).Fields) == 0 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}

	// Municipality outside the district and someone else's tax code: both
	// reported at once.
	app = application(t, "cittadino.tradate")
	d = dataOf(app)
	d["residence"].(map[string]any)["municipality"] = "limena"
	d["applicant"].(map[string]any)["tax_code"] = seed.Residents()[2].TaxCode()
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", app)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	got = nil
	for _, f := range r.errorBody(t).Fields {
		got = append(got, f.Pointer+" "+f.Code)
	}
	slices.Sort(got)
	want = []string{"/data/applicant/tax_code tax_code_mismatch", "/data/residence/municipality outside_district"}
	if !slices.Equal(got, want) {
		t.Errorf("rules: got %v, want %v", got, want)
	}

	if n := e.countCases(); n != 0 {
		t.Fatalf("%d cases stored after refused applications", n)
	}
}

func TestApplicationIdempotency(t *testing.T) {
	e := newEnv(t)
	key := hdr{"Idempotency-Key": "k-1"}

	first := e.apply("cittadino.tradate", key)
	if !strings.HasPrefix(first.ID, "BS-") || first.Status == "" || first.Form != "buoni-spesa" ||
		first.WorkflowID != "case:"+first.ID || first.Municipality != "tradate" {
		t.Fatalf("case %+v", first)
	}
	if first.TemporalURL != "" {
		t.Errorf("citizen sees the Temporal UI link %q", first.TemporalURL)
	}

	r := e.do("POST", "/api/v1/applications", "cittadino.tradate", application(t, "cittadino.tradate"), key)
	expectStatus(t, r, http.StatusCreated)
	var again caseView
	r.json(t, &again)
	if again.ID != first.ID || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s (header %q), want %s", again.ID, r.header.Get("Idempotent-Replayed"), first.ID)
	}

	other := application(t, "cittadino.tradate")
	dataOf(other)["delivery"] = "home"
	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", other, key)
	expectStatus(t, r, http.StatusConflict)
	if c := r.errorBody(t).Code; c != "idempotency_key_reused" {
		t.Errorf("reused key: %s", c)
	}

	r = e.do("POST", "/api/v1/applications", "cittadino.tradate", application(t, "cittadino.tradate"))
	expectStatus(t, r, http.StatusConflict)
	if c := r.errorBody(t).Code; c != "application_in_progress" {
		t.Errorf("second application: %s", c)
	}
	if n := e.countCases(); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}

	// The workflow runs: the case reaches the operator's inbox.
	tk := e.waitTask("operatore.tradate", first.ID)
	if tk.ApplicantName != "Maria Rossi" {
		t.Errorf("task %+v", tk)
	}

	r = e.do("GET", "/api/v1/applications/"+first.ID+"/timeline", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var events []struct {
		At    string          `json:"at"`
		Type  string          `json:"type"`
		Actor string          `json:"actor"`
		Det   json.RawMessage `json:"detail"`
	}
	r.json(t, &events)
	if len(events) == 0 || events[0].Type != "submitted" || events[0].Actor != "cittadino.tradate" {
		t.Errorf("timeline %s", r.body)
	}
}

func TestTenancy(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	tk := e.waitTask("operatore.tradate", c.ID)

	// Another municipality's operator neither sees nor touches it.
	r := e.do("GET", "/api/v1/tasks?status=all", "operatore.vedano", nil)
	expectStatus(t, r, http.StatusOK)
	var l list[taskView]
	r.json(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("operatore.vedano sees %+v", l.Items)
	}
	expectStatus(t, e.do("GET", "/api/v1/tasks/"+tk.ID, "operatore.vedano", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.vedano", nil), http.StatusNotFound)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/decision", "operatore.vedano",
		map[string]any{"outcome": "approve"}), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "operatore.vedano", nil), http.StatusNotFound)

	// Another district's supervisor sees no case of Tradate.
	r = e.do("GET", "/api/v1/applications", "supervisore.padova", nil)
	expectStatus(t, r, http.StatusOK)
	var cl list[caseView]
	r.json(t, &cl)
	if len(cl.Items) != 0 || cl.Total != 0 {
		t.Errorf("supervisore.padova sees %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "supervisore.padova", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID+"/timeline", "supervisore.padova", nil), http.StatusNotFound)

	// Another citizen does not see it either.
	expectStatus(t, e.do("GET", "/api/v1/applications/"+c.ID, "cittadino.vedano", nil), http.StatusNotFound)

	// The district supervisor does, with filters, and gets the Temporal link.
	r = e.do("GET", "/api/v1/applications?tax_code="+strings.ToLower(demoUser(t, "cittadino.tradate").TaxCode), "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &cl)
	if len(cl.Items) != 1 || cl.Items[0].ID != c.ID {
		t.Errorf("supervisor list %s", r.body)
	}
	r = e.do("GET", "/api/v1/applications/"+c.ID, "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var full caseView
	r.json(t, &full)
	if full.TemporalURL != "http://temporal-ui.test/namespaces/default/workflows/case:"+c.ID || full.Task == nil || full.Task.ID != tk.ID {
		t.Errorf("supervisor case %s", r.body)
	}
}

func TestDecisionValidation(t *testing.T) {
	e := newEnv(t)
	id := "00000000-0000-0000-0000-000000000000"
	for name, c := range map[string]struct {
		body     any
		pointers []string
	}{
		"bad outcome":      {map[string]any{"outcome": "maybe"}, []string{"/outcome"}},
		"negative amount":  {map[string]any{"outcome": "approve", "amount_cents": -1}, []string{"/amount_cents"}},
		"float amount":     {`{"outcome":"approve","amount_cents":1.5}`, []string{"/amount_cents"}},
		"reject no reason": {map[string]any{"outcome": "reject", "reason": "  "}, []string{"/reason"}},
		"long reason":      {map[string]any{"outcome": "request_info", "reason": strings.Repeat("x", 2001)}, []string{"/reason"}},
	} {
		r := e.do("POST", "/api/v1/tasks/"+id+"/decision", "operatore.tradate", c.body)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.status, r.body)
			continue
		}
		var got []string
		for _, f := range r.errorBody(t).Fields {
			got = append(got, f.Pointer)
		}
		if !slices.Equal(got, c.pointers) {
			t.Errorf("%s: pointers %v, want %v", name, got, c.pointers)
		}
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+id+"/decision", "operatore.tradate",
		map[string]any{"outcome": "approve"}), http.StatusNotFound)
	expectStatus(t, e.do("POST", "/api/v1/tasks/not-a-uuid/claim", "operatore.tradate", nil), http.StatusNotFound)
}

func TestRedemptionValidation(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": " ", "amount_cents": 0})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.errorBody(t).Fields; len(f) != 2 {
		t.Errorf("want 2 field errors: %s", r.body)
	}
	r = e.do("POST", "/api/v1/redemptions", "esercente.tradate", map[string]any{"code": "AAAA-BBBB-CCCC-DDDD", "amount_cents": 100})
	expectStatus(t, r, http.StatusNotFound)
	r = e.do("GET", "/api/v1/redemptions", "esercente.tradate", nil)
	expectStatus(t, r, http.StatusOK)
}

func TestReadyz(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/readyz", "", nil)
	expectStatus(t, r, http.StatusOK)
	if string(r.body) != `{"database":"ok","temporal":"ok"}` {
		t.Errorf("readyz %s", r.body)
	}
	expectStatus(t, e.do("GET", "/healthz", "", nil), http.StatusOK)

	// A Temporal server that does not answer makes the API not ready.
	lazy, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Namespace: testenv.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	srv := httptest.NewServer(apicontract.For(t, api.New(api.Deps{Store: e.st, Temporal: lazy})))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || body["database"] != "ok" || body["temporal"] == "ok" {
		t.Errorf("readyz without Temporal: %d %v", res.StatusCode, body)
	}
}
