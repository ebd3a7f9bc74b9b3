package seed

import (
	"time"

	"sportello/internal/contract"
)

// District is a tenant: an ambito and its municipalities.
type District struct {
	ID             string
	Name           string
	Municipalities []Municipality
}

// Municipality is a comune of a district.
type Municipality struct {
	ID            string
	Name          string
	CadastralCode string // Belfiore code, as in tax codes
	Residents     int    // approximate
}

// Merchant is an affiliated shop or pharmacy that accepts food vouchers.
type Merchant struct {
	ID           string
	District     string
	Municipality string
	Name         string
	Kind         string // shop or pharmacy
	Category     string // store.MerchantCategories; "" is "health" for a pharmacy, "food" for a shop
	Address      string
}

// Resident is an entry of the municipal population registry extract.
type Resident struct {
	FirstName, LastName string
	Female              bool
	Born                time.Time
	BirthPlace          string // cadastral code of the place of birth
	Municipality        string // municipality of residence
	Household           string // id_famiglia of the registry
}

// TaxCode is the resident's codice fiscale.
func (r Resident) TaxCode() string {
	return TaxCode(r.LastName, r.FirstName, r.Female, r.Born, r.BirthPlace)
}

// DemoUser is an account created in demo mode (password DemoPassword).
type DemoUser struct {
	Username     string
	Role         string // citizen, operator, supervisor, merchant, cooperative
	DisplayName  string
	District     string
	Municipality string // empty for a district-wide supervisor
	Merchant     string // merchant id, for role merchant
	Cooperative  string // cooperative id, for role cooperative
	TaxCode      string // citizens only
	Email        string
}

// DemoPassword is the password of every demo account.
const DemoPassword = "demo"

// FoodVoucherForm is the form id of the food-voucher (buoni spesa) funds.
const FoodVoucherForm = "buoni-spesa"

// FoodVoucherFormVersion is the version of that form the seeded funds take
// applications of: a version a supervisor publishes later changes only the
// calls tied to it (issue 15), not these funds.
const FoodVoucherFormVersion = 1

// Districts returns the districts whose demo data is Go code (Tradate's:
// funds, merchants, cooperatives, teams); their names and presentation,
// and every other district, come from the district files (districts.go).
func Districts() []District {
	return []District{
		{
			ID: "tradate", Name: "Ambito territoriale di Tradate",
			Municipalities: []Municipality{
				{"castelseprio", "Castelseprio", "C208", 1300},
				{"castiglione-olona", "Castiglione Olona", "C343", 7800},
				{"gornate-olona", "Gornate Olona", "E102", 2200},
				{"lonate-ceppino", "Lonate Ceppino", "E659", 5000},
				{"tradate", "Tradate", "L319", 19000},
				{"vedano-olona", "Vedano Olona", "L733", 7300},
				{"venegono-inferiore", "Venegono Inferiore", "L765", 6300},
				{"venegono-superiore", "Venegono Superiore", "L766", 7200},
			},
		},
	}
}

