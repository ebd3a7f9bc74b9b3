// Package notify renders the e-mail notifications of Sportello (Italian and
// English templates, embedded) and sends them over SMTP.
//
// Render turns a kind, a language and a data map into a Message with a
// plain-text and an HTML part; a Mailer sends it. Amounts are integer euro
// cents, dates are shown as dd/mm/yyyy in Europe/Rome, and every message
// links to the portal (data["portal_url"] + a path).
//
// Data keys (all required unless marked optional; a missing key is an error):
//
//	every kind: name (greeting), case_number, portal_url;
//	            path (optional, default "/" for citizens, "/inbox" for staff);
//	            to, to_name, key (optional: copied into Message.To, ToName, Key)
//	KindApplicationReceived   benefit, submitted_at, decision_by
//	KindInformationRequested  question, reply_by
//	KindApproved              amount_cents
//	KindRejected              reason
//	KindVoucherReady          amount_cents, expires_at; fund_kind (optional:
//	                          food, the default, or service)
//	KindTrancheReleased       amount_cents, available_cents, expires_at
//	KindVoucherExpiring       available_cents, expires_at
//	KindWithdrawn             (nothing more)
//	KindStaffAssigned         applicant, municipality, due_at
//	KindStaffReminder         due_at
//	KindStaffEscalation       municipality, due_at
//
// Amounts (…_cents) are integers (int, int32, int64, uint…); dates are
// time.Time, *time.Time or strings in RFC 3339 or YYYY-MM-DD form.
package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"maps"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"sportello/internal/calendar"
	"sportello/internal/i18n"
)

// Message is one e-mail to one recipient.
type Message struct {
	To, ToName string
	Subject    string
	Text, HTML string
	Lang       string // "it" or "en"
	// Key is the idempotency key of the notification: the Message-ID is
	// derived from it (<key@sportello.local>), so a retried send carries the
	// same Message-ID and the receiving side can drop the duplicate.
	Key string
}

// Notification kinds.
const (
	KindApplicationReceived  = "application_received"
	KindInformationRequested = "information_requested"
	KindApproved             = "approved"
	KindRejected             = "rejected"
	KindVoucherReady         = "voucher_ready"
	KindTrancheReleased      = "tranche_released"
	KindVoucherExpiring      = "voucher_expiring"
	KindWithdrawn            = "withdrawn"
	KindStaffAssigned        = "staff_assigned"
	KindStaffReminder        = "staff_reminder"
	KindStaffEscalation      = "staff_escalation"
)

// Kinds lists every notification kind.
var Kinds = []string{
	KindApplicationReceived, KindInformationRequested, KindApproved, KindRejected,
	KindVoucherReady, KindTrancheReleased, KindVoucherExpiring, KindWithdrawn,
	KindStaffAssigned, KindStaffReminder, KindStaffEscalation,
}

// Languages lists the template languages; the first is the default.
var Languages = []string{"it", "en"}

func isStaffKind(kind string) bool { return strings.HasPrefix(kind, "staff_") }

//go:embed templates
var templateFS embed.FS

type kindTemplates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// compiled[lang][kind], built once at package initialisation (a template
// error is a programming error caught by the tests).
var compiled = mustCompile()

func mustCompile() map[string]map[string]kindTemplates {
	out := map[string]map[string]kindTemplates{}
	for _, lang := range Languages {
		funcs := templateFuncs(lang)
		textBase := texttemplate.Must(texttemplate.New(lang+".txt").Funcs(funcs).Option("missingkey=error").
			ParseFS(templateFS, "templates/"+lang+".txt", "templates/*."+lang+".txt"))
		htmlBase := htmltemplate.Must(htmltemplate.New(lang+".html").Funcs(funcs).Option("missingkey=error").
			ParseFS(templateFS, "templates/"+lang+".html", "templates/*."+lang+".html"))
		out[lang] = map[string]kindTemplates{}
		for _, kind := range slices.Concat(Kinds, AppointmentKinds, BookingKinds, IncidentKinds, AccountKinds) {
			for _, name := range []string{kind + ".subject", kind + ".text"} {
				if textBase.Lookup(name) == nil {
					panic(fmt.Sprintf("notify: template %s missing in %s.txt", name, lang))
				}
			}
			if htmlBase.Lookup(kind+".html") == nil {
				panic(fmt.Sprintf("notify: template %s.html missing in %s.html", kind, lang))
			}
			t := texttemplate.Must(textBase.Clone())
			texttemplate.Must(t.New("content").Parse(`{{template "` + kind + `.text" .}}`))
			h := htmltemplate.Must(htmlBase.Clone())
			htmltemplate.Must(h.New("content").Parse(`{{template "` + kind + `.html" .}}`))
			out[lang][kind] = kindTemplates{
				subject: textBase.Lookup(kind + ".subject"),
				text:    t.Lookup("layout"),
				html:    h.Lookup("layout"),
			}
		}
	}
	return out
}

