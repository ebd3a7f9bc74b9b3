// Package operations is the operations console (issue 13, part 2): the
// journeys that need a human, read from Temporal (visibility, pending
// activities and workflow tasks, schedules) and from the database (bookings
// waiting for payment, failed refunds, billing runs held), and what a
// supervisor may do about them: retry an activity now, cancel a journey
// with a reason, resolve a failed refund by hand with a second supervisor's
// approval. Every action is audited. The watch (NotifyStuck, run by the
// worker's schedule) e-mails the supervisors once per item stuck longer
// than a threshold.
//
// Only supervisors use the console: a Temporal item carries no
// municipality until it is matched with its record, and its actions are
// the district's. Items of cases, bookings and billing runs are shown to
// the supervisors of their district (row-level security decides); other
// journeys (the ledger check, the watch itself) belong to the whole
// installation and are shown to every supervisor.
package operations

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/workflows"
)

// Item kinds read from Temporal (the database's are store.Ops*).
const (
	KindActivityRetrying = "activity_retrying"
	KindWorkflowTask     = "workflow_task_failing"
	KindScheduleMissed   = "schedule_missed"
)

// Audit actions.
const (
	AuditRetry          = "ops_retry_activity"
	AuditCancel         = "ops_cancel_journey"
	AuditRefundRequest  = "ops_refund_resolution_requested"
	AuditRefundApproved = "ops_refund_resolution_approved"
)

// Settings are the console's thresholds; zero values take the defaults.
type Settings struct {
	Namespace       string        // Temporal namespace ("default")
	Attempts        int32         // an activity is listed from this attempt on (5)
	PaymentWait     time.Duration // a booking awaiting payment longer is listed (24h)
	DeclarationWait time.Duration // an invoice awaiting its declaration longer is listed (15 days)
	ScheduleGrace   time.Duration // a schedule whose next action is this late is listed (10m)
	StuckAfter      time.Duration // the watch e-mails about items older than this (1h)
	PageSize        int           // running journeys read per page (100)
	Limit           int           // items of each database kind (200)
	PortalURL       string        // for the links in the e-mails
}

func (s Settings) withDefaults() Settings {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	if s.Attempts <= 0 {
		s.Attempts = 5
	}
	if s.PaymentWait <= 0 {
		s.PaymentWait = 24 * time.Hour
	}
	if s.DeclarationWait <= 0 {
		s.DeclarationWait = 15 * 24 * time.Hour
	}
	if s.ScheduleGrace <= 0 {
		s.ScheduleGrace = 10 * time.Minute
	}
	if s.StuckAfter <= 0 {
		s.StuckAfter = time.Hour
	}
	if s.PageSize <= 0 || s.PageSize > 500 {
		s.PageSize = 100
	}
	if s.Limit <= 0 {
		s.Limit = 200
	}
	return s
}

// Service does the console's use cases.
type Service struct {
	*app.Core
	cfg Settings
}

// New returns the operations service on core.
func New(core *app.Core, cfg Settings) Service { return Service{Core: core, cfg: cfg.withDefaults()} }

// Item is one journey that needs a human.
type Item struct {
	Key          string     `json:"key"` // stable: the same stuck thing keeps its key (the watch mails once per key)
	Kind         string     `json:"kind"`
	Municipality string     `json:"municipality,omitempty"`
	WorkflowID   string     `json:"workflow_id,omitempty"`
	RunID        string     `json:"run_id,omitempty"`
	WorkflowType string     `json:"workflow_type,omitempty"`
	ActivityID   string     `json:"activity_id,omitempty"`
	ActivityType string     `json:"activity_type,omitempty"`
	Attempt      int32      `json:"attempt,omitempty"`
	LastFailure  string     `json:"last_failure,omitempty"`
	NextAttempt  *time.Time `json:"next_attempt,omitempty"`
	ScheduleID   string     `json:"schedule_id,omitempty"`
	RecordID     string     `json:"record_id,omitempty"` // the booking's, incident's or invoice's id
	Number       int64      `json:"number,omitempty"`
	AmountCents  int64      `json:"amount_cents,omitempty"`
	Details      string     `json:"details,omitempty"`
	Since        time.Time  `json:"since"`
	// Pending is the open request to resolve this refund by hand, if any.
	Pending *Request `json:"pending_resolution,omitempty"`
	// district is the owner ("" for the whole installation).
	district string
}

