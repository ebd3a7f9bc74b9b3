package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/activities"
	"sportello/internal/registry"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const header = "codice_fiscale;cognome;nome;data_nascita;comune;id_famiglia\n"

// resident is a demo resident by first and last name.
func resident(t *testing.T, first, last string) seed.Resident {
	t.Helper()
	for _, r := range seed.Residents() {
		if r.FirstName == first && r.LastName == last {
			return r
		}
	}
	t.Fatalf("no demo resident %s %s", first, last)
	return seed.Resident{}
}

func line(r seed.Resident, comune, household string) string {
	return fmt.Sprintf("%s;%s;%s;%s;%s;%s\n", r.TaxCode(), r.LastName, r.FirstName, r.Born.Format(time.DateOnly), comune, household)
}

func lineCodes(errs []store.RegistryLineError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%d:%s:%s", e.Line, e.Column, e.Code))
	}
	return out
}

func TestParse(t *testing.T) {
	maria, luca, giovanni := resident(t, "Maria", "Rossi"), resident(t, "Luca", "Colombo"), resident(t, "Giovanni", "Bianchi")
	// A byte order mark, upper-case header in another order, an extra
	// column, Italian dates, a blank line: all fine.
	ok := "\uFEFFCOMUNE;Codice_Fiscale;cognome;nome;data_nascita;id_famiglia;cittadinanza\n" +
		"L319;" + strings.ToLower(maria.TaxCode()) + ";Rossi;Maria;01/01/1980;100001;ITA\n\n"
	rows, errs := registry.Parse([]byte(ok))
	if len(errs) > 0 || len(rows) != 1 {
		t.Fatalf("Parse = %v, %v", rows, lineCodes(errs))
	}
	if r := rows[0]; r.TaxCode != maria.TaxCode() || r.Municipality != "L319" || r.Household != "100001" || r.Line != 2 ||
		r.BirthDate.Format(time.DateOnly) != "1980-01-01" {
		t.Errorf("row = %+v", r)
	}

	bad := header +
		line(maria, "L319", "100001") + // 2: fine
		"RSSMRA80A01L319X;Rossi;Maria;1980-01-01;L319;100001\n" + // 3: wrong check character
		line(maria, "L319", "100001") + // 4: duplicate of line 2
		luca.TaxCode() + ";Colombo;;1990-31-12;L319;10 02\n" + // 5: no name, bad date, bad household
		luca.TaxCode() + ";Colombo\n" + // 6: too few fields
		giovanni.TaxCode() + ";Bianchi;Giovanni\u202e;1975-03-15;L733;200001\n" // 7: a bidi control
	_, errs = registry.Parse([]byte(bad))
	want := []string{"3:codice_fiscale:tax_code_invalid", "4:codice_fiscale:tax_code_duplicate",
		"5:nome:required", "5:data_nascita:date_invalid", "5:id_famiglia:household_invalid",
		"6::field_count", "7:nome:text_bidi_control"}
	if got := lineCodes(errs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problems:\n got %v\nwant %v", got, want)
	}

	for name, tc := range map[string]struct{ data, want string }{
		"empty":          {"", "0::file_empty"},
		"header missing": {"codice_fiscale;cognome;nome\n", "1:data_nascita:header_missing"},
		"no rows":        {header, "0::no_rows"},
		"not UTF-8":      {header + "\xff\xfe;;;;;\n", "0::file_not_utf8"},
	} {
		_, errs := registry.Parse([]byte(tc.data))
		if got := lineCodes(errs); len(got) == 0 || got[0] != tc.want {
			t.Errorf("%s: problems %v, want first %s", name, got, tc.want)
		}
	}
}

type residentRow struct {
	municipality, household string
	ceased                  bool
	updated                 time.Time
}

func residents(t *testing.T, st *store.Store) map[string]residentRow {
	t.Helper()
	rows, err := st.Pool.Query(context.Background(), `SELECT tax_code, municipality_id, coalesce(household_id, ''),
		ceased_at IS NOT NULL, updated_at FROM residents`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]residentRow{}
	for rows.Next() {
		var code string
		var r residentRow
		if err := rows.Scan(&code, &r.municipality, &r.household, &r.ceased, &r.updated); err != nil {
			t.Fatal(err)
		}
		out[code] = r
	}
	return out
}

