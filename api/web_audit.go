package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// The supervisors' page of the audit trail: who read or did what on which
// case, when and why, filtered by case number and by user.

// auditPageSize is the number of audit rows per page.
const auditPageSize = 50

type auditData struct {
	CaseID, Actor    fieldView
	Filtered         bool
	Rows             []auditRow
	Total, Page      int
	Pages            int
	PrevURL, NextURL string
	Caption          string
}

type auditRow struct {
	store.AuditEntry
	When, WhenISO string
	Role          string
	ActionText    string
	Details       string
}

func (s *server) auditPage(c *gin.Context) error {
	ctx := c.Request.Context()
	user := currentUser(c)
	f, fields := parseAuditFilter(c.Query("case_id"), c.Query("actor"))
	d := auditData{
		CaseID: fieldView{Name: "case_id", ID: "case_id", Label: s.t(c, "audit.case"), Value: f.CaseID,
			Hint: s.t(c, "audit.case_hint"), Autocomplete: "off", Extra: map[string]string{"maxlength": "64", "spellcheck": "false"}},
		Actor: fieldView{Name: "actor", ID: "actor", Label: s.t(c, "audit.actor"), Value: f.Actor,
			Hint: s.t(c, "audit.actor_hint"), Autocomplete: "off", Extra: map[string]string{"maxlength": "128", "spellcheck": "false"}},
	}
	d.Filtered = f.CaseID != "" || f.Actor != ""
	v := view{Title: s.t(c, "audit.title"), Nav: "audit", Data: &d}
	if len(fields) > 0 {
		for _, fe := range fields {
			msg := fieldMessage(pageLang(c), fe.MessageIT, fe.Message)
			if fe.Parameter == "case_id" {
				d.CaseID.Error = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#case_id", Text: d.CaseID.Label + ": " + msg})
			} else {
				d.Actor.Error = msg
				v.Errors = append(v.Errors, summaryItem{Href: "#actor", Text: d.Actor.Label + ": " + msg})
			}
		}
		s.render(c, http.StatusUnprocessableEntity, "audit", v)
		return nil
	}
	pageNo, err := pageNumber(c, auditPageSize)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = auditPageSize, (pageNo-1)*auditPageSize
	items, total, err := s.api.AuditLog(ctx, user.Scope(), f)
	if err != nil {
		return err
	}
	d.Total, d.Page = total, pageNo
	d.Pages = max(1, (total+auditPageSize-1)/auditPageSize)
	q := url.Values{}
	if f.CaseID != "" {
		q.Set("case_id", f.CaseID)
	}
	if f.Actor != "" {
		q.Set("actor", f.Actor)
	}
	at := func(n int) string {
		q.Set("page", strconv.Itoa(n))
		return "/audit?" + q.Encode()
	}
	if pageNo > 1 {
		d.PrevURL = at(min(pageNo-1, d.Pages))
	}
	if pageNo < d.Pages {
		d.NextURL = at(pageNo + 1)
	}
	switch {
	case f.CaseID != "" && f.Actor != "":
		d.Caption = s.t(c, "audit.caption_case_actor", f.CaseID, f.Actor)
	case f.CaseID != "":
		d.Caption = s.t(c, "audit.caption_case", f.CaseID)
	case f.Actor != "":
		d.Caption = s.t(c, "audit.caption_actor", f.Actor)
	default:
		d.Caption = s.t(c, "audit.caption")
	}
	for _, e := range items {
		d.Rows = append(d.Rows, auditRow{AuditEntry: e, When: romeDateTime(e.At), WhenISO: htmlTime(e.At),
			Role: s.tOr(c, "role."+e.ActorRole, e.ActorRole), ActionText: s.auditActionText(c, e.Action),
			Details: s.auditDetails(c, e)})
	}
	if f.CaseID != "" {
		v.Crumbs = []crumb{{Href: "/cases/" + url.PathEscape(f.CaseID), Text: s.t(c, "staff.case.title", f.CaseID)}}
	}
	s.render(c, http.StatusOK, "audit", v)
	return nil
}

// auditActionText names an action ("decide_refused": "Decisione (rifiutata)").
func (s *server) auditActionText(c *gin.Context, action string) string {
	if base, ok := strings.CutSuffix(action, store.AuditRefusedSuffix); ok {
		return s.t(c, "audit.refused", s.tOr(c, "audit.action."+base, base))
	}
	return s.tOr(c, "audit.action."+action, action)
}

