package web

import (
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/calendar"
	"sportello/internal/i18n"
)

// Languages of the portal: Italian first (the default), English second.
// Texts, money and dates come from internal/i18n.
const (
	langIT = i18n.IT
	langEN = i18n.EN
)

var languages = i18n.Languages

// langCookie remembers the visitor's language choice.
const langCookie = "lang"

// translate returns message key in lang, formatted with args.
func translate(lang, key string, args ...any) string { return i18n.T(lang, key, args...) }

// hasMessage reports whether key has a text in every language.
func hasMessage(key string) bool { return i18n.Has(key) }

// pageLang is the language of the request: the lang cookie when valid,
// Italian otherwise.
func pageLang(c *gin.Context) string {
	if v, err := c.Cookie(langCookie); err == nil && v == langEN {
		return langEN
	}
	return langIT
}

// formatEuro formats cents as euro (i18n.Money).
func formatEuro(lang string, cents int64) string { return i18n.Money(lang, cents) }

// formatDate formats a date in Rome time: "3 marzo 2026" / "3 March 2026".
func formatDate(lang string, t time.Time) string { return i18n.Date(lang, t, calendar.Rome()) }

// formatDateTime formats an instant in Rome time with hours and minutes.
func formatDateTime(lang string, t time.Time) string { return i18n.DateTime(lang, t, calendar.Rome()) }
