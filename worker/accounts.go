package worker

import (
	"context"
	"log/slog"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"sportello/activities"
	"sportello/internal/app"
	"sportello/internal/app/accounts"
	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/workflows"
)

// RegisterAccounts registers the password reset e-mail (issue 16): the
// workflow the portal's request starts and its activity, which makes the
// link (internal/app/accounts) and e-mails it through the outbox with the
// worker's mailer and portal address.
func RegisterAccounts(r sdkworker.Registry, st *store.Store, cfg Config) {
	svc := accounts.New(&app.Core{Store: st, API: st.API(), Log: slog.Default(), Now: time.Now, TaskQueue: cfg.TaskQueue},
		accounts.Config{PortalURL: cfg.PortalURL})
	r.RegisterWorkflow(workflows.PasswordResetMail)
	r.RegisterActivity(&activities.AccountMail{Reset: func(ctx context.Context, in contract.PasswordResetMail) error {
		return svc.DeliverReset(ctx, in, cfg.Mailer)
	}})
}
