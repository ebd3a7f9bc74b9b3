package contract

import "time"

// PasswordResetMail is a request for a password reset link (issue 16),
// queued by the request and delivered by the worker (workflows.PasswordResetMail):
// the request answers alike, by the same path, whether or not the account
// exists. The link's token is made by the activity and never travels.
type PasswordResetMail struct {
	Request     string    `json:"request"` // a random id of the request (its workflow's and e-mail's keys)
	Username    string    `json:"username"`
	RequestedAt time.Time `json:"requested_at"`
}

// PasswordResetWorkflowID is the workflow id of one reset request (its
// random id: the username is not in the id).
func PasswordResetWorkflowID(request string) string { return "password-reset:" + request }