// Request is a refund resolution waiting for its second supervisor.
type Request struct {
	RequestedBy string `json:"requested_by"`
	Reason      string `json:"reason"`
}

// Report is one page of the console.
type Report struct {
	Items []Item `json:"items"`
	// NextPage reads the next page of running journeys ("" at the end).
	NextPage string `json:"next_page,omitempty"`
}

var errSupervisors = app.Refuse(app.Forbidden, "forbidden", "only supervisors use the operations console")

func supervisor(u store.UserView) error {
	if u.Role != string(contract.RoleSupervisor) {
		return errSupervisors
	}
	return nil
}

// List is one page of the console for user: the database items and the
// schedules on every page, and the stuck journeys among one page of running
// executions (page is the previous report's NextPage, "" for the first).
func (s Service) List(ctx context.Context, u store.UserView, page string) (Report, error) {
	if err := supervisor(u); err != nil {
		return Report{}, err
	}
	return s.list(ctx, u.Scope(), page, page == "")
}

func (s Service) list(ctx context.Context, scope store.Scope, page string, withDB bool) (Report, error) {
	now := s.Now()
	rep := Report{Items: []Item{}}
	token, err := decodePage(page)
	if err != nil {
		return rep, app.InvalidInput(app.Param("page", "invalid", "ops.err.page"))
	}
	running, next, err := s.running(ctx, token)
	if err != nil {
		return rep, err
	}
	rep.NextPage = next
	if withDB {
		sched, err := s.schedules(ctx, now)
		if err != nil {
			return rep, err
		}
		running = append(running, sched...)
	}
	owned, err := s.owned(ctx, scope, running)
	if err != nil {
		return rep, err
	}
	rep.Items = append(rep.Items, owned...)
	if withDB {
		rows, err := s.API.OpsRows(ctx, scope, store.OpsCutoffs{PaymentBefore: now.Add(-s.cfg.PaymentWait),
			DeclarationBefore: now.Add(-s.cfg.DeclarationWait)}, s.cfg.Limit)
		if err != nil {
			return rep, err
		}
		pending, err := s.pendingRequests(ctx)
		if err != nil {
			return rep, err
		}
		for _, r := range rows {
			it := Item{Key: r.Kind + ":" + r.ID, Kind: r.Kind, Municipality: r.Municipality, WorkflowID: r.WorkflowID,
				RecordID: r.ID, Number: r.Number, AmountCents: r.AmountCents, Details: r.Details, Since: r.Since, district: r.District}
			if r.Kind == store.OpsRefundFailed {
				if p, ok := pending[r.ID]; ok {
					it.Pending = &p
				}
			}
			rep.Items = append(rep.Items, it)
		}
	}
	sort.SliceStable(rep.Items, func(i, j int) bool { return rep.Items[i].Since.Before(rep.Items[j].Since) })
	return rep, nil
}

// owned keeps the Temporal items scope may see: those of a record of its
// district, and those of the whole installation.
func (s Service) owned(ctx context.Context, scope store.Scope, items []Item) ([]Item, error) {
	var ids []string
	for _, it := range items {
		if it.WorkflowID != "" {
			ids = append(ids, it.WorkflowID)
		}
	}
	owners, err := s.API.OpsOwners(ctx, scope, ids)
	if err != nil {
		return nil, err
	}
	out := []Item{}
	for _, it := range items {
		if o, ok := owners[it.WorkflowID]; ok {
			it.district, it.Municipality = o[0], o[1]
			out = append(out, it)
		} else if !tenantWorkflow(it.WorkflowID) {
			out = append(out, it)
		}
	}
	return out, nil
}

