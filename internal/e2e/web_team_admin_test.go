package e2e

import (
	"testing"
)

// TestWebTeamAdmin: the supervisor opens "Squadre" from the menu, sees the
// demo teams with their members and load, is told at the field that a team
// needs a name and that a name in use is taken, creates a team for Tradate,
// adds a member, switches automatic assignment on, makes the team the
// reviewer of Tradate's fund with automatic assignment, removes the member
// (who keeps their claimed tasks, the page says so), and reads the page in
// English; axe finds nothing on any state of the page, on a phone too (where
// the page does not scroll sideways).
func TestWebTeamAdmin(t *testing.T) {
	s := newStack(t)
	p := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	p.FollowIn("nav", "Squadre")
	assertPath(t, p, "/teams")
	assertTitle(t, p, "Squadre")
	assertText(t, p, "Istruttoria buoni spesa – Tradate", "Giulia Verdi (Tradate)", "Assegnazione automatica: non attiva",
		"tiene le pratiche che ha già in carico")
	p.Axe()

	p.Submit("Crea la squadra")
	assertText(t, p, "Il modulo contiene errori", "Indicare il nome della squadra.")
	if p.Attr("#team-name", "aria-invalid") != "true" {
		t.Fatal("the empty name is not marked invalid")
	}
	p.Axe()
	p.Fill("Nome della squadra", "istruttoria buoni spesa – tradate")
	p.Submit("Crea la squadra")
	assertText(t, p, "L'ambito ha già una squadra con questo nome.")
	p.Axe()

	p.Fill("Nome della squadra", "Pronto intervento")
	p.Fill("Comune", "tradate")
	p.Submit("Crea la squadra")
	assertText(t, p, "Squadra Pronto intervento creata.", "Ambito di lavoro: Tradate", "Nessun membro.")
	p.Fill("Aggiungi un membro a Pronto intervento", "operatrice.tradate")
	p.Submit("Aggiungi — Pronto intervento")
	assertText(t, p, "operatrice.tradate aggiunto alla squadra Pronto intervento.")
	p.Submit("Attiva l'assegnazione automatica — Pronto intervento")
	assertText(t, p, "Assegnazione automatica attivata per Pronto intervento.", "Assegnazione automatica: attiva")
	p.Axe()

	fund := "Buoni spesa 2026 - Tradate"
	p.Fill("Squadra per "+fund, "Pronto intervento")
	p.Fill("Assegnazione automatica per "+fund, "true")
	p.Submit("Salva — " + fund)
	assertText(t, p, "Impostazioni del fondo "+fund+" salvate.")
	var team string
	var auto bool
	if err := s.st.Pool.QueryRow(t.Context(), `SELECT coalesce(t.name, ''), f.auto_assign FROM funds f LEFT JOIN teams t ON t.id = f.team_id
		WHERE f.name = $1`, fund).Scan(&team, &auto); err != nil || team != "Pronto intervento" || !auto {
		t.Fatalf("the fund is reviewed by %q, automatic %v (%v)", team, auto, err)
	}

	p.Phone()
	p.Reload()
	noSidewaysScroll(t, p)
	p.Axe()
	p.Submit("Rimuovi — Giulia Verdi (Tradate), Pronto intervento")
	assertText(t, p, "operatrice.tradate rimosso dalla squadra Pronto intervento: tiene le 0 pratiche che ha in carico.")
	p.Axe()
	p.Screenshot("teams-phone")

	p.Navigate("/lang/en?next=/teams")
	assertPage(t, p, "Teams", "Who reviews each fund", "Automatic assignment: on", "keeps the tasks they have already claimed")

	// One row per action, after it: the duplicate name is a refusal.
	for action, want := range map[string]int{"team_created": 1, "team_created_refused": 1, "team_member_added": 1, "team_member_removed": 1,
		"team_auto_assign_changed": 1, "fund_review_changed": 1} {
		if n := s.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND actor_username = 'supervisore'`, action); n != want {
			t.Errorf("%d %s audit rows, want %d", n, action, want)
		}
	}
}
