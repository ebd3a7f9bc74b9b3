package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// The cooperatives' catalogue of the Tradate district (issue 5). The names
// are those of the district's accredited social cooperatives; everything
// else (descriptions, contacts, dates, certifications, services and prices)
// is demonstration data: plausible, not a statement about the real
// cooperatives. Contacts use example.org addresses and 0331 000 numbers.
// The last two cooperatives are invented, to show a suspended accreditation
// and an expired certification.

// ProfileISEE is the ISEE (euro) declared in the profile of cittadino.vedano:
// the catalogue prices his services by it until he applies with another.
const ProfileISEE = 18500

// Cooperatives returns the district's cooperatives; dates are relative to
// today so that the demo stays current (one certification expires within
// 60 days, to show the supervisor's warning).
func Cooperatives(today time.Time) []store.Cooperative {
	d := func(days int) time.Time { return today.AddDate(0, 0, days) }
	exp := func(days int) *time.Time { t := d(days); return &t }
	coop := func(id, name, desc, street, town string, phone int, status string, from, until int, cert string, certDays *time.Time) store.Cooperative {
		return store.Cooperative{ID: id, District: "tradate", Name: name, Description: desc,
			Address: street + ", " + town, Phone: fmt.Sprintf("0331 000%03d", phone),
			Email: "info@" + id + ".example.org", Website: "https://www." + id + ".example.org",
			AccreditationStatus: status, AccreditedFrom: d(from), AccreditedUntil: d(until),
			Certification: cert, CertificationExpires: certDays}
	}
	const iso = "ISO 9001:2015"
	return []store.Cooperative{
		coop("baobab", "Baobab", "Cooperativa sociale di tipo A: servizi educativi per minori e famiglie, centri estivi e doposcuola.",
			"Via Monte Grappa 12", "21049 Tradate (VA)", 101, "accredited", -700, 1000, iso, exp(400)),
		coop("eureka", "Eureka!", "Laboratori educativi, sportivi e culturali per ragazzi e giovani; spazi compiti.",
			"Via Volta 5", "21040 Vedano Olona (VA)", 102, "accredited", -500, 900, iso, exp(300)),
		coop("il-girasole", "Il Girasole", "Assistenza domiciliare ad anziani e persone fragili, pasti a domicilio.",
			"Via Carducci 8", "21049 Tradate (VA)", 103, "accredited", -900, 800, iso, exp(45)),
		coop("naturart", "NaturArt", "Cura del verde, piccole manutenzioni domestiche e servizi per animali da compagnia.",
			"Via dei Boschi 3", "21040 Venegono Superiore (VA)", 104, "accredited", -400, 1100, iso, exp(500)),
		coop("koine", "Koinè", "Sostegno psicologico, mediazione familiare e consulenza educativa per genitori.",
			"Piazza Libertà 2", "21040 Castiglione Olona (VA)", 105, "accredited", -300, 1200, iso, exp(600)),
		coop("la-casa-davanti-al-sole", "La Casa Davanti al Sole", "Servizi per la prima infanzia: spazio gioco, nido famiglia e baby sitting qualificato.",
			"Via Manzoni 21", "21040 Venegono Inferiore (VA)", 106, "accredited", -800, 700, iso, exp(250)),
		coop("l-aquilone", "L'Aquilone", "Centro diurno e attività di socializzazione per anziani; trasporto sociale.",
			"Via Roma 40", "21040 Lonate Ceppino (VA)", 107, "accredited", -600, 950, iso, exp(350)),
		coop("l-arca", "L'Arca", "Assistenza domiciliare, igiene della persona e supporto ai caregiver familiari.",
			"Via Garibaldi 17", "21049 Tradate (VA)", 108, "accredited", -1000, 600, iso, exp(200)),
		coop("solidarieta-e-servizi", "Solidarietà e Servizi", "Servizi alla famiglia: educativa domiciliare, spazio neutro, sostegno alla genitorialità.",
			"Via Mazzini 30", "21040 Gornate Olona (VA)", 109, "accredited", -450, 1050, iso, exp(420)),
		coop("rembrandt", "Rembrandt", "Laboratori artistici e culturali, teatro e musica per bambini, ragazzi e adulti.",
			"Via Verdi 9", "21040 Castelseprio (VA)", 110, "accredited", -350, 1150, iso, exp(520)),
		coop("totem", "Totem", "Attività sportive e ricreative, tempo libero e vacanze per ragazzi e giovani.",
			"Via Europa 14", "21049 Tradate (VA)", 111, "accredited", -250, 1250, iso, exp(330)),
		coop("il-ponte", "Il Ponte (dimostrativa)", "Cooperativa inventata per la demo: accreditamento sospeso, non visibile ai cittadini.",
			"Via del Ponte 1", "21049 Tradate (VA)", 112, "suspended", -600, 600, iso, exp(300)),
		coop("primavera", "Primavera (dimostrativa)", "Cooperativa inventata per la demo: certificazione di qualità scaduta, non visibile ai cittadini.",
			"Via Primavera 4", "21040 Vedano Olona (VA)", 113, "accredited", -600, 600, iso, exp(-10)),
	}
}