// auditDetails words the detail of a row: who it was for, then its members
// in name order ("esito: approve, importo: € 150,00").
func (s *server) auditDetails(c *gin.Context, e store.AuditEntry) string {
	var parts []string
	if e.ActingFor != "" {
		parts = append(parts, s.t(c, "audit.acting_for", e.ActingFor))
	}
	var d map[string]any
	_ = json.Unmarshal(e.Detail, &d)
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := d[k]
		if val == nil || val == "" {
			continue
		}
		text := fmt.Sprint(val)
		if n, ok := val.(float64); ok {
			text = strconv.FormatFloat(n, 'f', -1, 64)
			if strings.HasSuffix(k, "_cents") {
				text = formatEuro(pageLang(c), int64(n))
			}
		}
		if k == "outcome" {
			text = s.tOr(c, "staff.case.outcome."+text, text)
		}
		parts = append(parts, s.tOr(c, "audit.detail."+k, k)+": "+text)
	}
	return strings.Join(parts, "; ")
}

var auditMessages = map[string]msg{
	"audit.title":                  {"Registro accessi", "Access log"},
	"audit.intro":                  {"Ogni lettura e ogni operazione del personale sulle pratiche dell'ambito, e ogni riscossione degli esercenti. Il registro non si può modificare.", "Every read and every action of the staff on the district's cases, and every merchant redemption. The log cannot be changed."},
	"audit.filters":                {"Filtri", "Filters"},
	"audit.case":                   {"Numero pratica", "Case number"},
	"audit.case_hint":              {"Ad esempio BS-2026-000123.", "For example BS-2026-000123."},
	"audit.actor":                  {"Utente", "User"},
	"audit.actor_hint":             {"Il nome utente, ad esempio operatore.tradate.", "The username, for example operatore.tradate."},
	"audit.apply":                  {"Filtra", "Filter"},
	"audit.reset":                  {"Mostra tutto", "Show everything"},
	"audit.count":                  {"Registrazioni trovate: %d.", "Entries found: %d."},
	"audit.empty":                  {"Nessuna registrazione corrisponde ai filtri.", "No entry matches the filters."},
	"audit.caption":                {"Registro accessi dell'ambito, dal più recente", "Access log of the district, newest first"},
	"audit.caption_case":           {"Registro accessi della pratica %s, dal più recente", "Access log of case %s, newest first"},
	"audit.caption_actor":          {"Registro accessi dell'utente %s, dal più recente", "Access log of user %s, newest first"},
	"audit.caption_case_actor":     {"Registro accessi della pratica %s da parte dell'utente %s, dal più recente", "Access log of case %s by user %s, newest first"},
	"audit.col.when":               {"Quando", "When"},
	"audit.col.actor":              {"Utente", "User"},
	"audit.col.role":               {"Ruolo", "Role"},
	"audit.col.action":             {"Azione", "Action"},
	"audit.col.case":               {"Pratica", "Case"},
	"audit.col.reason":             {"Motivazione", "Reason"},
	"audit.col.detail":             {"Dettagli", "Details"},
	"audit.no_case":                {"—", "—"},
	"audit.pages":                  {"Pagine del registro", "Log pages"},
	"audit.prev":                   {"Pagina precedente", "Previous page"},
	"audit.next":                   {"Pagina successiva", "Next page"},
	"audit.page_of":                {"Pagina %d di %d", "Page %d of %d"},
	"audit.case_link":              {"Registro accessi", "Access log"},
	"audit.case_link_text":         {"Chi ha letto o lavorato questa pratica: registro accessi", "Who read or worked on this case: access log"},
	"audit.refused":                {"%s (rifiutata)", "%s (refused)"},
	"audit.acting_for":             {"per conto di %s", "on behalf of %s"},
	"audit.action.read_case":       {"Consultazione pratica", "Case read"},
	"audit.action.read_timeline":   {"Consultazione cronologia", "History read"},
	"audit.action.read_task":       {"Consultazione attività", "Task read"},
	"audit.action.read_voucher":    {"Consultazione buono", "Voucher read"},
	"audit.action.search":          {"Ricerca", "Search"},
	"audit.action.claim":           {"Presa in carico", "Claim"},
	"audit.action.release":         {"Rilascio", "Release"},
	"audit.action.decide":          {"Decisione", "Decision"},
	"audit.action.assign":          {"Assegnazione", "Assignment"},
	"audit.action.redeem":          {"Riscossione buono", "Voucher redemption"},
	"audit.action.reply_on_behalf": {"Risposta per conto del cittadino", "Reply on behalf of the citizen"},
	"audit.detail.q":               {"ricerca", "query"},
	"audit.detail.tax_code":        {"codice fiscale", "tax code"},
	"audit.detail.results":         {"risultati", "results"},
	"audit.detail.status":          {"stato", "status"},
	"audit.detail.outcome":         {"esito", "outcome"},
	"audit.detail.amount_cents":    {"importo", "amount"},
	"audit.detail.task_id":         {"attività", "task"},
	"audit.detail.voucher_id":      {"buono", "voucher"},
	"audit.detail.merchant_id":     {"esercente", "merchant"},
	"audit.detail.view":            {"vista", "view"},
	"audit.detail.error":           {"errore", "error"},
}

// Pager is the catalogue prefix of the list's page links (part_pager.html).
func (auditData) Pager() string { return "audit" }
