package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/district"
	"sportello/internal/store"
)

// The public information pages and news of each district (issue 15,
// part 5), in Italian and English, written in internal/richtext's language.
// They are written only when missing: what supervisors change stays. The
// contacts are demo data that look real (the Social Points' are theirs).

// pageFacts are what a district's pages say about its office.
type pageFacts struct {
	District string
	Office   string // the Ufficio di Piano's address
	Phone    string // the call centre
	PhoneURI string
	Email    string
	PEC      string
	DPO      string
	A11y     string // the accessibility contact
	HoursIT  []string
	HoursEN  []string
	Points   string // the Social Points as a list ("": those of the demo's district file)
}

// districtFacts are the demo facts of every seeded district: the address,
// phone, e-mail, PEC and call-centre hours agree with deploy/districts/*.json.
func districtFacts() []pageFacts {
	return []pageFacts{
		{District: "tradate", Office: "Piazza Mazzini 6, 21049 Tradate (VA)", Phone: "0331 826811", PhoneURI: "+390331826811",
			Email: "ufficio.piano@example.org", PEC: "ufficio.piano.tradate@pec.example.org", DPO: "dpo@ambito-tradate.example",
			A11y:    "accessibilita@ambito-tradate.example",
			HoursIT: []string{"dal lunedì al venerdì dalle 9:00 alle 12:30", "giovedì anche dalle 14:00 alle 17:00"},
			HoursEN: []string{"Monday to Friday, 9:00 to 12:30", "Thursday also 14:00 to 17:00"}},
		{District: "alta-padovana", Office: "Viale Silvestro Camerini 3, 35016 Piazzola sul Brenta (PD)", Phone: "049 000 0100", PhoneURI: "+390490000100",
			Email: "info@benecomune.example.org", PEC: "benecomune@pec.example.org", DPO: "dpo@benecomune.example.org",
			A11y:    "accessibilita@benecomune.example.org",
			HoursIT: []string{"dal lunedì al venerdì dalle 9:00 alle 13:00", "martedì e giovedì anche dalle 15:00 alle 17:30"},
			HoursEN: []string{"Monday to Friday, 9:00 to 13:00", "Tuesday and Thursday also 15:00 to 17:30"}},
	}
}

// factsOf are the facts of a district no demo fact names, read from its
// district file's contacts (its e-mail where the file names no data
// protection officer, accessibility contact or PEC).
func factsOf(f district.File) pageFacts {
	c := f.Contacts
	facts := pageFacts{District: f.ID, Office: c.Address, Phone: c.Phone, PhoneURI: strings.ReplaceAll(c.Phone, " ", ""),
		Email: c.Email, PEC: c.PEC, DPO: c.Email, A11y: c.Email}
	if !strings.HasPrefix(facts.PhoneURI, "+") {
		facts.PhoneURI = "+39" + facts.PhoneURI
	}
	if facts.PEC == "" {
		facts.PEC = c.Email
	}
	if c.DPO != "" {
		facts.DPO = c.DPO
	}
	if c.Accessibility != "" {
		facts.A11y = c.Accessibility
	}
	if h := c.CallCentreHours; h.IT != "" {
		facts.HoursIT, facts.HoursEN = []string{h.IT}, []string{h.EN}
	}
	facts.Points = socialPoints(f.SocialPoints)
	return facts
}

// PagesOf are the public information pages of a district file in both
// languages: the demo's for a demo district, else written from the file's
// contacts and Social Points (issue 15: a new district needs no code).
func PagesOf(f district.File) []store.InfoPage {
	facts := factsOf(f)
	for _, known := range districtFacts() {
		if known.District == f.ID {
			facts = known
		}
	}
	var out []store.InfoPage
	for _, lang := range []string{"it", "en"} {
		for _, p := range pageTexts(facts, f.Name.In(lang), lang) {
			p.District, p.Lang, p.Published = f.ID, lang, true
			out = append(out, p)
		}
	}
	return out
}

// EnsurePages writes the pages of PagesOf(f) its district lacks; those its
// supervisors wrote or changed stay (`sportello district apply`).
func EnsurePages(ctx context.Context, st *store.Store, f district.File) error {
	return st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		for _, p := range PagesOf(f) {
			if err := store.SeedInfoPage(ctx, tx, p); err != nil {
				return fmt.Errorf("seed: info page %s/%s/%s: %w", p.District, p.Slug, p.Lang, err)
			}
		}
		return nil
	})
}

