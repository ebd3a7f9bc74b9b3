package workflows

import (
	"log/slog"
	"os"
	"time"

	tlog "go.temporal.io/sdk/log"

	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
)

// newTestEnv is the suite's test environment with its two watchdogs sized
// for a loaded machine. Both only catch hangs: the deadlock detector fails a
// workflow task whose code runs longer than its timeout without yielding
// (default 1 s), and the test timeout fails a run that waits that long in
// real time with nothing to do (default 3 s). Under the race detector on a
// busy two-core machine a healthy workflow task can take longer than the
// defaults, and the suite reported a deadlock that was none. A real hang
// still fails, after a minute.
//
// The suite logs at level and above to standard error: warnings or
// errors only.
func newTestEnv(s *testsuite.WorkflowTestSuite, level slog.Level) *testsuite.TestWorkflowEnvironment {
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(sdkworker.Options{DeadlockDetectionTimeout: time.Minute})
	env.SetTestTimeout(time.Minute)
	return env
}

// The levels the suites log at.
const (
	warnings   = slog.LevelWarn
	errorsOnly = slog.LevelError
)
