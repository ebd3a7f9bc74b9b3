package worker

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"sportello/activities"
	"sportello/internal/app"
	"sportello/internal/app/operations"
	"sportello/internal/contract"
	"sportello/internal/notify"
	"sportello/internal/outbox"
	"sportello/internal/store"
	"sportello/workflows"
)

// OperationsWatchEvery is how often the stuck-journey watch runs.
const OperationsWatchEvery = 15 * time.Minute

// RegisterOperations registers the operations console's workflows and
// activities: the refund resolved by hand and the stuck-journey watch,
// whose activity runs the console's list (internal/app/operations) and
// e-mails through the outbox.
func RegisterOperations(r sdkworker.Registry, c client.Client, st *store.Store, cfg Config) {
	r.RegisterWorkflow(workflows.RefundResolution)
	r.RegisterActivity(&activities.Operations{Store: st, Payments: cfg.Payments})
	r.RegisterWorkflow(workflows.OperationsWatch)
	svc := operations.New(&app.Core{Store: st, API: st.API(), Temporal: c, Log: slog.Default(), Now: time.Now,
		TaskQueue: cfg.TaskQueue}, cfg.Operations)
	mailer := cfg.Mailer
	r.RegisterActivity(&activities.OperationsWatch{Check: func(ctx context.Context) (int, error) {
		return svc.NotifyStuck(ctx, func(ctx context.Context, key string, to store.Recipient, data map[string]any) error {
			entry := store.OutboxEntry{Key: key, Kind: notify.KindStaffStuck, Channel: "email", Recipient: to.Email, Lang: to.Lang}
			if err := outbox.SendOnce(ctx, st, mailer, entry, to.Name, data); err != nil {
				activity.GetLogger(ctx).Warn("stuck e-mail", "key", key, "error", err)
				return err
			}
			return nil
		})
	}})
}

// EnsureOperationsSchedule creates or updates the Temporal Schedule that
// runs the stuck-journey watch every OperationsWatchEvery (runs never
// overlap).
func EnsureOperationsSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	return ensurePlatformSchedule(ctx, c, taskQueue, platformSchedule{
		id: contract.OperationsWatchScheduleID, runID: "operations-watch-run", what: "operations",
		note:     "Sportello stuck-journey watch",
		spec:     client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: OperationsWatchEvery}}},
		workflow: workflows.OperationsWatch, catchUp: time.Hour,
	})
}
