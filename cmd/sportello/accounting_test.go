package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"sportello/internal/accounting"
)

func TestAccountingConfig(t *testing.T) {
	c := mustConfig(t, nil)
	if c.Accounting.URL != "http://127.0.0.1:8091" || c.Accounting.PayAfter != 2*time.Minute || c.Accounting.Poll != time.Minute {
		t.Fatalf("defaults: %+v", c.Accounting)
	}
	c, err := loadConfig(envOf(map[string]string{"SPORTELLO_ACCOUNTING_URL": "https://ragioneria.example/api",
		"SPORTELLO_ACCOUNTING_PAY_AFTER": "10s", "SPORTELLO_BILLING_POLL": "6h"}))
	if err != nil || c.Accounting.PayAfter != 10*time.Second || c.Accounting.Poll != 6*time.Hour {
		t.Fatalf("set: %+v %v", c.Accounting, err)
	}
	if _, err := loopbackAddr("SPORTELLO_ACCOUNTING_URL", c.Accounting.URL); err == nil {
		t.Fatal("a remote accounting system would get a local sandbox")
	}
	for _, bad := range []map[string]string{{"SPORTELLO_ACCOUNTING_URL": "ftp://x"}, {"SPORTELLO_BILLING_POLL": "soon"},
		{"SPORTELLO_ACCOUNTING_PAY_AFTER": "-1s"}} {
		if _, err := loadConfig(envOf(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestDevStartsAccounting: dev's accounting sandbox takes invoices on the
// configured loopback port, shows in the banner and stops cleanly; the
// worker's client reaches it.
func TestDevStartsAccounting(t *testing.T) {
	addr := freeAddr(t)
	c := mustConfig(t, map[string]string{"SPORTELLO_ACCOUNTING_URL": "http://" + addr, "SPORTELLO_ACCOUNTING_PAY_AFTER": "0s"})
	stop := startAccounting(context.Background(), &c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if stop == nil {
		t.Fatal("accounting sandbox not started")
	}
	cl, err := accountingClient(c)
	if err != nil {
		t.Fatal(err)
	}
	sub := accounting.Submission{Reference: "inv-1", Kind: "cooperative", Municipality: "tradate", PayeeID: "baobab", Period: "2026-10",
		TotalCents: 100, Lines: []accounting.Line{{Seq: 1, AmountCents: 100}}, PDF: []byte("%PDF-1.4")}
	rec, err := cl.Submit(context.Background(), "invoice:inv-1", sub)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cl.Invoice(context.Background(), rec.ID); err != nil || got.Status != accounting.StatusPaid {
		t.Fatalf("status %+v %v", got, err)
	}
	var out bytes.Buffer
	printBanner(&out, c, "127.0.0.1:8080", "/tmp/data", time.Second)
	if !bannerHas(out.String(), "Ragioneria (sandbox)", "http://"+addr) {
		t.Fatalf("banner:\n%s", out.String())
	}
	stop()
	if _, err := cl.Invoice(context.Background(), rec.ID); err == nil {
		t.Fatal("still serving after stop")
	}
}
