package e2e

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/worker"
	"sportello/workflows"
)

// TestWorkflowTaskLostAfterTheTaskOpened is issue 14's journeys stuck in
// review (the fault and cluster tests): a worker that dies after a
// workflow task has run the local activity OpenTask (its row is committed,
// the inbox shows it) but before the task completes leaves no trace of it
// in the history. The next worker runs the workflow task again from the
// start; the review task it opens must be the one already in the inbox.
// When its id came from a SideEffect recorded only with that lost workflow
// task, the retry drew a new id: the case had two open review tasks, the
// first (the one a social worker had already seen) refused every claim
// with 409 task_not_open, for ever. Here the worker "dies" by a panic of
// the workflow code right after OpenTask returns, once: the workflow task
// fails, as a SIGKILL makes it time out, and is retried from history.
func TestWorkflowTaskLostAfterTheTaskOpened(t *testing.T) {
	s := newStack(t)
	crash := s.crashingWorker(t, "OpenTask")

	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 1, 0, 5000))
	op := s.login("operatore.tradate")

	state := s.openTaskState(t, created.ID)
	if !crash.crashed.Load() {
		t.Fatal("the workflow task that opened the review task did not fail: the test tested nothing")
	}
	if n := s.count(`SELECT count(*) FROM tasks WHERE case_id = $1`, created.ID); n != 1 {
		t.Errorf("%d tasks for the case after the lost workflow task, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM tasks WHERE case_id = $1 AND id::text = $2`, created.ID, state.Task.ID); n != 1 {
		t.Errorf("the workflow waits on task %s, which the inbox does not show", state.Task.ID)
	}

	// The task the operator finds in the inbox is claimed and decided.
	tk := op.taskFor(created.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, nil)
	eventually(t, "the case approved", func() bool { return citizen.applicationStatus(created.ID) == "approved" })
}

// TestWorkflowTaskLostAfterTheAutomaticAssignment: with automatic
// assignment on, the workflow task that opens the review task also picks
// the least loaded colleague (PickAssignee) and gives them the task
// (AssignTask: the inbox shows it claimed, the timeline "assigned to ...,
// automatic assignment"). A worker dying after AssignTask committed, before
// the workflow task completed, makes the next worker pick again. The second
// pick must be the first: it used to find the task no longer open and pick
// nobody, so the workflow kept the task unclaimed while the inbox and the
// timeline named the assignee, whose decision was then refused (409 "claim
// the task before deciding"); picking anew by load could as well have named
// someone else than the timeline's first event.
func TestWorkflowTaskLostAfterTheAutomaticAssignment(t *testing.T) {
	s := newStack(t)
	if _, err := s.st.Pool.Exec(context.Background(), `UPDATE teams SET auto_assign = true WHERE id = 'istruttoria-buoni-spesa-tradate'`); err != nil {
		t.Fatal(err)
	}
	crash := s.crashingWorker(t, "AssignTask")

	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 1, 0, 5000))
	state := s.openTaskState(t, created.ID)
	if !crash.crashed.Load() {
		t.Fatal("the workflow task that assigned the review task did not fail: the test tested nothing")
	}

	// The inbox, the timeline and the workflow name the same person, once.
	var inbox string
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT coalesce(u.username, '') FROM tasks t
		LEFT JOIN users u ON u.id = t.claimed_by WHERE t.id::text = $1`, state.Task.ID).Scan(&inbox); err != nil {
		t.Fatal(err)
	}
	if inbox == "" {
		t.Fatal("the task is not claimed in the inbox: the automatic assignment did not run")
	}
	if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'task_assigned'
		AND detail->>'assignee' = $2 AND detail->>'reason' = 'automatic assignment: least loaded'`, created.ID, inbox); n != 1 {
		t.Errorf("%d automatic assignments to %s on the timeline, want 1", n, inbox)
	}
	if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'task_assigned'`, created.ID); n != 1 {
		t.Errorf("%d assignments on the timeline, want 1", n)
	}
	if state.Task.ClaimedBy != inbox {
		t.Fatalf("the workflow has the task claimed by %q, the inbox and the timeline by %q", state.Task.ClaimedBy, inbox)
	}

	// The assignee decides without claiming it first.
	assignee := s.login(inbox)
	assignee.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+state.Task.ID+"/decision", map[string]any{"outcome": "approve"}, nil)
	eventually(t, "the case approved", func() bool { return citizen.applicationStatus(created.ID) == "approved" })
	// Its history (the failed workflow task, then the retry that picked
	// the same assignee) replays in workflows' TestReplayCommittedHistories.
	s.recordHistoryAs(t, workflows.CaseWorkflowID(created.ID), "food-voucher-10-auto-assigned-lost-task")
}

// crashingWorker replaces the stack's worker by one that fails the first
// workflow task running the local activity named activity, right after it
// committed (crashAfterLocalActivity).
func (s *stack) crashingWorker(t *testing.T, activity string) *crashAfterLocalActivity {
	t.Helper()
	s.stopWorker()
	crash := &crashAfterLocalActivity{activity: activity}
	opts := worker.Options()
	opts.Interceptors = []interceptor.WorkerInterceptor{crash}
	w := sdkworker.New(s.tc, s.taskQueue, opts)
	worker.Register(w, &activities.Cases{Store: s.st, PortalURL: "http://portal.test"}, &activities.Delegations{Store: s.st})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	s.worker = w
	return crash
}

// openTaskState is the case workflow's own view of its open task, once a
// workflow task that opened one has completed.
func (s *stack) openTaskState(t *testing.T, caseID string) workflows.StateResult {
	t.Helper()
	var state workflows.StateResult
	eventually(t, "the case workflow's open task", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := s.tc.QueryWorkflow(ctx, workflows.CaseWorkflowID(caseID), "", workflows.QueryState)
		if err != nil {
			return false
		}
		return v.Get(&state) == nil && state.Task != nil
	})
	return state
}

// crashAfterLocalActivity fails the first workflow task that runs the local
// activity named activity, right after the activity returned (its effects
// committed), by a panic of the workflow code: the task's commands and
// markers are lost, as when the worker process is killed at that moment.
type crashAfterLocalActivity struct {
	interceptor.WorkerInterceptorBase
	activity string
	crashed  atomic.Bool
}

func (c *crashAfterLocalActivity) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &crashInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type crashInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *crashAfterLocalActivity
}

func (i *crashInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&crashOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, c: i.c})
}

type crashOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	c *crashAfterLocalActivity
}

func (o *crashOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	f := o.Next.ExecuteLocalActivity(ctx, activityType, args...)
	if activityType != o.c.activity || o.c.crashed.Load() || workflow.IsReplaying(ctx) {
		return f
	}
	return crashingFuture{Future: f, c: o.c}
}

type crashingFuture struct {
	workflow.Future
	c *crashAfterLocalActivity
}

func (f crashingFuture) Get(ctx workflow.Context, valuePtr any) error {
	err := f.Future.Get(ctx, valuePtr)
	if err == nil && f.c.crashed.CompareAndSwap(false, true) {
		panic("simulated worker death after " + f.c.activity + " committed")
	}
	return err
}
