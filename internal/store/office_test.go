package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestLoadCaseCarriesTheOfficeCalendar(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.st.LoadCase(ctx, f.caseID)
	if err != nil {
		t.Fatal(err)
	}
	// The seeded calendar is the district file's: Santo Stefano, 26 December.
	if c.Office.Opens != 8*time.Hour+30*time.Minute || c.Office.Closes != 17*time.Hour ||
		c.Office.PatronMonth != time.December || c.Office.PatronDay != 26 {
		t.Fatalf("seeded office calendar: %+v", c.Office)
	}
	if _, err := f.st.Pool.Exec(ctx, `UPDATE municipalities SET patron_saint = 'San Biagio', patron_month = 2, patron_day = 3 WHERE id = 'tradate'`); err != nil {
		t.Fatal(err)
	}
	if c, err = f.st.LoadCase(ctx, f.caseID); err != nil {
		t.Fatal(err)
	}
	if c.Office.PatronMonth != time.February || c.Office.PatronDay != 3 {
		t.Fatalf("configured patron day not loaded: %+v", c.Office)
	}
	if _, err := f.st.Pool.Exec(ctx, `UPDATE municipalities SET patron_day = NULL WHERE id = 'tradate'`); err == nil {
		t.Fatal("a patron month without a day was accepted")
	}
}

// Every scoped transaction runs as the unprivileged application role, so
// row-level security applies even when the pool connects as a superuser.
func TestScopedTransactionsRunAsTheAppRole(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var who string
	if err := f.st.InTx(ctx, f.merchantScope(), func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT current_user`).Scan(&who)
	}); err != nil {
		t.Fatal(err)
	}
	if who != "sportello_app" {
		t.Fatalf("scoped transaction runs as %q", who)
	}
	if err := f.st.Pool.QueryRow(ctx, `SELECT current_user`).Scan(&who); err != nil || who == "sportello_app" {
		t.Fatalf("the role leaked out of the transaction: %q %v", who, err)
	}
}
