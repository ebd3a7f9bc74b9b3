// Package privacy is the citizen's right of access (GDPR art. 15 and 20):
// the download of everything held about them, as JSON (machine-readable,
// the whole record) and as a readable PDF (the main records, in the
// reader's language). Each download is audited. The retention run that
// pseudonymises old closed records is a workflow (workflows/retention.go);
// README "Privacy and record of processing" says what is kept, why and
// for how long.
//
// The JSON API (api/privacy.go) and the personal area's page
// (api/web/privacy.go) only call Export and PDF.
package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"sportello/internal/app"
	"sportello/internal/calendar"
	"sportello/internal/contract"
	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/internal/voucherpdf"
)

// AuditExport is the audit action of a citizen's download of their data.
const AuditExport = "personal_data_export"

// Service does the privacy use cases.
type Service struct{ *app.Core }

// New returns the privacy service on core.
func New(core *app.Core) Service { return Service{core} }

// Export reads everything held about the signed-in citizen user and
// records the download in the audit trail (format "json" or "pdf") before
// anything is shown: a row that cannot be written is Unavailable
// "audit_unavailable", and nothing is shown. Only citizens have a
// personal record here (Forbidden otherwise).
func (s Service) Export(ctx context.Context, user store.UserView, format string) (store.PersonalExport, error) {
	if user.Role != string(contract.RoleCitizen) || user.ID == 0 {
		return store.PersonalExport{}, app.Refuse(app.Forbidden, "forbidden", "only a citizen downloads their own data")
	}
	out, err := s.Store.PersonalData(ctx, user.ID, s.Now())
	if err != nil {
		return out, err
	}
	// Citizens may not write audit rows themselves (row-level security):
	// the row is the system's, naming the citizen by reference (their
	// user id, and their tax code stored as "citizen:<public id>").
	e := store.AuditEntry{District: user.District, Municipality: user.Municipality, ActorID: user.ID,
		ActorUsername: "citizen", ActorRole: string(contract.RoleCitizen), ActingFor: user.TaxCode,
		Action: AuditExport, RequestID: app.RequestID(ctx), Detail: app.AuditDetail(map[string]string{"format": format})}
	if err := s.API.Audit(ctx, store.System, e); err != nil {
		return store.PersonalExport{}, &app.Error{Kind: app.Unavailable, Code: "audit_unavailable",
			Message: "the audit trail cannot be written now, so nothing was shown; try again", Cause: err}
	}
	return out, nil
}

// PDF is the readable copy of the signed-in citizen's data in lang, and
// its file name. The download is audited as Export's.
func (s Service) PDF(ctx context.Context, user store.UserView, lang string) ([]byte, string, error) {
	x, err := s.Export(ctx, user, "pdf")
	if err != nil {
		return nil, "", err
	}
	doc, err := Document(x, lang)
	if err != nil {
		return nil, "", err
	}
	var b bytes.Buffer
	if err := voucherpdf.WritePersonalData(&b, doc); err != nil {
		return nil, "", err
	}
	name := fmt.Sprintf("sportello-%s-%s.pdf", i18n.T(lang, "privacy.pdf.file"), x.GeneratedAt.In(calendar.Rome()).Format("2006-01-02"))
	return b.Bytes(), name, nil
}

