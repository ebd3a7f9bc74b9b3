package api_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"

	"sportello/api"
)

// The privacy notice is public, in Italian and English, linked from every
// page's footer, and states the configured retention period; a citizen's
// personal area links the downloads of their data, which answer with the
// JSON and the PDF (each audited); another role cannot open them.
func TestWebPrivacyNoticeAndDownloads(t *testing.T) {
	e := newEnvWith(t, func(d *api.Deps) { d.RetentionDays = 730 })
	b := e.browser()
	p := b.get("/privacy")
	expectPage(t, p, http.StatusOK, "Informativa sul trattamento dei dati personali", "2 anni", "Garante")
	if !strings.Contains(b.get("/").body, `href="/privacy"`) {
		t.Error("the footer does not link the privacy notice")
	}
	b.get("/lang/en?next=/")
	p = b.get("/privacy")
	expectPage(t, p, http.StatusOK, "Privacy notice", "2 years", "pseudonym")

	b.login("cittadino.tradate")
	me := b.get("/me")
	expectPage(t, me, http.StatusOK, `href="/me/export.pdf"`, `href="/me/export.json"`, "Download your data (PDF)")
	pdf := b.get("/me/export.pdf")
	if pdf.status != http.StatusOK || pdf.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.body, "%PDF-") ||
		!strings.Contains(pdf.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("PDF download: %d %v", pdf.status, pdf.header)
	}
	raw := b.get("/me/export.json")
	var x map[string]json.RawMessage
	if raw.status != http.StatusOK || json.Unmarshal([]byte(raw.body), &x) != nil || x["person"] == nil ||
		!strings.Contains(string(x["person"]), demoUser(t, "cittadino.tradate").TaxCode) {
		t.Fatalf("JSON download: %d %.300s", raw.status, raw.body)
	}
	var n int
	if err := e.st.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE action = 'personal_data_export'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d download audit rows (%v), want 2", n, err)
	}

	op := e.browser()
	op.login("operatore.tradate")
	if p := op.get("/me/export.pdf"); p.status != http.StatusForbidden {
		t.Errorf("an operator's download: %d, want 403 %s", p.status, html.UnescapeString(p.body[:min(200, len(p.body))]))
	}
}
