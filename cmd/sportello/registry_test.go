package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sportello/internal/seed"
	"sportello/internal/testenv"
)

// `sportello registry import`: a dry run writes nothing, the import
// applies the file, the same file again changes nothing, and a file with
// problems lists them by line, imports nothing and fails.
func TestRegistryImportCommand(t *testing.T) {
	ctx := context.Background()
	url, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		switch k {
		case "DATABASE_URL":
			return url
		case "USER":
			return "anagrafe"
		}
		return ""
	}
	cfg, err := loadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	// Vedano Olona's extract: Giovanni Bianchi and a newcomer.
	extract := string(seed.DemoExtract("vedano-olona")) + "NREGUO50A01L733B;Neri;Ugo;1950-01-01;L703;200002\n"
	extract = strings.Replace(extract, "NREGUO50A01L733B", seed.TaxCode("Neri", "Ugo", false, time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), "L733"), 1)
	dir := t.TempDir()
	file := filepath.Join(dir, "vedano.csv")
	if err := os.WriteFile(file, []byte(extract), 0o600); err != nil {
		t.Fatal(err)
	}
	residents := func() int {
		var n int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM residents WHERE municipality_id = 'vedano-olona' AND ceased_at IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var out bytes.Buffer
	if err := runRegistry(ctx, cfg, &out, env, []string{"import", "--dry-run", file}); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "dry run (nothing written)") || !strings.Contains(out.String(), "new 1, moved 0, updated 0, gone 0, unchanged 1") ||
		residents() != 1 {
		t.Fatalf("dry run output:\n%s", out.String())
	}
	out.Reset()
	if err := runRegistry(ctx, cfg, &out, env, []string{"import", "--municipality", "vedano-olona", file}); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "new 1, moved 0") || residents() != 2 {
		t.Fatalf("import output:\n%s", out.String())
	}
	out.Reset()
	if err := runRegistry(ctx, cfg, &out, env, []string{"import", file}); err != nil || !strings.Contains(out.String(), "new 0, moved 0, updated 0, gone 0, unchanged 2") {
		t.Fatalf("second import: %v\n%s", err, out.String())
	}
	var actor string
	if err := st.Pool.QueryRow(ctx, `SELECT actor_username FROM registry_imports WHERE source = 'cli' ORDER BY created_at DESC LIMIT 1`).Scan(&actor); err != nil || actor != "cli:anagrafe" {
		t.Errorf("recorded actor %q, %v", actor, err)
	}

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(extract+"RSSMRA80A01L319X;Rossi;Maria;1980-01-01;L703;1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = runRegistry(ctx, cfg, &out, env, []string{"import", "--lang", "it", bad})
	if err == nil || !strings.Contains(err.Error(), "nothing imported") ||
		!strings.Contains(out.String(), "Riga 4, colonna codice_fiscale: codice fiscale non valido (RSSMRA80A01L319X)") {
		t.Fatalf("bad file: %v\n%s", err, out.String())
	}
	if err := runRegistry(ctx, cfg, &out, env, []string{"import", "--municipality", "atlantide", file}); err == nil {
		t.Error("an unknown municipality was accepted")
	}
}