// a11yPrepared is the date of the accessibility statement's self-assessment.
var a11yPrepared = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// InfoPages are the seeded pages of every district in both languages.
func InfoPages() []store.InfoPage {
	names := map[string]string{}
	for _, f := range mustFiles() {
		names[f.ID] = f.Name.IT
	}
	var out []store.InfoPage
	for _, f := range districtFacts() {
		for _, lang := range []string{"it", "en"} {
			for _, p := range pageTexts(f, names[f.District], lang) {
				p.District, p.Lang, p.Published = f.District, lang, true
				out = append(out, p)
			}
		}
	}
	return out
}

// bullets writes items as a list.
func bullets(items []string) string {
	return "- " + strings.Join(items, "\n- ")
}

// pointsList lists the district's Social Points (from its district file).
func pointsList(district string) string {
	for _, f := range mustFiles() {
		if f.ID == district {
			return socialPoints(f.SocialPoints)
		}
	}
	return ""
}

// socialPoints lists points with their contacts ("" for none).
func socialPoints(points []district.SocialPoint) string {
	var items []string
	for _, p := range points {
		item := fmt.Sprintf("**%s**: %s", p.Name, p.Address)
		if p.Phone != "" {
			item += fmt.Sprintf(", tel. [%s](tel:%s)", p.Phone, "+39"+strings.ReplaceAll(p.Phone, " ", ""))
		}
		if p.Email != "" {
			item += fmt.Sprintf(", [%s](mailto:%s)", p.Email, p.Email)
		}
		items = append(items, item)
	}
	if len(items) == 0 {
		return ""
	}
	return bullets(items)
}

