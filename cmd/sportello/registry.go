package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sportello/internal/app/registry"
	"sportello/internal/i18n"
	extract "sportello/internal/registry"
	"sportello/internal/store"
)

const registryUsage = `Usage: sportello registry import [--dry-run] [--municipality ID] [--json] [--lang it|en] FILE

Imports a municipality's extract of the population registry (a CSV file:
codice_fiscale;cognome;nome;data_nascita;comune;id_famiglia), in one
transaction; --dry-run shows what would change (new, moved, updated, gone)
and writes nothing but the record of the dry run. A file with problems
imports nothing: every problem is listed with its line, and the exit
status is 1. The import is recorded with the operating-system user
($USER) as its author.
`

// runRegistry is `sportello registry import`.
func runRegistry(ctx context.Context, cfg config, out io.Writer, getenv func(string) string, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(out, registryUsage)
		return errors.New("registry: the only subcommand is import")
	}
	fs := flag.NewFlagSet("registry import", flag.ContinueOnError)
	fs.SetOutput(out)
	dryRun := fs.Bool("dry-run", false, "show what would change, write nothing")
	municipality := fs.String("municipality", "", "the municipality of the extract (id or cadastral code); default: the one its rows name")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	lang := fs.String("lang", i18n.EN, "language of the problems listed: it or en")
	fs.Usage = func() { fmt.Fprint(out, registryUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("registry import: name one FILE")
	}
	if *lang != i18n.IT && *lang != i18n.EN {
		return fmt.Errorf("registry import: --lang %q: it or en", *lang)
	}
	path := fs.Arg(0)
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("registry import: %w", err)
	}
	if info.Size() > extract.MaxFileBytes {
		return fmt.Errorf("registry import: %s is larger than %d MB", path, extract.MaxFileBytes>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("registry import: %w", err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	actor := "cli"
	if u := getenv("USER"); u != "" {
		actor = "cli:" + u
	}
	diff, err := extract.Import(ctx, st, store.System, extract.Request{Data: data, FileName: filepath.Base(path),
		Municipality: *municipality, DryRun: *dryRun, Source: store.RegistrySourceCLI, Actor: actor})
	var le *store.RegistryLineErrors
	switch {
	case errors.As(err, &le):
		for _, e := range le.Errors {
			fmt.Fprintln(out, registry.FieldError(e).In(*lang))
		}
		return fmt.Errorf("registry import: %s: %d problem(s), nothing imported", path, len(le.Errors))
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("registry import: no municipality %q", *municipality)
	case err != nil:
		return fmt.Errorf("registry import: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(diff)
	}
	verb := "imported"
	if diff.DryRun {
		verb = "dry run (nothing written)"
	}
	fmt.Fprintf(out, "%s: %s, municipality %s, %d rows, sha256 %s\n", path, verb, diff.Municipality, diff.Rows, diff.SHA256)
	fmt.Fprintf(out, "new %d, moved %d, updated %d, gone %d, unchanged %d\n", diff.New, diff.Moved, diff.Updated, diff.Gone, diff.Unchanged)
	for _, kind := range []struct {
		name string
		rows []store.RegistryChange
	}{{"new", diff.NewRows}, {"moved", diff.MovedRows}, {"updated", diff.UpdatedRows}, {"gone", diff.GoneRows}} {
		for _, r := range kind.rows {
			fmt.Fprintf(out, "  %-8s %s %s %s", kind.name, r.TaxCode, r.LastName, r.FirstName)
			if r.FromMunicipality != "" && (r.FromMunicipality != diff.Municipality || r.FromHousehold != r.Household) {
				fmt.Fprintf(out, " (from %s, household %s)", r.FromMunicipality, r.FromHousehold)
			}
			if r.Line > 0 {
				fmt.Fprintf(out, " line %d", r.Line)
			}
			fmt.Fprintln(out)
		}
	}
	fmt.Fprintf(out, "import %s\n", diff.ImportID)
	return nil
}
