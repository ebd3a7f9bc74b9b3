// Versions of the workflows' logic: every change id passed to
// workflow.GetVersion is declared in this file, and nowhere else.
//
// How a change goes in. A change to the logic of a workflow that may have
// executions running (new, removed or reordered activities, timers, markers,
// or a different decision taken from the same history) raises that
// workflow's level by one: add a numbered constant below the last one, raise
// the level constant, keep the previous level in the workflow's entry of
// changes (executions recorded it), read it in the workflow as
// `level >= theNewConstant`, say here what changed and which committed
// history covers it, and record a history on the new level (internal/e2e with SPORTELLO_RECORD_HISTORIES, see
// workflows/replay_test.go). A workflow that has no level yet gets one change
// id named after it. TestHistoriesCoverEveryBranch fails while a branch
// listed in changes has no committed history; TestEveryGetVersionIsListed
// fails when a GetVersion call uses an id, a minimum or a maximum that
// changes does not list.
//
// When an old branch may be deleted. Only when no execution that can take it
// is left anywhere Temporal could replay it: not running, and not closed
// within the namespace's retention period either (a query on a closed
// execution, or a reset, replays its history). So wait at least the longest
// journey an execution started before the change can still have (for a food
// voucher, until the end of the last fund open at the time; for a booking,
// its last session's confirmation) plus the retention period (30 days in
// deploy/README.md), then check with a visibility query in every
// environment that runs the workflow, for example
//
//	temporal workflow count --query "WorkflowType='FoodVoucher' AND StartTime < '<when the change was deployed>'"
//	temporal workflow count --query "TemporalChangeVersion='food-voucher-7'"
//
// (the first for the branch without a marker, the second for an older
// level: the Go SDK upserts TemporalChangeVersion = "<change id>-<version>"
// with every marker). Only when the count is 0: delete the branch, raise the
// minimum of its GetVersion call, drop the version from changes, and delete
// the histories that recorded it, all in one commit, so the replay test never
// runs a history against code that no longer has its branch. The rule is
// also written in docs/workflow-versions.md.

package workflows

import "go.temporal.io/sdk/workflow"

// FoodVoucher's level: one change id whose version says how many of the
// stacked changes below are on. An execution records it once, at the start
// of its run, and takes every change up to it. Executions started before the
// level existed have no marker for it (GetVersion answers DefaultVersion on
// replay, and no command is expected): they read the legacy per-change
// markers below, as they always did.
//
// Histories are named after the level they recorded, as TemporalChangeVersion
// shows it. Level 10: food-voucher-10-approved.json,
// food-voucher-10-info-then-rejected.json (internal/e2e TestFoodVoucherJourney,
// TestRequestInformationThenReject), food-voucher-10-auto-assigned-lost-task.json
// (internal/e2e TestWorkflowTaskLostAfterTheAutomaticAssignment: a workflow
// task failed after AssignTask committed, and its retry). Level 9: food-voucher-9-approved.json,
// food-voucher-9-info-then-rejected.json (internal/e2e TestFoodVoucherJourney,
// TestRequestInformationThenReject).
// Level 8: food-voucher-8-approved.json,
// food-voucher-8-info-then-rejected.json, food-voucher-8-auto-assigned.json
// (the same tests). Level 7: food-voucher-7-approved.json,
// food-voucher-7-info-then-rejected.json, food-voucher-7-auto-assigned.json
// (internal/e2e TestAbsenceHandsTasksOverAndBack). No marker (the legacy markers
// below): every history v1-* to v7-*.
const versionFoodVoucher = "food-voucher"

