// Package teams is the administration of a district's staff: absences and
// their delegations (recording one starts the delegation workflow that
// hands the absent person's tasks over; cancelling it is an Update to that
// workflow), the supervisors' team management (teams, their members,
// automatic assignment, which team reviews each fund), the
// municipalities' office calendars, and the team filter of task lists.
//
// Each use case is here once: the rule, the authorization decision beyond
// the route gate, the store calls and the Temporal calls, audited with the
// state before and after. The JSON API (api/absences.go, team_admin.go,
// office_calendar.go) and the pages (api/web/absences.go,
// team_admin.go, office_calendar.go) only decode their input and
// show the result.
package teams

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// Service does the district administration use cases.
type Service struct{ *app.Core }

// New returns the district administration service on core.
func New(core *app.Core) Service { return Service{core} }

// Audit actions of team management.
const (
	AuditTeamCreated       = "team_created"
	AuditTeamMemberAdded   = "team_member_added"
	AuditTeamMemberRemoved = "team_member_removed"
	AuditTeamAutoAssign    = "team_auto_assign_changed"
	AuditFundReview        = "fund_review_changed"
)

// NewTeam is a team to create (POST /api/v1/teams).
type NewTeam struct {
	Name         string `json:"name"`
	Municipality string `json:"municipality"`
}

// Validate normalises the team and checks its name.
func (t *NewTeam) Validate() []app.FieldError {
	t.Name, t.Municipality = store.TrimTeamName(t.Name), strings.TrimSpace(t.Municipality)
	switch n := utf8.RuneCountInString(t.Name); {
	case n == 0:
		return []app.FieldError{app.Field("/name", "required", "teams.err.name_required")}
	case n > 100:
		return []app.FieldError{app.Field("/name", "too_long", "teams.err.at_most_100")}
	}
	return nil
}

// TeamMember names a person to add to a team (POST /api/v1/teams/{id}/members).
type TeamMember struct {
	Username string `json:"username"`
}

// Validate trims the username and checks it is given.
func (m *TeamMember) Validate() []app.FieldError {
	m.Username = strings.TrimSpace(m.Username)
	if m.Username == "" {
		return []app.FieldError{app.Field("/username", "required", "teams.err.username_required")}
	}
	return nil
}

// TeamPatch changes a team (PATCH /api/v1/teams/{id}).
type TeamPatch struct {
	AutoAssign *bool `json:"auto_assign"`
}

// Validate checks that the switch is given.
func (p *TeamPatch) Validate() []app.FieldError {
	if p.AutoAssign == nil {
		return []app.FieldError{app.Field("/auto_assign", "required", "teams.err.auto_assign_required")}
	}
	return nil
}

// FundReviewChoice says which team reviews a fund and whether its tasks
// are assigned automatically (PUT /api/v1/funds/{id}/review).
type FundReviewChoice struct {
	TeamID     *string `json:"team_id"`
	AutoAssign *bool   `json:"auto_assign"`
}

// Validate checks that the switch is given.
func (f *FundReviewChoice) Validate() []app.FieldError {
	if f.AutoAssign == nil {
		return []app.FieldError{app.Field("/auto_assign", "required",
			"teams.err.fund_auto_assign_required")}
	}
	return nil
}

// RemovedMember is the answer to removing a member: the team as it is now,
// and how many claimed tasks the removed person keeps (removal does not
// take their tasks away; a supervisor reassigns them if need be).
type RemovedMember struct {
	Team             store.TeamDetail `json:"team"`
	KeptClaimedTasks int              `json:"kept_claimed_tasks"`
}

// Teams lists the teams of user's district with their members and load.
func (s Service) Teams(ctx context.Context, user store.UserView) ([]store.TeamDetail, error) {
	return s.API.TeamDetails(ctx, user.District)
}

// Team reads a team of user's district (NotFound otherwise).
func (s Service) Team(ctx context.Context, user store.UserView, id string) (store.TeamDetail, error) {
	t, err := s.API.TeamDetail(ctx, user.District, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, app.Missing("team")
	}
	return t, err
}