func count(t *testing.T, st *store.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func seeded(t *testing.T) *store.Store {
	t.Helper()
	_, st := testenv.Postgres(t)
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestImportDiffAndIdempotency imports a new extract of Tradate: a new
// resident, one who moved in from Vedano Olona, one who changed household,
// one gone, one unchanged; first as a dry run (nothing written), then for
// real, then again (nothing changes).
func TestImportDiffAndIdempotency(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	maria, marco, luca, giovanni := resident(t, "Maria", "Rossi"), resident(t, "Marco", "Rossi"),
		resident(t, "Luca", "Colombo"), resident(t, "Giovanni", "Bianchi")
	newcomer := seed.Resident{FirstName: "Sara", LastName: "Conti", Female: true, Born: time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC),
		BirthPlace: "L319"}
	file := []byte(header + line(maria, "L319", "100001") + line(marco, "tradate", "100009") +
		line(giovanni, "L319", "100010") + line(newcomer, "l319", "100011"))
	if seeded := residents(t, st); seeded[luca.TaxCode()].municipality != "tradate" || seeded[giovanni.TaxCode()].municipality != "vedano-olona" {
		t.Fatalf("the demo extracts were not imported: %v", seeded)
	}
	before := residents(t, st)
	imports := count(t, st, `SELECT count(*) FROM registry_imports`)

	req := registry.Request{Data: file, FileName: "anagrafe.csv", DryRun: true, Source: store.RegistrySourceCLI, Actor: "cli:test"}
	dry, err := registry.Import(ctx, st, store.System, req)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Municipality != "tradate" || dry.New != 1 || dry.Moved != 2 || dry.Gone != 1 || dry.Unchanged != 1 || dry.Updated != 0 ||
		!dry.DryRun || dry.Rows != 4 || dry.SHA256 != registry.Checksum(file) {
		t.Fatalf("dry run = %+v", dry)
	}
	if len(dry.GoneRows) != 1 || dry.GoneRows[0].TaxCode != luca.TaxCode() || len(dry.NewRows) != 1 ||
		dry.NewRows[0].TaxCode != newcomer.TaxCode() || dry.NewRows[0].Line != 5 {
		t.Errorf("dry run rows: new %+v, gone %+v", dry.NewRows, dry.GoneRows)
	}
	moved := map[string]store.RegistryChange{}
	for _, m := range dry.MovedRows {
		moved[m.TaxCode] = m
	}
	if m := moved[giovanni.TaxCode()]; m.FromMunicipality != "vedano-olona" || m.Household != "100010" {
		t.Errorf("Giovanni moved: %+v", m)
	}
	if m := moved[marco.TaxCode()]; m.FromMunicipality != "tradate" || m.FromHousehold != "100001" || m.Household != "100009" {
		t.Errorf("Marco moved: %+v", m)
	}
	after := residents(t, st)
	for code, r := range before {
		if after[code] != r {
			t.Errorf("the dry run changed %s: %+v -> %+v", code, r, after[code])
		}
	}
	if len(after) != len(before) {
		t.Errorf("the dry run added residents")
	}

	req.DryRun = false
	applied, err := registry.Import(ctx, st, store.System, req)
	if err != nil {
		t.Fatal(err)
	}
	if applied.New != 1 || applied.Moved != 2 || applied.Gone != 1 || applied.Unchanged != 1 || applied.DryRun {
		t.Fatalf("import = %+v", applied)
	}
	after = residents(t, st)
	if r := after[luca.TaxCode()]; !r.ceased || r.municipality != "tradate" {
		t.Errorf("Luca: %+v, want no longer resident of Tradate (kept)", r)
	}
	if r := after[giovanni.TaxCode()]; r.municipality != "tradate" || r.household != "100010" || r.ceased {
		t.Errorf("Giovanni: %+v", r)
	}
	if r := after[marco.TaxCode()]; r.household != "100009" {
		t.Errorf("Marco: %+v", r)
	}
	if r, ok := after[newcomer.TaxCode()]; !ok || r.municipality != "tradate" || r.ceased {
		t.Errorf("Sara: %+v", r)
	}
	if after[maria.TaxCode()] != before[maria.TaxCode()] {
		t.Errorf("Maria changed: %+v", after[maria.TaxCode()])
	}

	// The same file again changes nothing.
	again, err := registry.Import(ctx, st, store.System, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changes() || again.Unchanged != 4 {
		t.Errorf("second import = %+v", again)
	}
	second := residents(t, st)
	for code, r := range after {
		if second[code] != r {
			t.Errorf("the second import changed %s: %+v -> %+v", code, r, second[code])
		}
	}
	// Every import is recorded, with an audit row.
	if n := count(t, st, `SELECT count(*) FROM registry_imports WHERE file_sha256 = $1`, registry.Checksum(file)); n != 3 ||
		count(t, st, `SELECT count(*) FROM registry_imports`) != imports+3 {
		t.Errorf("%d imports recorded, want 3", n)
	}
	if n := count(t, st, `SELECT count(*) FROM audit_log WHERE action IN ('registry_import', 'registry_dry_run')
		AND detail->>'sha256' = $1 AND actor_username = 'cli:test' AND municipality_id = 'tradate'`, registry.Checksum(file)); n != 3 {
		t.Errorf("%d audit rows, want 3", n)
	}
	// Vedano's next extract no longer lists Giovanni: he is Tradate's now,
	// not gone.
	vd, err := registry.Import(ctx, st, store.System, registry.Request{Data: []byte(header + line(seed.Resident{FirstName: "Ugo",
		LastName: "Neri", Born: time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), BirthPlace: "L733"}, "vedano-olona", "200002")),
		Municipality: "vedano-olona", Source: store.RegistrySourceCLI, Actor: "cli:test"})
	if err != nil || vd.Gone != 0 || vd.New != 1 {
		t.Errorf("Vedano import = %+v, %v", vd, err)
	}
}

// TestImportRefusedWhole: a file with problems, or a row of another
// municipality, imports nothing and records nothing.
func TestImportRefusedWhole(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	maria, giovanni := resident(t, "Maria", "Rossi"), resident(t, "Giovanni", "Bianchi")
	before := residents(t, st)
	imports := count(t, st, `SELECT count(*) FROM registry_imports`)
	for name, tc := range map[string]struct {
		file, municipality string
		want               []string
	}{
		"a bad tax code": {header + line(maria, "L319", "100001") + "RSSMRA80A01L319X;Rossi;Maria;1980-01-01;L319;1\n", "",
			[]string{"3:codice_fiscale:tax_code_invalid"}},
		"a row of another municipality": {header + line(maria, "L319", "100001") + line(giovanni, "L703", "200001"), "tradate",
			[]string{"3:comune:municipality_other"}},
		"a municipality of another district": {header + line(maria, "E592", "100001"), "tradate",
			[]string{"2:comune:municipality_unknown"}},
		"an unknown municipality": {header + line(maria, "tradate", "100001") + line(giovanni, "Z999", "1"), "",
			[]string{"3:comune:municipality_unknown"}},
	} {
		_, err := registry.Import(ctx, st, store.System, registry.Request{Data: []byte(tc.file), Municipality: tc.municipality,
			Source: store.RegistrySourceCLI, Actor: "cli:test"})
		var le *store.RegistryLineErrors
		if !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want line problems", name, err)
			continue
		}
		if got := lineCodes(le.Errors); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: problems %v, want %v", name, got, tc.want)
		}
	}
	after := residents(t, st)
	for code, r := range before {
		if after[code] != r {
			t.Errorf("a refused file changed %s", code)
		}
	}
	if n := count(t, st, `SELECT count(*) FROM registry_imports`); n != imports {
		t.Errorf("refused files recorded as imports: %d -> %d", imports, n)
	}
}