// The stacked changes of FoodVoucher, in the order they were made. The
// numbers are part of recorded histories: never renumber one.
const (
	// The database writes of update handlers run as local activities (the
	// person waiting is answered without a round trip through the task
	// queue); before, as ordinary activities.
	foodVoucherLocalHandlerWrites workflow.Version = 1
	// Reminders at 75% of a task's time, a deadline for replies (then the
	// case is withdrawn), four eyes above the fund's threshold, and
	// notifications.
	foodVoucherCasework2 workflow.Version = 2
	// Due dates follow the municipality's office calendar.
	foodVoucherOfficeCalendar workflow.Version = 3
	// Notifications (a few short writes and one SMTP exchange) run as local
	// activities, sparing the task queue a round trip each.
	foodVoucherLocalNotify workflow.Version = 4
	// A task opened after the first (a second approval, a review after the
	// citizen's reply) reads the municipality's office calendar again, so
	// that its due date follows the calendar as it is then.
	foodVoucherOfficePerTask workflow.Version = 5
	// When automatic assignment is on for the fund or the team, a new task
	// goes to the least loaded member of its candidate group, exactly as if
	// a supervisor had assigned it.
	foodVoucherAutoAssign workflow.Version = 6
	// Notifications still go out in the background, but each waits for the
	// previous one to the same audience, so a citizen is never told "your
	// voucher is ready" before "your application is approved".
	foodVoucherOrderedNotify workflow.Version = 7
	// The main line's database steps (load, pre-check, open a task, pick
	// an assignee, release a tranche, remind, escalate, withdraw, expire)
	// run as local activities: the workflow task that reaches one runs it
	// and goes on, instead of a round trip through the activity task queue
	// and a new workflow task for each. A journey from submission to its
	// first tranche takes 3 workflow tasks instead of 8.
	foodVoucherLocalMainLine workflow.Version = 8
	// A citizen without e-mail has one open contact task per case: each
	// notification's task supersedes the open ones (closed, their messages
	// carried over) instead of adding to them (NotifyInput.OneContact).
	foodVoucherOneContact workflow.Version = 9
	// A review task's id is derived from the run and the round
	// (reviewTaskID) instead of drawn by a SideEffect. Since
	// local-main-line, OpenTask commits the task's row inside the workflow
	// task that draws the id, before that task completes and records the
	// draw: a worker killed in between (or a workflow task that times out or
	// fails) left the row behind, and the retry drew another id and opened a
	// second task. The first, already in the inbox, refused every claim
	// (task_not_open) and stayed open for ever: issue 14's journeys stuck in
	// review.
	foodVoucherStableTaskID workflow.Version = 10

	// foodVoucherLevel is the level new executions record: the last change.
	foodVoucherLevel = foodVoucherStableTaskID
)

// The legacy per-change ids of FoodVoucher, one per stacked change above,
// each read as an independent boolean (version 1: on). Only executions
// without a food-voucher marker read them. Office-per-task and auto-assign
// were made side by side, so such an execution may have one without the
// other (v6-auto-assigned.json).
const (
	// Level 1. Read lazily, by the first handler that writes. New branch:
	// v2-* onwards; old branch: v1-*.
	versionLocalHandlerWrites = "local-handler-writes"
	// Level 2. New branch: v3-* onwards; old branch: v1-*, v2-*.
	versionCasework2 = "casework-2"
	// Level 3. New branch: v4-* onwards; old branch: v1-* to v3-*.
	versionOfficeCalendar = "office-calendar"
	// Level 4. New branch: v5-* onwards; old branch: v1-* to v4-*.
	versionLocalNotify = "local-notify"
	// Level 5. New branch: v6-office-per-task-*, v7-*; old branch: v1-* to
	// v5-*, v6-auto-assigned.
	versionOfficePerTask = "office-per-task"
	// Level 6. New branch: v6-auto-assigned, v7-*; old branch: v1-* to v5-*,
	// v6-office-per-task-*.
	versionAutoAssign = "auto-assign"
	// Level 7. New branch: v7-ordered-notify-auto-assigned; old branch: v1-*
	// to v6-*.
	versionOrderedNotify = "ordered-notify"
)

// Booking's level, read once at the start of a run.
//
// Level 2: booking/booking-2-split-paid-delivered-confirmed.json,
// booking-2-paid-cancelled-refunded.json,
// booking-2-declined-reoffered-cancelled.json. Level 1:
// booking/booking-1-split-paid-delivered-confirmed.json,
// booking-1-paid-cancelled-refunded.json,
// booking-1-declined-reoffered-cancelled.json. No marker (recorded before
// the level, when the online part came from the start input):
// booking/split-paid-delivered-confirmed.json, paid-cancelled-refunded.json,
// declined-reoffered-cancelled.json.
const versionBooking = "booking"

