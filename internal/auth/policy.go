package auth

import (
	"strings"
	"unicode/utf8"

	"sportello/internal/i18n"
)

// Password rules for passwords people choose (activation at the desk):
// long enough to resist guessing, short enough to hash, and not the
// username.
const (
	PasswordMinRunes = 10
	PasswordMaxBytes = 1024
)

// PasswordProblem reports what is wrong with a chosen password: its code
// and the message telling it (internal/i18n); ok is true when there is
// nothing.
func PasswordProblem(password, username string) (code string, text i18n.Message, ok bool) {
	switch {
	case utf8.RuneCountInString(password) < PasswordMinRunes:
		return "too_short", i18n.M("auth.err.password_too_short", PasswordMinRunes), false
	case len(password) > PasswordMaxBytes:
		return "too_long", i18n.M("auth.err.password_too_long"), false
	case strings.TrimSpace(password) == "":
		return "blank", i18n.M("auth.err.password_blank"), false
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return "contains_username", i18n.M("auth.err.password_contains_username"), false
	}
	return "", i18n.Message{}, true
}
