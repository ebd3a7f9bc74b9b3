// Package outbox delivers one notification once: the outbox row in the
// store first, then the e-mail through a Mailer. The activities and the
// API's payment callback (which reports incidents) both send this way.
package outbox

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/activity"

	"sportello/internal/store"
)

// Mailer renders a notification template and delivers it over SMTP. The
// worker adapts internal/notify to it.
type Mailer interface {
	// Send renders kind in lang with data and sends it to one person; key
	// makes the message recognisable when a retry sends it again.
	Send(ctx context.Context, to, toName, kind, lang, key string, data map[string]any) (subject string, err error)
	// Permanent reports an error that retrying will not cure (a refused address).
	Permanent(err error) bool
}

// SendOnce delivers one outbox entry by e-mail, once: an entry already sent
// is skipped, a refused address is recorded as failed, any other failure
// stays pending and is returned so that the caller (Temporal, for an
// activity) retries. A nil mailer only records the entry.
func SendOnce(ctx context.Context, st *store.Store, mailer Mailer, entry store.OutboxEntry, name string, data map[string]any) error {
	status, err := st.BeginNotification(ctx, entry)
	if err != nil || status == store.NotificationSent || mailer == nil {
		return err
	}
	_, sendErr := mailer.Send(ctx, entry.Recipient, name, entry.Kind, entry.Lang, entry.Key, data)
	switch {
	case sendErr == nil:
		return st.FinishNotification(ctx, entry.Key, store.NotificationSent, nil)
	case mailer.Permanent(sendErr):
		warn(ctx, "notification refused for good", "key", entry.Key, "kind", entry.Kind, "error", sendErr)
		return st.FinishNotification(ctx, entry.Key, store.NotificationFailed, sendErr)
	}
	if err := st.FinishNotification(ctx, entry.Key, store.NotificationPending, sendErr); err != nil {
		return err
	}
	return sendErr
}

// warn logs through the activity's logger inside an activity, through slog
// elsewhere (the API's payment callback).
func warn(ctx context.Context, msg string, kv ...any) {
	if activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Warn(msg, kv...)
		return
	}
	slog.WarnContext(ctx, msg, kv...)
}
