// Package worker wires every Sportello workflow and activity into a Temporal
// worker. Tests reuse Register so that they run exactly what production runs.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"sportello/activities"
	"sportello/internal/accounting"
	"sportello/internal/app/operations"
	"sportello/internal/payments"
	"sportello/internal/pseudonym"
	"sportello/internal/store"
	"sportello/workflows"
)

// Register registers every workflow and activity on r. billing, when
// given, are the billing activities with their accounting client (default:
// the database only, so invoices cannot be sent).
func Register(r sdkworker.Registry, acts *activities.Cases, delegations *activities.Delegations, billing ...*activities.Billing) {
	r.RegisterWorkflow(workflows.FoodVoucher)
	r.RegisterActivity(acts)
	r.RegisterWorkflow(workflows.Delegation)
	r.RegisterActivity(delegations)
	r.RegisterWorkflow(workflows.Appointment)
	r.RegisterActivity(&activities.Appointments{Store: acts.Store, Mailer: acts.Mailer, PortalURL: acts.PortalURL})
	r.RegisterWorkflow(workflows.Billing)
	if len(billing) == 0 {
		billing = append(billing, &activities.Billing{Store: acts.Store})
	}
	r.RegisterActivity(billing[0])
	r.RegisterWorkflow(workflows.LedgerVerify)
	r.RegisterActivity(&activities.Ledger{Store: acts.Store})
	r.RegisterWorkflow(workflows.CompanyStatements)
	r.RegisterActivity(&activities.Companies{Store: acts.Store})
}

// RegisterBookings registers the Booking workflow and its activities (they
// need the payment provider's client, which Register's callers lack).
func RegisterBookings(r sdkworker.Registry, acts *activities.Bookings) {
	r.RegisterWorkflow(workflows.Booking)
	r.RegisterActivity(acts)
}

// RegisterCallFunding registers the CallFunding workflow and its
// activities (they need the accounting system's client).
func RegisterCallFunding(r sdkworker.Registry, acts *activities.CallFunding) {
	r.RegisterWorkflow(workflows.CallFunding)
	r.RegisterActivity(acts)
}

// New returns a worker polling taskQueue (workflows.TaskQueue when empty),
// with everything registered, that records notifications without sending
// them. Call Start/Run and Stop on it.
func New(c client.Client, st *store.Store, taskQueue string) sdkworker.Worker {
	return NewWith(c, st, Config{TaskQueue: taskQueue})
}

// Config is what a worker's activities need besides the database.
type Config struct {
	TaskQueue string            // workflows.TaskQueue when empty
	Mailer    activities.Mailer // nil: notifications stay in the outbox
	PortalURL string            // base URL of the web portal, for links in messages
	// Accounting is the municipality's accounting system (billing, and the
	// budget commitments of calls); nil: invoices are made but not sent,
	// and a call being published waits.
	Accounting *accounting.Client
	Payments   *payments.Client // the payment provider of bookings (nil: online payments fail)
	// Operations are the thresholds of the stuck-journey watch.
	Operations operations.Settings
	// Pseudonyms makes the retention run's pseudonyms (nil: the run fails
	// and changes nothing).
	Pseudonyms *pseudonym.Maker
}

// NewWith returns a worker with the given configuration.
func NewWith(c client.Client, st *store.Store, cfg Config) sdkworker.Worker {
	if cfg.TaskQueue == "" {
		cfg.TaskQueue = workflows.TaskQueue
	}
	w := sdkworker.New(c, cfg.TaskQueue, Options())
	Register(w, &activities.Cases{Store: st, Mailer: cfg.Mailer, PortalURL: cfg.PortalURL},
		&activities.Delegations{Store: st, Assigner: caseAssigner{c: c}},
		&activities.Billing{Store: st, Accounting: cfg.Accounting})
	RegisterBookings(w, &activities.Bookings{Store: st, Payments: cfg.Payments, Mailer: cfg.Mailer, PortalURL: cfg.PortalURL})
	RegisterCallFunding(w, &activities.CallFunding{Store: st, Accounting: cfg.Accounting})
	if cfg.Operations.PortalURL == "" {
		cfg.Operations.PortalURL = cfg.PortalURL
	}
	RegisterOperations(w, c, st, cfg)
	RegisterRetention(w, &activities.Retention{Store: st, Pseudonyms: cfg.Pseudonyms})
	RegisterAccounts(w, st, cfg)
	return w
}

// Options are the worker settings of every Sportello worker
// (docs/benchmarks.md says how they were measured).
//
// More pollers than the SDK default (2) keep a two-core machine busy: most
// of a case's time is spent waiting on the server and PostgreSQL, not
// computing. The slots are bounded instead of the SDK's 1,000 each: a
// workflow task runs its local activities (the food voucher's main line and
// every handler's write) before it completes, so a thousand workflow tasks
// at once would queue their local activities behind the database pool
// (store.DefaultMaxConns) and each task would last as long as the queue
// (the surge's "workflow task duration exceeded 5 seconds"). With fewer
// tasks at once, the rest wait in Temporal's task queue, where waiting
// costs nothing.
func Options() sdkworker.Options {
	return sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:        8,
		MaxConcurrentActivityTaskPollers:        8,
		MaxConcurrentWorkflowTaskExecutionSize:  WorkflowTaskSlots,
		MaxConcurrentLocalActivityExecutionSize: LocalActivitySlots,
		MaxConcurrentActivityExecutionSize:      ActivitySlots,
	}
}

// How many workflow tasks, local activities and activities a worker runs
// at once.
const (
	WorkflowTaskSlots  = 16
	LocalActivitySlots = 32
	ActivitySlots      = 16
)
