package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// The supervisors' "Squadre" page (/teams): the district's teams with
// their members and load, a form to create one, per team the automatic
// assignment switch and the members (add, remove), and which team reviews
// each fund. The same methods as the JSON API do the work (team_admin.go),
// so every change is audited.

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

func (s *server) teamsPage(c *gin.Context) error {
	return s.renderTeams(c, http.StatusOK, newTeamRequest{}, nil)
}

// renderTeams shows the page with the creation form filled from req and
// the problems of a refused creation next to their fields.
func (s *server) renderTeams(c *gin.Context, status int, req newTeamRequest, problems []FieldError) error {
	ctx := c.Request.Context()
	user := currentUser(c)
	teams, err := s.api.TeamDetails(ctx, user.District)
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
	reviews, err := s.api.FundReviews(ctx, user.District)
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
		msg := fieldMessage(pageLang(c), p.MessageIT, p.Message)
		if p.Pointer == "/municipality" {
			d.MunicipalityErr = msg
			v.Errors = append(v.Errors, summaryItem{Href: "#team-municipality", Text: s.t(c, "teams.municipality") + ": " + msg})
			continue
		}
		d.Name.Error = msg
		v.Errors = append(v.Errors, summaryItem{Href: "#team-name", Text: d.Name.Label + ": " + msg})
	}
	for _, t := range teams {
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
		for _, t := range teams {
			if t.Municipality == "" || t.Municipality == f.Municipality {
				row.Teams = append(row.Teams, staffOption{Value: t.ID, Label: t.Name, Selected: t.ID == f.TeamID})
			}
		}
		d.Funds = append(d.Funds, row)
	}
	s.render(c, status, "team_admin", v)
	return nil
}

