package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/contract"
	"sportello/internal/store"
)

// assignmentText is a task_assigned event's detail in lang: to whom, and
// why (an automatic assignment, a handover for an absence, or the reason a
// supervisor typed, as typed).
func assignmentText(lang string, detail json.RawMessage) []string {
	var d struct {
		Assignee string `json:"assignee"`
		Reason   string `json:"reason"`
	}
	_ = json.Unmarshal(detail, &d)
	var parts []string
	if d.Assignee != "" {
		parts = append(parts, translate(lang, "staff.event.assigned_to", d.Assignee))
	}
	switch dl, ok := store.ParseDelegationReason(d.Reason); {
	case d.Reason == contract.AutoAssignReason:
		parts = append(parts, translate(lang, "staff.event.assign_auto"))
	case ok && dl.Back:
		parts = append(parts, translate(lang, "staff.event.assign_back", formatDateTime(lang, dl.Starts),
			formatDateTime(lang, dl.Ends), dl.Reason, dl.Delegate, dl.Absent))
	case ok:
		parts = append(parts, translate(lang, "staff.event.assign_delegated", formatDateTime(lang, dl.Starts),
			formatDateTime(lang, dl.Ends), dl.Reason, dl.Absent, dl.Delegate))
	case d.Reason != "":
		parts = append(parts, translate(lang, "staff.event.reason", d.Reason))
	}
	return parts
}

// citizenTimeline writes a case's events for its applicant: the first
// opening of the review as it is, the office's later internal steps
// (assignments, claims, reminders, a first approval) as one "being
// processed" step until something the citizen must know happens.
func citizenTimeline(lang string, events []store.CaseEvent) []citizenEvent {
	var out []citizenEvent
	opened, inProgress := false, false
	for _, e := range events {
		internal := slices.Contains(store.CaseInternalEventTypes, e.Type)
		switch {
		case e.Type == "task_opened" && !opened:
			opened = true
			inProgress = true
			out = append(out, citizenEvent{At: formatDateTime(lang, e.At), Text: translateEvent(lang, e.Type)})
			continue
		case internal && inProgress:
			continue
		case internal:
			inProgress = true
			out = append(out, citizenEvent{At: formatDateTime(lang, e.At), Text: translate(lang, "event.in_progress")})
			continue
		}
		inProgress = false
		out = append(out, citizenEvent{At: formatDateTime(lang, e.At), Text: translateEvent(lang, e.Type),
			Detail: eventDetail(lang, e)})
	}
	return out
}

// appealText is what a citizen whose application was rejected can do next:
// ask the office to review it or appeal, with the contact of their
// municipality's Social Point (its name, address, phone and e-mail; not
// a point a company hosts).
func (s *Site) appealText(c *gin.Context, v store.CaseView) (string, error) {
	points, err := s.appointments.Points(c.Request.Context(), v.District)
	if err != nil {
		return "", err
	}
	contact := s.t(c, "case.appeal_contact_none")
	for _, p := range points {
		if p.Municipality != v.Municipality || p.HostCompanyID != "" { // a company's desk hears no appeals
			continue
		}
		contact = p.Name + ", " + p.Address
		if p.Phone != "" {
			contact += ", " + s.t(c, "case.appeal_phone", p.Phone)
		}
		if p.Email != "" {
			contact += ", " + p.Email
		}
		break
	}
	return s.t(c, "case.appeal", contact), nil
}

// caseNumber is a case's number in a text (BS-2026-000123).
var caseNumber = regexp.MustCompile(`\b[A-Z]{2,5}-\d{4}-\d{3,}\b`)

// linkCases escapes text and links the case numbers in it to their pages
// (a pre-check's "1 altro buono ... (BS-2026-000123)").
func linkCases(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range caseNumber.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		id := text[m[0]:m[1]]
		fmt.Fprintf(&b, `<a href="/cases/%s">%s</a>`, url.PathEscape(id), template.HTMLEscapeString(id))
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}
