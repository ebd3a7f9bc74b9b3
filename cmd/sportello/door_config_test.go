package main

import (
	"slices"
	"testing"
	"time"
)

// The door's settings: trusted proxies, password-hash concurrency, the
// staff idle timeout; bad values stop the start.
func TestDoorConfig(t *testing.T) {
	c := mustConfig(t, nil)
	if c.TrustedProxies != nil || c.HashConcurrency != 0 || c.StaffIdleTimeout != 30*time.Minute {
		t.Fatalf("defaults: %v %d %v", c.TrustedProxies, c.HashConcurrency, c.StaffIdleTimeout)
	}
	c, err := loadConfig(envOf(map[string]string{"SPORTELLO_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
		"SPORTELLO_PASSWORD_HASH_CONCURRENCY": "4", "SPORTELLO_STAFF_IDLE_TIMEOUT": "15m"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.TrustedProxies, []string{"10.0.0.0/8", "192.168.1.7"}) || c.HashConcurrency != 4 ||
		c.StaffIdleTimeout != 15*time.Minute {
		t.Fatalf("set: %v %d %v", c.TrustedProxies, c.HashConcurrency, c.StaffIdleTimeout)
	}
	for _, bad := range []map[string]string{
		{"SPORTELLO_TRUSTED_PROXIES": "proxy.example"},
		{"SPORTELLO_PASSWORD_HASH_CONCURRENCY": "-1"},
		{"SPORTELLO_PASSWORD_HASH_CONCURRENCY": "many"},
		{"SPORTELLO_STAFF_IDLE_TIMEOUT": "0s"},
		{"SPORTELLO_STAFF_IDLE_TIMEOUT": "soon"},
	} {
		if _, err := loadConfig(envOf(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
