package paysandbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"sportello/internal/browsertest"
	"sportello/internal/payments"
	"sportello/internal/paysandbox"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

// TestHostedPageInBrowser: a payer on a phone opens the hosted page in
// Chromium (axe clean in Italian and English, no sideways scrolling), pays,
// lands on the merchant's return URL, and the merchant gets the signed
// callback.
func TestHostedPageInBrowser(t *testing.T) {
	const secret = "page-secret"
	sb, err := paysandbox.New(paysandbox.Options{Secret: secret, CallbackBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	provider := httptest.NewServer(sb)
	defer sb.Close()
	defer provider.Close()

	var mu sync.Mutex
	events := map[string]payments.Event{}
	got := make(chan struct{}, 10)
	mux := http.NewServeMux()
	mux.Handle("POST /callback", payments.CallbackHandler(secret, 0, nil, func(_ context.Context, ev payments.Event) error {
		mu.Lock()
		events[ev.ID] = ev
		mu.Unlock()
		got <- struct{}{}
		return nil
	}))
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="it"><head><title>Grazie</title></head><body><main><h1>Ordine ` +
			r.URL.Query().Get("status") + `</h1></main></body></html>`))
	})
	merchant := httptest.NewServer(mux)
	defer merchant.Close()

	client, err := payments.New(payments.Config{BaseURL: provider.URL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := client.CreateIntent(context.Background(), "browser-1", payments.IntentRequest{
		AmountCents: 123456, Description: "Assistenza domiciliare SilverCare", MerchantReference: "ordine-42",
		ReturnURL: merchant.URL + "/done", CallbackURL: merchant.URL + "/callback"})
	if err != nil {
		t.Fatal(err)
	}

	page := browsertest.NewPage(t, provider.URL, "payer")
	page.Phone()
	page.Navigate(p.CheckoutURL + "?lang=it") // the browser asks for English
	if txt := page.MainText(); !strings.Contains(txt, "1.234,56 €") || !strings.Contains(txt, "ordine-42") {
		t.Fatalf("Italian page shows:\n%s", txt)
	}
	page.Axe()
	var fits bool
	page.Eval(`document.documentElement.scrollWidth <= window.innerWidth`, &fits)
	if !fits {
		t.Error("the page scrolls sideways on a phone")
	}
	page.Follow("English")
	if txt := page.MainText(); !strings.Contains(txt, "€1,234.56") || !strings.Contains(txt, "Pay €1,234.56") {
		t.Fatalf("English page shows:\n%s", txt)
	}
	page.Axe()
	page.Submit("Pay €1,234.56")
	if !strings.HasPrefix(page.URL(), merchant.URL+"/done?") || !strings.Contains(page.MainText(), "Ordine captured") {
		t.Fatalf("after paying: %s\n%s", page.URL(), page.MainText())
	}

	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no callback")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ev := range events {
		if ev.Type != payments.EventCaptured || ev.Payment.ID != p.ID || ev.Payment.CapturedCents != 123456 {
			t.Fatalf("event %+v", ev)
		}
	}
}
