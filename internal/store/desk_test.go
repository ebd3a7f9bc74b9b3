package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// staffScope is the scope of a demo staff member.
func staffScope(t *testing.T, st *store.Store, username string) store.Scope {
	t.Helper()
	u, _, err := st.API().UserForLogin(context.Background(), username)
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return u.Scope()
}

func TestRegistrationAtTheDeskAndActivationCodes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	api := f.st.API()
	op := staffScope(t, f.st, "operatore.tradate")
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	luca := seed.Residents()[2] // a resident of Tradate without an account

	d, code, err := api.RegisterCitizen(ctx, op, store.NewCitizen{TaxCode: luca.TaxCode(), FirstName: "Luca", LastName: "Colombo",
		Phone: "0331 123456", Address: "Via Manzoni 3, 21049 Tradate", HomeDelivery: true, Now: now})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if d.Username != "luca.colombo" || d.Status != store.UserPendingActivation || d.Municipality != "tradate" ||
		!d.HomeDelivery || d.RegisteredBy != "operatore.tradate" {
		t.Fatalf("registered %+v", d)
	}
	if code.Code == "" || !code.ExpiresAt.Equal(now.Add(store.ActivationCodeTTL)) {
		t.Fatalf("code %+v", code)
	}
	// The code is stored only as a hash.
	var stored int
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM activation_codes WHERE user_id = $1 AND code_hash <> convert_to($2, 'UTF8')`,
			d.ID, code.Code).Scan(&stored)
	}); err != nil || stored != 1 {
		t.Fatalf("stored codes %d, %v", stored, err)
	}
	// Waiting for activation: no usable hash for a login.
	if _, hash, err := api.UserForLogin(ctx, d.Username); err != nil || hash != "" {
		t.Fatalf("pending account hash %q, %v", hash, err)
	}

	// The same tax code again: a conflict. Someone outside the district: not a resident.
	_, _, err = api.RegisterCitizen(ctx, op, store.NewCitizen{TaxCode: luca.TaxCode(), FirstName: "Luca", LastName: "Colombo",
		Address: "Via Manzoni 3", Now: now})
	var conflict *store.ConflictError
	if !errors.As(err, &conflict) || conflict.Code != "citizen_exists" {
		t.Fatalf("duplicate: %v", err)
	}
	if _, _, err := api.RegisterCitizen(ctx, op, store.NewCitizen{TaxCode: seed.Residents()[5].TaxCode(), FirstName: "Paolo",
		LastName: "Galli", Address: "Via Roma 1", Now: now}); !errors.Is(err, store.ErrNotResident) {
		t.Fatalf("resident of another district: %v", err)
	}
	// A namesake gets a username of their own.
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO residents (tax_code, municipality_id, first_name, last_name)
			VALUES ('CLMLCU95A01L319Z', 'tradate', 'Luca', 'Colombo')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	twin, _, err := api.RegisterCitizen(ctx, op, store.NewCitizen{TaxCode: "CLMLCU95A01L319Z", FirstName: "Luca", LastName: "Colombò",
		Address: "Via Verdi 1", Now: now})
	if err != nil || twin.Username != "luca.colombo2" {
		t.Fatalf("namesake: %+v, %v", twin, err)
	}

	// A wrong code is refused; the right one activates once.
	if _, err := api.Activate(ctx, d.Username, "AAAA-AAAA-AAAA", "hash-1", now); !errors.Is(err, store.ErrActivationInvalid) {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := api.Activate(ctx, "nobody.here", code.Code, "hash-1", now); !errors.Is(err, store.ErrActivationInvalid) {
		t.Fatalf("unknown user: %v", err)
	}
	u, err := api.Activate(ctx, d.Username, " "+code.Code[:4]+code.Code[5:9]+" "+code.Code[10:], "hash-1", now.Add(time.Hour))
	if err != nil || u.ID != d.ID || u.Role != "citizen" {
		t.Fatalf("activate (code typed without dashes): %+v, %v", u, err)
	}
	if _, hash, _ := api.UserForLogin(ctx, d.Username); hash != "hash-1" {
		t.Fatalf("password hash %q after activation", hash)
	}
	if got, _ := api.DeskCitizen(ctx, op, d.ID); got.Status != store.UserActive || got.CodeExpiresAt != nil {
		t.Fatalf("after activation %+v", got)
	}
	if _, err := api.Activate(ctx, d.Username, code.Code, "hash-2", now.Add(2*time.Hour)); !errors.Is(err, store.ErrActivationUsed) {
		t.Fatalf("second use: %v", err)
	}
	if _, hash, _ := api.UserForLogin(ctx, d.Username); hash != "hash-1" {
		t.Fatalf("a used code changed the password: %q", hash)
	}

	// Expiry.
	expiring, err := api.ReissueActivationCode(ctx, op, twin.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Activate(ctx, twin.Username, expiring.Code, "h", expiring.ExpiresAt); !errors.Is(err, store.ErrActivationExpired) {
		t.Fatalf("expired: %v", err)
	}

	// Re-issue revokes the previous code.
	fresh, err := api.ReissueActivationCode(ctx, op, twin.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Activate(ctx, twin.Username, expiring.Code, "h", now); !errors.Is(err, store.ErrActivationInvalid) {
		t.Fatalf("revoked code: %v", err)
	}

	// Wrong codes lock nothing (the API throttles attempts instead): after
	// many wrong tries by anyone, the right code still works.
	for range 10 {
		if _, err := api.Activate(ctx, twin.Username, "ZZZZ-ZZZZ-ZZZZ", "h", now); !errors.Is(err, store.ErrActivationInvalid) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	if got, _ := api.DeskCitizen(ctx, op, twin.ID); got.CodeLocked || got.Status != store.UserPendingActivation {
		t.Fatalf("citizen after wrong codes %+v", got)
	}
	if _, err := api.Activate(ctx, twin.Username, fresh.Code, "h", now); err != nil {
		t.Fatalf("after re-issue: %v", err)
	}

	// Another district's supervisor does not see the citizen, nor re-issues.
	padova := staffScope(t, f.st, "supervisore.padova")
	if _, err := api.DeskCitizen(ctx, padova, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other district read: %v", err)
	}
	if _, err := api.ReissueActivationCode(ctx, padova, d.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other district re-issue: %v", err)
	}
}

func TestContactTasksOncePerNotificationAndOutcomes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	api := f.st.API()
	op := staffScope(t, f.st, "operatore.tradate")
	at := time.Now()
	// The applicant asked for home delivery in the application and gave a phone number.
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cases SET data = data || '{"delivery":"home","applicant":{"phone":"0331 555 000"},
			"residence":{"municipality":"tradate","address":"Via Roma 1"}}' WHERE id = $1`, f.caseID)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	in := store.ContactTaskInput{Key: f.caseID + ":notify:received:1", CaseID: f.caseID, Kind: "application_received",
		CitizenID: f.citizen, MessageIT: "Domanda ricevuta", At: at}
	for i, want := range []bool{true, false} {
		created, err := f.st.OpenContactTask(ctx, in, "voucher_ready")
		if err != nil || created != want {
			t.Fatalf("open %d: created %v, %v", i, created, err)
		}
	}
	voucher := in
	voucher.Key, voucher.Kind, voucher.MessageIT = f.caseID+":notify:voucher:1", "voucher_ready", "Buono disponibile"
	if created, err := f.st.OpenContactTask(ctx, voucher, "voucher_ready"); err != nil || !created {
		t.Fatalf("voucher contact: %v %v", created, err)
	}

	// Without a phone number: a letter.
	noPhone := f.newCase(t, "RSSMRA80A41L319Y")
	letter := store.ContactTaskInput{Key: noPhone + ":notify:received:1", CaseID: noPhone, Kind: "application_received",
		CitizenID: f.citizen, MessageIT: "Domanda ricevuta", At: at}
	if _, err := f.st.OpenContactTask(ctx, letter, "voucher_ready"); err != nil {
		t.Fatal(err)
	}
	if l, _, err := api.ContactTasks(ctx, op, store.ContactFilter{}); err != nil || len(l) != 3 {
		t.Fatalf("contacts: %v %+v", err, l)
	} else {
		for _, c := range l {
			if c.CaseID == noPhone && (c.Channel != store.ContactByLetter || c.Phone != "") {
				t.Fatalf("no phone: %+v", c)
			}
		}
	}
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tasks SET status = 'cancelled' WHERE case_id = $1`, noPhone)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	list, total, err := api.ContactTasks(ctx, op, store.ContactFilter{})
	if err != nil || total != 2 || len(list) != 2 {
		t.Fatalf("contacts: %d %v %+v", total, err, list)
	}
	byKind := map[string]store.ContactTaskView{}
	for _, c := range list {
		byKind[c.NotificationKind] = c
	}
	recv, vr := byKind["application_received"], byKind["voucher_ready"]
	if recv.Channel != store.ContactByPhone || recv.Phone != "0331 555 000" || recv.HomeDelivery || recv.Overdue ||
		recv.CitizenName != "Maria Rossi" || recv.MessageIT != "Domanda ricevuta" {
		t.Fatalf("received contact %+v", recv)
	}
	if !vr.HomeDelivery || vr.Address != "Via Roma 1, Tradate" {
		t.Fatalf("voucher contact %+v", vr)
	}
	var events int
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'contact_needed'`, f.caseID).Scan(&events)
	}); err != nil || events != 2 {
		t.Fatalf("contact_needed events %d, %v", events, err)
	}

	// The review inbox does not list them; another municipality does not see them.
	tasks, _, err := api.Tasks(ctx, op, store.TaskFilter{Status: "all", Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.Kind == store.TaskKindContact {
			t.Fatalf("the review inbox lists a contact task: %+v", tk)
		}
	}
	if _, n, _ := api.ContactTasks(ctx, staffScope(t, f.st, "operatore.vedano"), store.ContactFilter{}); n != 0 {
		t.Fatalf("another municipality sees %d contact tasks", n)
	}

	// Overdue.
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tasks SET due_at = now() - interval '1 hour' WHERE id = $1`, recv.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	overdue, n, err := api.ContactTasks(ctx, op, store.ContactFilter{Overdue: true})
	if err != nil || n != 1 || !overdue[0].Overdue || overdue[0].ID != recv.ID {
		t.Fatalf("overdue: %d %v %+v", n, err, overdue)
	}

	// Unreachable keeps the task open for a retry; phoned closes it.
	rec := func(id, outcome string) (store.ContactTaskView, error) {
		return api.RecordContact(ctx, op, store.ContactOutcomeInput{TaskID: id, Outcome: outcome, Note: "nota", Actor: "operatore.tradate", At: time.Now()})
	}
	if _, err := rec(recv.ID, store.ContactDeliveredHome); !errors.Is(err, store.ErrContactNoHomeDeliver) {
		t.Fatalf("home delivery without a voucher to deliver: %v", err)
	}
	v, err := rec(recv.ID, store.ContactUnreachable)
	if err != nil || v.Status != "open" || v.Attempts != 1 || v.LastOutcome != store.ContactUnreachable || v.Overdue {
		t.Fatalf("unreachable: %+v %v", v, err)
	}
	if v, err = rec(recv.ID, store.ContactPhoned); err != nil || v.Status != "done" || v.Outcome == nil || *v.Outcome != "phoned" {
		t.Fatalf("phoned: %+v %v", v, err)
	}
	var conflict *store.ConflictError
	if _, err := rec(recv.ID, store.ContactLetterSent); !errors.As(err, &conflict) || conflict.Code != "task_not_open" {
		t.Fatalf("second outcome: %v", err)
	}
	if v, err = rec(vr.ID, store.ContactDeliveredHome); err != nil || v.Status != "done" {
		t.Fatalf("delivered: %+v %v", v, err)
	}
	if _, err := rec(vr.ID, "shouted"); !errors.Is(err, store.ErrContactOutcome) {
		t.Fatalf("unknown outcome: %v", err)
	}
	timeline, err := api.Timeline(ctx, op, f.caseID)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, e := range timeline {
		types[e.Type]++
	}
	if types["contact_unreachable"] != 1 || types["contact_phoned"] != 1 || types["contact_delivered_home"] != 1 {
		t.Fatalf("timeline %v", types)
	}
	// The case's current task is never the contact task.
	cv, err := api.Case(ctx, op, f.caseID)
	if err != nil || cv.Task != nil {
		t.Fatalf("case task %+v, %v", cv.Task, err)
	}
}