// CreateTeam checks and creates a team of user's district (Invalid on the
// fields, Conflict team_name_taken for a name in use).
func (s Service) CreateTeam(ctx context.Context, user store.UserView, req NewTeam) (store.TeamDetail, error) {
	if fields := req.Validate(); len(fields) > 0 {
		return store.TeamDetail{}, app.InvalidInput(fields...)
	}
	in := store.NewTeam{ID: uuid.NewString(), Name: req.Name, Municipality: req.Municipality}
	// The audit row names the municipality only when it is one of the
	// district's: any other text (the store refuses it with a field
	// problem) could not be written there and made the request Unavailable
	// (found by TestHTTPFuzz); the detail keeps what was asked.
	auditMunicipality := ""
	if in.Municipality != "" {
		ids, err := s.API.DistrictMunicipalities(ctx, user.District)
		if err != nil {
			return store.TeamDetail{}, err
		}
		if slices.Contains(ids, in.Municipality) {
			auditMunicipality = in.Municipality
		}
	}
	e := store.AuditEntry{Action: AuditTeamCreated, Municipality: auditMunicipality, Detail: app.AuditDetail(map[string]any{
		"team_id": in.ID, "before": nil, "after": map[string]any{"name": in.Name, "municipality": in.Municipality}})}
	var out store.TeamDetail
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.CreateTeam(ctx, user.District, in)
		return err
	})
	return out, storeInvalid(err)
}

// SetAutoAssign switches automatic assignment of a team on or off.
func (s Service) SetAutoAssign(ctx context.Context, user store.UserView, id string, p TeamPatch) (store.TeamDetail, error) {
	if fields := p.Validate(); len(fields) > 0 {
		return store.TeamDetail{}, app.InvalidInput(fields...)
	}
	on := *p.AutoAssign
	cur, err := s.Team(ctx, user, id)
	if err != nil {
		return cur, err
	}
	e := store.AuditEntry{Action: AuditTeamAutoAssign, Municipality: cur.Municipality, Detail: app.AuditDetail(map[string]any{
		"team_id": cur.ID, "before": map[string]any{"auto_assign": cur.AutoAssign}, "after": map[string]any{"auto_assign": on}})}
	var out store.TeamDetail
	err = s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.SetTeamAutoAssign(ctx, user.District, cur.ID, on)
		return err
	})
	return out, err
}

// AddMember adds a staff member to a team (Invalid for someone who cannot
// work its tasks, Conflict already_member).
func (s Service) AddMember(ctx context.Context, user store.UserView, id string, m TeamMember) (store.TeamDetail, error) {
	if fields := m.Validate(); len(fields) > 0 {
		return store.TeamDetail{}, app.InvalidInput(fields...)
	}
	cur, err := s.Team(ctx, user, id)
	if err != nil {
		return cur, err
	}
	before := cur.Usernames()
	after := append(append([]string{}, before...), m.Username)
	e := store.AuditEntry{Action: AuditTeamMemberAdded, Municipality: cur.Municipality, Detail: app.AuditDetail(map[string]any{
		"team_id": cur.ID, "member": m.Username, "before": map[string]any{"members": before}, "after": map[string]any{"members": after}})}
	var out store.TeamDetail
	err = s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.AddTeamMember(ctx, user.District, cur.ID, m.Username)
		return err
	})
	return out, storeInvalid(err)
}