// tenantWorkflow tells the workflow ids that belong to one place's record.
func tenantWorkflow(id string) bool {
	for _, p := range []string{"case:", "booking:", "appointment:", "billing-run:", "absence:", "refund-resolution:"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// describeParallel bounds the DescribeWorkflowExecution calls in flight.
const describeParallel = 8

// running reads one page of running executions and describes each: an
// activity at or past the attempt threshold, or a workflow task that has
// failed (attempt above 1), is an item.
func (s Service) running(ctx context.Context, token []byte) ([]Item, string, error) {
	if s.Temporal == nil {
		return nil, "", errors.New("no Temporal client")
	}
	resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.cfg.Namespace,
		PageSize: int32(s.cfg.PageSize), NextPageToken: token, Query: "ExecutionStatus = 'Running'"})
	var bad *serviceerror.InvalidArgument
	if len(token) > 0 && errors.As(err, &bad) {
		return nil, "", app.InvalidInput(app.Param("page", "invalid", "ops.err.page"))
	}
	if err != nil {
		return nil, "", err
	}
	execs := resp.GetExecutions()
	found := make([][]Item, len(execs))
	errs := make([]error, len(execs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, describeParallel)
	for i, ex := range execs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			found[i], errs[i] = s.stuckIn(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), ex.GetType().GetName())
		}()
	}
	wg.Wait()
	var out []Item
	for i := range execs {
		var nf *serviceerror.NotFound
		if errs[i] != nil && !errors.As(errs[i], &nf) { // one that closed meanwhile is not stuck
			return nil, "", errs[i]
		}
		out = append(out, found[i]...)
	}
	return out, encodePage(resp.GetNextPageToken()), nil
}

func (s Service) stuckIn(ctx context.Context, wid, rid, wtype string) ([]Item, error) {
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, wid, rid)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, a := range d.GetPendingActivities() {
		if a.GetAttempt() < s.cfg.Attempts {
			continue
		}
		it := Item{Key: KindActivityRetrying + ":" + wid + ":" + rid + ":" + a.GetActivityId(), Kind: KindActivityRetrying,
			WorkflowID: wid, RunID: rid, WorkflowType: wtype, ActivityID: a.GetActivityId(), ActivityType: a.GetActivityType().GetName(),
			Attempt: a.GetAttempt(), LastFailure: a.GetLastFailure().GetMessage()}
		// The pending activity's scheduled time is its next attempt's: when
		// it was first scheduled is in the history.
		if it.Since, err = s.scheduledAt(ctx, wid, rid, a.GetActivityId()); err != nil {
			return nil, err
		}
		if t := a.GetNextAttemptScheduleTime(); t != nil {
			n := t.AsTime()
			it.NextAttempt = &n
		}
		out = append(out, it)
	}
	if wt := d.GetPendingWorkflowTask(); wt != nil && wt.GetAttempt() > 1 {
		out = append(out, Item{Key: KindWorkflowTask + ":" + wid + ":" + rid, Kind: KindWorkflowTask, WorkflowID: wid, RunID: rid,
			WorkflowType: wtype, Attempt: wt.GetAttempt(), Since: wt.GetOriginalScheduledTime().AsTime()})
	}
	return out, nil
}

// scheduledAt reads from the history when activity id of the run was
// scheduled (the first attempt); the run's start when it is not found.
func (s Service) scheduledAt(ctx context.Context, wid, rid, id string) (time.Time, error) {
	it := s.Temporal.GetWorkflowHistory(ctx, wid, rid, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var start time.Time
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return time.Time{}, err
		}
		if start.IsZero() {
			start = ev.GetEventTime().AsTime()
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityId() == id {
			return ev.GetEventTime().AsTime(), nil
		}
	}
	return start, nil
}

