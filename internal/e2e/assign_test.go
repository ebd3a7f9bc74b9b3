package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestSupervisorAssignsAndReassignsOverHTTP: the supervisor gives a task to
// a social worker, then takes it back with a reason; operators cannot assign,
// and nobody outside the municipality can receive it.
func TestSupervisorAssignsAndReassignsOverHTTP(t *testing.T) {
	s := newStack(t)
	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 1, 0, 3000))
	sup := s.login("supervisore")
	tk := sup.taskFor(created.ID)
	op := s.login("operatore.tradate")

	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/assign", map[string]any{"assignee": "operatore.tradate"}, nil, nil); code != http.StatusForbidden {
		t.Fatalf("an operator assigns: %d, want 403", code)
	}
	if code := sup.call("POST", "/api/v1/tasks/"+tk.ID+"/assign", map[string]any{"assignee": "operatore.vedano"}, nil, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("assigned to another municipality's worker: %d, want 422", code)
	}
	sup.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/assign", map[string]any{"assignee": "operatore.tradate"}, nil)
	var claimed struct {
		Items []task `json:"items"`
	}
	op.mustCall(http.StatusOK, "GET", "/api/v1/tasks?status=claimed", nil, &claimed)
	if len(claimed.Items) != 1 || claimed.Items[0].ClaimedBy != "operatore.tradate" {
		t.Fatalf("after the assignment: %+v", claimed.Items)
	}
	if code := sup.call("POST", "/api/v1/tasks/"+tk.ID+"/assign", map[string]any{"assignee": "supervisore"}, nil, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("taking the task without a reason: %d, want 422", code)
	}
	var res struct {
		AssignedTo string `json:"assigned_to"`
		Previous   string `json:"previous"`
	}
	sup.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/assign",
		map[string]any{"assignee": "supervisore", "reason": "operatore in ferie fino a lunedì"}, &res)
	if res.AssignedTo != "supervisore" || res.Previous != "operatore.tradate" {
		t.Fatalf("reassignment: %+v", res)
	}
	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, nil, nil); code != http.StatusConflict {
		t.Fatalf("the former assignee decides: %d, want 409", code)
	}
	sup.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, nil)

	var timeline []struct {
		Type   string         `json:"type"`
		Actor  string         `json:"actor"`
		Detail map[string]any `json:"detail"`
	}
	sup.mustCall(http.StatusOK, "GET", "/api/v1/applications/"+created.ID+"/timeline", nil, &timeline)
	var reasons []string
	for _, e := range timeline {
		if e.Type == "task_assigned" {
			if e.Actor != "supervisore" {
				t.Fatalf("assignment by %q", e.Actor)
			}
			reasons = append(reasons, e.Detail["assignee"].(string)+":"+e.Detail["reason"].(string))
		}
	}
	if strings.Join(reasons, "|") != "operatore.tradate:|supervisore:operatore in ferie fino a lunedì" {
		t.Fatalf("assignments on the timeline: %v", reasons)
	}
}