// The stacked changes of Booking, in the order they were made.
const (
	// The online part to be paid is read from the booking as written (the
	// start input only names it); before, it came from the start input.
	bookingOnlineFromBooking workflow.Version = 1
	// An update that arrives before the booking is loaded (the run's first
	// activity) is judged once it is: its validator checks only what does
	// not depend on the booking's state and its handler waits for the load,
	// then checks the rest; before, it was judged against no sessions (a
	// cancel refused with "every session has been delivered").
	bookingJudgeWhenLoaded workflow.Version = 2

	// bookingLevel is the level new executions record: the last change.
	bookingLevel = bookingJudgeWhenLoaded
)

// CallFunding's level, read once at the start of a run.
//
// Level 1: call-funding/call-funding-1-cancelled.json (api
// TestCallPublicationCancelledWhileUnavailable: withdrawn between two
// attempts), call-funding-1-cancel-too-late.json (api
// TestCallPublicationCancelTooLate: the commitment confirmed by the attempt
// under way, the call published), call-funding-1-journey-cancelled.json
// (api TestCallFundingJourneyCancelledWhileConfirming: the journey
// cancelled from the console while an attempt confirms: published). No
// marker (recorded before the level):
// call-funding/unavailable-then-confirmed.json, refused.json.
const versionCallFunding = "call-funding"

// The stacked changes of CallFunding, in the order they were made.
const (
	// A supervisor withdraws the publication (update
	// UpdateCancelPublication): the commitment's activity is cancelled and
	// waited for (an attempt under way finishes and its answer decides),
	// then the call goes back to draft, withdrawn. The answer of the
	// accounting system is recorded (the call published, or refused) even
	// when the journey is cancelled meanwhile (a disconnected context).
	// Before, a run had no way out but the accounting system's answer; its
	// validator refuses the update.
	callFundingCancellable workflow.Version = 1

	// callFundingLevel is the level new executions record: the last change.
	callFundingLevel = callFundingCancellable
)

// change is one change id and the versions of it that executions may carry.
type change struct {
	workflow string             // the workflow type whose histories record it
	id       string             // the change id passed to workflow.GetVersion
	versions []workflow.Version // oldest first: the GetVersion minimum ... the maximum
}

// changes lists every change id of every workflow. Each version listed is a
// branch still in the code, and a committed history under
// testdata/histories replays it (TestHistoriesCoverEveryBranch).
var changes = []change{
	{"FoodVoucher", versionFoodVoucher, []workflow.Version{workflow.DefaultVersion, foodVoucherOrderedNotify, foodVoucherLocalMainLine, foodVoucherOneContact, foodVoucherLevel}},
	{"FoodVoucher", versionLocalHandlerWrites, []workflow.Version{workflow.DefaultVersion, 1}},
	{"FoodVoucher", versionCasework2, []workflow.Version{workflow.DefaultVersion, 1}},
	{"FoodVoucher", versionOfficeCalendar, []workflow.Version{workflow.DefaultVersion, 1}},
	{"FoodVoucher", versionLocalNotify, []workflow.Version{workflow.DefaultVersion, 1}},
	{"FoodVoucher", versionOfficePerTask, []workflow.Version{workflow.DefaultVersion, 1}},
	{"FoodVoucher", versionAutoAssign, []workflow.Version{workflow.DefaultVersion, 1}},
	{"FoodVoucher", versionOrderedNotify, []workflow.Version{workflow.DefaultVersion, 1}},
	{"Booking", versionBooking, []workflow.Version{workflow.DefaultVersion, bookingOnlineFromBooking, bookingLevel}},
	{"CallFunding", versionCallFunding, []workflow.Version{workflow.DefaultVersion, callFundingLevel}},
}
