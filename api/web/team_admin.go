package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/teams"
	"sportello/internal/store"
)

// The supervisors' "Squadre" page (/teams): the district's teams with
// their members and load, a form to create one, per team the automatic
// assignment switch and the members (add, remove), and which team reviews
// each fund. The same service as the JSON API does the work
// (internal/app/teams), so every change is audited.

type teamsData struct {
	Name            fieldView
	Municipalities  []staffOption
	MunicipalityErr string
	Teams           []teamCard
	Funds           []fundReviewRow
}

type teamCard struct {
	store.TeamDetail
	Scope      string // the municipality's name, or "whole district"
	Candidates []staffOption
}

type fundReviewRow struct {
	store.FundReview
	Teams []staffOption
}

func (s *Site) teamsPage(c *gin.Context) error {
	return s.renderTeams(c, http.StatusOK, teams.NewTeam{}, nil)
}

// renderTeams shows the page with the creation form filled from req and
// the problems of a refused creation next to their fields.
func (s *Site) renderTeams(c *gin.Context, status int, req teams.NewTeam, problems []FieldError) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	list, err := s.teams.Teams(ctx, user)
	if err != nil {
		return err
	}
	staff, err := s.api.DistrictStaff(ctx, user.District)
	if err != nil {
		return err
	}
	names, munis, err := s.municipalityNames(ctx, user)
	if err != nil {
		return err
	}
	reviews, err := s.teams.FundReviews(ctx, user)
	if err != nil {
		return err
	}
	d := teamsData{Name: fieldView{Name: "name", ID: "team-name", Label: s.t(c, "teams.name"), Value: req.Name, Required: true,
		Hint: s.t(c, "teams.name_hint"), Autocomplete: "off", Extra: map[string]string{"maxlength": "100"}}}
	d.Municipalities = append(d.Municipalities, staffOption{Value: "", Label: s.t(c, "teams.whole_district"), Selected: req.Municipality == ""})
	for _, m := range munis {
		d.Municipalities = append(d.Municipalities, staffOption{Value: m.Value, Label: m.Label, Selected: m.Value == req.Municipality})
	}
	v := view{Title: s.t(c, "teams.title"), Nav: "teams", Data: &d}
	for _, p := range problems {
		msg := p.In(pageLang(c))
		if p.Pointer == "/municipality" {
			d.MunicipalityErr = msg
			v.Errors = append(v.Errors, summaryItem{Href: "#team-municipality", Text: s.t(c, "teams.municipality") + ": " + msg})
			continue
		}
		d.Name.Error = msg
		v.Errors = append(v.Errors, summaryItem{Href: "#team-name", Text: d.Name.Label + ": " + msg})
	}
	for _, t := range list {
		card := teamCard{TeamDetail: t, Scope: s.t(c, "teams.whole_district")}
		if t.Municipality != "" {
			card.Scope = t.MunicipalityName
		}
		member := map[string]bool{}
		for _, m := range t.Members {
			member[m.Username] = true
		}
		for _, u := range staff {
			if member[u.Username] || (u.Role == roleOperator && t.Municipality != "" && u.Municipality != t.Municipality) {
				continue
			}
			label := u.DisplayName + " — " + s.t(c, "teams.role."+u.Role)
			if u.Role == roleOperator {
				label = u.DisplayName + " — " + names[u.Municipality]
			}
			card.Candidates = append(card.Candidates, staffOption{Value: u.Username, Label: label})
		}
		d.Teams = append(d.Teams, card)
	}
	for _, f := range reviews {
		row := fundReviewRow{FundReview: f, Teams: []staffOption{{Value: "", Label: s.t(c, "teams.no_team"), Selected: f.TeamID == ""}}}
		for _, t := range list {
			if t.Municipality == "" || t.Municipality == f.Municipality {
				row.Teams = append(row.Teams, staffOption{Value: t.ID, Label: t.Name, Selected: t.ID == f.TeamID})
			}
		}
		d.Funds = append(d.Funds, row)
	}
	s.render(c, status, "team_admin", v)
	return nil
}

