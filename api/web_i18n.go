package api

import (
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/calendar"
)

// Languages of the portal: Italian first (the default), English second.
const (
	langIT = "it"
	langEN = "en"
)

var languages = []string{langIT, langEN}

// langCookie remembers the visitor's language choice.
const langCookie = "lang"

// msg is one catalogue entry.
type msg struct{ it, en string }

// catalogue holds every user-visible string of the pages that does not come
// from a form schema, Italian and English. Keys are dotted:
// "<area>.<what>". Values may hold fmt verbs filled from the extra arguments
// of the template func t. It is the common texts below and each area's own
// list, named here once (no init-time registration).
var catalogue = mergeMessages(commonMessages,
	caseCountMsgs, deskTrustMsgs, doorMessages, serviceVouchersMsgs, absenceMessages,
	webApplyMsgs, auditMessages, billingMessages, bulkMessages, catalogueMessages,
	checkoutMessages, webCitizenMsgs, webCoopBookingsI18nMsgs, webDeskI18nMsgs,
	incidentMessages, officeCalendarMessages, pointsMessages, staffMessages, teamAdminMessages)

// commonMessages are the texts shared by every page (layout, errors, home,
// the citizen's area).
var commonMessages = map[string]msg{
	"site.name":       {"Sportello sociale — Ambito di Tradate", "Social desk — Tradate district"},
	"site.short":      {"Sportello sociale", "Social desk"},
	"site.tagline":    {"Servizi sociali online dei comuni dell'ambito", "Online social services of the district's municipalities"},
	"site.owner":      {"Ufficio di Piano dell'Ambito", "District planning office"},
	"skip.content":    {"Vai al contenuto principale", "Skip to main content"},
	"skip.footer":     {"Vai al piè di pagina", "Skip to footer"},
	"lang.label":      {"Lingua", "Language"},
	"lang.switch":     {"Scegli la lingua", "Choose the language"},
	"lang.it":         {"Italiano", "Italiano"},
	"lang.en":         {"English", "English"},
	"nav.home":        {"Home", "Home"},
	"nav.me":          {"Area personale", "Personal area"},
	"nav.inbox":       {"Pratiche da lavorare", "Case inbox"},
	"nav.search":      {"Cerca una pratica", "Search a case"},
	"nav.funds":       {"Fondi", "Funds"},
	"nav.till":        {"Cassa buoni", "Voucher till"},
	"nav.main":        {"Menu principale", "Main menu"},
	"nav.breadcrumb":  {"Percorso", "Breadcrumb"},
	"user.menu":       {"Menu utente", "User menu"},
	"user.logged_as":  {"Accesso effettuato come %s", "Logged in as %s"},
	"login.link":      {"Accedi", "Log in"},
	"logout.button":   {"Esci", "Log out"},
	"logout.done":     {"Sei uscito dall'area riservata.", "You have logged out."},
	"footer.about":    {"Sportello sociale dell'Ambito di Tradate: domande di contributi comunali, buoni spesa e servizi sociali.", "Social desk of the Tradate district: municipal benefits, food vouchers and social services."},
	"footer.privacy":  {"Informativa privacy", "Privacy notice"},
	"footer.a11y":     {"Dichiarazione di accessibilità", "Accessibility statement"},
	"footer.legal":    {"Note legali", "Legal notes"},
	"role.citizen":    {"Cittadino", "Citizen"},
	"role.operator":   {"Operatore sociale", "Social worker"},
	"role.supervisor": {"Supervisore", "Supervisor"},
	"role.merchant":   {"Esercente", "Merchant"},

	"home.title":           {"Servizi e bandi aperti", "Services and open calls"},
	"home.intro":           {"Presenta online le domande per i contributi del tuo comune e segui le tue pratiche.", "Apply online for your municipality's benefits and follow your cases."},
	"home.calls":           {"Bandi aperti", "Open calls"},
	"home.no_calls":        {"Al momento non ci sono bandi aperti.", "There are no open calls at the moment."},
	"home.apply":           {"Presenta la domanda", "Apply"},
	"home.apply_for":       {"Presenta la domanda: %s", "Apply: %s"},
	"home.login_to_apply":  {"Accedi per presentare la domanda", "Log in to apply"},
	"home.staff_areas":     {"Le tue aree di lavoro", "Your work areas"},
	"home.welcome":         {"Benvenuto, %s", "Welcome, %s"},
	"home.citizen_me":      {"Consulta le tue pratiche e i tuoi buoni nell'area personale.", "See your cases and vouchers in your personal area."},
	"home.staff_only_note": {"Le domande online sono riservate ai cittadini.", "Online applications are for citizens."},

	"login.title":          {"Accedi", "Log in"},
	"login.intro":          {"Accedi con le credenziali ricevute dal tuo comune.", "Log in with the credentials your municipality gave you."},
	"login.username":       {"Nome utente", "Username"},
	"login.password":       {"Password", "Password"},
	"login.submit":         {"Accedi", "Log in"},
	"login.bad":            {"Nome utente o password non corretti.", "Wrong username or password."},
	"login.username_req":   {"Inserisci il nome utente.", "Enter your username."},
	"login.password_req":   {"Inserisci la password.", "Enter your password."},
	"login.too_long":       {"Il valore è troppo lungo.", "The value is too long."},
	"login.demo":           {"Account dimostrativi: cittadino.tradate, operatore.tradate, supervisore, esercente.tradate (password: demo).", "Demo accounts: cittadino.tradate, operatore.tradate, supervisore, esercente.tradate (password: demo)."},
	"login.welcome":        {"Accesso effettuato. Benvenuto, %s.", "Logged in. Welcome, %s."},
	"login.session_needed": {"Accedi per continuare.", "Log in to continue."},
	"login.session_idle":   {"La sessione è scaduta per inattività: accedi di nuovo.", "Your session ended after a time without activity: log in again."},
	"login.throttled":      {"Troppi tentativi non riusciti: riprova tra %s secondi.", "Too many failed attempts: try again in %s seconds."},
	"login.busy":           {"Troppi accessi in questo momento: riprova tra qualche secondo.", "Too many logins at this moment: try again in a few seconds."},

	"form.errors_title": {"Il modulo contiene errori", "The form has errors"},
	"form.errors_count": {"Correggi i %d errori indicati:", "Please fix the %d problems below:"},
	"form.error_one":    {"Correggi l'errore indicato:", "Please fix the problem below:"},
	"form.required":     {"obbligatorio", "required"},
	"form.back":         {"Indietro", "Back"},
	"form.continue":     {"Continua", "Continue"},
	"form.error_prefix": {"Errore:", "Error:"},

	"error.title.400":  {"Richiesta non valida", "Bad request"},
	"error.title.403":  {"Accesso non consentito", "Access denied"},
	"error.title.404":  {"Pagina non trovata", "Page not found"},
	"error.title.405":  {"Operazione non consentita", "Method not allowed"},
	"error.title.409":  {"Operazione non possibile", "Action not possible"},
	"error.title.413":  {"Richiesta troppo grande", "Request too large"},
	"error.title.422":  {"Dati non validi", "Invalid data"},
	"error.title.500":  {"Errore del servizio", "Service error"},
	"error.title.503":  {"Servizio momentaneamente non disponibile", "Service temporarily unavailable"},
	"error.text.400":   {"La richiesta non è valida.", "The request is not valid."},
	"error.text.403":   {"Non hai i permessi per questa pagina o per questa operazione. Se la richiesta veniva da un altro sito è stata bloccata per sicurezza.", "You may not open this page or perform this action. A request coming from another site is blocked for your safety."},
	"error.text.404":   {"La pagina che cerchi non esiste o non è visibile con il tuo profilo.", "The page you are looking for does not exist or is not visible to you."},
	"error.text.405":   {"Questa operazione non è consentita su questa pagina.", "This action is not allowed on this page."},
	"error.text.409":   {"L'operazione non è possibile nello stato attuale della pratica.", "The action is not possible in the current state of the case."},
	"error.text.413":   {"I dati inviati sono troppo grandi.", "The data sent is too large."},
	"error.text.422":   {"I dati inviati non sono validi.", "The data sent is not valid."},
	"error.text.500":   {"Si è verificato un errore. Riprova tra qualche minuto; se il problema persiste comunica il codice della richiesta.", "Something went wrong. Try again in a few minutes; if the problem persists, quote the request code."},
	"error.text.503":   {"Un servizio interno non ha risposto in tempo. Riprova tra qualche istante.", "An internal service did not answer in time. Try again in a moment."},
	"error.request_id": {"Codice della richiesta: %s", "Request code: %s"},
	"error.home":       {"Torna alla home", "Back to the home page"},

	// A 422 page of the input rules (inputHygiene, formHygiene), before the list of fields.
	"error.text.422_text": {"Il testo inviato contiene caratteri non ammessi (caratteri di controllo come NUL, caratteri invisibili che cambiano la direzione di scrittura, o byte non UTF-8). Correggi questi campi e riprova:",
		"The text sent holds characters that are not allowed (control characters such as NUL, invisible characters that change the direction of writing, or bytes that are not UTF-8). Correct these fields and try again:"},

	"me.title":        {"Area personale", "Personal area"},
	"me.cases":        {"Le mie pratiche", "My cases"},
	"me.no_cases":     {"Non hai ancora presentato domande.", "You have not applied yet."},
	"me.vouchers":     {"I miei buoni", "My vouchers"},
	"me.no_vouchers":  {"Non hai buoni.", "You have no vouchers."},
	"me.case_number":  {"Numero pratica", "Case number"},
	"me.case_form":    {"Domanda", "Application"},
	"me.case_status":  {"Stato", "Status"},
	"me.case_date":    {"Presentata il", "Filed on"},
	"me.open":         {"Apri", "Open"},
	"me.open_case":    {"Apri la pratica %s", "Open case %s"},
	"me.open_voucher": {"Apri il buono %s", "Open voucher %s"},
	"me.new":          {"Presenta una nuova domanda", "Submit a new application"},

	"status.submitted":      {"Presentata", "Submitted"},
	"status.in_review":      {"In istruttoria", "Under review"},
	"status.info_requested": {"Integrazione richiesta", "Information requested"},
	"status.approved":       {"Accolta", "Approved"},
	"status.rejected":       {"Respinta", "Rejected"},
	"status.closed":         {"Chiusa", "Closed"},
	"status.active":         {"Attivo", "Active"},
	"status.expired":        {"Scaduto", "Expired"},
}

