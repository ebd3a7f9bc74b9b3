package calls_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/app/calls"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// withField is the embedded food-voucher schema with one more required
// text field, name.
func withField(t *testing.T, name string) json.RawMessage {
	t.Helper()
	v1, ok := forms.MustRegistry().GetVersion("buoni-spesa", 1)
	if !ok {
		t.Fatal("no embedded buoni-spesa version 1")
	}
	var doc map[string]any
	if err := json.Unmarshal(v1.Schema, &doc); err != nil {
		t.Fatal(err)
	}
	doc["required"] = append(doc["required"].([]any), name)
	doc["properties"].(map[string]any)[name] = map[string]any{"title": "Campo " + name, "x-title-en": "Field " + name,
		"description": "Un campo in più.", "x-description-en": "One more field.", "type": "string", "minLength": 1}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// application is a correct food-voucher application with extra text
// fields.
func application(t *testing.T, extra ...string) []byte {
	t.Helper()
	data := map[string]any{
		"applicant": map[string]any{"first_name": "Mario", "last_name": "Rossi", "tax_code": "RSSMRA85T10A562S",
			"birth_date": "1985-12-10", "email": "mario.rossi@example.it", "phone": "+39 0331 123456"},
		"residence":    map[string]any{"municipality": "tradate", "address": "Via Roma 12"},
		"household":    map[string]any{"members": 4, "minors": 2},
		"isee_euro":    7450.35,
		"delivery":     "download",
		"declarations": map[string]any{"truthful": true, "privacy": true},
	}
	for _, name := range extra {
		data[name] = "sì"
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestReleaseAndDistrictVersionsNeverCollide: a district's supervisor
// publishes a version of the food-voucher form; a later release embeds its
// own next version (2, the number the district's would have had when
// versions were one sequence). The release's import stores it as the
// platform's, and both documents stay distinct, in the database and in the
// registry: a case filed under the district's call is validated against the
// district's document, one filed with the latest against the release's.
func TestReleaseAndDistrictVersionsNeverCollide(t *testing.T) {
	_, st, core := seeded(t)
	ctx, now := context.Background(), time.Now()
	var sup store.UserView
	if err := st.Pool.QueryRow(ctx, `SELECT id, username, role, display_name, district_id, coalesce(municipality_id, '')
		FROM users WHERE username = 'supervisore'`).Scan(&sup.ID, &sup.Username, &sup.Role, &sup.DisplayName, &sup.District, &sup.Municipality); err != nil {
		t.Fatal(err)
	}

	// Today's release: the embedded version 1 only.
	svc := calls.New(core, forms.MustRegistry())
	districtDoc := withField(t, "notes")
	draft, err := svc.CreateFormVersion(ctx, sup, calls.NewFormVersion{FormID: "buoni-spesa", Schema: districtDoc})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := svc.PublishFormVersion(ctx, sup, "buoni-spesa", draft.Version)
	if err != nil {
		t.Fatal(err)
	}
	if mine.Version < forms.FirstDistrictVersion {
		t.Errorf("the district's version is %d, in the platform's range (1..%d)", mine.Version, forms.MaxPlatformVersion)
	}
	threshold, budget := int64(20_000_00), int64(1_000_00)
	opens, closes := now.Add(-time.Hour), now.Add(30*24*time.Hour)
	call, err := svc.CreateCall(ctx, sup, calls.CallBody{Municipality: "tradate", Name: "Buoni spesa del distretto",
		FormID: "buoni-spesa", FormVersion: mine.Version, ISEEThresholdCents: &threshold, BudgetCents: &budget,
		Rule:     json.RawMessage(`{"base_cents":10000,"per_extra_member_cents":0,"per_minor_cents":0,"max_cents":10000}`),
		Tranches: json.RawMessage(`[{"percent":100,"after_days":0}]`), OpensAt: &opens, ClosesAt: &closes, ExpiresAt: &closes})
	if err != nil {
		t.Fatal(err)
	}

	// The next release embeds its own version 2 (another replica, a new
	// process: a registry of its own).
	next, released, releaseDoc := nextRelease(t, core)
	if err := released.Sync(ctx); err != nil {
		t.Fatalf("the release's import: %v", err)
	}
	for _, c := range []struct {
		version  int
		district string
		doc      json.RawMessage
	}{{2, "", releaseDoc}, {mine.Version, "tradate", districtDoc}} {
		stored, err := st.API().FormVersionOf(ctx, store.System, "buoni-spesa", c.version)
		if err != nil {
			t.Fatalf("version %d: %v", c.version, err)
		}
		if stored.District != c.district || !sameJSON(stored.Schema, c.doc) {
			t.Errorf("stored version %d is %q's, its own document %v", c.version, stored.District, sameJSON(stored.Schema, c.doc))
		}
		compiled, ok := next.GetVersion("buoni-spesa", c.version)
		if !ok || compiled.District != c.district || !sameJSON(compiled.Schema, c.doc) {
			t.Errorf("compiled version %d: %v, %q's, its own document %v", c.version, ok, compiled.District, sameJSON(compiled.Schema, c.doc))
		}
	}

	// A case under the district's call is validated against the district's
	// document (notes asked, the release's field not), one filed with the
	// latest against the release's (the other way round).
	got, err := released.Call(ctx, sup, call.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := released.EnsureVersion(ctx, "buoni-spesa", got.FormVersion); err != nil {
		t.Fatal(err)
	}
	if p, err := next.ValidateVersion("buoni-spesa", got.FormVersion, application(t, "notes"), now); err != nil || len(p) > 0 {
		t.Errorf("a case of the district's call with notes: %v, %v", p, err)
	}
	if p, err := next.ValidateVersion("buoni-spesa", got.FormVersion, application(t, "consent_note"), now); err != nil || !hasPointer(p, "/notes") {
		t.Errorf("a case of the district's call without notes: %v, %v", p, err)
	}
	latest, problems, err := next.Validate("buoni-spesa", application(t, "consent_note"), now)
	if err != nil || latest != 2 || len(problems) > 0 {
		t.Errorf("a case filed with the latest: version %d, %v, %v", latest, problems, err)
	}
	if _, problems, _ := next.Validate("buoni-spesa", application(t, "notes"), now); !hasPointer(problems, "/consent_note") {
		t.Errorf("a case filed with the latest without the release's field: %v", problems)
	}

	// The district's next upload follows its own, never the release's number.
	again, err := released.CreateFormVersion(ctx, sup, calls.NewFormVersion{FormID: "buoni-spesa", Schema: districtDoc})
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != mine.Version+1 {
		t.Errorf("the district's next version is %d, want %d", again.Version, mine.Version+1)
	}
}

// TestReleaseRefusedOverALegacyDistrictVersion: a district's version
// stored with a number of the platform's range (before migration 035, or
// written past the store) is never silently kept in the place of a
// release's version with that number: the import fails, naming it, and
// nothing is compiled in its place.
func TestReleaseRefusedOverALegacyDistrictVersion(t *testing.T) {
	url, st, core := seeded(t)
	ctx := context.Background()
	districtDoc := withField(t, "notes")
	insertLegacyVersion(t, url, "buoni-spesa", 2, "tradate", districtDoc)

	_, released, _ := nextRelease(t, core)
	err := released.Sync(ctx)
	if !errors.Is(err, store.ErrFormVersionTaken) {
		t.Fatalf("the release's import over the district's version 2: %v, want ErrFormVersionTaken", err)
	}
	if err := released.EnsureVersion(ctx, "buoni-spesa", 0); !errors.Is(err, store.ErrFormVersionTaken) { // the latest
		t.Errorf("a later use: %v, want the same refusal", err)
	}
	stored, err := st.API().FormVersionOf(ctx, store.System, "buoni-spesa", 2)
	if err != nil || stored.District != "tradate" || !sameJSON(stored.Schema, districtDoc) {
		t.Errorf("the district's version 2 changed: %q, %v", stored.District, err)
	}
}

// seeded is a new database seeded with the demo data, its admin URL and
// the application core on it (no Temporal: no use case here starts one).
func seeded(t *testing.T) (string, *store.Store, *app.Core) {
	t.Helper()
	url, st := testenv.Postgres(t)
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return url, st, &app.Core{Store: st, API: st.API(), Log: slog.Default(), Now: time.Now}
}

// nextRelease is a release embedding its own food-voucher version 2 (its
// document asks one more field, consent_note): its registry and the calls
// service of a process running it.
func nextRelease(t *testing.T, core *app.Core) (*forms.Registry, calls.Service, json.RawMessage) {
	t.Helper()
	doc := withField(t, "consent_note")
	reg := forms.MustRegistry()
	if err := reg.Register("buoni-spesa", "", 2, doc); err != nil {
		t.Fatal(err)
	}
	return reg, calls.New(core, reg), doc
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func hasPointer(problems []forms.FieldError, pointer string) bool {
	for _, p := range problems {
		if p.Pointer == pointer {
			return true
		}
	}
	return false
}

// insertLegacyVersion writes a published version of district numbered as
// before migration 035 (its range trigger off for this one row), through
// the database's admin URL.
func insertLegacyVersion(t *testing.T, url, form string, version int, district string, schema json.RawMessage) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO form_versions (form_id, version, district_id, schema, status, created_by, created_at, published_at)
		VALUES ($1, $2, $3, $4::json, 'published', 'supervisore', now(), now())`, form, version, district, string(schema)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
