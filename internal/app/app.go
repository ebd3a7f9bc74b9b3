// Package app is the kernel of Sportello's application services: the
// packages below it (internal/app/casework, ...) hold, per domain, the
// rules of each use case, its authorization decision, its store calls and
// its Temporal calls, once; the JSON API (api) and the web pages are thin
// adapters that call them.
//
// This package gives them what they share: the domain error (Error, with a
// Kind the adapters map to a status once, and field problems), the
// classification of store and Temporal errors into it (Classify), the
// audit trail (Core.Audited and friends) and the Temporal Update round trip
// to a case workflow (Core.Update). It knows no HTTP.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/workflows"
)

// Kind is the class of a refusal; each adapter maps it once (api: to an
// HTTP status).
type Kind uint8

// The kinds of refusal.
const (
	Internal        Kind = iota // a fault: logged, the caller is told nothing more
	Invalid                     // the input has field problems (Fields)
	NotFound                    // no such record for this caller
	Conflict                    // the record's state forbids the action now
	Forbidden                   // the caller may not do this
	Unauthenticated             // no valid session
	Unavailable                 // a backend did not answer, or is busy; try again
	TooMany                     // too many attempts; try again after RetryAfter
)

// FieldError is one problem with one field of a request. Text says what
// is wrong as a message id of internal/i18n and its arguments: the adapters
// write it in the reader's language (In), and the JSON API gives both.
type FieldError struct {
	Pointer   string       // JSON pointer into the request body
	Parameter string       // query parameter or header, when not in the body
	Code      string       // stable, machine-readable
	Text      i18n.Message // what is wrong, for a person
}

// In is what is wrong, in lang.
func (f FieldError) In(lang string) string { return f.Text.In(lang) }

// Field is a problem of the body field at pointer: message id with args.
func Field(pointer, code, id string, args ...any) FieldError {
	return FieldError{Pointer: pointer, Code: code, Text: i18n.M(id, args...)}
}

// Param is a problem of a query parameter or header: message id with args.
func Param(name, code, id string, args ...any) FieldError {
	return FieldError{Parameter: name, Code: code, Text: i18n.M(id, args...)}
}

// Error is a refusal of a use case, or a fault.
type Error struct {
	Kind    Kind
	Code    string // stable, machine-readable: "task_not_open", "validation", ...
	Message string // English, for logs and API clients
	Fields  []FieldError
	CaseID  string // the case the refusal is about, when it helps the caller
	// RetryAfter, when positive, tells when trying again may succeed.
	RetryAfter time.Duration
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Refuse is a refusal of kind with code and message.
func Refuse(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// InvalidInput is a refusal for field problems.
func InvalidInput(fields ...FieldError) *Error {
	msg := "the request has a problem"
	if len(fields) > 1 {
		msg = fmt.Sprintf("the request has %d problems", len(fields))
	}
	if len(fields) == 1 {
		msg = fields[0].In(i18n.EN)
	}
	return &Error{Kind: Invalid, Code: "validation", Message: msg, Fields: fields}
}

// Missing is the refusal for a record that does not exist for the caller
// ("task not found").
func Missing(what string) *Error {
	return &Error{Kind: NotFound, Code: "not_found", Message: what + " not found"}
}

// temporalErrors classifies the application error types of the workflows
// (and of the activities whose refusals reach a caller). It is the only
// such table: a type missing here is a fault.
var temporalErrors = map[string]struct {
	kind Kind
	code string
}{
	// Case workflow (FoodVoucher).
	workflows.ErrTypeTaskNotOpen:        {Conflict, "task_not_open"},
	workflows.ErrTypeNotClaimed:         {Conflict, "task_not_claimed"},
	workflows.ErrTypeAlreadyClaimed:     {Conflict, "task_already_claimed"},
	workflows.ErrTypeInsufficientBudget: {Conflict, "insufficient_budget"},
	workflows.ErrTypeNotAwaitingInfo:    {Conflict, "not_awaiting_info"},
	workflows.ErrTypeInvalidDecision:    {Invalid, "invalid_decision"},
	workflows.ErrTypeForbidden:          {Forbidden, "forbidden"},
	contract.ErrTypeOutOfOffice:         {Conflict, store.CodeOutOfOffice},
	// Appointment workflow.
	workflows.ErrTypeAppointmentClosed:  {Conflict, "appointment_closed"},
	workflows.ErrTypeAppointmentStarted: {Conflict, "appointment_started"},
	workflows.ErrTypeAppointmentNotYet:  {Conflict, "appointment_not_yet"},
	// Booking workflow.
	workflows.ErrTypeBookingClosed:      {Conflict, "booking_closed"},
	workflows.ErrTypeBookingNotYours:    {Conflict, "booking_not_yours"},
	workflows.ErrTypeBookingWrongState:  {Conflict, "booking_wrong_state"},
	workflows.ErrTypeBookingInvalidData: {Invalid, "booking_invalid_data"},
	// Refund resolution workflow (operations console) and its activity.
	contract.ErrTypeFourEyes:           {Forbidden, "four_eyes"},
	contract.ErrTypeResolutionClosed:   {Conflict, "resolution_closed"},
	contract.ErrTypeRefundNotOpen:      {Conflict, "refund_not_open"},
	contract.ErrTypePaymentRefused:     {Conflict, "refund_refused"},
	contract.ErrTypePaymentUnconfirmed: {Conflict, "refund_unconfirmed"},
	contract.ErrTypePaymentsDisabled:   {Unavailable, "payments_disabled"},
}

// Classify turns any error into the refusal (or fault) it stands for: an
// *Error as it is, the store's not-found, field problems and conflicts,
// the workflows' refusals, Temporal's "workflow not running" and time-outs.
// Anything else is Internal.
func Classify(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Kind: NotFound, Code: "not_found", Message: "not found", Cause: err}
	}
	var problem *store.FieldProblem
	if errors.As(err, &problem) {
		e := InvalidInput(FieldError{Pointer: problem.Pointer, Code: problem.Code, Text: problem.Text})
		e.Cause = err
		return e
	}
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return &Error{Kind: Conflict, Code: conflict.Code, Message: conflict.Message, Cause: err}
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if te, ok := temporalErrors[appErr.Type()]; ok {
			e := &Error{Kind: te.kind, Code: te.code, Message: appErr.Message(), Cause: err}
			if appErr.Type() == workflows.ErrTypeInvalidDecision {
				e.Fields = []FieldError{DecisionField(appErr)}
				e.Message = e.Fields[0].In(i18n.EN)
			}
			return e
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		// An update to a workflow that has finished (or never started).
		return &Error{Kind: Conflict, Code: "case_not_active", Message: "the case is not being processed any more", Cause: err}
	}
	var (
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
	)
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: Unavailable, Code: "unavailable", Message: "a backend service did not answer in time; try again", Cause: err}
	}
	return &Error{Kind: Internal, Code: "internal", Message: "internal error; the request id identifies it in the logs", Cause: err}
}