func pageTexts(f pageFacts, name, lang string) []store.InfoPage {
	mail := func(a string) string { return fmt.Sprintf("[%s](mailto:%s)", a, a) }
	phone := fmt.Sprintf("[%s](tel:%s)", f.Phone, f.PhoneURI)
	points := f.Points
	if points == "" {
		points = pointsList(f.District)
	}
	hours := func(h []string) string {
		if len(h) == 0 {
			return ""
		}
		return ", " + strings.Join(h, "; ")
	}
	if lang == "en" {
		contacts := "## Call centre\n\nPhone " + phone + hours(f.HoursEN) + ".\n\n" +
			"## District planning office (Ufficio di Piano)\n\n" + f.Office + "\n\n- E-mail: " + mail(f.Email) +
			"\n- Certified e-mail (PEC): " + mail(f.PEC)
		if points != "" {
			contacts += "\n\n## Social Points\n\nBy appointment, to register, apply on your behalf or talk to a social worker.\n\n" + points
		}
		return []store.InfoPage{
			{Slug: "servizi", Title: "About the services", Body: "The social desk of " + name + " brings online what the municipalities of the district offer.\n\n" +
				"## Municipal benefits and food vouchers\n\nApply online for the calls that are open (see the home page); a social worker reviews each application. Approved food vouchers are spent at the [affiliated shops and pharmacies](/shops).\n\n" +
				"## Services of the accredited cooperatives\n\n- YouCare: sport, education, culture and free time\n- ChildCare: services for children\n- SilverCare: services for the elderly\n- FamilyCare: family support, psychological help, home care\n- House&PetCare\n\nBrowse the [catalogue](/services): prices may depend on your household's ISEE band, and you can pay with a municipal voucher, online, or both.\n\n" +
				"## Help in person\n\nThe [Social Points](/social-points) help you register, apply and book."},
			{Slug: "contatti", Title: "Contacts and call-centre hours", Body: contacts},
			{Slug: "credenziali", Title: "How to get credentials", Body: "## With SPID or CIE\n\nIf you have a SPID digital identity or an electronic identity card (CIE), just sign in: your account is created at the first access.\n\n" +
				"## Without SPID or CIE\n\n1. Go to a [Social Point](/social-points) with an identity document and your tax code.\n2. The operator registers you and gives you a printed sheet with your username and an activation code (valid 14 days).\n3. [Activate your account](/attiva) with the code and choose your password.\n\n" +
				"If you lose the code or forget your password, ask the Social Point for a new one or use the forgotten password page. Help by phone: " + phone + "."},
			{Slug: "privacy", Title: "Privacy notice", Body: "Notice under Article 13 of Regulation (EU) 2016/679 (GDPR) for the people who use the social desk.\n\n" +
				"## Controller\n\nThe controller is the municipality of residence of the applicant, which runs its social services jointly through the planning office of " + name + ", " + f.Office + ", " + mail(f.Email) + ", PEC " + mail(f.PEC) + ".\n\n" +
				"## Data protection officer\n\nThe data protection officer (DPO) can be reached at " + mail(f.DPO) + ".\n\n" +
				"## Purposes and legal bases\n\n- Reviewing applications for benefits and vouchers, and paying them: a task in the public interest and legal obligations (GDPR art. 6(1)(c) and (e); Law 328/2000); data on health or social hardship under art. 9(2)(g).\n- Booking and paying for services of accredited cooperatives: the contract with you (art. 6(1)(b)).\n- Security of the service and the audit trail: legal obligation and public interest (art. 6(1)(c) and (e)).\n\n" +
				"## Recipients\n\nSocial workers of your municipality and of the district, the cooperatives and shops you choose (only what they need), the payment provider and the municipal accounting system. No data leave the European Union.\n\n" +
				"## Retention\n\nCases are kept for the period set by the district and then pseudonymised; the amounts and the audit trail are kept as the law on public accounts requires. The periods are listed on the page linked below.\n\n" +
				"## Your rights\n\nYou may ask for access, rectification, erasure where the law allows it, restriction and objection (GDPR arts. 15-22) by writing to " + mail(f.DPO) + ". You may download your data from your personal area. You have the right to lodge a complaint with the [Garante per la protezione dei dati personali](https://www.garanteprivacy.it).\n\n" +
				"## Automated decisions\n\nNo decision is taken by automated means only: every application is decided by a social worker."},
			{Slug: "accessibilita", Title: "Accessibility statement", Body: name + " is committed to making its website accessible in accordance with Law 4 of 9 January 2004 and the AgID guidelines. This statement applies to the social desk portal.\n\n" +
				"## Compliance status\n\nThis website is **partially compliant** with the requirements of Annex A to standard UNI CEI EN 301549 (WCAG 2.1 level AA), because of the content listed below.\n\n" +
				"## Non-accessible content\n\n- Printable vouchers and invoices (PDF) are not tagged documents; the same information is on the web pages.\n- The online payment page belongs to the payment provider and is outside this statement.\n\n" +
				"## Preparation of this statement\n\nThis statement was prepared on " + a11yPrepared.Format("2 January 2006") + " by self-assessment: automated checks with axe-core on every page in Italian and English, and manual checks with the keyboard alone, a screen reader and a phone-sized screen.\n\n" +
				"## Feedback and contact information\n\nTo report a problem or ask for content in an accessible form, write to " + mail(f.A11y) + " or call " + phone + ". We answer within 30 days."},
			{Slug: "note-legali", Title: "Legal notes", Body: "## Copyright and licence\n\nThe texts of this site are published by " + name + " under the Creative Commons Attribution 4.0 licence (CC BY 4.0), unless stated otherwise; logos and names of the municipalities and of the cooperatives belong to their owners.\n\n" +
				"## Content and links\n\nThe information is updated carefully but is not binding: calls, amounts and deadlines are those of the acts published on the municipalities' official notice boards. Links to other sites are given for convenience; their content is the responsibility of their owners.\n\n" +
				"## Applicable law\n\nThe use of this site is governed by Italian law."},
		}
	}
	contacts := "## Call center\n\nTelefono " + phone + hours(f.HoursIT) + ".\n\n" +
		"## Ufficio di Piano\n\n" + f.Office + "\n\n- E-mail: " + mail(f.Email) + "\n- PEC: " + mail(f.PEC)
	if points != "" {
		contacts += "\n\n## Social Point\n\nSu appuntamento, per registrarsi, presentare domanda con l'aiuto di un operatore o parlare con un'assistente sociale.\n\n" + points
	}
	return []store.InfoPage{
		{Slug: "servizi", Title: "Informazioni sui servizi", Body: "Lo sportello sociale di " + name + " porta online ciò che offrono i comuni dell'ambito.\n\n" +
			"## Contributi comunali e buoni spesa\n\nPresenta online la domanda per i bandi aperti (sono nella pagina iniziale); ogni domanda è esaminata da un'assistente sociale. I buoni spesa concessi si spendono nei [negozi e nelle farmacie convenzionati](/shops).\n\n" +
			"## Servizi delle cooperative accreditate\n\n- YouCare: sport, educazione, cultura e tempo libero\n- ChildCare: servizi per l'infanzia\n- SilverCare: servizi per gli anziani\n- FamilyCare: sostegno alla famiglia, aiuto psicologico, assistenza domiciliare\n- House&PetCare\n\nConsulta il [catalogo](/services): i prezzi possono dipendere dalla fascia ISEE del nucleo familiare e si paga con un buono comunale, online o in entrambi i modi.\n\n" +
			"## Aiuto di persona\n\nI [Social Point](/social-points) ti aiutano a registrarti, a presentare domanda e a prenotare."},
		{Slug: "contatti", Title: "Contatti e orari del call center", Body: contacts},
		{Slug: "credenziali", Title: "Come ottenere le credenziali", Body: "## Con SPID o CIE\n\nSe hai un'identità digitale SPID o la carta d'identità elettronica (CIE), accedi direttamente: l'account è creato al primo accesso.\n\n" +
			"## Senza SPID o CIE\n\n1. Vai a un [Social Point](/social-points) con un documento d'identità e il codice fiscale.\n2. L'operatore ti registra e ti consegna un foglio con il nome utente e il codice di attivazione (valido 14 giorni).\n3. [Attiva l'account](/attiva) con il codice e scegli la tua password.\n\n" +
			"Se perdi il codice o dimentichi la password, chiedine uno nuovo al Social Point oppure usa la pagina della password dimenticata. Assistenza telefonica: " + phone + "."},
		{Slug: "privacy", Title: "Informativa privacy", Body: "Informativa ai sensi dell'articolo 13 del Regolamento (UE) 2016/679 (GDPR) per chi usa lo sportello sociale.\n\n" +
			"## Titolare del trattamento\n\nIl titolare è il Comune di residenza del richiedente, che gestisce i servizi sociali in forma associata tramite l'Ufficio di Piano di " + name + ", " + f.Office + ", " + mail(f.Email) + ", PEC " + mail(f.PEC) + ".\n\n" +
			"## Responsabile della protezione dei dati\n\nIl responsabile della protezione dei dati (RPD/DPO) si contatta all'indirizzo " + mail(f.DPO) + ".\n\n" +
			"## Finalità e basi giuridiche\n\n- Istruttoria delle domande di contributi e buoni e loro erogazione: esecuzione di un compito di interesse pubblico e obblighi di legge (art. 6, par. 1, lett. c ed e GDPR; legge 328/2000); dati su salute o disagio sociale ai sensi dell'art. 9, par. 2, lett. g.\n- Prenotazione e pagamento dei servizi delle cooperative accreditate: esecuzione del contratto (art. 6, par. 1, lett. b).\n- Sicurezza del servizio e registro delle operazioni: obbligo di legge e interesse pubblico (art. 6, par. 1, lett. c ed e).\n\n" +
			"## Destinatari\n\nGli operatori sociali del tuo comune e dell'ambito, le cooperative e gli esercenti che scegli (solo i dati necessari), il gestore dei pagamenti e il sistema contabile comunale. Nessun dato è trasferito fuori dall'Unione europea.\n\n" +
			"## Conservazione\n\nLe pratiche sono conservate per il periodo stabilito dall'ambito e poi pseudonimizzate; gli importi e il registro delle operazioni sono conservati come richiede la normativa sulla contabilità pubblica. I tempi sono indicati nella pagina collegata qui sotto.\n\n" +
			"## I tuoi diritti\n\nPuoi chiedere l'accesso, la rettifica, la cancellazione nei casi previsti, la limitazione e opporti al trattamento (artt. 15-22 GDPR) scrivendo a " + mail(f.DPO) + ". Puoi scaricare i tuoi dati dall'area personale. Hai diritto di proporre reclamo al [Garante per la protezione dei dati personali](https://www.garanteprivacy.it).\n\n" +
			"## Decisioni automatizzate\n\nNessuna decisione è presa con mezzi esclusivamente automatizzati: ogni domanda è decisa da un'assistente sociale."},
		{Slug: "accessibilita", Title: "Dichiarazione di accessibilità", Body: name + " si impegna a rendere il proprio sito web accessibile, conformemente alla legge 9 gennaio 2004, n. 4 e alle linee guida AgID. La presente dichiarazione si applica al portale dello sportello sociale.\n\n" +
			"## Stato di conformità\n\nQuesto sito web è **parzialmente conforme** ai requisiti previsti dall'allegato A alla norma UNI CEI EN 301549 (WCAG 2.1 livello AA), per i contenuti elencati di seguito.\n\n" +
			"## Contenuti non accessibili\n\n- I buoni e le fatture stampabili (PDF) non sono documenti etichettati; le stesse informazioni sono nelle pagine web.\n- La pagina di pagamento online appartiene al gestore dei pagamenti ed è esclusa da questa dichiarazione.\n\n" +
			"## Redazione della dichiarazione di accessibilità\n\nLa dichiarazione è stata redatta il " + a11yPrepared.Format("02/01/2006") + " tramite autovalutazione: verifiche automatiche con axe-core su ogni pagina in italiano e in inglese e verifiche manuali con la sola tastiera, con un lettore di schermo e su schermo di telefono.\n\n" +
			"## Meccanismo di feedback e recapiti\n\nPer segnalare un problema o chiedere un contenuto in forma accessibile scrivi a " + mail(f.A11y) + " o telefona al " + phone + ". Rispondiamo entro 30 giorni."},
		{Slug: "note-legali", Title: "Note legali", Body: "## Diritto d'autore e licenza\n\nI testi di questo sito sono pubblicati da " + name + " con licenza Creative Commons Attribuzione 4.0 (CC BY 4.0), salvo diversa indicazione; loghi e nomi dei comuni e delle cooperative appartengono ai rispettivi titolari.\n\n" +
			"## Contenuti e collegamenti\n\nLe informazioni sono aggiornate con cura ma non hanno valore vincolante: bandi, importi e scadenze sono quelli degli atti pubblicati all'albo pretorio dei comuni. I collegamenti ad altri siti sono offerti per comodità; i loro contenuti sono responsabilità dei rispettivi titolari.\n\n" +
			"## Legge applicabile\n\nL'uso di questo sito è regolato dalla legge italiana."},
	}
}

