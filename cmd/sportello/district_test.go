package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sportello/internal/testenv"
)

// `sportello district apply`: the deployed Bene Comune file (its logo read
// from next to it) is applied, the same file again changes nothing, and a
// bad file is refused with its fields' pointers, writing nothing.
func TestDistrictApplyCommand(t *testing.T) {
	ctx := context.Background()
	url, st := testenv.Postgres(t)
	env := func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	}
	cfg, err := loadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", "..", "deploy", "districts", "bene-comune.json")
	var out bytes.Buffer
	if err := runDistrict(ctx, cfg, &out, []string{"apply", "--demo", file}); err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "district alta-padovana: created ") || !strings.Contains(out.String(), "created  municipality  limena") {
		t.Fatalf("first apply:\n%s", out.String())
	}
	out.Reset()
	if err := runDistrict(ctx, cfg, &out, []string{"apply", "--demo", file}); err != nil {
		t.Fatalf("apply again: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "created 0, updated 0, unchanged ") {
		t.Fatalf("second apply:\n%s", out.String())
	}
	// Without --demo the demo passwords are refused.
	out.Reset()
	if err := runDistrict(ctx, cfg, &out, []string{"apply", file}); err == nil || !strings.Contains(out.String(), "/accounts/0/demo_password: ") {
		t.Fatalf("apply without --demo: %v\n%s", err, out.String())
	}

	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := strings.Replace(strings.Replace(string(raw), `"id": "alta-padovana"`, `"id": "nuovo-ambito"`, 1), `"#1b6b50"`, `"#88cc99"`, 1)
	bad = strings.Replace(bad, `"istat_code": "028018"`, `"istat_code": "28018"`, 1)
	badFile := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badFile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bene-comune.svg"), []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = runDistrict(ctx, cfg, &out, []string{"apply", "--demo", badFile})
	if err == nil || !strings.Contains(err.Error(), "nothing applied") || !strings.Contains(out.String(), "/municipalities/1/istat_code: ") {
		t.Fatalf("bad file: %v\n%s", err, out.String())
	}
	// The contrast is checked once the schema passes.
	bad = strings.Replace(bad, `"istat_code": "28018"`, `"istat_code": "028018"`, 1)
	if err := os.WriteFile(badFile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runDistrict(ctx, cfg, &out, []string{"apply", "--demo", badFile}); err == nil || !strings.Contains(out.String(), "/colours/primary: white text on #88cc99") {
		t.Fatalf("light colour: %v\n%s", err, out.String())
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM districts WHERE id = 'nuovo-ambito'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused file wrote its district (%d, %v)", n, err)
	}
}
