package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"sportello/internal/district"
	"sportello/internal/seed"
	"sportello/internal/store"
)

const districtUsage = `Usage: sportello district apply [--demo] [--check] [--json] FILE
       sportello district schema

apply: applies a district file (JSON, deploy/districts/*.json; its schema is
printed by ` + "`sportello district schema`" + `): the district's name, logo, colours,
contacts, municipalities with patron saints and office hours, cooperatives
and services with prices by ISEE band, Social Points, shops, companies and
their welfare plans, funds and calls, and accounts, in one transaction; then
the public information pages the district lacks, from its contacts. Applying
a file twice changes nothing; the report lists what was created and updated.
A file with problems writes
nothing: every problem is listed with the JSON pointer of its field, and the
exit status is 1. --demo accepts the accounts' demo passwords (demo data
only); --check checks the file and writes nothing.
`

// runDistrict is `sportello district apply|schema`.
func runDistrict(ctx context.Context, cfg config, out io.Writer, args []string) error {
	if len(args) > 0 && args[0] == "schema" {
		_, err := out.Write(district.Schema())
		return err
	}
	if len(args) == 0 || args[0] != "apply" {
		fmt.Fprint(out, districtUsage)
		return errors.New("district: the subcommands are apply and schema")
	}
	fs := flag.NewFlagSet("district apply", flag.ContinueOnError)
	fs.SetOutput(out)
	demo := fs.Bool("demo", false, "accept the accounts' demo passwords (demo data only)")
	check := fs.Bool("check", false, "check the file, write nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() { fmt.Fprint(out, districtUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("district apply: name one FILE")
	}
	path := fs.Arg(0)
	f, err := district.Load(path)
	if err != nil {
		return refused(out, path, err)
	}
	if *check {
		fmt.Fprintf(out, "%s: district %s is valid (nothing written)\n", path, f.ID)
		return nil
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := district.Apply(ctx, st, f, district.Options{Demo: *demo})
	if err != nil {
		return refused(out, path, err)
	}
	// The public information pages it lacks (privacy notice, accessibility
	// statement, contacts...), from its contacts; supervisors edit them.
	if err := seed.EnsurePages(ctx, st, f); err != nil {
		return fmt.Errorf("district apply: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(out, "%s: district %s: created %d, updated %d, unchanged %d\n", path, rep.District,
		rep.Count("created"), rep.Count("updated"), rep.Unchanged)
	for _, c := range rep.Changes {
		fmt.Fprintf(out, "  %-8s %-13s %s\n", c.Result, c.Kind, c.ID)
	}
	return nil
}

// refused lists the field errors of a refused file on out.
func refused(out io.Writer, path string, err error) error {
	var inv *district.InvalidError
	if !errors.As(err, &inv) {
		return fmt.Errorf("district apply: %w", err)
	}
	for _, e := range inv.Errors {
		fmt.Fprintln(out, e.String())
	}
	return fmt.Errorf("district apply: %s: %d problem(s), nothing applied", path, len(inv.Errors))
}
