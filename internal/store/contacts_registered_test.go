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
	if err != nil || carla.Municipality != "vedano-olona" || carla.RegisteredBy != "operatore.tradate" {
		t.Fatalf("register: %+v %v", carla, err)
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
