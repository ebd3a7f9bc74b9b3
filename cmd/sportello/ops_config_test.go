package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"sportello/internal/app/operations"
)

// The operations console's thresholds come from SPORTELLO_OPS_*: defaults
// when unset, the values given otherwise, in the namespace of
// TEMPORAL_NAMESPACE; a bad value stops every command before it starts,
// with a message naming the setting.
func TestOpsConfig(t *testing.T) {
	c := mustConfig(t, nil)
	want := operations.Settings{Namespace: "default", Attempts: 5, PaymentWait: 24 * time.Hour,
		DeclarationWait: 15 * 24 * time.Hour, ScheduleGrace: 10 * time.Minute, StuckAfter: time.Hour}
	if c.Operations != want {
		t.Fatalf("defaults: %+v, want %+v", c.Operations, want)
	}
	c, err := loadConfig(envOf(map[string]string{"TEMPORAL_NAMESPACE": "sportello", "SPORTELLO_OPS_RETRY_ATTEMPTS": " 3 ",
		"SPORTELLO_OPS_PAYMENT_WAIT": "36h", "SPORTELLO_OPS_DECLARATION_WAIT": "720h", "SPORTELLO_OPS_SCHEDULE_GRACE": "5m",
		"SPORTELLO_OPS_STUCK_AFTER": "90m"}))
	if err != nil {
		t.Fatal(err)
	}
	want = operations.Settings{Namespace: "sportello", Attempts: 3, PaymentWait: 36 * time.Hour,
		DeclarationWait: 720 * time.Hour, ScheduleGrace: 5 * time.Minute, StuckAfter: 90 * time.Minute}
	if c.Operations != want {
		t.Fatalf("set: %+v, want %+v", c.Operations, want)
	}
	for env, bad := range map[string][]string{
		"SPORTELLO_OPS_RETRY_ATTEMPTS":   {"1", "0", "-4", "five", "3.5", "99999999999"},
		"SPORTELLO_OPS_PAYMENT_WAIT":     {"0s", "-1h", "1 day", "24"},
		"SPORTELLO_OPS_DECLARATION_WAIT": {"15d"},
		"SPORTELLO_OPS_SCHEDULE_GRACE":   {"0"},
		"SPORTELLO_OPS_STUCK_AFTER":      {"soon", "-5m"},
	} {
		for _, v := range bad {
			for _, cmd := range []string{"api", "worker", "dev"} {
				err := run(context.Background(), []string{cmd}, envOf(map[string]string{env: v}))
				if err == nil || !strings.HasPrefix(err.Error(), env+": ") || !strings.Contains(err.Error(), `"`+v+`"`) {
					t.Errorf("%s %s=%q: %v", cmd, env, v, err)
				}
			}
		}
	}
}