// DecisionField reads the field problem a workflow validator attached to
// its refusal (workflows.FieldProblem: a message id and its arguments).
// It also reads the shape workflows attached before their problems had
// ids (the sentences, "message" and "message_it"): a worker of the
// previous release still sends it while a deployment rolls out.
func DecisionField(appErr *temporal.ApplicationError) FieldError {
	if !appErr.HasDetails() {
		return FieldError{Code: "invalid_decision", Text: i18n.Verbatim(appErr.Message(), appErr.Message())}
	}
	if p := (workflows.FieldProblem{}); appErr.Details(&p) == nil && p.ID != "" {
		return FieldError{Pointer: p.Pointer, Code: "invalid_decision", Text: i18n.M(p.ID, p.Args...)}
	}
	var old struct {
		Pointer   string `json:"pointer"`
		Message   string `json:"message"`
		MessageIT string `json:"message_it"`
	}
	if appErr.Details(&old) == nil && old.Message != "" {
		return FieldError{Pointer: old.Pointer, Code: "invalid_decision", Text: i18n.Verbatim(old.MessageIT, old.Message)}
	}
	return FieldError{Code: "invalid_decision", Text: i18n.Verbatim(appErr.Message(), appErr.Message())}
}

// Core is what every application service uses.
type Core struct {
	Store     *store.Store
	API       store.API
	Temporal  client.Client
	Log       *slog.Logger
	Now       func() time.Time
	TaskQueue string
	// Describe gives an error's code and field codes for the audit row of a
	// refused action (Classify's when nil); the API sets it so that its own
	// refusals (malformed JSON, ...) are recorded with their codes too.
	Describe func(error) (code string, fields []FieldError)
}

// DefaultDistrict is the district shown to an anonymous visitor of host
// (the portal's pages, the public JSON reads): the one serving host, else
// the default of the district files (store.API.VisitorDistrict, the one
// place it is decided).
func (c *Core) DefaultDistrict(ctx context.Context, host string) (string, error) {
	return c.API.VisitorDistrict(ctx, host)
}

// updateTimeout bounds a Temporal Update round trip.
const updateTimeout = 30 * time.Second

// Update sends a Temporal Update to the workflow of case caseID and waits
// for its result. id, when not empty, makes a retried update apply once.
func (c *Core) Update(ctx context.Context, caseID, name, id string, result any, arg any) error {
	return c.UpdateWorkflow(ctx, workflows.CaseWorkflowID(caseID), name, id, result, arg)
}

// UpdateWorkflow sends a Temporal Update to workflow workflowID (a case's,
// an absence's, ...) and waits for its result. id, when not empty, makes a
// retried update apply once.
func (c *Core) UpdateWorkflow(ctx context.Context, workflowID, name, id string, result any, arg any) error {
	if c.Temporal == nil {
		return errors.New("no Temporal client")
	}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	h, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     id,
		WorkflowID:   workflowID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, result)
}

// startTimeout bounds the start of a workflow.
const startTimeout = 15 * time.Second

// StartOnce starts workflow wf (a function or its registered name) with id
// on the task queue, once whatever the retries: a workflow already running
// or finished under that id counts as started.
func (c *Core) StartOnce(ctx context.Context, id string, wf, input any) error {
	_, err := c.StartOnceNew(ctx, id, wf, input)
	return err
}

// StartOnceNew is StartOnce that also tells whether this call started the
// workflow (false: it was already running or finished).
func (c *Core) StartOnceNew(ctx context.Context, id string, wf, input any) (bool, error) {
	if c.Temporal == nil {
		return false, errors.New("no Temporal client")
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	// With the default conflict policy (fail) and the error asked for, a
	// workflow already running or finished under id answers "already
	// started" instead of its run.
	_, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                c.TaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, wf, input)
	switch {
	case temporal.IsWorkflowExecutionAlreadyStartedError(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// UpdateID derives a Temporal update id from a caller's idempotency key,
// so that a retried request is applied once ("" lets Temporal pick one).
func UpdateID(user store.UserView, op, key string) string {
	if key == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d:%s", op, user.ID, key)
}

// Actor is the workflows' view of the caller.
func Actor(u store.UserView) workflows.Actor {
	return workflows.Actor{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role}
}