// scheduleLimit bounds the schedules read per load.
const scheduleLimit = 200

// schedules lists the schedules that did not fire: paused, whose next
// action is late by more than the grace, or that missed their catch-up
// window.
func (s Service) schedules(ctx context.Context, now time.Time) ([]Item, error) {
	it, err := s.Temporal.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 100})
	if err != nil {
		return nil, err
	}
	var out []Item
	for n := 0; it.HasNext() && n < scheduleLimit; n++ {
		e, err := it.Next()
		if err != nil {
			return nil, err
		}
		item := Item{Kind: KindScheduleMissed, ScheduleID: e.ID, WorkflowType: e.WorkflowType.Name, WorkflowID: scheduleOwner(e.ID)}
		switch {
		case e.Paused:
			item.Details, item.Since = "paused", now
			if len(e.RecentActions) > 0 {
				item.Since = e.RecentActions[len(e.RecentActions)-1].ActualTime
			}
		case len(e.NextActionTimes) > 0 && e.NextActionTimes[0].Before(now.Add(-s.cfg.ScheduleGrace)):
			item.Details, item.Since = "late", e.NextActionTimes[0]
		default:
			continue
		}
		item.Key = KindScheduleMissed + ":" + e.ID + ":" + item.Since.UTC().Format(time.RFC3339)
		out = append(out, item)
	}
	return out, nil
}

// scheduleOwner is the workflow id that tells the owner of schedule id: a
// billing schedule belongs to its municipality's district.
func scheduleOwner(id string) string {
	if strings.HasPrefix(id, "billing:") {
		return "billing-run:" + strings.TrimPrefix(id, "billing:")
	}
	return ""
}

// pendingRequests reads the refund resolutions waiting for a second
// supervisor, by incident id.
func (s Service) pendingRequests(ctx context.Context) (map[string]Request, error) {
	out := map[string]Request{}
	resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.cfg.Namespace,
		PageSize: int32(s.cfg.Limit), Query: "WorkflowType = 'RefundResolution' AND ExecutionStatus = 'Running'"})
	if err != nil {
		return nil, err
	}
	for _, ex := range resp.GetExecutions() {
		id := strings.TrimPrefix(ex.GetExecution().GetWorkflowId(), contract.RefundResolutionWorkflowID(""))
		var in contract.RefundResolutionInput
		v, err := s.Temporal.QueryWorkflow(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), workflows.QueryRefundResolution)
		if err != nil {
			continue // closed meanwhile
		}
		if err := v.Get(&in); err != nil {
			return nil, err
		}
		out[id] = Request{RequestedBy: in.Requester.DisplayName, Reason: in.Reason}
	}
	return out, nil
}

// ---- actions ----

// RetryInput names the activity to retry now.
type RetryInput struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	ActivityID string `json:"activity_id"`
}

// CancelInput names the journey to cancel and why.
type CancelInput struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Reason     string `json:"reason"`
}

// RefundInput names the failed refund to resolve by hand (and, for the
// request, why).
type RefundInput struct {
	IncidentID string `json:"incident_id"`
	Reason     string `json:"reason"`
}

// Done answers an action.
type Done struct {
	Status string `json:"status"`
}

const maxReason = 500

func required(pointer, v string) []app.FieldError {
	if strings.TrimSpace(v) == "" {
		return []app.FieldError{app.Field(pointer, "required", "ops.err.required")}
	}
	return nil
}

// workflowIDProblems: a workflow id is required and, like every id the
// platform gives its journeys ("case:…", "booking:…"), printable ASCII of
// a bounded length; Temporal refuses anything else in its request headers,
// which would otherwise surface as an internal error.
func workflowIDProblems(v string) []app.FieldError {
	if fe := required("/workflow_id", v); fe != nil {
		return fe
	}
	if len(v) > maxWorkflowID {
		return []app.FieldError{app.Field("/workflow_id", "invalid", "ops.err.workflow_id")}
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return []app.FieldError{app.Field("/workflow_id", "invalid", "ops.err.workflow_id")}
		}
	}
	return nil
}

