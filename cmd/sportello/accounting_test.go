package main

import (
	"testing"
	"time"
)

func TestAccountingConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Accounting.URL != "http://127.0.0.1:8091" || c.Accounting.PayAfter != 2*time.Minute || c.Accounting.Poll != time.Minute {
		t.Fatalf("defaults: %+v", c.Accounting)
	}
	c, err = loadConfig(env(map[string]string{"SPORTELLO_ACCOUNTING_URL": "https://ragioneria.example/api",
		"SPORTELLO_ACCOUNTING_PAY_AFTER": "10s", "SPORTELLO_BILLING_POLL": "6h"}))
	if err != nil || c.Accounting.PayAfter != 10*time.Second || c.Accounting.Poll != 6*time.Hour {
		t.Fatalf("set: %+v %v", c.Accounting, err)
	}
	if _, err := loopbackAddr("SPORTELLO_ACCOUNTING_URL", c.Accounting.URL); err == nil {
		t.Fatal("a remote accounting system would get a local sandbox")
	}
	for _, bad := range []map[string]string{{"SPORTELLO_ACCOUNTING_URL": "ftp://x"}, {"SPORTELLO_BILLING_POLL": "soon"},
		{"SPORTELLO_ACCOUNTING_PAY_AFTER": "-1s"}} {
		if _, err := loadConfig(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
