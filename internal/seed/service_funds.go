package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"sportello/forms"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// Service-voucher funds (issue 5): tradate.json has one per municipality,
// a yearly call for the "buono-servizi" form, paying for services of the
// catalogue in the categories of social care a municipal welfare office
// funds: childcare, care for the elderly and family support. YouCare
// (sport, culture, free time) and House&PetCare (chores, pets) are left to
// the citizen's own money or a company's welfare plan.
const serviceFundIDPrefix = "buono-servizi-"

// ServiceFundCategories are the catalogue categories service vouchers pay
// for (those of tradate.json's service-voucher funds).
func ServiceFundCategories() []string { return []string{"childcare", "silvercare", "familycare"} }

// ServiceFundID is the id of a municipality's service-voucher fund for a
// year (as tradate.json names them).
func ServiceFundID(municipality string, year int) string {
	return fmt.Sprintf("%s%s-%d", serviceFundIDPrefix, municipality, year)
}

// The demo service voucher of cittadino.tradate.
const (
	DemoServiceVoucherHolder = "cittadino.tradate"
	DemoServiceVoucherCents  = 300_00
	DemoServiceVoucherISEE   = 8500
	demoServiceVoucherKey    = "seed:demo-service-voucher"
	demoServiceVoucherActor  = "operatore.tradate"
)

// seedDemoServiceVoucher gives cittadino.tradate an active service voucher
// through the path a real one takes: the application (store.CreateCase, as
// the citizen), its review task, the award from the municipality's service
// fund and the release of its single tranche, each an idempotent store
// step (idempotency key, deterministic task id, award per case, transfer
// keys), so the ledger stays balanced and a second run adds nothing. No
// case workflow runs for it: the voucher stays active until the demo data
// is reset.
func seedDemoServiceVoucher(ctx context.Context, st *store.Store, now time.Time) error {
	var (
		u     DemoUser
		found bool
	)
	for _, du := range DemoUsers() {
		if du.Username == DemoServiceVoucherHolder {
			u, found = du, true
		}
	}
	var birth time.Time
	for _, r := range Residents() {
		if r.TaxCode() == u.TaxCode {
			birth = r.Born
		}
	}
	var citizenID, operatorID int64
	err := st.Pool.QueryRow(ctx, `SELECT (SELECT id FROM users WHERE username = $1), (SELECT id FROM users WHERE username = $2)`,
		u.Username, demoServiceVoucherActor).Scan(&citizenID, &operatorID)
	if !found || err != nil {
		return fmt.Errorf("seed: demo service voucher: holder %q: %v", DemoServiceVoucherHolder, err)
	}
	first, last := splitName(u.DisplayName)
	data, err := json.Marshal(map[string]any{
		"applicant": map[string]any{"first_name": first, "last_name": last, "tax_code": u.TaxCode,
			"birth_date": birth.Format(time.DateOnly), "email": u.Email},
		"residence": map[string]any{"municipality": u.Municipality, "address": "Via Roma 1"},
		"household": map[string]any{"members": 2, "minors": 0, "elderly": 1, "disabled": 0},
		"isee_euro": DemoServiceVoucherISEE,
		"support": map[string]any{"childcare": false, "silvercare": true, "familycare": true,
			"situation": "Vivo con mia madre di 82 anni, non più autosufficiente: servono assistenza a domicilio e un aiuto per me che la accudisco."},
		"declarations": map[string]any{"truthful": true, "no_double_funding": true, "share_with_provider": true, "privacy": true},
	})
	if err != nil {
		return err
	}
	citizen := store.Scope{Kind: string(contract.RoleCitizen), District: u.District, Municipality: u.Municipality, UserID: citizenID}
	created, err := st.API().CreateCase(ctx, citizen, store.NewCase{Prefix: "BSV", FormID: forms.ServiceVoucherForm,
		FormVersion: 1, Data: data, Municipality: u.Municipality, TaxCode: u.TaxCode, IdempotencyKey: demoServiceVoucherKey,
		RequestHash: demoServiceVoucherKey, Actor: u.Username, Now: now, NoWorkflow: true})
	if err != nil {
		return fmt.Errorf("seed: demo service voucher: application: %w", err)
	}
	taskID := uuid.NewSHA1(uuid.NameSpaceURL, []byte("sportello:seed-task:"+created.ID)).String()
	if err := st.OpenTask(ctx, store.OpenTaskInput{TaskID: taskID, CaseID: created.ID, Round: 1,
		DueAt: now.AddDate(0, 0, ReviewWorkingDays), At: now}); err != nil {
		return fmt.Errorf("seed: demo service voucher: task: %w", err)
	}
	award, err := st.Award(ctx, store.AwardInput{AmountCents: DemoServiceVoucherCents, DecisionInput: store.DecisionInput{
		TaskID: taskID, CaseID: created.ID, ActorID: operatorID, Actor: demoServiceVoucherActor,
		Reason: "Dati di dimostrazione / demo data", At: now}})
	if err != nil {
		return fmt.Errorf("seed: demo service voucher: award: %w", err)
	}
	if err := st.ReleaseTranche(ctx, store.TrancheInput{CaseID: created.ID, VoucherID: award.VoucherID,
		AmountCents: DemoServiceVoucherCents, At: now}); err != nil {
		return fmt.Errorf("seed: demo service voucher: release: %w", err)
	}
	return nil
}

// splitName splits "Maria Rossi" into first and last name.
func splitName(display string) (string, string) {
	for i := range display {
		if display[i] == ' ' {
			return display[:i], display[i+1:]
		}
	}
	return display, ""
}
