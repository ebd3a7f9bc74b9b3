package desk

import (
	"context"
	"errors"
	"testing"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// The desk's use cases refuse, before reading or writing anything, the
// roles the desk does not serve (the routes refuse them first; the service
// keeps the rule with the use case). The core has no store: a use case that
// reached it would panic.
func TestUseCasesRefuseOtherRoles(t *testing.T) {
	s := New(&app.Core{}, nil)
	ctx := context.Background()
	yes := true
	d := &store.DeskCitizen{}
	cases := []struct {
		name  string
		allow []contract.Role
		do    func(store.UserView) error
	}{
		{"register", []contract.Role{contract.RoleOperator}, func(u store.UserView) error {
			_, err := s.Register(ctx, u, NewCitizen{})
			return err
		}},
		{"citizen", []contract.Role{contract.RoleOperator}, func(u store.UserView) error {
			_, err := s.Citizen(ctx, u, "x")
			return err
		}},
		{"citizens", []contract.Role{contract.RoleOperator}, func(u store.UserView) error {
			_, err := s.Citizens(ctx, u, "")
			return err
		}},
		{"cases", []contract.Role{contract.RoleOperator}, func(u store.UserView) error {
			_, err := s.Cases(ctx, u, d)
			return err
		}},
		{"reissue", []contract.Role{contract.RoleOperator}, func(u store.UserView) error {
			_, err := s.ReissueCode(ctx, u, d, "")
			return err
		}},
		{"desk shared", []contract.Role{contract.RoleSupervisor}, func(u store.UserView) error {
			_, err := s.DeskShared(ctx, u)
			return err
		}},
		{"set sharing", []contract.Role{contract.RoleSupervisor}, func(u store.UserView) error {
			return s.SetSharing(ctx, u, Sharing{Shared: &yes})
		}},
		{"recoveries", []contract.Role{contract.RoleSupervisor}, func(u store.UserView) error {
			_, err := s.Recoveries(ctx, u, "")
			return err
		}},
		{"decide recovery", []contract.Role{contract.RoleSupervisor}, func(u store.UserView) error {
			_, _, err := s.DecideRecovery(ctx, u, "x", RecoveryDecision{Approve: &yes})
			return err
		}},
		{"contact tasks", []contract.Role{contract.RoleOperator, contract.RoleSupervisor}, func(u store.UserView) error {
			_, _, err := s.ContactTasks(ctx, u, store.ContactFilter{})
			return err
		}},
		{"record contact", []contract.Role{contract.RoleOperator, contract.RoleSupervisor}, func(u store.UserView) error {
			_, err := s.RecordContact(ctx, u, "x", ContactOutcome{Outcome: "phoned"})
			return err
		}},
	}
	roles := []contract.Role{contract.RoleCitizen, contract.RoleOperator, contract.RoleSupervisor,
		contract.RoleMerchant, contract.RoleCooperative}
	for _, c := range cases {
		for _, r := range roles {
			allowed := false
			for _, a := range c.allow {
				allowed = allowed || a == r
			}
			if allowed {
				continue
			}
			err := c.do(store.UserView{ID: 1, Role: string(r)})
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Kind != app.Forbidden || ae.Code != "forbidden" {
				t.Errorf("%s as %s: %v, want forbidden", c.name, r, err)
			}
		}
	}
}

// A registration is trimmed and checked before anything else.
func TestNewCitizenValidate(t *testing.T) {
	in := NewCitizen{TaxCode: " rssmra80a01l319x ", FirstName: " ", LastName: "Rossi", Email: "no", Phone: "12", Address: " "}
	got := map[string]string{}
	for _, f := range in.Validate() {
		got[f.Pointer] = f.Code
		if f.In("en") == "" || f.In("it") == "" {
			t.Errorf("%s: a text is missing: %+v", f.Pointer, f)
		}
	}
	want := map[string]string{"/first_name": "required", "/email": "invalid", "/phone": "invalid", "/address": "required"}
	for ptr, code := range want {
		if got[ptr] != code {
			t.Errorf("%s: %q, want %q (all %v)", ptr, got[ptr], code, got)
		}
	}
	if in.TaxCode != "RSSMRA80A01L319X" || in.FirstName != "" {
		t.Errorf("not trimmed: %+v", in)
	}
	if SearchQuery("  ab  ") != "ab" || len(SearchQuery(string(make([]byte, 300)))) > MaxQuery {
		t.Error("the search query is not trimmed and bounded")
	}
}