// maxWorkflowID bounds a workflow id (Temporal's own limit is larger).
const maxWorkflowID = 255

// runIDProblems: a run id is optional (the journey's current run), and
// otherwise one of Temporal's, a UUID.
func runIDProblems(v string) []app.FieldError {
	if v == "" {
		return nil
	}
	if _, err := uuid.Parse(v); err != nil {
		return []app.FieldError{app.Field("/run_id", "invalid", "ops.err.run_id")}
	}
	return nil
}

func reasonProblems(v string) []app.FieldError {
	if fe := required("/reason", v); fe != nil {
		return fe
	}
	if utf8.RuneCountInString(strings.TrimSpace(v)) > maxReason {
		return []app.FieldError{app.Field("/reason", "too_long", "ops.err.reason_too_long", maxReason)}
	}
	return nil
}

// journey finds workflowID among the running journeys user may act on (a
// record of the district or one of the whole installation).
func (s Service) journey(ctx context.Context, u store.UserView, workflowID, runID string) (string, error) {
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, workflowID, runID)
	var (
		nf *serviceerror.NotFound
		ia *serviceerror.InvalidArgument
	)
	if errors.As(err, &nf) || errors.As(err, &ia) {
		// A workflow id Temporal refuses to look up (too long, say) names
		// no journey either.
		return "", app.Missing("journey")
	}
	if err != nil {
		return "", err
	}
	info := d.GetWorkflowExecutionInfo()
	if tenantWorkflow(workflowID) {
		owners, err := s.API.OpsOwners(ctx, u.Scope(), []string{workflowID})
		if err != nil {
			return "", err
		}
		if _, ok := owners[workflowID]; !ok {
			return "", app.Missing("journey")
		}
	}
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "", app.Refuse(app.Conflict, "journey_closed", "the journey has ended already")
	}
	return info.GetExecution().GetRunId(), nil
}

// RetryNow makes a pending activity in its retry backoff run again at once
// (Temporal's ResetActivity: the attempt count starts again from 1, the
// activity is scheduled now).
func (s Service) RetryNow(ctx context.Context, u store.UserView, in RetryInput) (Done, error) {
	if err := supervisor(u); err != nil {
		return Done{}, err
	}
	e := store.AuditEntry{Action: AuditRetry, Detail: app.AuditDetail(map[string]any{"workflow_id": in.WorkflowID,
		"run_id": in.RunID, "activity_id": in.ActivityID})}
	err := s.Audited(ctx, u, e, func() error {
		fe := append(workflowIDProblems(in.WorkflowID), runIDProblems(in.RunID)...)
		if fe = append(fe, required("/activity_id", in.ActivityID)...); len(fe) > 0 {
			return app.InvalidInput(fe...)
		}
		run, err := s.journey(ctx, u, in.WorkflowID, in.RunID)
		if err != nil {
			return err
		}
		_, err = s.Temporal.WorkflowService().ResetActivity(ctx, &workflowservice.ResetActivityRequest{Namespace: s.cfg.Namespace,
			Execution: &commonpb.WorkflowExecution{WorkflowId: in.WorkflowID, RunId: run}, Identity: identity(u),
			Activity: &workflowservice.ResetActivityRequest_Id{Id: in.ActivityID}})
		var (
			nf *serviceerror.NotFound
			ia *serviceerror.InvalidArgument
			fp *serviceerror.FailedPrecondition
		)
		if errors.As(err, &nf) || errors.As(err, &ia) || errors.As(err, &fp) {
			return app.Refuse(app.Conflict, "activity_not_pending", "the activity is not pending any more")
		}
		return err
	})
	return Done{Status: "retrying"}, err
}

func identity(u store.UserView) string { return "sportello-operations:" + u.Username }

