package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// Issue 16: Tradate's operator registers at the shared desk a citizen of
// Vedano Olona who has no e-mail; the contact tasks of that citizen's case
// belong to Vedano, yet the operator who registered them sees them and
// records their outcome (the store's query and the tasks_tenant policy of
// migration 025 agree). A colleague of Tradate who did not register the
// citizen does not see them; Vedano's own operator still does. Review tasks
// of the case stay with Vedano.
func TestContactTasksOfCitizensTheOperatorRegistered(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	api := f.st.API()
	op := staffScope(t, f.st, "operatore.tradate")
	colleague := staffScope(t, f.st, "operatrice.tradate")
	vedano := staffScope(t, f.st, "operatore.vedano")
	sup := staffScope(t, f.st, "supervisore")
	now := time.Now()

	carla, taxCode := registerCarla(t, f, op, sup, now)
	if carla.Municipality != "vedano-olona" || carla.RegisteredBy != "operatore.tradate" {
		t.Fatalf("register: %+v", carla)
	}

	// Her application, filed at the desk, is a case of Vedano Olona with a
	// review task and, as she has no e-mail, a contact task.
	caseID := fmt.Sprintf("BS-TEST-REG-%d", now.UnixNano())
	var reviewID string
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ($1, 'tradate', 'vedano-olona', $2, $3, 'buoni-spesa', 1, $4, '{"applicant":{"phone":"0331 444 000"}}', 'in_review', 'case:'||$1, 'h')`,
			caseID, carla.ID, taxCode, f.fundID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO tasks (id, case_id, district_id, municipality_id, kind, status, due_at, created_at)
			VALUES (gen_random_uuid(), $1, 'tradate', 'vedano-olona', 'review', 'open', now() + interval '5 days', now()) RETURNING id::text`, caseID).Scan(&reviewID)
	}); err != nil {
		t.Fatal(err)
	}
	in := store.ContactTaskInput{Key: caseID + ":notify:received:1", CaseID: caseID, Kind: "application_received",
		CitizenID: carla.ID, MessageIT: "Domanda ricevuta", At: now}
	if created, err := f.st.OpenContactTask(ctx, in, "voucher_ready"); err != nil || !created {
		t.Fatalf("open contact: %v %v", created, err)
	}

	mine, n, err := api.ContactTasks(ctx, op, store.ContactFilter{})
	var task store.ContactTaskView
	for _, c := range mine {
		if c.CaseID == caseID {
			task = c
		}
	}
	if err != nil || task.ID == "" || task.Municipality != "vedano-olona" || task.Phone != "0331 444 000" {
		t.Fatalf("the operator who registered her does not see her contact task: %d %v %+v", n, err, mine)
	}
	if _, err := api.ContactTask(ctx, op, task.ID); err != nil {
		t.Fatalf("one contact task: %v", err)
	}
	for who, scope := range map[string]store.Scope{"a colleague of Tradate": colleague} {
		list, _, err := api.ContactTasks(ctx, scope, store.ContactFilter{Status: "all"})
		for _, c := range list {
			if c.CaseID == caseID {
				t.Fatalf("%s sees the contact task", who)
			}
		}
		if _, err2 := api.ContactTask(ctx, scope, task.ID); err != nil || !errors.Is(err2, store.ErrNotFound) {
			t.Fatalf("%s reads the contact task: %v %v", who, err, err2)
		}
	}
	if _, err := api.ContactTask(ctx, vedano, task.ID); err != nil {
		t.Fatalf("Vedano's operator lost the contact task: %v", err)
	}
	// The rest of the case stays with Vedano.
	if _, err := api.Task(ctx, op, reviewID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the review task of a case of Vedano is visible to Tradate: %v", err)
	}
	if _, err := api.RecordContact(ctx, colleague, store.ContactOutcomeInput{TaskID: task.ID, Outcome: store.ContactPhoned,
		Actor: "operatrice.tradate", At: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a colleague recorded the contact: %v", err)
	}

	// Past the store's queries, the policy admits the same rows.
	var rows int
	if err := f.st.InTx(ctx, op, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE case_id = $1`, caseID).Scan(&rows)
	}); err != nil || rows != 1 {
		t.Fatalf("row-level security: %d tasks of the case visible, %v", rows, err)
	}

	v, err := api.RecordContact(ctx, op, store.ContactOutcomeInput{TaskID: task.ID, Outcome: store.ContactPhoned,
		Note: "ha risposto", Actor: "operatore.tradate", At: now})
	if err != nil || v.Status != "done" {
		t.Fatalf("record: %+v %v", v, err)
	}
	var events int
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'contact_phoned' AND actor = 'operatore.tradate'`,
			caseID).Scan(&events)
	}); err != nil || events != 1 {
		t.Fatalf("timeline: %d events, %v", events, err)
	}
	// The operator may write on the timeline of this case, not of others of Vedano.
	other := f.newCase(t, "RSSMRA80A41L319Z")
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cases SET municipality_id = 'vedano-olona' WHERE id = $1`, other)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = f.st.InTx(ctx, op, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, event_key, at, type, actor, detail)
			VALUES ($1, 'x:' || $1, now(), 'contact_phoned', 'operatore.tradate', '{}')`, other)
		return err
	})
	if err == nil {
		t.Fatal("Tradate's operator wrote on the timeline of a case of Vedano with no contact task of theirs")
	}
}