func (s *server) teamCreateSubmit(c *gin.Context) error {
	req := newTeamRequest{Name: c.PostForm("name"), Municipality: c.PostForm("municipality")}
	t, err := s.createTeam(c.Request.Context(), currentUser(c), req)
	he := toHTTP(err)
	switch {
	case err == nil:
		setFlash(c, "success", "teams.created", t.Name)
		redirect(c, "/teams#team-"+t.ID)
		return nil
	case he.status == http.StatusUnprocessableEntity:
		return s.renderTeams(c, http.StatusUnprocessableEntity, req, he.fields)
	case he.status == http.StatusConflict:
		return s.renderTeams(c, http.StatusConflict, req, []FieldError{field("/name", he.code,
			"The district already has a team with this name.", "L'ambito ha già una squadra con questo nome.")})
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
func (s *server) teamFlashError(c *gin.Context, err error, id string) error {
	he := toHTTP(err)
	switch {
	case he.status == http.StatusNotFound:
		s.pageError(c, http.StatusNotFound)
		return nil
	case he.status == http.StatusUnprocessableEntity && len(he.fields) > 0:
		setFlash(c, "danger", "teams.err.refused", fieldMessage(pageLang(c), he.fields[0].MessageIT, he.fields[0].Message))
	case he.status == http.StatusConflict:
		setFlash(c, "danger", "teams.err."+he.code)
	default:
		return err
	}
	teamBack(c, id)
	return nil
}

func (s *server) teamMemberAddSubmit(c *gin.Context) error {
	id := c.Param("id")
	t, err := s.addTeamMember(c.Request.Context(), currentUser(c), id, c.PostForm("username"))
	if err != nil {
		return s.teamFlashError(c, err, id)
	}
	setFlash(c, "success", "teams.member_added", c.PostForm("username"), t.Name)
	teamBack(c, id)
	return nil
}

func (s *server) teamMemberRemoveSubmit(c *gin.Context) error {
	id, username := c.Param("id"), c.Param("username")
	res, err := s.removeTeamMember(c.Request.Context(), currentUser(c), id, username)
	if err != nil {
		return s.teamFlashError(c, err, id)
	}
	setFlash(c, "success", "teams.member_removed", username, res.Team.Name, strconv.Itoa(res.KeptClaimedTasks))
	teamBack(c, id)
	return nil
}

func (s *server) teamAutoAssignSubmit(c *gin.Context) error {
	id := c.Param("id")
	on := c.PostForm("auto_assign") == "on"
	t, err := s.setTeamAutoAssign(c.Request.Context(), currentUser(c), id, on)
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

func (s *server) fundReviewSubmit(c *gin.Context) error {
	team := c.PostForm("team_id")
	auto := c.PostForm("auto_assign") == "on"
	f, err := s.setFundReview(c.Request.Context(), currentUser(c), c.Param("id"), fundReviewRequest{TeamID: &team, AutoAssign: &auto})
	if err != nil {
		return s.teamFlashError(c, err, "")
	}
	setFlash(c, "success", "teams.fund_saved", f.FundName)
	redirect(c, "/teams#funds")
	return nil
}

var teamAdminMessages = map[string]msg{
	"nav.teams":   {"Squadre", "Teams"},
	"teams.title": {"Squadre", "Teams"},
	"teams.intro": {"Le squadre istruiscono le pratiche dei fondi che seguono. Con l'assegnazione automatica ogni nuova pratica va al membro con meno pratiche in carico (escluse le persone assenti).",
		"Teams review the cases of the funds they follow. With automatic assignment each new case goes to the member with the fewest claimed tasks (people out of office are skipped)."},
	"teams.create":          {"Nuova squadra", "New team"},
	"teams.name":            {"Nome della squadra", "Team name"},
	"teams.name_hint":       {"Ad esempio: Istruttoria buoni spesa – Tradate. Ogni nome si usa una volta nell'ambito.", "For example: Food voucher review – Tradate. Each name is used once in the district."},
	"teams.municipality":    {"Comune", "Municipality"},
	"teams.whole_district":  {"Tutto l'ambito", "Whole district"},
	"teams.create_submit":   {"Crea la squadra", "Create the team"},
	"teams.none":            {"Nessuna squadra: le pratiche restano nella coda del comune.", "No team: cases stay in the municipality's queue."},
	"teams.list":            {"Squadre dell'ambito", "The district's teams"},
	"teams.scope":           {"Ambito di lavoro: %s", "Works for: %s"},
	"teams.auto_on":         {"Assegnazione automatica: attiva", "Automatic assignment: on"},
	"teams.auto_off":        {"Assegnazione automatica: non attiva", "Automatic assignment: off"},
	"teams.turn_on":         {"Attiva l'assegnazione automatica", "Turn automatic assignment on"},
	"teams.turn_off":        {"Disattiva l'assegnazione automatica", "Turn automatic assignment off"},
	"teams.members_caption": {"Membri di %s e pratiche in carico", "Members of %s and their claimed tasks"},
	"teams.col.member":      {"Membro", "Member"},
	"teams.col.role":        {"Ruolo", "Role"},
	"teams.col.load":        {"Pratiche in carico", "Claimed tasks"},
	"teams.col.actions":     {"Azioni", "Actions"},
	"teams.no_members":      {"Nessun membro.", "No members."},
	"teams.remove":          {"Rimuovi", "Remove"},
	"teams.remove_note": {"Chi viene rimosso tiene le pratiche che ha già in carico (riassegnale dalla lista pratiche se serve); non riceve più le nuove pratiche della squadra.",
		"Whoever is removed keeps the tasks they have already claimed (reassign them from the inbox if need be); they no longer get the team's new cases."},
	"teams.add_member":                      {"Aggiungi un membro a %s", "Add a member to %s"},
	"teams.add_member_hint":                 {"Operatori del comune della squadra o supervisori dell'ambito.", "Social workers of the team's municipality or supervisors of the district."},
	"teams.add_submit":                      {"Aggiungi", "Add"},
	"teams.nobody_to_add":                   {"Tutte le persone che possono farne parte sono già nella squadra.", "Everyone who may join is in the team already."},
	"teams.reviews":                         {"Chi istruisce ogni fondo", "Who reviews each fund"},
	"teams.reviews_intro":                   {"Le nuove pratiche di un fondo vanno alla squadra scelta; quelle già aperte restano dove sono.", "New cases of a fund go to the chosen team; cases already open stay where they are."},
	"teams.fund_team":                       {"Squadra per %s", "Team for %s"},
	"teams.fund_auto":                       {"Assegnazione automatica per %s", "Automatic assignment for %s"},
	"teams.fund_save":                       {"Salva", "Save"},
	"teams.no_team":                         {"Nessuna: coda del comune", "None: the municipality's queue"},
	"teams.role.supervisor":                 {"supervisore", "supervisor"},
	"teams.role.operator":                   {"operatore", "social worker"},
	"teams.created":                         {"Squadra %s creata.", "Team %s created."},
	"teams.member_added":                    {"%s aggiunto alla squadra %s.", "%s added to team %s."},
	"teams.member_removed":                  {"%s rimosso dalla squadra %s: tiene le %s pratiche che ha in carico.", "%s removed from team %s: they keep the %s tasks they have claimed."},
	"teams.auto_on_saved":                   {"Assegnazione automatica attivata per %s.", "Automatic assignment turned on for %s."},
	"teams.auto_off_saved":                  {"Assegnazione automatica disattivata per %s.", "Automatic assignment turned off for %s."},
	"teams.fund_saved":                      {"Impostazioni del fondo %s salvate.", "Settings of fund %s saved."},
	"teams.err.refused":                     {"Modifica non eseguita: %s", "Not changed: %s"},
	"teams.err.already_member":              {"La persona fa già parte della squadra.", "That person is already a member of the team."},
	"audit.action.team_created":             {"Creazione squadra", "Team created"},
	"audit.action.team_member_added":        {"Aggiunta membro alla squadra", "Team member added"},
	"audit.action.team_member_removed":      {"Rimozione membro dalla squadra", "Team member removed"},
	"audit.action.team_auto_assign_changed": {"Assegnazione automatica della squadra", "Team automatic assignment"},
	"audit.action.fund_review_changed":      {"Squadra e assegnazione del fondo", "Fund team and assignment"},
}
