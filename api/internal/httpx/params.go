package httpx

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/app"
	"sportello/internal/app/appointments"
	"sportello/internal/calendar"
	"sportello/internal/store"
)

// Request parameters both adapters read the same way.

// ValidIdempotencyKey is the shape of an idempotency key (a header of the
// JSON API, a hidden field of a page's form).
var ValidIdempotencyKey = regexp.MustCompile(`^[\x21-\x7e]{1,200}$`)

// AgendaFilter reads from/to (YYYY-MM-DD, Rome days; default: today and
// the next 6 days), point_id and status.
func AgendaFilter(c *gin.Context, now time.Time) (store.AppointmentFilter, []FieldError) {
	var fields []FieldError
	today := appointments.DayOf(now)
	f := store.AppointmentFilter{From: today, To: today.AddDate(0, 0, 7), PointID: strings.TrimSpace(c.Query("point_id"))}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		v := strings.TrimSpace(c.Query(name))
		if v == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, v, calendar.Rome())
		if err != nil {
			fields = append(fields, app.Param(name, "invalid", "httpx.err.date_invalid", name))
			continue
		}
		if name == "to" {
			d = d.AddDate(0, 0, 1) // inclusive
		}
		*dst = d
	}
	switch st := c.Query("status"); st {
	case "", store.AppointmentBooked, store.AppointmentAttended, store.AppointmentNotAttended, store.AppointmentCancelled,
		store.AppointmentNoShow:
		f.Status = st
	default:
		fields = append(fields, app.Param("status", "invalid", "httpx.err.agenda_status"))
	}
	return f, fields
}

// AuditFilter checks the filters of the audit views (JSON and page).
func AuditFilter(caseID, actor string) (store.AuditFilter, []FieldError) {
	f := store.AuditFilter{CaseID: strings.ToUpper(strings.TrimSpace(caseID)), Actor: strings.TrimSpace(actor)}
	var fields []FieldError
	if len(f.CaseID) > 64 {
		fields = append(fields, app.Param("case_id", "too_long", "httpx.err.case_id_too_long"))
	}
	if len(f.Actor) > 128 {
		fields = append(fields, app.Param("actor", "too_long", "httpx.err.actor_too_long"))
	}
	return f, fields
}

// CartServiceID reads the :service_id of a cart route (404 when not a number).
func CartServiceID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("service_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound("cart item")
	}
	return id, nil
}

// ServiceID reads the :id of a service route (0, which is no service, when
// not a number).
func ServiceID(c *gin.Context) int64 {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// CaseForCaller decorates a case for the caller: staff get a link to the
// workflow in the Temporal Web UI at uiURL (none when empty).
func CaseForCaller(c *gin.Context, v store.CaseView, uiURL, namespace string) store.CaseView {
	if app.IsStaff(CurrentUser(c).Role) && uiURL != "" {
		v.TemporalUIURL = strings.TrimRight(uiURL, "/") + "/namespaces/" + url.PathEscape(namespace) +
			"/workflows/" + url.PathEscape(v.WorkflowID)
	}
	return v
}
