package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// The database decides whom an operator serves at the desk: their own
// municipality, or the district when it shares its desk. Even a query that
// names the citizen directly cannot issue a code for a citizen not served.
func TestDeskScopeIsEnforcedInTheDatabase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	api := f.st.API()
	vedano := staffScope(t, f.st, "operatore.vedano")
	tradate := staffScope(t, f.st, "operatore.tradate")
	sup := staffScope(t, f.st, "supervisore")
	maria, _, err := api.UserForLogin(ctx, "cittadino.tradate")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	if _, err := api.DeskCitizen(ctx, vedano, maria.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Vedano reads a citizen of Tradate: %v", err)
	}
	if list, err := api.DeskCitizens(ctx, vedano, maria.TaxCode, 10); err != nil || len(list) != 0 {
		t.Fatalf("Vedano's search lists a citizen of Tradate: %v %v", list, err)
	}
	if _, err := api.ReissueActivationCode(ctx, vedano, maria.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Vedano re-issues for a citizen of Tradate: %v", err)
	}
	// Past the store's queries: row-level security refuses the code itself.
	err = f.st.InTx(ctx, vedano, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO activation_codes (user_id, code_hash, issued_at, expires_at)
			VALUES ($1, '\x00', now(), now() + interval '1 day')`, maria.ID)
		return err
	})
	if err == nil {
		t.Fatal("row-level security let Vedano's operator write a code for a citizen of Tradate")
	}

	d, err := api.DeskCitizen(ctx, tradate, maria.ID)
	if err != nil || d.PublicID == "" {
		t.Fatalf("Tradate reads its citizen: %+v %v", d, err)
	}
	if got, err := api.DeskCitizenByPublicID(ctx, tradate, d.PublicID); err != nil || got.ID != maria.ID {
		t.Fatalf("by public id: %+v %v", got, err)
	}
	// An active account gets no code at the desk: that is a recovery.
	if _, err := api.ReissueActivationCode(ctx, tradate, maria.ID, now); !errors.Is(err, store.ErrAccountActive) {
		t.Fatalf("re-issue for an active account: %v", err)
	}

	// Only supervisors share the desk; then Vedano serves the district.
	if _, err := api.SetDeskShared(ctx, vedano, true); err == nil {
		t.Fatal("an operator shared the desk")
	}
	if _, err := api.SetDeskShared(ctx, sup, true); err != nil {
		t.Fatal(err)
	}
	if _, err := api.DeskCitizenByPublicID(ctx, vedano, d.PublicID); err != nil {
		t.Fatalf("shared desk: %v", err)
	}
}