func (s *Site) teamCreateSubmit(c *gin.Context) error {
	req := teams.NewTeam{Name: c.PostForm("name"), Municipality: c.PostForm("municipality")}
	t, err := s.teams.CreateTeam(c.Request.Context(), httpx.CurrentUser(c), req)
	he := httpx.From(err)
	switch {
	case err == nil:
		setFlash(c, "success", "teams.created", t.Name)
		redirect(c, "/teams#team-"+t.ID)
		return nil
	case he.Status == http.StatusUnprocessableEntity:
		return s.renderTeams(c, http.StatusUnprocessableEntity, req, he.Fields)
	case he.Status == http.StatusConflict:
		return s.renderTeams(c, http.StatusConflict, req, []FieldError{app.Field("/name", he.Code, "web.err.team_name_taken")})
	}
	return err
}

// teamBack is the page again, at the team's section.
// With no team (a fund's settings), at the funds.
func teamBack(c *gin.Context, id string) {
	if id == "" {
		redirect(c, "/teams#funds")
		return
	}
	redirect(c, "/teams#team-"+url.PathEscape(id))
}

// teamFlashError shows a refused change as a flash message next to the
// team, with the field's message when there is one.
func (s *Site) teamFlashError(c *gin.Context, err error, id string) error {
	he := httpx.From(err)
	switch {
	case he.Status == http.StatusNotFound:
		s.pageError(c, http.StatusNotFound)
		return nil
	case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
		setFlash(c, "danger", "teams.err.refused", he.Fields[0].In(pageLang(c)))
	case he.Status == http.StatusConflict:
		setFlash(c, "danger", "teams.err."+he.Code)
	default:
		return err
	}
	teamBack(c, id)
	return nil
}

func (s *Site) teamMemberAddSubmit(c *gin.Context) error {
	id := c.Param("id")
	t, err := s.teams.AddMember(c.Request.Context(), httpx.CurrentUser(c), id, teams.TeamMember{Username: c.PostForm("username")})
	if err != nil {
		return s.teamFlashError(c, err, id)
	}
	setFlash(c, "success", "teams.member_added", c.PostForm("username"), t.Name)
	teamBack(c, id)
	return nil
}

func (s *Site) teamMemberRemoveSubmit(c *gin.Context) error {
	id, username := c.Param("id"), c.Param("username")
	res, err := s.teams.RemoveMember(c.Request.Context(), httpx.CurrentUser(c), id, username)
	if err != nil {
		return s.teamFlashError(c, err, id)
	}
	setFlash(c, "success", "teams.member_removed", username, res.Team.Name, strconv.Itoa(res.KeptClaimedTasks))
	teamBack(c, id)
	return nil
}

func (s *Site) teamAutoAssignSubmit(c *gin.Context) error {
	id := c.Param("id")
	on := c.PostForm("auto_assign") == "on"
	t, err := s.teams.SetAutoAssign(c.Request.Context(), httpx.CurrentUser(c), id, teams.TeamPatch{AutoAssign: &on})
	if err != nil {
		return s.teamFlashError(c, err, id)
	}
	key := "teams.auto_off_saved"
	if on {
		key = "teams.auto_on_saved"
	}
	setFlash(c, "success", key, t.Name)
	teamBack(c, id)
	return nil
}

func (s *Site) fundReviewSubmit(c *gin.Context) error {
	team := c.PostForm("team_id")
	auto := c.PostForm("auto_assign") == "on"
	f, err := s.teams.SetFundReview(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), teams.FundReviewChoice{TeamID: &team, AutoAssign: &auto})
	if err != nil {
		return s.teamFlashError(c, err, "")
	}
	setFlash(c, "success", "teams.fund_saved", f.FundName)
	redirect(c, "/teams#funds")
	return nil
}
