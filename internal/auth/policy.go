package auth

import (
	"strings"
	"unicode/utf8"
)

// Password rules for passwords people choose (activation at the desk):
// long enough to resist guessing, short enough to hash, and not the
// username.
const (
	PasswordMinRunes = 10
	PasswordMaxBytes = 1024
)

// PasswordProblem reports what is wrong with a chosen password, in English
// and Italian; ok is true when there is nothing.
func PasswordProblem(password, username string) (code, en, it string, ok bool) {
	switch {
	case utf8.RuneCountInString(password) < PasswordMinRunes:
		return "too_short", "the password must be at least 10 characters long",
			"la password deve avere almeno 10 caratteri", false
	case len(password) > PasswordMaxBytes:
		return "too_long", "the password is too long", "la password è troppo lunga", false
	case strings.TrimSpace(password) == "":
		return "blank", "the password must not be only spaces", "la password non può essere fatta solo di spazi", false
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return "contains_username", "the password must not contain the username",
			"la password non può contenere il nome utente", false
	}
	return "", "", "", true
}
