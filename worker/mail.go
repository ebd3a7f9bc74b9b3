package worker

import (
	"context"
	"errors"

	"sportello/activities"
	"sportello/internal/notify"
)

// mailer adapts internal/notify to what the Notify activity needs.
type mailer struct{ m *notify.Mailer }

// NewMailer returns the activities' mailer for an SMTP configuration.
func NewMailer(cfg notify.Config) (activities.Mailer, error) {
	m, err := notify.NewMailer(cfg)
	if err != nil {
		return nil, err
	}
	return mailer{m: m}, nil
}

func (a mailer) Send(ctx context.Context, to, toName, kind, lang, key string, data map[string]any) (string, error) {
	msg, err := notify.Render(kind, lang, notify.IntegerCents(data))
	if err != nil {
		// A template that cannot render will not render on a retry either.
		return "", errors.Join(notify.ErrPermanent, err)
	}
	msg.To, msg.ToName, msg.Key = to, toName, key
	return msg.Subject, a.m.Send(ctx, msg)
}

func (a mailer) Permanent(err error) bool { return errors.Is(err, notify.ErrPermanent) }
