package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/internal/store"
)

// SchedulesLock is the advisory lock (store.WithSessionLock) under which a
// worker puts the schedules in place.
const SchedulesLock = "sportello:schedules"

// SchedulesConfig is what the schedules are made of.
type SchedulesConfig struct {
	TaskQueue     string
	BillingPoll   time.Duration // BillingInput.PollInterval
	RetentionDays int
}

// EnsureSchedules puts every schedule of the worker in place (billing,
// ledger check, retention, operations watch, company statements), one worker at a time: the
// workers of a rollout or a scale-up start together, and each one's
// hundreds of creates and updates at the same moment on the same schedules
// made Temporal's calls time out (TestEnsureSchedulesFromReplicasAtOnce).
// A worker waits for the one before it, then updates in place what that
// one made. It returns the number of billing schedules and every error
// (one schedule's failure does not stop the others).
func EnsureSchedules(ctx context.Context, c client.Client, st *store.Store, cfg SchedulesConfig) (int, error) {
	var n int
	var errs []error
	err := st.WithSessionLock(ctx, SchedulesLock, func() error {
		var err error
		if n, err = EnsureBillingSchedules(ctx, c, st, cfg.TaskQueue, cfg.BillingPoll); err != nil {
			errs = append(errs, fmt.Errorf("billing schedules: %w", err))
		}
		if err := EnsureLedgerSchedule(ctx, c, cfg.TaskQueue); err != nil {
			errs = append(errs, err)
		}
		if err := EnsureRetentionSchedule(ctx, c, cfg.TaskQueue, cfg.RetentionDays); err != nil {
			errs = append(errs, err)
		}
		if err := EnsureOperationsSchedule(ctx, c, cfg.TaskQueue); err != nil {
			errs = append(errs, err)
		}
		if err := EnsureCompanyStatementsSchedule(ctx, c, cfg.TaskQueue); err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}
