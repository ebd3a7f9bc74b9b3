package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"sportello/workflows"
)

// platformSchedule is a schedule of the whole platform that runs one
// workflow; a run still going skips the next one.
type platformSchedule struct {
	id       string // the schedule's id (internal/contract)
	runID    string // the id of each run's workflow
	what     string // names the schedule in errors
	note     string
	spec     client.ScheduleSpec
	workflow any
	args     []any
	catchUp  time.Duration // how late a missed run still starts
}

// ensurePlatformSchedule creates or updates p (see ensureSchedule) with its
// runs on taskQueue (workflows.TaskQueue when empty).
func ensurePlatformSchedule(ctx context.Context, c client.Client, taskQueue string, p platformSchedule) error {
	if taskQueue == "" {
		taskQueue = workflows.TaskQueue
	}
	err := ensureSchedule(ctx, c.ScheduleClient(), client.ScheduleOptions{
		ID:   p.id,
		Spec: p.spec,
		Action: &client.ScheduleWorkflowAction{
			ID:        p.runID,
			Workflow:  p.workflow,
			Args:      p.args,
			TaskQueue: taskQueue,
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: p.catchUp,
		Note:          p.note,
	})
	if err != nil {
		return fmt.Errorf("%s schedule: %w", p.what, err)
	}
	return nil
}

// FingerprintMemo is the memo entry of a schedule's workflow action that
// holds the fingerprint of the spec and action ensureSchedule last set.
const FingerprintMemo = "sportello_schedule_fingerprint"

// ensureSchedule creates the schedule of opts, or, when it exists already
// (another worker made it, or an earlier start), sets its spec and action
// to the current ones: running it again changes nothing else. A schedule
// whose action carries the fingerprint of the same spec and action is left
// alone: a worker's start sends no update for the schedules it did not
// change (one Describe each, no Update; there are hundreds of billing
// schedules).
func ensureSchedule(ctx context.Context, sc client.ScheduleClient, opts client.ScheduleOptions) error {
	if a, ok := opts.Action.(*client.ScheduleWorkflowAction); ok {
		fp, err := scheduleFingerprint(opts.Spec, a)
		if err != nil {
			return err
		}
		marked := *a
		marked.Memo = map[string]any{FingerprintMemo: fp}
		for k, v := range a.Memo {
			marked.Memo[k] = v
		}
		opts.Action = &marked
	}
	_, err := sc.Create(ctx, opts)
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	spec, action := opts.Spec, opts.Action
	return sc.GetHandle(ctx, opts.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			if want := fingerprintOf(action); want != "" && fingerprintOf(s.Action) == want {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			s.Spec, s.Action = &spec, action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
}

// scheduleFingerprint is a digest of what ensureSchedule sets: the spec and
// the workflow action (its workflow type, arguments, ids, task queue,
// timeouts and other memo entries).
func scheduleFingerprint(spec client.ScheduleSpec, a *client.ScheduleWorkflowAction) (string, error) {
	workflow := a.Workflow
	if _, ok := workflow.(string); !ok && workflow != nil {
		workflow = runtime.FuncForPC(reflect.ValueOf(workflow).Pointer()).Name()
	}
	raw, err := json.Marshal(struct {
		Spec                                  client.ScheduleSpec
		ID, TaskQueue                         string
		Workflow                              any
		Args                                  []any
		Memo                                  map[string]any
		Execution, Run, Task                  string
		RetryPolicy                           *temporal.RetryPolicy
		StaticSummary, StaticDetails, Version string
	}{spec, a.ID, a.TaskQueue, workflow, a.Args, a.Memo,
		a.WorkflowExecutionTimeout.String(), a.WorkflowRunTimeout.String(), a.WorkflowTaskTimeout.String(),
		a.RetryPolicy, a.StaticSummary, a.StaticDetails, "1"})
	if err != nil {
		return "", fmt.Errorf("schedule fingerprint: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// fingerprintOf reads the fingerprint of a schedule's action: as ensureSchedule
// sets it (a string) or as Describe returns it (a payload); "" when none.
func fingerprintOf(action client.ScheduleAction) string {
	a, ok := action.(*client.ScheduleWorkflowAction)
	if !ok {
		return ""
	}
	switch v := a.Memo[FingerprintMemo].(type) {
	case string:
		return v
	case *commonpb.Payload:
		var s string
		if converter.GetDefaultDataConverter().FromPayload(v, &s) == nil {
			return s
		}
	}
	return ""
}