// Document lays x out for the PDF in lang: the person, then one section
// per kind of record with one line per record. A section that is not the
// JSON the store writes is an error (nothing is laid out).
func Document(x store.PersonalExport, lang string) (voucherpdf.PersonalData, error) {
	loc := calendar.Rome()
	t := func(id string, args ...any) string { return i18n.T(lang, id, args...) }
	date := func(v *time.Time) string {
		if v == nil || v.IsZero() {
			return "-"
		}
		return i18n.Date(lang, *v, loc)
	}
	str := func(v *string) string {
		if v == nil || *v == "" {
			return "-"
		}
		return *v
	}
	var p struct {
		DisplayName   *string    `json:"display_name"`
		Username      *string    `json:"username"`
		TaxCode       *string    `json:"tax_code"`
		Email         *string    `json:"email"`
		Phone         *string    `json:"phone"`
		PostalAddress *string    `json:"postal_address"`
		Municipality  *string    `json:"municipality_id"`
		ISEE          *int64     `json:"isee_euro"`
		CreatedAt     *time.Time `json:"created_at"`
	}
	if len(x.Person) > 0 {
		if err := json.Unmarshal(x.Person, &p); err != nil {
			return voucherpdf.PersonalData{}, fmt.Errorf("person: %w", err)
		}
	}
	isee := "-"
	if p.ISEE != nil {
		isee = i18n.WholeEuro(lang, *p.ISEE)
	}
	person := []string{
		t("privacy.pdf.name", str(p.DisplayName)),
		t("privacy.pdf.tax_code", str(p.TaxCode)),
		t("privacy.pdf.username", str(p.Username)),
		t("privacy.pdf.email", str(p.Email)),
		t("privacy.pdf.phone", str(p.Phone)),
		t("privacy.pdf.address", str(p.PostalAddress)),
		t("privacy.pdf.municipality", str(p.Municipality)),
		t("privacy.pdf.isee", isee),
		t("privacy.pdf.since", date(p.CreatedAt)),
	}

	type caseRow struct {
		ID        string     `json:"id"`
		FormID    string     `json:"form_id"`
		Status    string     `json:"status"`
		Award     *int64     `json:"award_cents"`
		CreatedAt *time.Time `json:"created_at"`
		UpdatedAt *time.Time `json:"updated_at"`
	}
	caseLines, err := sectionLines(x.Cases, func(c caseRow) string {
		award := "-"
		if c.Award != nil {
			award = i18n.Money(lang, *c.Award)
		}
		return t("privacy.pdf.case_line", c.ID, c.FormID, statusText(lang, "status.", c.Status),
			date(c.CreatedAt), date(c.UpdatedAt), award)
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("cases: %w", err)
	}

	type eventRow struct {
		CaseID string     `json:"case_id"`
		At     *time.Time `json:"at"`
		Type   string     `json:"type"`
	}
	eventLines, err := sectionLines(x.CaseEvents, func(e eventRow) string {
		return fmt.Sprintf("%s  %s  %s", date(e.At), e.CaseID, e.Type)
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("case events: %w", err)
	}

	type voucherRow struct {
		Code      string     `json:"code"`
		CaseID    string     `json:"case_id"`
		Amount    int64      `json:"amount_cents"`
		Available int64      `json:"available_cents"`
		Status    string     `json:"status"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	voucherLines, err := sectionLines(x.Vouchers, func(v voucherRow) string {
		return t("privacy.pdf.voucher_line", v.Code, v.CaseID, i18n.Money(lang, v.Amount),
			i18n.Money(lang, v.Available), v.Status, date(v.ExpiresAt))
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("vouchers: %w", err)
	}

	type redemptionRow struct {
		At       *time.Time `json:"at"`
		Merchant string     `json:"merchant"`
		Amount   int64      `json:"amount_cents"`
	}
	redemptionLines, err := sectionLines(x.Redemptions, func(r redemptionRow) string {
		return fmt.Sprintf("%s  %s  %s", date(r.At), r.Merchant, i18n.Money(lang, r.Amount))
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("redemptions: %w", err)
	}

	type bookingRow struct {
		Number        int64      `json:"number"`
		ServiceName   string     `json:"service_name"`
		Total         int64      `json:"total_cents"`
		Status        string     `json:"status"`
		PaymentStatus string     `json:"payment_status"`
		CreatedAt     *time.Time `json:"created_at"`
	}
	bookingLines, err := sectionLines(x.Bookings, func(b bookingRow) string {
		return t("privacy.pdf.booking_line", b.Number, b.ServiceName, i18n.Money(lang, b.Total),
			b.Status, b.PaymentStatus, date(b.CreatedAt))
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("bookings: %w", err)
	}

	dateTime := func(v *time.Time) string {
		if v == nil || v.IsZero() {
			return "-"
		}
		return i18n.DateTime(lang, *v, loc)
	}
	type appointmentRow struct {
		SocialPoint string     `json:"social_point"`
		StartsAt    *time.Time `json:"starts_at"`
		Status      string     `json:"status"`
		Topic       string     `json:"topic"`
	}
	appointmentLines, err := sectionLines(x.Appointments, func(a appointmentRow) string {
		return strings.TrimSpace(fmt.Sprintf("%s  %s  %s  %s", dateTime(a.StartsAt), a.SocialPoint, a.Status, a.Topic))
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("appointments: %w", err)
	}

	type noteRow struct {
		CreatedAt *time.Time `json:"created_at"`
		Channel   string     `json:"channel"`
		Recipient string     `json:"recipient"`
		Subject   string     `json:"subject"`
	}
	noteLines, err := sectionLines(x.Notifications, func(n noteRow) string {
		return strings.TrimSpace(fmt.Sprintf("%s  %s  %s  %s", date(n.CreatedAt), n.Channel, n.Recipient, n.Subject))
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("notifications: %w", err)
	}

	type auditRow struct {
		At     *time.Time `json:"at"`
		Action string     `json:"action"`
		CaseID *string    `json:"case_id"`
		Role   string     `json:"actor_role"`
	}
	auditLines, err := sectionLines(x.Audit, func(a auditRow) string {
		return strings.TrimSpace(fmt.Sprintf("%s  %s  %s  %s", dateTime(a.At), a.Role, a.Action, str(a.CaseID)))
	})
	if err != nil {
		return voucherpdf.PersonalData{}, fmt.Errorf("audit: %w", err)
	}

	none := t("privacy.pdf.none")
	return voucherpdf.PersonalData{
		Title:    t("privacy.pdf.title"),
		Subtitle: t("privacy.pdf.subtitle", str(p.DisplayName), i18n.DateTime(lang, x.GeneratedAt, loc)),
		Intro:    []string{t("privacy.pdf.intro"), t("privacy.pdf.json_hint")},
		Sections: []voucherpdf.Section{
			{Heading: t("privacy.pdf.section.person"), Lines: person},
			{Heading: t("privacy.pdf.section.cases"), Lines: caseLines, Empty: none},
			{Heading: t("privacy.pdf.section.events"), Lines: eventLines, Empty: none},
			{Heading: t("privacy.pdf.section.vouchers"), Lines: voucherLines, Empty: none},
			{Heading: t("privacy.pdf.section.redemptions"), Lines: redemptionLines, Empty: none},
			{Heading: t("privacy.pdf.section.bookings"), Lines: bookingLines, Empty: none},
			{Heading: t("privacy.pdf.section.appointments"), Lines: appointmentLines, Empty: none},
			{Heading: t("privacy.pdf.section.notifications"), Lines: noteLines, Empty: none},
			{Heading: t("privacy.pdf.section.audit"), Lines: auditLines, Empty: none},
		},
		Footer:   t("privacy.pdf.footer"),
		PageWord: t("privacy.pdf.page"),
		Created:  x.GeneratedAt,
	}, nil
}

// sectionLines decodes raw, a JSON array of rows (empty or null: no rows),
// as rows of T and writes each as one line; the decoding error is
// returned as it is.
func sectionLines[T any](raw json.RawMessage, line func(T) string) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var rows []T
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		lines = append(lines, line(r))
	}
	return lines, nil
}

// statusText is the portal's text of a status code (prefix+code), or the
// code itself when the catalogue has none.
func statusText(lang, prefix, code string) string {
	if i18n.Has(prefix + code) {
		return i18n.T(lang, prefix+code)
	}
	return code
}

// DefaultRetentionDays is the retention period of closed cases unless
// SPORTELLO_RETENTION_DAYS says otherwise: ten years (3,650 days) after
// the last activity of a person's closed cases. Cases move public money:
// the municipality's accounting records and their supporting documents
// are kept ten years (art. 2220 of the Civil Code; the municipalities'
// archive rules keep the files of economic benefits as long), and a
// benefit can be recovered within the ordinary ten-year limitation
// (art. 2946). After it the records are pseudonymised, not deleted: the
// amounts, dates and outcomes stay for the ledger and the statistics.
const DefaultRetentionDays = contract.DefaultRetentionDays

// RetentionDaysOr is days, or DefaultRetentionDays when days is not
// positive.
func RetentionDaysOr(days int) int {
	if days <= 0 {
		return DefaultRetentionDays
	}
	return days
}
