package main

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"sportello/internal/app/operations"
)

// The operations console's thresholds (issue 13, part 2), read with the
// rest in loadConfig: when a journey is listed as needing a human, and
// when the watch e-mails the supervisors. Both api (the console's list)
// and worker (the watch) read them; unset, each has the default of
// operations.Settings.
var opsDurations = []struct {
	env  string
	def  time.Duration
	dest func(*operations.Settings) *time.Duration
	what string
}{
	{"SPORTELLO_OPS_PAYMENT_WAIT", 24 * time.Hour, func(s *operations.Settings) *time.Duration { return &s.PaymentWait },
		"a booking waiting for its payment longer is listed"},
	{"SPORTELLO_OPS_DECLARATION_WAIT", 15 * 24 * time.Hour, func(s *operations.Settings) *time.Duration { return &s.DeclarationWait },
		"an invoice waiting for its declaration longer is listed"},
	{"SPORTELLO_OPS_SCHEDULE_GRACE", 10 * time.Minute, func(s *operations.Settings) *time.Duration { return &s.ScheduleGrace },
		"a schedule this late is listed"},
	{"SPORTELLO_OPS_STUCK_AFTER", time.Hour, func(s *operations.Settings) *time.Duration { return &s.StuckAfter },
		"the watch e-mails about what has been listed longer"},
}

// defaultOpsAttempts is SPORTELLO_OPS_RETRY_ATTEMPTS's default.
const defaultOpsAttempts = 5

// loadOpsConfig reads the thresholds: SPORTELLO_OPS_RETRY_ATTEMPTS (an
// activity is listed from this attempt on, at least 2: the first attempt
// is no retry) and the durations of opsDurations (Go durations, e.g. 90m,
// 36h, positive). A value that is not one is an error naming the setting.
func loadOpsConfig(getenv func(string) string) (operations.Settings, error) {
	s := operations.Settings{Attempts: defaultOpsAttempts}
	if v := getenv("SPORTELLO_OPS_RETRY_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > math.MaxInt32 {
			return s, fmt.Errorf("SPORTELLO_OPS_RETRY_ATTEMPTS: %q is not a number of attempts of at least 2", v)
		}
		s.Attempts = int32(n)
	}
	for _, d := range opsDurations {
		*d.dest(&s) = d.def
		v := getenv(d.env)
		if v == "" {
			continue
		}
		x, err := time.ParseDuration(v)
		if err != nil || x <= 0 {
			return s, fmt.Errorf("%s: %q is not a positive duration such as 90m or 36h (%s)", d.env, v, d.what)
		}
		*d.dest(&s) = x
	}
	return s, nil
}