// TestImportScope: an operator imports only their municipality, a
// supervisor only their district; row-level security refuses the writes
// underneath too.
func TestImportScope(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	giovanni := resident(t, "Giovanni", "Bianchi")
	var opID, supID int64
	if err := st.Pool.QueryRow(ctx, `SELECT (SELECT id FROM users WHERE username = 'operatore.tradate'),
		(SELECT id FROM users WHERE username = 'supervisore.padova')`).Scan(&opID, &supID); err != nil {
		t.Fatal(err)
	}
	op := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate", UserID: opID}
	padova := store.Scope{Kind: "supervisor", District: "alta-padovana", UserID: supID}
	vedano := []byte(header + line(giovanni, "vedano-olona", "200001"))
	for name, scope := range map[string]store.Scope{"operator of Tradate": op, "supervisor of Alta Padovana": padova} {
		_, err := registry.Import(ctx, st, scope, registry.Request{Data: vedano, Source: store.RegistrySourceAPI, Actor: "x", ActorID: scope.UserID})
		if !errors.Is(err, store.ErrRegistryScope) {
			t.Errorf("%s imports Vedano: %v, want ErrRegistryScope", name, err)
		}
	}
	// The operator's own municipality goes through, under row-level security.
	maria := resident(t, "Maria", "Rossi")
	own, err := registry.Import(ctx, st, op, registry.Request{Data: []byte(header + line(maria, "tradate", "100001")),
		Source: store.RegistrySourceAPI, Actor: "operatore.tradate", ActorID: opID, DryRun: true})
	if err != nil || own.Gone != 2 { // Luca and Marco are not in this file
		t.Fatalf("operator's own dry run = %+v, %v", own, err)
	}
	// Underneath the store's check: the database refuses an operator's write
	// of another municipality's residents, and every delete.
	for name, sql := range map[string]string{
		"mark Vedano's residents gone": `UPDATE residents SET ceased_at = now() WHERE municipality_id = 'vedano-olona'`,
		"add a resident of Vedano": `INSERT INTO residents (tax_code, municipality_id, first_name, last_name)
			VALUES ('NREUGO50A01L733X', 'vedano-olona', 'Ugo', 'Neri')`,
		"record an import of Vedano": `INSERT INTO registry_imports (district_id, municipality_id, status, source, actor_username,
			file_sha256, rows, new_count, moved_count, updated_count, gone_count, unchanged_count)
			VALUES ('tradate', 'vedano-olona', 'applied', 'api', 'x', repeat('0', 64), 0, 0, 0, 0, 0, 0)`,
	} {
		err := st.InTx(ctx, op, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, sql); return err })
		if err == nil || !strings.Contains(err.Error(), "row-level security") {
			t.Errorf("operator of Tradate may %s: %v", name, err)
		}
	}
	var deleted int64
	err = st.InTx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM residents WHERE municipality_id = 'tradate'`)
		deleted = tag.RowsAffected()
		return err
	})
	if err == nil && deleted > 0 {
		t.Errorf("operator deleted %d residents", deleted)
	}
	if r := residents(t, st)[giovanni.TaxCode()]; r.municipality != "vedano-olona" || r.ceased {
		t.Errorf("Giovanni: %+v", r)
	}
}

// TestPrecheckHousehold: Maria and Marco Rossi are one household; Marco's
// application is flagged while Maria's is decided (warn) and once she holds
// a voucher from the fund (fail).
func TestPrecheckHousehold(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	maria, marco := resident(t, "Maria", "Rossi"), resident(t, "Marco", "Rossi")
	var marcoID int64
	if err := st.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id, tax_code)
		VALUES ('marco.rossi', 'x', 'citizen', 'Marco Rossi', 'tradate', 'tradate', $1) RETURNING id`, marco.TaxCode()).Scan(&marcoID); err != nil {
		t.Fatal(err)
	}
	var mariaID int64
	if err := st.Pool.QueryRow(ctx, `SELECT id FROM users WHERE tax_code = $1`, maria.TaxCode()).Scan(&mariaID); err != nil {
		t.Fatal(err)
	}
	file := func(userID int64, r seed.Resident) string {
		data, _ := json.Marshal(map[string]any{"isee_euro": 5000, "residence": map[string]any{"municipality": "tradate"},
			"household": map[string]any{"members": 2, "minors": 0}})
		c, err := st.API().CreateCase(ctx, store.Scope{Kind: "citizen", District: "tradate", Municipality: "tradate", UserID: userID},
			store.NewCase{Prefix: "BS", FormID: seed.FoodVoucherForm, FormVersion: 1, Data: data, Municipality: "tradate",
				TaxCode: r.TaxCode(), RequestHash: r.TaxCode(), Actor: r.FirstName, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	mariaCase, marcoCase := file(mariaID, maria), file(marcoID, marco)
	acts := &activities.Cases{Store: st}
	household := func(caseID string) (string, bool) {
		t.Helper()
		res, err := acts.Precheck(ctx, activities.PrecheckInput{CaseID: caseID, At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range res.Checks {
			if ch.Name == "household" {
				return ch.Outcome, res.Passed
			}
		}
		t.Fatalf("no household check: %+v", res.Checks)
		return "", false
	}
	if got, _ := household(marcoCase); got != "warn" {
		t.Errorf("Marco while Maria's application is decided: %s, want warn", got)
	}
	// Maria is awarded a voucher from the fund.
	if _, err := st.Pool.Exec(ctx, `INSERT INTO vouchers (id, code, case_id, fund_id, district_id, municipality_id, holder_id,
			tax_code, amount_cents, status, expires_at)
		SELECT gen_random_uuid(), 'TEST-HOUSEHOLD', c.id, c.fund_id, c.district_id, c.municipality_id, c.applicant_id, c.tax_code,
			15000, 'active', now() + interval '30 days' FROM cases c WHERE c.id = $1`, mariaCase); err != nil {
		t.Fatal(err)
	}
	if got, passed := household(marcoCase); got != "fail" || passed {
		t.Errorf("Marco once Maria holds a voucher: %s (passed %v), want fail", got, passed)
	}
	if got, _ := household(mariaCase); got != "warn" {
		t.Errorf("Maria: %s, want warn (Marco's application; her own voucher is not another member's)", got)
	}
	// Marco moves to a household of his own: the rule no longer applies.
	if _, err := registry.Import(ctx, st, store.System, registry.Request{Data: []byte(header + line(maria, "L319", "100001") +
		line(marco, "L319", "100020") + line(resident(t, "Luca", "Colombo"), "L319", "100002")), Source: store.RegistrySourceCLI,
		Actor: "cli:test"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := household(marcoCase); got != "pass" {
		t.Errorf("Marco in a household of his own: %s, want pass", got)
	}
}