// Issue 16, after migration 029: the operator who registered Carla also
// opens her case (the staff case page), its timeline and its voucher, to
// print and post them; read only, and nothing for a colleague. The case
// stays out of the operator's case list, its review task stays hidden, and
// the operator cannot write on the case or on its timeline beyond 025's
// contact events.
func TestTheOperatorWhoRegisteredACitizenReadsTheirCase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	api := f.st.API()
	op := staffScope(t, f.st, "operatore.tradate")
	colleague := staffScope(t, f.st, "operatrice.tradate")
	sup := staffScope(t, f.st, "supervisore")
	now := time.Now()

	carla, taxCode := registerCarla(t, f, op, sup, now)
	caseID := fmt.Sprintf("BS-TEST-REGC-%d", now.UnixNano())
	voucherID := "7b0e7a52-58a4-4c8e-9d0b-2f6f3c1d0a11"
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ($1, 'tradate', 'vedano-olona', $2, $3, 'buoni-spesa', 1, $4, '{}', 'approved', 'case:'||$1, 'h')`,
			caseID, carla.ID, taxCode, f.fundID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO vouchers (id, code, case_id, fund_id, district_id, municipality_id, holder_id,
			tax_code, amount_cents, status, expires_at) VALUES ($1, 'TEST-REGC-1', $2, $3, 'tradate', 'vedano-olona', $4, $5,
			30000, 'active', now() + interval '90 days')`, voucherID, caseID, f.fundID, carla.ID, taxCode); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, event_key, at, type, actor, detail)
			VALUES ($1, 'approved:' || $1, now(), 'approved', 'operatore.vedano', '{}')`, caseID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Before any contact task the case is Vedano's alone.
	if _, err := api.Case(ctx, op, caseID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the case is visible to Tradate's operator without a contact task: %v", err)
	}
	in := store.ContactTaskInput{Key: caseID + ":notify:voucher_ready:1", CaseID: caseID, Kind: "voucher_ready",
		CitizenID: carla.ID, MessageIT: "Buono disponibile", At: now}
	if created, err := f.st.OpenContactTask(ctx, in, "voucher_ready"); err != nil || !created {
		t.Fatalf("open contact: %v %v", created, err)
	}

	v, err := api.Case(ctx, op, caseID)
	if err != nil || v.Voucher == nil || v.Voucher.ID != voucherID || v.Task != nil {
		t.Fatalf("the operator who registered her reads her case: %+v %v", v, err)
	}
	if vv, err := api.Voucher(ctx, op, voucherID); err != nil || vv.Code != "TEST-REGC-1" {
		t.Fatalf("and its voucher: %+v %v", vv, err)
	}
	if events, err := api.Timeline(ctx, op, caseID); err != nil || len(events) == 0 {
		t.Fatalf("and its timeline: %v %v", events, err)
	}
	if _, err := api.Case(ctx, colleague, caseID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a colleague reads the case: %v", err)
	}
	if _, err := api.Voucher(ctx, colleague, voucherID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a colleague reads the voucher: %v", err)
	}
	if _, err := api.Timeline(ctx, colleague, caseID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a colleague reads the timeline: %v", err)
	}
	// Not in the operator's case list: the lists stay the municipality's.
	list, _, err := api.Cases(ctx, op, store.CaseFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ID == caseID {
			t.Fatalf("the case of Vedano is listed for Tradate's operator")
		}
	}
	// The set form of 029 and the function of 025 agree, for both operators.
	for who, scope := range map[string]store.Scope{"the registering operator": op, "a colleague": colleague} {
		var one, set bool
		if err := f.st.InTx(ctx, scope, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT sportello_registered_contact_case($1), $1 IN (SELECT sportello_registered_cases())`,
				caseID).Scan(&one, &set)
		}); err != nil || one != set || one != (scope.UserID == op.UserID) {
			t.Fatalf("%s: 025 says %v, 029 says %v (%v)", who, one, set, err)
		}
	}
	// Read only: no update of the case or the voucher, no event on the
	// timeline but 025's contact events.
	var updated int64
	if err := f.st.InTx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE cases SET status = 'rejected' WHERE id = $1`, caseID)
		if err != nil {
			return err
		}
		updated = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `UPDATE vouchers SET status = 'expired' WHERE id = $1`, voucherID)
		updated += tag.RowsAffected()
		return err
	}); err != nil || updated != 0 {
		t.Fatalf("the operator updated %d rows of a case of Vedano (%v)", updated, err)
	}
	err = f.st.InTx(ctx, op, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, event_key, at, type, actor, detail)
			VALUES ($1, 'x:' || $1, now(), 'approved', 'operatore.tradate', '{}')`, caseID)
		return err
	})
	if err == nil {
		t.Fatal("Tradate's operator wrote a decision on the timeline of a case of Vedano")
	}
	if err := f.st.InTx(ctx, op, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, event_key, at, type, actor, detail)
			VALUES ($1, 'c:' || $1, now(), 'contact_phoned', 'operatore.tradate', '{}')`, caseID)
		return err
	}); err != nil {
		t.Fatalf("the contact event of 025 is refused: %v", err)
	}
}

// registerCarla shares the district's desk and registers at Tradate's
// (operator op) Carla Verdi, a resident of Vedano Olona without e-mail.
func registerCarla(t *testing.T, f *fixture, op, sup store.Scope, now time.Time) (store.DeskCitizen, string) {
	t.Helper()
	ctx := context.Background()
	api := f.st.API()
	taxCode := seed.TaxCode("Verdi", "Carla", true, time.Date(1950, 2, 3, 0, 0, 0, 0, time.UTC), "L733")
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO residents (tax_code, municipality_id, first_name, last_name)
			VALUES ($1, 'vedano-olona', 'Carla', 'Verdi')`, taxCode)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetDeskShared(ctx, sup, true); err != nil {
		t.Fatal(err)
	}
	carla, _, err := api.RegisterCitizen(ctx, op, store.NewCitizen{TaxCode: taxCode, FirstName: "Carla", LastName: "Verdi",
		Phone: "0331 444 000", Address: "Via Matteotti 9, 21040 Vedano Olona", Now: now})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return carla, taxCode
}
