package activities

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"

	"sportello/internal/contract"
	"sportello/internal/store"
)

// Ledger holds the activity of the nightly ledger check.
type Ledger struct {
	Store *store.Store
}

// LedgerVerifyInput tunes one check.
type LedgerVerifyInput struct {
	Grace time.Duration `json:"grace,omitempty"` // 0: contract.DefaultVerifyGrace
}

// LedgerVerifyResult is the check's report.
type LedgerVerifyResult struct {
	Report contract.LedgerReport `json:"report"`
}

// VerifyLedger runs store.VerifyLedger in one repeatable-read transaction
// (one consistent snapshot of the books) and logs every violated invariant
// at error level.
func (a *Ledger) VerifyLedger(ctx context.Context, in LedgerVerifyInput) (LedgerVerifyResult, error) {
	if in.Grace <= 0 {
		in.Grace = contract.DefaultVerifyGrace
	}
	r, err := a.Store.VerifyLedgerSnapshot(ctx, store.VerifyOptions{Grace: in.Grace})
	if err != nil {
		return LedgerVerifyResult{}, err
	}
	log := activity.GetLogger(ctx)
	for _, c := range r.Checks {
		if c.Violations > 0 {
			log.Error("ledger invariant violated", "check", c.Name, "violations", c.Violations, "samples", c.Samples)
		}
	}
	if r.OK() {
		log.Info("ledger check passed", slog.Int64("accounts", r.Accounts), slog.Int64("transfers", r.Transfers))
	}
	return LedgerVerifyResult{Report: r}, nil
}
