package store

import (
	"regexp"
	"time"

	"sportello/internal/calendar"
)

// CaseEventTypes lists every type of timeline entry (case_events.type) the
// store writes. The pages give each one a text in both languages
// (event.<type> for the citizen, staff.event.<type> for staff); a test in
// api/web reads the store's sources and fails on a type missing here or a
// text missing there.
var CaseEventTypes = []string{
	"submitted", "precheck",
	"task_opened", "task_assigned", "task_claimed", "task_released", "task_reminder", "task_escalated",
	"information_requested", "information_received", "withdrawn",
	"first_approval", "approved", "rejected", "tranche_released", "voucher_expired",
	"contact_needed", "contact_" + ContactPhoned, "contact_" + ContactLetterSent, "contact_" + ContactDeliveredHome,
	"contact_" + ContactUnreachable,
}

// CaseInternalEventTypes are the steps inside the office (who works on the
// review and when): the citizen's timeline shows the first opening of the
// review and words the rest as one "being processed" step.
var CaseInternalEventTypes = []string{"task_opened", "task_assigned", "task_claimed", "task_released", "task_reminder",
	"task_escalated", "first_approval"}

// Delegation is what DelegationReason wrote, read back: the absence's
// period, its reason as typed, who was away and who stood in.
type Delegation struct {
	Back             bool // the case returned to the absent person
	Starts, Ends     time.Time
	Reason           string
	Absent, Delegate string
}

var (
	delegationOut  = regexp.MustCompile(`^out of office (\d\d/\d\d/\d{4} \d\d:\d\d) – (\d\d/\d\d/\d{4} \d\d:\d\d) \((.*)\): (\S+) delegated to (\S+)$`)
	delegationBack = regexp.MustCompile(`^back from out of office \((\d\d/\d\d/\d{4} \d\d:\d\d) – (\d\d/\d\d/\d{4} \d\d:\d\d), (.*)\): returned from (\S+) to (\S+)$`)
)

// ParseDelegationReason reads a reason DelegationReason wrote (ok false for
// any other reason, such as one a supervisor typed).
func ParseDelegationReason(reason string) (Delegation, bool) {
	var d Delegation
	m := delegationOut.FindStringSubmatch(reason)
	if m != nil {
		d.Absent, d.Delegate = m[4], m[5]
	} else if m = delegationBack.FindStringSubmatch(reason); m != nil {
		d.Back, d.Delegate, d.Absent = true, m[4], m[5]
	} else {
		return d, false
	}
	var err1, err2 error
	d.Starts, err1 = time.ParseInLocation("02/01/2006 15:04", m[1], calendar.Rome())
	d.Ends, err2 = time.ParseInLocation("02/01/2006 15:04", m[2], calendar.Rome())
	d.Reason = m[3]
	return d, err1 == nil && err2 == nil
}