// SeedService is a demo service of a cooperative.
type SeedService struct {
	Cooperative string
	Published   bool
	store.ServiceInput
}

func intp(v int) *int       { return &v }
func centsp(v int64) *int64 { return &v }

// StandardBands are the demo ISEE bands: up to 10,000 € half the list
// price, up to 20,000 € 75%, above the list price.
func StandardBands() []store.PriceBand {
	return []store.PriceBand{
		{MaxISEEEuro: intp(10000), Percent: intp(50)},
		{MaxISEEEuro: intp(20000), Percent: intp(75)},
		{Percent: intp(100)},
	}
}

// CatalogueServices returns the demo services.
func CatalogueServices() []SeedService {
	all := []string{"castelseprio", "castiglione-olona", "gornate-olona", "lonate-ceppino", "tradate", "vedano-olona",
		"venegono-inferiore", "venegono-superiore"}
	bandsIn := func(ms ...string) map[string][]store.PriceBand {
		out := map[string][]store.PriceBand{}
		for _, m := range ms {
			out[m] = StandardBands()
		}
		return out
	}
	svc := func(coop, cat, name, desc, unit string, cents int64, capacity int, period string, ms []string, bands map[string][]store.PriceBand) SeedService {
		return SeedService{Cooperative: coop, Published: true, ServiceInput: store.ServiceInput{Category: cat, Name: name,
			Description: desc, Unit: unit, PriceCents: cents, Capacity: capacity, CapacityPeriod: period,
			Municipalities: ms, Bands: bands}}
	}
	// Tradate: fixed prices for the lowest band, a percentage above.
	tradateFixed := map[string][]store.PriceBand{
		"tradate": {{MaxISEEEuro: intp(10000), PriceCents: centsp(500)}, {MaxISEEEuro: intp(20000), Percent: intp(70)}, {Percent: intp(100)}},
	}
	return []SeedService{
		svc("baobab", "childcare", "Doposcuola e aiuto compiti", "Pomeriggi di studio assistito per bambini della scuola primaria, con educatori qualificati.",
			"session", 1800, 40, "week", all, bandsIn("tradate", "vedano-olona")),
		svc("baobab", "youcare", "Centro estivo", "Settimane estive di gioco, sport e laboratori per ragazzi dai 6 ai 14 anni.",
			"week", 9000, 60, "week", all, bandsIn("tradate", "vedano-olona", "venegono-inferiore")),
		svc("eureka", "youcare", "Laboratorio di robotica per ragazzi", "Corso di robotica educativa e programmazione per ragazzi delle medie.",
			"session", 1500, 24, "week", []string{"vedano-olona", "tradate", "castiglione-olona"}, bandsIn("vedano-olona")),
		svc("eureka", "youcare", "Calcio e pallavolo per giovani", "Attività sportiva di gruppo per giovani, due allenamenti a settimana.",
			"month", 3500, 50, "month", []string{"vedano-olona", "tradate"}, nil),
		svc("il-girasole", "silvercare", "Assistenza domiciliare anziani", "Aiuto nelle attività quotidiane a domicilio per persone anziane: igiene, pasti, compagnia.",
			"hour", 2200, 120, "week", all, tradateFixed),
		svc("il-girasole", "silvercare", "Pasti a domicilio", "Consegna di un pasto caldo al giorno a domicilio per anziani soli.",
			"day", 850, 200, "week", []string{"tradate", "venegono-superiore", "venegono-inferiore"}, bandsIn("tradate")),
		svc("naturart", "housepetcare", "Cura del giardino", "Taglio dell'erba, potature e cura del verde per famiglie e anziani.",
			"hour", 2500, 30, "week", all, nil),
		svc("naturart", "housepetcare", "Dog sitting e passeggiate", "Passeggiate e accudimento di cani e gatti quando la famiglia non può.",
			"visit", 1200, 40, "week", []string{"venegono-superiore", "venegono-inferiore", "tradate"}, nil),
		svc("koine", "familycare", "Sostegno psicologico", "Colloqui individuali di sostegno psicologico con psicologi iscritti all'albo.",
			"session", 5000, 30, "week", all, bandsIn("tradate", "castiglione-olona", "vedano-olona")),
		svc("koine", "familycare", "Mediazione familiare", "Percorsi di mediazione per coppie e famiglie in fase di separazione.",
			"session", 6000, 10, "week", all, bandsIn("castiglione-olona")),
		svc("la-casa-davanti-al-sole", "childcare", "Spazio gioco 0-3 anni", "Spazio gioco educativo per bambini da 0 a 3 anni con i loro genitori.",
			"month", 12000, 25, "month", []string{"venegono-inferiore", "venegono-superiore", "tradate"}, bandsIn("venegono-inferiore", "tradate")),
		svc("la-casa-davanti-al-sole", "childcare", "Baby sitting qualificato", "Educatrici per la cura dei bambini a domicilio, anche la sera.",
			"hour", 1400, 60, "week", all, nil),
		svc("l-aquilone", "silvercare", "Centro diurno per anziani", "Attività di socializzazione, ginnastica dolce e laboratori per anziani, con pranzo.",
			"day", 3800, 30, "week", []string{"lonate-ceppino", "tradate", "castiglione-olona", "gornate-olona"}, bandsIn("lonate-ceppino", "tradate")),
		svc("l-aquilone", "silvercare", "Trasporto sociale", "Accompagnamento di anziani e persone fragili a visite mediche e servizi.",
			"visit", 1500, 80, "week", all, nil),
		svc("l-arca", "familycare", "Assistenza domiciliare alla persona", "Operatori socio-sanitari a domicilio per igiene e cura della persona non autosufficiente.",
			"hour", 2400, 100, "week", all, bandsIn("tradate", "vedano-olona")),
		svc("l-arca", "familycare", "Sollievo per i caregiver", "Sostituzione temporanea del familiare che assiste una persona anziana o disabile.",
			"hour", 2000, 40, "week", all, nil),
		svc("solidarieta-e-servizi", "familycare", "Educativa domiciliare", "Interventi educativi a domicilio a sostegno della famiglia e dei figli minori.",
			"hour", 2800, 50, "week", all, bandsIn("gornate-olona", "tradate")),
		svc("rembrandt", "youcare", "Laboratorio di teatro", "Corso di teatro e espressione per ragazzi e adulti, con spettacolo finale.",
			"month", 4000, 30, "month", []string{"castelseprio", "tradate", "gornate-olona"}, nil),
		svc("rembrandt", "youcare", "Scuola di musica", "Lezioni individuali di strumento e musica d'insieme per bambini e ragazzi.",
			"session", 2500, 40, "week", []string{"castelseprio", "castiglione-olona"}, nil),
		svc("totem", "youcare", "Vacanze estive per giovani", "Soggiorni estivi in montagna con attività sportive e di tempo libero.",
			"week", 28000, 30, "month", all, bandsIn("tradate")),
		svc("il-ponte", "housepetcare", "Piccole riparazioni domestiche", "Piccoli lavori in casa per anziani soli.",
			"hour", 2000, 20, "week", all, nil),
		svc("primavera", "silvercare", "Compagnia ad anziani", "Visite di compagnia e piccole commissioni per anziani soli.",
			"hour", 1600, 30, "week", all, nil),
	}
}

// seedCatalogue writes the cooperatives and, where missing, their demo
// services.
func seedCatalogue(ctx context.Context, tx pgx.Tx, today time.Time) error {
	for _, c := range Cooperatives(today) {
		if err := store.UpsertCooperative(ctx, tx, c); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	for _, s := range CatalogueServices() {
		if err := store.EnsureService(ctx, tx, s.Cooperative, s.ServiceInput, s.Published); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

// seedDemoProfiles gives cittadino.vedano a profile ISEE (demo mode).
func seedDemoProfiles(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET isee_euro = $2 WHERE username = $1 AND isee_euro IS NULL`,
		"cittadino.vedano", ProfileISEE); err != nil {
		return fmt.Errorf("seed: profile ISEE: %w", err)
	}
	return nil
}
