package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// Merchant is a shop of the demo campaign (campaigns.go); the shops that
// take food vouchers are in the district files.
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

// tradate is the district of the demo people (its data is tradate.json).
const tradate = "tradate"

// DemoUsers returns the demo accounts of the Tradate district: its staff
// from its district file (operators, supervisor, a shop's and a
// cooperative's account, the demo company's welfare manager) and the demo
// people of this package (citizens, the campaign's accounts). Welfare Bene
// Comune's accounts are in its file (DistrictFiles).
func DemoUsers() []DemoUser {
	return append(append(demoCitizens(), fileStaff()...), campaignDemoUsers()...)
}

// seedUsers are the demo accounts this package creates (the district
// files' are applied with their files).
func seedUsers() []DemoUser {
	return append(demoCitizens(), campaignDemoUsers()...)
}

// demoCitizens are the accounts of the Tradate district's demo citizens.
func demoCitizens() []DemoUser {
	res := Residents()
	maria, giovanni := res[0], res[1]
	return []DemoUser{
		{Username: "cittadino.tradate", Role: string(contract.RoleCitizen), DisplayName: "Maria Rossi", District: tradate, Municipality: "tradate",
			TaxCode: maria.TaxCode(), Email: "maria.rossi@example.org"},
		{Username: "cittadino.vedano", Role: string(contract.RoleCitizen), DisplayName: "Giovanni Bianchi", District: tradate, Municipality: "vedano-olona",
			TaxCode: giovanni.TaxCode(), Email: "giovanni.bianchi@example.org"},
	}
}

// ProfileISEE is the ISEE (euro) declared in the profile of cittadino.vedano:
// the catalogue prices his services by it until he applies with another.
const ProfileISEE = 18500

// seedDemoProfiles gives cittadino.vedano a profile ISEE (demo mode).
func seedDemoProfiles(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET isee_euro = $2 WHERE username = $1 AND isee_euro IS NULL`,
		"cittadino.vedano", ProfileISEE); err != nil {
		return fmt.Errorf("seed: profile ISEE: %w", err)
	}
	return nil
}