// Merchants returns the affiliated merchants (Tradate district).
func Merchants() []Merchant {
	m := func(mun, slug, name, kind, addr string) Merchant {
		return Merchant{ID: mun + "-" + slug, District: "tradate", Municipality: mun, Name: name, Kind: kind, Address: addr}
	}
	return []Merchant{
		m("castelseprio", "alimentari-del-seprio", "Alimentari del Seprio", "shop", "Via Roma 8, Castelseprio"),
		m("castelseprio", "farmacia-castelseprio", "Farmacia di Castelseprio", "pharmacy", "Piazza Marconi 2, Castelseprio"),
		m("castiglione-olona", "farmacia-della-collegiata", "Farmacia della Collegiata", "pharmacy", "Via Cavour 15, Castiglione Olona"),
		m("castiglione-olona", "panificio-olona", "Panificio Olona", "shop", "Via Mazzini 40, Castiglione Olona"),
		m("gornate-olona", "market-gornate", "Market Gornate", "shop", "Via Dante 3, Gornate Olona"),
		m("gornate-olona", "farmacia-gornate", "Farmacia Gornate Olona", "pharmacy", "Via Garibaldi 21, Gornate Olona"),
		m("lonate-ceppino", "farmacia-ceppino", "Farmacia Ceppino", "pharmacy", "Via Vittorio Veneto 7, Lonate Ceppino"),
		m("lonate-ceppino", "alimentari-colombo", "Alimentari Colombo", "shop", "Via Matteotti 12, Lonate Ceppino"),
		m("tradate", "farmacia-comunale", "Farmacia Comunale di Tradate", "pharmacy", "Corso Bernacchi 60, Tradate"),
		m("tradate", "supermercato-centro", "Supermercato Tradate Centro", "shop", "Via Volta 25, Tradate"),
		m("tradate", "alimentari-bianchi", "Alimentari Bianchi", "shop", "Via Monte Grappa 4, Tradate"),
		m("tradate", "macelleria-abbiate", "Macelleria di Abbiate Guazzone", "shop", "Via Gorizia 9, Tradate"),
		m("vedano-olona", "farmacia-vedano", "Farmacia di Vedano", "pharmacy", "Via Matteotti 2, Vedano Olona"),
		m("vedano-olona", "frutta-e-verdura-ferrari", "Frutta e Verdura Ferrari", "shop", "Via Roma 31, Vedano Olona"),
		m("venegono-inferiore", "farmacia-venegono-inferiore", "Farmacia di Venegono Inferiore", "pharmacy", "Via Mauceri 10, Venegono Inferiore"),
		m("venegono-inferiore", "minimarket-galli", "Minimarket Galli", "shop", "Via Battisti 5, Venegono Inferiore"),
		m("venegono-superiore", "farmacia-venegono-superiore", "Farmacia di Venegono Superiore", "pharmacy", "Piazza Monte Grappa 1, Venegono Superiore"),
		m("venegono-superiore", "panetteria-fontana", "Panetteria Fontana", "shop", "Via Rimembranze 14, Venegono Superiore"),
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Residents returns the registry entries of the demo citizens (imported
// as the demo municipalities' registry extracts, DemoExtract). Maria and
// Marco Rossi are one household: the pre-check's one award per household.
func Residents() []Resident {
	return []Resident{
		{FirstName: "Maria", LastName: "Rossi", Female: true, Born: date(1980, 1, 1), BirthPlace: "L319", Municipality: "tradate", Household: "100001"},
		{FirstName: "Giovanni", LastName: "Bianchi", Born: date(1975, 3, 15), BirthPlace: "L733", Municipality: "vedano-olona", Household: "200001"},
		{FirstName: "Luca", LastName: "Colombo", Born: date(1990, 7, 22), BirthPlace: "L319", Municipality: "tradate", Household: "100002"},
		{FirstName: "Giulia", LastName: "Ferrari", Female: true, Born: date(1985, 11, 30), BirthPlace: "C343", Municipality: "castiglione-olona", Household: "300001"},
		{FirstName: "Anna", LastName: "Brambilla", Female: true, Born: date(1958, 6, 9), BirthPlace: "L765", Municipality: "venegono-inferiore", Household: "400001"},
		// Paolo Galli and Elena Zanon live in Welfare Bene Comune (their
		// accounts are in deploy/districts/bene-comune.json).
		{FirstName: "Paolo", LastName: "Galli", Born: date(1962, 4, 5), BirthPlace: "C743", Municipality: "limena", Household: "500001"},
		{FirstName: "Marco", LastName: "Rossi", Born: date(1978, 5, 12), BirthPlace: "L319", Municipality: "tradate", Household: "100001"},
		{FirstName: "Elena", LastName: "Zanon", Female: true, Born: date(1983, 2, 14), BirthPlace: "G224", Municipality: "piazzola-sul-brenta", Household: "600001"},
	}
}

// DemoUsers returns the accounts created in demo mode.
func DemoUsers() []DemoUser {
	res := Residents()
	maria, giovanni := res[0], res[1]
	return append([]DemoUser{
		{Username: "cittadino.tradate", Role: string(contract.RoleCitizen), DisplayName: "Maria Rossi", District: "tradate", Municipality: "tradate",
			TaxCode: maria.TaxCode(), Email: "maria.rossi@example.org"},
		{Username: "cittadino.vedano", Role: string(contract.RoleCitizen), DisplayName: "Giovanni Bianchi", District: "tradate", Municipality: "vedano-olona",
			TaxCode: giovanni.TaxCode(), Email: "giovanni.bianchi@example.org"},
		{Username: "operatore.tradate", Role: string(contract.RoleOperator), DisplayName: "Operatore Tradate", District: "tradate", Municipality: "tradate",
			Email: "operatore.tradate@example.org"},
		{Username: "operatore.vedano", Role: string(contract.RoleOperator), DisplayName: "Operatore Vedano Olona", District: "tradate", Municipality: "vedano-olona",
			Email: "operatore.vedano@example.org"},
		// A second social worker in Tradate, in the Tradate review team: tasks
		// are shared, and handed over during an absence.
		{Username: "operatrice.tradate", Role: string(contract.RoleOperator), DisplayName: "Giulia Verdi (Tradate)", District: "tradate",
			Municipality: "tradate", Email: "operatrice.tradate@example.org"},
		{Username: "supervisore", Role: string(contract.RoleSupervisor), DisplayName: "Supervisore Ambito di Tradate", District: "tradate",
			Email: "ufficio.piano@example.org"},
		{Username: "esercente.tradate", Role: string(contract.RoleMerchant), DisplayName: "Farmacia Comunale di Tradate", District: "tradate", Municipality: "tradate",
			Merchant: "tradate-farmacia-comunale", Email: "farmacia.tradate@example.org"},
		// Baobab's catalogue manager (issue 5).
		{Username: "coop.baobab", Role: string(contract.RoleCooperative), DisplayName: "Cooperativa Baobab (catalogo)", District: "tradate",
			Cooperative: "baobab", Email: "catalogo@baobab.example.org"},
	}, append(campaignDemoUsers(), companyDemoUsers()...)...)
}
