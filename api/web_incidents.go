package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// The supervisors' page of open incidents: money the platform could not
// move as it should (issue 10), the same list as GET /api/v1/incidents.

type incidentsData struct {
	Rows []store.Incident
}

func (s *server) incidentsPage(c *gin.Context) error {
	items, err := s.api.Incidents(c.Request.Context(), currentUser(c).Scope(), store.IncidentOpen)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "incidents", view{Title: s.t(c, "inc.title"), Nav: "incidents", Data: &incidentsData{Rows: items}})
	return nil
}

var incidentMessages = map[string]msg{
	"nav.incidents":             {"Incidenti", "Incidents"},
	"inc.title":                 {"Incidenti aperti", "Open incidents"},
	"inc.intro":                 {"Movimenti di denaro che la piattaforma non è riuscita a completare: un rimborso rifiutato dal gestore dei pagamenti o che continua a fallire, un pagamento di importo diverso dalla parte online della prenotazione. Ogni incidente è stato segnalato per e-mail ai supervisori dell'ambito.", "Money movements the platform could not complete: a refund the payment provider refused or that keeps failing, a payment whose amount is not the booking's online part. Every incident was e-mailed to the district's supervisors."},
	"inc.none":                  {"Nessun incidente aperto.", "No open incidents."},
	"inc.caption":               {"Incidenti aperti dell'ambito, dal più recente", "Open incidents of the district, newest first"},
	"inc.col.when":              {"Quando", "When"},
	"inc.col.kind":              {"Tipo", "Kind"},
	"inc.col.booking":           {"Prenotazione", "Booking"},
	"inc.col.municipality":      {"Comune", "Municipality"},
	"inc.col.amount":            {"Importo", "Amount"},
	"inc.col.details":           {"Dettagli", "Details"},
	"inc.kind.refund_failed":    {"Rimborso non riuscito", "Refund failed"},
	"inc.kind.payment_mismatch": {"Pagamento non conforme", "Payment not as expected"},
	"inc.booking":               {"n. %d", "no. %d"},
}
