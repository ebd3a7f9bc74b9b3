package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// A workflow's shape is the Temporal work its history shows, without the
// work itself: the activities, local activities and timers before its first
// update, then those of each accepted update. A bare workflow of the same
// shape (BareShape) on the same server is the baseline a journey's cost is
// measured against (BenchmarkBookings, BenchmarkPlatform).

// shapeSegment is the work a workflow does before its first update, or
// after one: version markers (each with the search attribute the SDK
// upserts with it), activities, local activities, timers started and
// timers cancelled.
type shapeSegment struct {
	Versions, Activities, Local, Timers, Cancelled int
}

// shapeCounts totals a history: what each round trip with the server was.
type shapeCounts struct {
	Events, WorkflowTasks, Activities, Local, Versions, Timers, Cancelled, Updates int
}

func (c shapeCounts) String() string {
	return fmt.Sprintf("%d workflow tasks, %d activities, %d local activities, %d version markers, %d timers (%d cancelled), %d updates; %d events",
		c.WorkflowTasks, c.Activities, c.Local, c.Versions, c.Timers, c.Cancelled, c.Updates, c.Events)
}

// bareInbox is the baseline's stand-in for a person's inbox (the
// cooperative's, in BenchmarkBookings): the bare workflows whose first
// segment has ended, as the saga's offer row shows its booking there.
var bareInbox sync.Map

// BareOffer is the last no-op activity of a bare workflow's first segment:
// it puts its workflow in bareInbox, as the saga's last activity before the
// cooperative's answer writes the offer.
func BareOffer(ctx context.Context) error {
	bareInbox.Store(activity.GetInfo(ctx).WorkflowExecution.ID, true)
	return nil
}

// BareShape has the shape of a workflow without its work: the first
// segment's version markers, no-op activities (the last one BareOffer,
// which shows the workflow in bareInbox), local activities and timers
// (started for an hour, so they never fire here), then one "step" update per further
// segment, each cancelling that segment's timers and doing its work (after
// the first segment, as a real workflow's answers wait for its start), and
// it ends after the last.
func BareShape(ctx workflow.Context, shape []shapeSegment) error {
	var timers []workflow.CancelFunc
	versions := 0
	run := func(ctx workflow.Context, seg shapeSegment, first bool) error {
		// An update handler gets its own context: the options are set here.
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
		ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		for range seg.Cancelled {
			if len(timers) > 0 {
				timers[0]()
				timers = timers[1:]
			}
		}
		for range seg.Versions {
			versions++
			workflow.GetVersion(ctx, fmt.Sprintf("bare-%d", versions), workflow.DefaultVersion, 1)
		}
		for i := range seg.Activities {
			act := Noop
			if first && i == seg.Activities-1 {
				act = BareOffer
			}
			if err := workflow.ExecuteActivity(ctx, act).Get(ctx, nil); err != nil {
				return err
			}
		}
		for range seg.Local {
			if err := workflow.ExecuteLocalActivity(ctx, Noop).Get(ctx, nil); err != nil {
				return err
			}
		}
		for range seg.Timers {
			tctx, cancel := workflow.WithCancel(ctx)
			workflow.NewTimer(tctx, time.Hour)
			timers = append(timers, cancel)
		}
		return nil
	}
	ready, step := false, 0
	if err := workflow.SetUpdateHandler(ctx, "step", func(ctx workflow.Context) error {
		if err := workflow.Await(ctx, func() bool { return ready }); err != nil {
			return err
		}
		step++
		if step >= len(shape) {
			return fmt.Errorf("no step %d", step)
		}
		return run(ctx, shape[step], false)
	}); err != nil {
		return err
	}
	if err := run(ctx, shape[0], true); err != nil {
		return err
	}
	ready = true
	return workflow.Await(ctx, func() bool { return step >= len(shape)-1 && workflow.AllHandlersFinished(ctx) })
}

// runBareShape runs one bare workflow of shape on queue as a journey would:
// starts it, sends its first update once inbox shows it (a nil inbox: at
// once), the others one after the other, and waits for its end; steps
// (nil: none) keeps the time of each.
func runBareShape(ctx context.Context, tc client.Client, queue, id string, shape []shapeSegment, inbox *screen, steps *stepTimes) error {
	t0 := time.Now()
	r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, BareShape, shape)
	if err != nil {
		return err
	}
	steps.lap("start the workflow", &t0)
	if inbox != nil {
		if err := inbox.wait(ctx, id); err != nil {
			return err
		}
		steps.lap("until in the inbox", &t0)
	}
	for i := range len(shape) - 1 {
		h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: "step",
			WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return err
		}
		steps.lap(fmt.Sprintf("update step %d", i+1), &t0)
	}
	if err := r.Get(ctx, nil); err != nil {
		return err
	}
	steps.lap("until the workflow ends", &t0)
	return nil
}

// historyShape reads the shape of a workflow from its history as it is now
// (work before the first accepted update, then the work after each one)
// and its totals. Local activities' and version markers count (a version
// marker comes with a search-attribute upsert); side-effect markers do not.
func historyShape(ctx context.Context, tc client.Client, workflowID string) ([]shapeSegment, shapeCounts, error) {
	shape := []shapeSegment{{}}
	var n shapeCounts
	it := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, n, err
		}
		n.Events++
		seg := &shape[len(shape)-1]
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			n.WorkflowTasks++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			n.Updates++
			shape = append(shape, shapeSegment{})
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			n.Activities++
			seg.Activities++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			switch ev.GetMarkerRecordedEventAttributes().GetMarkerName() {
			case localActivityMarker:
				n.Local++
				seg.Local++
			case versionMarker:
				n.Versions++
				seg.Versions++
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			n.Timers++
			seg.Timers++
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			n.Cancelled++
			seg.Cancelled++
		}
	}
	return shape, n, nil
}

// localActivityMarker is the marker name the Go SDK records a local
// activity's result under.
const localActivityMarker = "LocalActivity"

// versionMarker is the marker name of a workflow.GetVersion call.
const versionMarker = "Version"

// waitIdle waits until workflowID has nothing in flight (no workflow task,
// no activity), as a journey waiting on a person or a timer is: its history
// then holds everything the journey did so far.
func waitIdle(ctx context.Context, tc client.Client, workflowID string) error {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(pollInterval) {
		d, err := tc.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil {
			return err
		}
		if d.GetPendingWorkflowTask() == nil && len(d.GetPendingActivities()) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("workflow %s still busy after a minute", workflowID)
		}
	}
}

// shapeTotals sums the work of a shape's segments.
func shapeTotals(shape []shapeSegment) (total shapeSegment) {
	for _, s := range shape {
		total.Versions += s.Versions
		total.Activities += s.Activities
		total.Local += s.Local
		total.Timers += s.Timers
		total.Cancelled += s.Cancelled
	}
	return total
}
