package notify

// Account notices (issue 10): a recovery of an active account asked at the
// desk, with the code the citizen confirms it with; a password changed.
const (
	// KindAccountRecovery: data code, expires_at, requested_at, username.
	KindAccountRecovery = "account_recovery"
	// KindPasswordChanged: changed_at, username.
	KindPasswordChanged = "password_changed"
	// KindPasswordReset: the link of a password reset asked on the portal
	// (issue 16); data reset_url, expires_at, requested_at, username.
	KindPasswordReset = "password_reset"
)

// AccountKinds lists the account kinds (compiled with Kinds).
var AccountKinds = []string{KindAccountRecovery, KindPasswordChanged, KindPasswordReset}