// mergeMessages joins the areas' texts into one catalogue; a duplicate key
// is a programming error and panics at start-up.
func mergeMessages(areas ...map[string]msg) map[string]msg {
	all := map[string]msg{}
	for _, m := range areas {
		for k, v := range m {
			if _, dup := all[k]; dup {
				panic("api: duplicate message key " + k)
			}
			all[k] = v
		}
	}
	return all
}

// translate returns the message key in lang, formatted with args. A
// missing key is shown as the key itself, so it is easy to spot.
func translate(lang, key string, args ...any) string {
	m, ok := catalogue[key]
	if !ok {
		return key
	}
	s := m.it
	if lang == langEN && m.en != "" {
		s = m.en
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// hasMessage reports whether key is in the catalogue.
func hasMessage(key string) bool {
	_, ok := catalogue[key]
	return ok
}

// pageLang is the language of the request: the lang cookie when valid,
// Italian otherwise.
func pageLang(c *gin.Context) string {
	if v, err := c.Cookie(langCookie); err == nil && v == langEN {
		return langEN
	}
	return langIT
}

// fieldMessage is the message of a field problem in lang.
func fieldMessage(lang string, it, en string) string {
	if lang == langEN || it == "" {
		return en
	}
	return it
}

// formatEuro formats cents as euro in the language's conventions:
// "€ 1.234,50" in Italian, "€1,234.50" in English.
func formatEuro(lang string, cents int64) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole, frac := cents/100, cents%100
	digits := fmt.Sprintf("%d", whole)
	sep, dec := ".", ","
	if lang == langEN {
		sep, dec = ",", "."
	}
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	out := fmt.Sprintf("%s%s%02d", b.String(), dec, frac)
	if neg {
		out = "-" + out
	}
	if lang == langEN {
		return "€" + out
	}
	return "€ " + out
}

var (
	monthsIT = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
		"settembre", "ottobre", "novembre", "dicembre"}
)

// formatDate formats a date in Rome time: "3 marzo 2026" / "3 March 2026".
func formatDate(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(calendar.Rome())
	if lang == langEN {
		return t.Format("2 January 2006")
	}
	return fmt.Sprintf("%d %s %d", t.Day(), monthsIT[t.Month()-1], t.Year())
}

// formatDateTime formats an instant in Rome time with hours and minutes.
func formatDateTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	r := t.In(calendar.Rome())
	if lang == langEN {
		return formatDate(lang, t) + ", " + r.Format("15:04")
	}
	return formatDate(lang, t) + ", ore " + r.Format("15:04")
}