// NormalizeLang maps a language tag to a template language: "en", "en-GB",
// "EN_us" → "en"; everything else, empty included, → "it".
func NormalizeLang(lang string) string {
	l := strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if l == "en" {
		return "en"
	}
	return "it"
}

// Render renders the notification kind in lang ("it" when empty or not
// supported). See the package documentation for the data keys of each kind.
func Render(kind, lang string, data map[string]any) (Message, error) {
	lang = NormalizeLang(lang)
	kt, ok := compiled[lang][kind]
	if !ok {
		return Message{}, fmt.Errorf("notify: unknown notification kind %q", kind)
	}
	d := maps.Clone(data)
	if d == nil {
		d = map[string]any{}
	}
	portal, _ := d["portal_url"].(string)
	if strings.TrimSpace(portal) == "" {
		return Message{}, errors.New("notify: data[\"portal_url\"] is missing or empty")
	}
	path, _ := d["path"].(string)
	if path == "" {
		path = "/"
		if isStaffKind(kind) {
			path = "/inbox"
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	d["link"] = strings.TrimRight(portal, "/") + path
	if _, ok := d["fund_kind"]; !ok {
		d["fund_kind"] = "food"
	}
	d["lang"] = lang
	d["staff"] = isStaffKind(kind)

	msg := Message{Lang: lang}
	msg.To, _ = d["to"].(string)
	msg.ToName, _ = d["to_name"].(string)
	msg.Key, _ = d["key"].(string)

	var buf bytes.Buffer
	if err := kt.subject.Execute(&buf, d); err != nil {
		return Message{}, fmt.Errorf("notify: %s/%s subject: %w", kind, lang, err)
	}
	msg.Subject = strings.Join(strings.Fields(buf.String()), " ")
	d["subject"] = msg.Subject
	buf.Reset()
	if err := kt.text.Execute(&buf, d); err != nil {
		return Message{}, fmt.Errorf("notify: %s/%s text: %w", kind, lang, err)
	}
	msg.Text = tidyText(buf.String())
	buf.Reset()
	if err := kt.html.Execute(&buf, d); err != nil {
		return Message{}, fmt.Errorf("notify: %s/%s html: %w", kind, lang, err)
	}
	msg.HTML = buf.String()
	return msg, nil
}

// tidyText trims trailing blanks on every line and collapses runs of empty
// lines left by template actions.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := true // drop leading empty lines
	for _, l := range lines {
		if l != "-- " { // the signature separator keeps its space
			l = strings.TrimRight(l, " \t")
		}
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

func templateFuncs(lang string) map[string]any {
	return map[string]any{
		"euro":     func(v any) (string, error) { return FormatEuro(lang, v) },
		"date":     FormatDate,
		"datetime": FormatDateTime,
		"clock":    formatClock,
		// validUntil is the platform's one wording of an expiry (i18n.ValidUntil).
		"validUntil": func(v any) (string, error) {
			t, err := toTime(v)
			if err != nil {
				return "", err
			}
			return i18n.ValidUntil(lang, t, calendar.Rome()), nil
		},
	}
}

// FormatEuro formats integer cents: "it" → "1.234,50 €", "en" → "€1,234.50".
func FormatEuro(lang string, v any) (string, error) {
	cents, err := toCents(v)
	if err != nil {
		return "", err
	}
	return i18n.Money(lang, cents), nil
}

func toCents(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case uint:
		return int64(n), nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		return int64(n), nil
	case *int64:
		if n != nil {
			return *n, nil
		}
	}
	return 0, fmt.Errorf("amount %v (%T) is not an integer number of cents", v, v)
}

func toTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		if !t.IsZero() {
			return t.In(calendar.Rome()), nil
		}
	case *time.Time:
		if t != nil && !t.IsZero() {
			return t.In(calendar.Rome()), nil
		}
	case string:
		if ts, err := time.Parse(time.RFC3339, t); err == nil {
			return ts.In(calendar.Rome()), nil
		}
		if ts, err := time.ParseInLocation(time.DateOnly, t, calendar.Rome()); err == nil {
			return ts, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %v (%T) is not a time.Time, RFC 3339 or YYYY-MM-DD", v, v)
}

// FormatDate formats a date as dd/mm/yyyy in Europe/Rome.
func FormatDate(v any) (string, error) {
	t, err := toTime(v)
	if err != nil {
		return "", err
	}
	return t.Format("02/01/2006"), nil
}

func formatClock(v any) (string, error) {
	t, err := toTime(v)
	if err != nil {
		return "", err
	}
	return t.Format("15:04"), nil
}

// FormatDateTime formats a time as dd/mm/yyyy hh:mm in Europe/Rome.
func FormatDateTime(v any) (string, error) {
	t, err := toTime(v)
	if err != nil {
		return "", err
	}
	return t.Format("02/01/2006 15:04"), nil
}