// Cancel ends a journey with a reason. A booking is cancelled through its
// own cancellation path (the Update cancel, so its saga gives back the
// voucher's share and refunds what was paid); any other journey gets
// Temporal's cancellation request with the reason.
func (s Service) Cancel(ctx context.Context, u store.UserView, in CancelInput) (Done, error) {
	if err := supervisor(u); err != nil {
		return Done{}, err
	}
	reason := strings.TrimSpace(in.Reason)
	e := store.AuditEntry{Action: AuditCancel, Reason: reason, Detail: app.AuditDetail(map[string]any{"workflow_id": in.WorkflowID,
		"run_id": in.RunID})}
	err := s.Audited(ctx, u, e, func() error {
		fe := append(workflowIDProblems(in.WorkflowID), runIDProblems(in.RunID)...)
		if fe = append(fe, reasonProblems(in.Reason)...); len(fe) > 0 {
			return app.InvalidInput(fe...)
		}
		run, err := s.journey(ctx, u, in.WorkflowID, in.RunID)
		if err != nil {
			return err
		}
		if strings.HasPrefix(in.WorkflowID, "booking:") {
			var res workflows.BookingUpdateResult
			return s.UpdateWorkflow(ctx, in.WorkflowID, workflows.UpdateBookingCancel, "", &res,
				workflows.BookingCancelInput{Actor: app.Actor(u), Reason: reason})
		}
		_, err = s.Temporal.WorkflowService().RequestCancelWorkflowExecution(ctx, &workflowservice.RequestCancelWorkflowExecutionRequest{
			Namespace: s.cfg.Namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: in.WorkflowID, RunId: run},
			Identity: identity(u), Reason: reason, RequestId: uuid.NewString()})
		return err
	})
	return Done{Status: "cancel_requested"}, err
}

// refundIncident reads incident id in user's scope: an open failed refund.
func (s Service) refundIncident(ctx context.Context, u store.UserView, id string) (store.Incident, error) {
	if _, err := uuid.Parse(strings.TrimSpace(id)); err != nil {
		return store.Incident{}, app.InvalidInput(app.Field("/incident_id", "invalid", "ops.err.incident_id"))
	}
	x, err := s.API.IncidentIn(ctx, u.Scope(), strings.TrimSpace(id))
	if errors.Is(err, store.ErrNotFound) {
		return x, app.Missing("incident")
	}
	if err != nil {
		return x, err
	}
	if x.Kind != store.IncidentRefundFailed || x.Status != store.IncidentOpen {
		return x, app.Refuse(app.Conflict, "refund_not_open", "the incident is not an open failed refund")
	}
	return x, nil
}

// RequestRefundResolution records one supervisor's request to resolve a
// failed refund by hand; nothing moves until a second supervisor approves.
func (s Service) RequestRefundResolution(ctx context.Context, u store.UserView, in RefundInput) (Done, error) {
	if err := supervisor(u); err != nil {
		return Done{}, err
	}
	reason := strings.TrimSpace(in.Reason)
	e := store.AuditEntry{Action: AuditRefundRequest, Reason: reason, Detail: app.AuditDetail(map[string]any{"incident_id": in.IncidentID})}
	err := s.Audited(ctx, u, e, func() error {
		if fe := append(required("/incident_id", in.IncidentID), reasonProblems(in.Reason)...); len(fe) > 0 {
			return app.InvalidInput(fe...)
		}
		x, err := s.refundIncident(ctx, u, in.IncidentID)
		if err != nil {
			return err
		}
		_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: contract.RefundResolutionWorkflowID(x.ID),
			TaskQueue: s.TaskQueue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, WorkflowExecutionErrorWhenAlreadyStarted: true},
			workflows.RefundResolution, contract.RefundResolutionInput{IncidentID: x.ID, Requester: opsActor(u), Reason: reason})
		if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			return app.Refuse(app.Conflict, "resolution_pending", "a resolution of this refund already waits for its second supervisor")
		}
		return err
	})
	return Done{Status: "awaiting_second_supervisor"}, err
}

