package activities

import (
	"context"

	"sportello/internal/contract"
)

// AccountMail is the activity of the password reset e-mail. Its work (make
// the link, e-mail it through the outbox) is internal/app/accounts', handed
// in by the worker.
type AccountMail struct {
	Reset func(ctx context.Context, in contract.PasswordResetMail) error
}

// SendPasswordReset e-mails the reset link of in's account, if there is one
// with an e-mail address; nothing otherwise.
func (a *AccountMail) SendPasswordReset(ctx context.Context, in contract.PasswordResetMail) error {
	return a.Reset(ctx, in)
}
