package worker

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/internal/app"
	"sportello/internal/app/applications"
	"sportello/internal/store"
)

// CaseStarterEvery is how often a worker looks for cases whose workflow's
// start after the commit failed or was lost (applications.RunStarter).
const CaseStarterEvery = 10 * time.Second

// RunCaseStarter starts, until ctx ends, the workflows of the cases the API
// committed but could not start (Temporal down, the API stopped between the
// commit and the start), on taskQueue.
func RunCaseStarter(ctx context.Context, c client.Client, st *store.Store, taskQueue string, logger *slog.Logger) {
	applications.RunStarter(ctx, &app.Core{Store: st, API: st.API(), Temporal: c, Log: logger, Now: time.Now,
		TaskQueue: taskQueue}, CaseStarterEvery)
}
