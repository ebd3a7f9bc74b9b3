package activities

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/pseudonym"
	"sportello/internal/store"
)

// Retention holds the activity of the nightly retention run (privacy).
// Pseudonyms is made from SPORTELLO_PSEUDONYM_KEY; without it (nil) the
// run fails, not retried, and changes nothing.
type Retention struct {
	Store      *store.Store
	Pseudonyms *pseudonym.Maker
}

// RetentionInput is one run: its key (the workflow run), the cutoff and
// the period it was computed from, and the most citizens it may take.
type RetentionInput struct {
	RunKey        string    `json:"run_key"`
	Cutoff        time.Time `json:"cutoff"`
	RetentionDays int       `json:"retention_days"`
	Limit         int       `json:"limit,omitempty"`
}

// RetentionResult is the recorded run.
type RetentionResult struct {
	RunID  int64 `json:"run_id"`
	People int   `json:"people"`
	Cases  int   `json:"cases"`
	Kept   int   `json:"kept"`
	More   bool  `json:"more"`
}

// PseudonymiseClosed runs store.Pseudonymise: one transaction that
// pseudonymises the due citizens and records the run and its audit rows.
// A retry with the same run key returns the recorded run.
func (a *Retention) PseudonymiseClosed(ctx context.Context, in RetentionInput) (RetentionResult, error) {
	if a.Pseudonyms == nil {
		return RetentionResult{}, temporal.NewNonRetryableApplicationError(
			"retention: no pseudonym key (SPORTELLO_PSEUDONYM_KEY)", contract.ErrTypeRetentionUnconfigured, nil)
	}
	run, err := a.Store.Pseudonymise(ctx, store.RetentionInput{RunKey: in.RunKey, Cutoff: in.Cutoff,
		RetentionDays: in.RetentionDays, Limit: in.Limit, Pseudonym: a.Pseudonyms.Of})
	if err != nil {
		return RetentionResult{}, err
	}
	activity.GetLogger(ctx).Info("retention run recorded", slog.Int64("run_id", run.ID), slog.Int("people", run.People),
		slog.Int("cases", run.Cases), slog.Int("kept", run.Kept), slog.Bool("more", run.More))
	return RetentionResult{RunID: run.ID, People: run.People, Cases: run.Cases, Kept: run.Kept, More: run.More}, nil
}