// ApproveRefundResolution is the second supervisor's approval: the refund
// is made at the provider, confirmed by it, booked and the incident closed.
func (s Service) ApproveRefundResolution(ctx context.Context, u store.UserView, in RefundInput) (Done, error) {
	if err := supervisor(u); err != nil {
		return Done{}, err
	}
	e := store.AuditEntry{Action: AuditRefundApproved, Detail: app.AuditDetail(map[string]any{"incident_id": in.IncidentID})}
	var res contract.RefundResolutionResult
	err := s.Audited(ctx, u, e, func() error {
		if fe := required("/incident_id", in.IncidentID); len(fe) > 0 {
			return app.InvalidInput(fe...)
		}
		x, err := s.refundIncident(ctx, u, in.IncidentID)
		if err != nil {
			return err
		}
		err = s.UpdateWorkflow(ctx, contract.RefundResolutionWorkflowID(x.ID), workflows.UpdateRefundApprove, "", &res,
			contract.RefundApproveInput{Actor: opsActor(u)})
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return app.Refuse(app.Conflict, "no_resolution_request", "no request to resolve this refund waits for approval")
		}
		return err
	})
	return Done{Status: "resolved"}, err
}

// ---- the watch ----

// Mail is what the watch sends through: one e-mail per key and recipient.
type Mail func(ctx context.Context, key string, to store.Recipient, data map[string]any) error

// NotifyStuck e-mails, through mail, the supervisors concerned by every
// item stuck longer than the threshold (of the whole installation: all the
// pages of running journeys, up to maxPages), once per item and supervisor
// (the key). It returns how many items were stuck.
func (s Service) NotifyStuck(ctx context.Context, mail Mail) (int, error) {
	cut := s.Now().Add(-s.cfg.StuckAfter)
	var items []Item
	page, first := "", true
	for n := 0; n < maxPages && (first || page != ""); n++ {
		rep, err := s.list(ctx, store.System, page, first)
		if err != nil {
			return 0, err
		}
		items = append(items, rep.Items...)
		page, first = rep.NextPage, false
	}
	stuck := 0
	recipients := map[string][]store.Recipient{}
	for _, it := range items {
		if it.Since.After(cut) {
			continue
		}
		stuck++
		rs, ok := recipients[it.district]
		if !ok {
			var err error
			if rs, err = s.Store.OpsRecipients(ctx, it.district); err != nil {
				return stuck, err
			}
			recipients[it.district] = rs
		}
		for _, r := range rs {
			if r.Email == "" {
				continue
			}
			data := map[string]any{"name": r.Name, "portal_url": s.cfg.PortalURL, "path": "/operations", "item_kind": it.Kind,
				"workflow_id": it.WorkflowID, "activity_type": it.ActivityType, "schedule_id": it.ScheduleID,
				"number": it.Number, "municipality": it.Municipality, "since": it.Since, "details": firstNonEmpty(it.LastFailure, it.Details),
				"attempt": strconv.Itoa(int(it.Attempt))}
			if err := mail(ctx, "ops-stuck:"+it.Key+":"+strconv.FormatInt(r.UserID, 10), r, data); err != nil {
				return stuck, err
			}
		}
	}
	return stuck, nil
}

// maxPages bounds the watch's walk through the running journeys.
const maxPages = 50

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func encodePage(token []byte) string {
	if len(token) == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(token)
}

// decodePage reads a page token; Temporal's visibility stores (SQL and
// Elasticsearch) give JSON tokens, and anything else is refused here rather
// than sent to the server.
func decodePage(page string) ([]byte, error) {
	if page == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(page)
	if err == nil && !json.Valid(raw) {
		err = errors.New("not a page token")
	}
	return raw, err
}

func opsActor(u store.UserView) contract.OpsActor {
	return contract.OpsActor{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role}
}
