package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
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

func (s *Site) auditPage(c *gin.Context) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	f, fields := httpx.AuditFilter(c.Query("case_id"), c.Query("actor"))
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
			msg := fe.In(pageLang(c))
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
	pageNo, err := httpx.PageNumber(c, auditPageSize)
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
func (s *Site) auditActionText(c *gin.Context, action string) string {
	if base, ok := strings.CutSuffix(action, store.AuditRefusedSuffix); ok {
		return s.t(c, "audit.refused", s.tOr(c, "audit.action."+base, base))
	}
	return s.tOr(c, "audit.action."+action, action)
}

// auditDetails words the detail of a row: who it was for, then its members
// in name order ("esito: approve, importo: € 150,00").
func (s *Site) auditDetails(c *gin.Context, e store.AuditEntry) string {
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
		if val == nil || val == "" || (k == "more" && val == false) {
			continue // nothing to say ("more: false" says nothing)
		}
		parts = append(parts, s.tOr(c, "audit.detail."+k, k)+": "+s.auditValue(c, k, val))
	}
	return strings.Join(parts, "; ")
}

// auditValue words one detail value: amounts in euro, yes and no,
// decisions, notification kinds, contact outcomes and channels by their
// labels, a before/after object as its members.
func (s *Site) auditValue(c *gin.Context, k string, val any) string {
	lang := pageLang(c)
	switch v := val.(type) {
	case bool:
		if v {
			return s.t(c, "audit.yes")
		}
		return s.t(c, "audit.no")
	case float64:
		if strings.HasSuffix(k, "_cents") {
			return formatEuro(lang, int64(v))
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		switch k {
		case "outcome":
			if hasMessage("staff.case.outcome." + v) {
				return s.t(c, "staff.case.outcome."+v)
			}
			return s.tOr(c, "desk.outcome."+v, v)
		case "notification":
			return s.tOr(c, "desk.kind."+v, v)
		case "channel":
			return s.tOr(c, "desk.channel."+v, v)
		}
		return v
	case map[string]any:
		keys := make([]string, 0, len(v))
		for kk := range v {
			keys = append(keys, kk)
		}
		slices.Sort(keys)
		var parts []string
		for _, kk := range keys {
			if v[kk] == nil || v[kk] == "" {
				continue
			}
			parts = append(parts, s.tOr(c, "audit.detail."+kk, kk)+" "+s.auditValue(c, kk, v[kk]))
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = s.auditValue(c, k, x)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(val)
}

// Pager is the catalogue prefix of the list's page links (part_pager.html).
func (auditData) Pager() string { return "audit" }
