package api_test

import (
	"net/http"
	"strings"
	"testing"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// The information pages and news over the JSON API (every response
// checked against openapi.json by apicontract): anyone reads what is
// published, in either language and district; only supervisors list
// drafts and write, each save checked (422 at the field), optimistic (409
// on a stale version) and audited; another district's news is out of reach.
func TestInfoPagesAPI(t *testing.T) {
	e := newEnv(t)

	// Public reads, anonymous and as any role.
	for _, user := range []string{"", "cittadino.tradate", "operatore.tradate", "esercente.tradate", "coop.baobab", "supervisore"} {
		r := e.do("GET", "/api/v1/info-pages", user, nil)
		expectStatus(t, r, http.StatusOK)
		var pages struct {
			Items []struct {
				store.InfoPage
				HTML string `json:"html"`
			}
		}
		r.json(t, &pages)
		if len(pages.Items) != 6 || pages.Items[0].Slug != "servizi" || pages.Items[0].District != "tradate" ||
			!strings.Contains(pages.Items[0].HTML, "<h2>") {
			t.Fatalf("%q: pages %+v", user, pages.Items)
		}
		expectStatus(t, e.do("GET", "/api/v1/news?lang=en", user, nil), http.StatusOK)
	}
	r := e.do("GET", "/api/v1/info-pages/accessibilita?district=alta-padovana&lang=en", "", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "Compliance status") || !strings.Contains(string(r.body), "alta-padovana") {
		t.Fatalf("alta-padovana's statement: %s", r.body)
	}
	expectStatus(t, e.do("GET", "/api/v1/info-pages/nessuna", "", nil), http.StatusNotFound)
	expectStatus(t, e.do("GET", "/api/v1/info-pages?lang=de", "", nil), http.StatusUnprocessableEntity)
	expectStatus(t, e.do("GET", "/api/v1/news?lang=fr", "", nil), http.StatusUnprocessableEntity)

	// The editor: supervisors only.
	for _, user := range []string{"cittadino.tradate", "operatore.tradate", "esercente.tradate", "coop.baobab"} {
		expectStatus(t, e.do("GET", "/api/v1/editor/info-pages", user, nil), http.StatusForbidden)
		expectStatus(t, e.do("GET", "/api/v1/editor/news", user, nil), http.StatusForbidden)
		expectStatus(t, e.do("PUT", "/api/v1/editor/info-pages/contatti", user, map[string]any{"lang": "it", "title": "x", "body": "y", "version": 1}), http.StatusForbidden)
		expectStatus(t, e.do("POST", "/api/v1/editor/news", user, map[string]any{"lang": "it", "title": "x", "body": "y"}), http.StatusForbidden)
	}
	expectStatus(t, e.do("GET", "/api/v1/editor/info-pages", "", nil), http.StatusUnauthorized)
	r = e.do("GET", "/api/v1/editor/info-pages", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var editor struct{ Items []store.InfoPage }
	r.json(t, &editor)
	if len(editor.Items) != 12 {
		t.Fatalf("editor pages: %d, want 12", len(editor.Items))
	}

	// Field errors.
	for _, c := range []struct {
		body    map[string]any
		pointer string
	}{
		{map[string]any{"lang": "it", "title": " ", "body": "y", "version": 1}, "/title"},
		{map[string]any{"lang": "it", "title": strings.Repeat("t", 201), "body": "y", "version": 1}, "/title"},
		{map[string]any{"lang": "it", "title": "x", "body": strings.Repeat("b", 20001), "version": 1}, "/body"},
		{map[string]any{"lang": "it", "title": "x", "body": "Ciao <script>alert(1)</script>", "version": 1}, "/body"},
		{map[string]any{"lang": "it", "title": "x", "body": "[clic](javascript:alert(1))", "version": 1}, "/body"},
		{map[string]any{"lang": "de", "title": "x", "body": "y", "version": 1}, "/lang"},
	} {
		r := e.do("PUT", "/api/v1/editor/info-pages/contatti", "supervisore", c.body)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if b := r.errorBody(t); len(b.Fields) == 0 || b.Fields[0].Pointer != c.pointer {
			t.Errorf("%v: %+v, want a problem at %s", c.body, b, c.pointer)
		}
	}
	expectStatus(t, e.do("PUT", "/api/v1/editor/info-pages/ignota", "supervisore", map[string]any{"lang": "it", "title": "x", "body": "y", "version": 1}), http.StatusNotFound)

	// Two supervisors read version 1: the first save wins, the second is 409.
	save := map[string]any{"lang": "it", "title": "Contatti e orari", "body": "## Call center\n\nTelefono 0331 826 850.", "published": true, "version": 1}
	r = e.do("PUT", "/api/v1/editor/info-pages/contatti", "supervisore", save)
	expectStatus(t, r, http.StatusOK)
	var saved store.InfoPage
	r.json(t, &saved)
	if saved.Version != 2 || saved.UpdatedBy != "supervisore" {
		t.Fatalf("saved: %+v", saved)
	}
	r = e.do("PUT", "/api/v1/editor/info-pages/contatti", "supervisore", save)
	expectStatus(t, r, http.StatusConflict)
	if b := r.errorBody(t); b.Code != "stale_version" {
		t.Fatalf("stale save: %+v", b)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'info_page'`); n != 1 {
		t.Errorf("%d info_page audit rows, want 1 (the refused one is recorded apart)", n)
	}
	// Unpublished: gone from the public reads, still in the editor's.
	save["version"], save["published"] = 2, false
	expectStatus(t, e.do("PUT", "/api/v1/editor/info-pages/contatti", "supervisore", save), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/info-pages/contatti", "", nil), http.StatusNotFound)
	// Alta Padovana's supervisor writes their own district's page, never Tradate's.
	r = e.do("PUT", "/api/v1/editor/info-pages/contatti", "supervisore.padova", map[string]any{"lang": "it", "title": "Contatti", "body": "x", "published": true, "version": 1})
	expectStatus(t, r, http.StatusOK)
	r.json(t, &saved)
	if saved.District != "alta-padovana" {
		t.Fatalf("padova's save went to %s", saved.District)
	}

	// News: create a draft, publish it, withdraw it; another district's is 404.
	r = e.do("POST", "/api/v1/editor/news", "supervisore", map[string]any{"lang": "it", "title": "Nuovo orario", "body": "Dal 1° gennaio."})
	expectStatus(t, r, http.StatusCreated)
	var n store.NewsItem
	r.json(t, &n)
	if n.PublishedAt != nil || n.Version != 1 {
		t.Fatalf("draft: %+v", n)
	}
	if strings.Contains(string(e.do("GET", "/api/v1/news", "", nil).body), n.ID) {
		t.Fatal("a draft is public")
	}
	r = e.do("PUT", "/api/v1/editor/news/"+n.ID, "supervisore", map[string]any{"lang": "it", "title": "Nuovo orario", "body": "Dal 1° gennaio.", "published": true, "version": 1})
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(e.do("GET", "/api/v1/news", "", nil).body), n.ID) {
		t.Fatal("the published item is not public")
	}
	expectStatus(t, e.do("PUT", "/api/v1/editor/news/"+n.ID, "supervisore", map[string]any{"lang": "it", "title": "x", "body": "y", "version": 1}), http.StatusConflict)
	expectStatus(t, e.do("PUT", "/api/v1/editor/news/"+n.ID, "supervisore.padova", map[string]any{"lang": "it", "title": "x", "body": "y", "version": 2}), http.StatusNotFound)
	var padova string
	for _, x := range seed.NewsItems() {
		if x.District == "alta-padovana" {
			padova = x.ID
		}
	}
	expectStatus(t, e.do("PUT", "/api/v1/editor/news/"+padova, "supervisore", map[string]any{"lang": "it", "title": "x", "body": "y", "version": 1}), http.StatusNotFound)
	r = e.do("GET", "/api/v1/editor/news", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), padova) || !strings.Contains(string(r.body), n.ID) {
		t.Fatalf("editor news: %s", r.body)
	}
	if c := e.count(`SELECT count(*) FROM audit_log WHERE action = 'news_item'`); c != 2 {
		t.Errorf("%d news_item audit rows, want 2", c)
	}
}
