package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"sportello/internal/store"
)

// runVerify checks the ledger (store.VerifyLedger) and prints the report,
// as text or, with --json, as JSON. A broken invariant is an error (exit
// status 1) after the report.
func runVerify(ctx context.Context, cfg config, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	grace := fs.Duration("grace", store.DefaultVerifyGrace, "how long a closed booking may hold a refund still under way (0: none)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("verify: unexpected arguments %v", fs.Args())
	}
	if *grace < 0 {
		return fmt.Errorf("verify: --grace must not be negative")
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.VerifyLedgerSnapshot(ctx, store.VerifyOptions{Grace: *grace, Samples: 10})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printLedgerReport(out, r)
	}
	if !r.OK() {
		return fmt.Errorf("ledger check failed: %d violations", r.Violations())
	}
	return nil
}

func printLedgerReport(w io.Writer, r store.LedgerReport) {
	fmt.Fprintf(w, "ledger check at %s: %d accounts, %d transfers\n", r.CheckedAt.Format("2006-01-02 15:04:05 MST"), r.Accounts, r.Transfers)
	for _, c := range r.Checks {
		if c.Violations == 0 {
			fmt.Fprintf(w, "  ok    %-36s %s\n", c.Name, c.Description)
			continue
		}
		fmt.Fprintf(w, "  FAIL  %-36s %s: %d\n", c.Name, c.Description, c.Violations)
		for _, s := range c.Samples {
			fmt.Fprintf(w, "          %s\n", s)
		}
	}
	if r.OK() {
		fmt.Fprintln(w, "the books balance")
	}
}