// RemoveMember takes a member out of a team; their claimed tasks stay
// with them (NotFound for someone who is not a member).
func (s Service) RemoveMember(ctx context.Context, user store.UserView, id, username string) (RemovedMember, error) {
	cur, err := s.Team(ctx, user, id)
	if err != nil {
		return RemovedMember{}, err
	}
	before := cur.Usernames()
	var after []string
	found := false
	for _, u := range before {
		if u == username {
			found = true
			continue
		}
		after = append(after, u)
	}
	if !found {
		return RemovedMember{}, app.Missing("team member")
	}
	e := store.AuditEntry{Action: AuditTeamMemberRemoved, Municipality: cur.Municipality, Detail: app.AuditDetail(map[string]any{
		"team_id": cur.ID, "member": username, "before": map[string]any{"members": before}, "after": map[string]any{"members": after}})}
	var out RemovedMember
	err = s.Audited(ctx, user, e, func() error {
		var err error
		out.Team, out.KeptClaimedTasks, err = s.API.RemoveTeamMember(ctx, user.District, cur.ID, username)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, app.Missing("team member")
	}
	return out, err
}

// FundReviews lists, for each fund of user's district, the team that
// reviews it and whether its tasks are assigned automatically.
func (s Service) FundReviews(ctx context.Context, user store.UserView) ([]store.FundReview, error) {
	return s.API.FundReviews(ctx, user.District)
}

// SetFundReview chooses the team that reviews a fund of the district (none:
// the municipality's queue) and whether its tasks are assigned
// automatically (NotFound for a fund outside the district, Invalid for a
// team outside it or of another municipality).
func (s Service) SetFundReview(ctx context.Context, user store.UserView, fundID string, req FundReviewChoice) (store.FundReview, error) {
	if fields := req.Validate(); len(fields) > 0 {
		return store.FundReview{}, app.InvalidInput(fields...)
	}
	team := ""
	if req.TeamID != nil {
		team = strings.TrimSpace(*req.TeamID)
	}
	cur, err := s.API.FundReviewOf(ctx, user.District, fundID)
	if errors.Is(err, store.ErrNotFound) {
		return cur, app.Missing("fund")
	}
	if err != nil {
		return cur, err
	}
	e := store.AuditEntry{Action: AuditFundReview, Municipality: cur.Municipality, Detail: app.AuditDetail(map[string]any{
		"fund_id": cur.FundID,
		"before":  map[string]any{"team_id": cur.TeamID, "auto_assign": cur.AutoAssign},
		"after":   map[string]any{"team_id": team, "auto_assign": *req.AutoAssign}})}
	var out store.FundReview
	err = s.Audited(ctx, user, e, func() error {
		var err error
		out, err = s.API.SetFundReview(ctx, user.District, cur.FundID, team, *req.AutoAssign)
		return err
	})
	return out, storeInvalid(err)
}

// InboxTeams lists the teams user may filter a task list by: a
// supervisor, every team of the district; an operator, the teams of their
// own municipality, the district-wide teams and the teams they belong to
// (not other municipalities' teams, whose tasks they do not see).
func (s Service) InboxTeams(ctx context.Context, user store.UserView) ([]store.TeamView, error) {
	teams, err := s.API.Teams(ctx, user.Scope())
	if err != nil || user.Role == string(contract.RoleSupervisor) {
		return teams, err
	}
	own := teams[:0]
	for _, t := range teams {
		if t.Municipality == "" || t.Municipality == user.Municipality || t.Member {
			own = append(own, t)
		}
	}
	return own, nil
}

// TeamFilter checks the team filter of a task list: "", "mine" or the id
// of a team of InboxTeams; otherwise it gives the problem of the
// query parameter "team".
func (s Service) TeamFilter(ctx context.Context, user store.UserView, team string) (string, []app.FieldError) {
	team = strings.TrimSpace(team)
	if team == "" || team == store.TeamMine {
		return team, nil
	}
	teams, err := s.InboxTeams(ctx, user)
	if err == nil {
		for _, t := range teams {
			if t.ID == team {
				return team, nil
			}
		}
	}
	return "", []app.FieldError{app.Param("team", "invalid", "teams.err.team_unknown")}
}

// storeInvalid turns the store's field refusal (store.InvalidError) into
// an Invalid on its field. It is applied after the audit row is written,
// so the row keeps the code it had.
func storeInvalid(err error) error {
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return app.InvalidInput(app.FieldError{Pointer: ie.Pointer, Code: ie.Code, Text: ie.Text})
	}
	return err
}