// NewsItems are the seeded news of every district: two items in each
// language, published on fixed dates (ids derived from district and
// position, so seeding twice writes them once).
func NewsItems() []store.NewsItem {
	at := func(y int, m time.Month, d int) *time.Time {
		t := time.Date(y, m, d, 9, 0, 0, 0, time.UTC)
		return &t
	}
	var out []store.NewsItem
	for i, f := range districtFacts() {
		items := []store.NewsItem{
			{Lang: "it", Title: "Aperte le domande per i buoni spesa", PublishedAt: at(2026, 11, 16),
				Body: "Da oggi si presenta online la domanda per i buoni spesa dei comuni dell'ambito. Servono il codice fiscale dei componenti del nucleo e l'ISEE, se disponibile.\n\nChi non ha SPID o CIE può farsi aiutare a un [Social Point](/social-points) o chiamare il call center al " + f.Phone + "."},
			{Lang: "en", Title: "Applications for food vouchers are open", PublishedAt: at(2026, 11, 16),
				Body: "From today you can apply online for the food vouchers of the district's municipalities. You need the tax codes of your household and, if you have it, the ISEE.\n\nWithout SPID or CIE, a [Social Point](/social-points) can help you, or call the call centre on " + f.Phone + "."},
			{Lang: "it", Title: "Orari del call center durante le festività", PublishedAt: at(2026, 12, 1),
				Body: "Dal 24 dicembre al 6 gennaio il call center risponde dalle 9:00 alle 12:00, nei giorni feriali. Le domande online si possono presentare in ogni momento.\n\nTutti i recapiti sono nella pagina [Contatti](/informazioni/contatti)."},
			{Lang: "en", Title: "Call-centre hours over the holidays", PublishedAt: at(2026, 12, 1),
				Body: "From 24 December to 6 January the call centre answers from 9:00 to 12:00 on working days. Online applications can be filed at any time.\n\nAll contact details are on the [Contacts](/informazioni/contatti) page."},
		}
		for j, n := range items {
			n.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", (i+1)*100+j+1)
			n.District = f.District
			out = append(out, n)
		}
	}
	return out
}

// seedInfoPages writes the missing pages and news.
func seedInfoPages(ctx context.Context, tx pgx.Tx) error {
	for _, p := range InfoPages() {
		if err := store.SeedInfoPage(ctx, tx, p); err != nil {
			return fmt.Errorf("seed: info page %s/%s/%s: %w", p.District, p.Slug, p.Lang, err)
		}
	}
	for _, n := range NewsItems() {
		if err := store.SeedNewsItem(ctx, tx, n); err != nil {
			return fmt.Errorf("seed: news item %s: %w", n.ID, err)
		}
	}
	return nil
}
