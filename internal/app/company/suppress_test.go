package company

import (
	"encoding/json"
	"strings"
	"testing"

	"sportello/internal/store"
)

func TestSuppressHidesSmallGroupsAndTheirTotals(t *testing.T) {
	rows := []store.SpendingRow{
		{Month: "2026-03", Category: "childcare", SpentCents: 24_000, Bookings: 1, Employees: 1},
		{Month: "2026-03", Category: "youcare", SpentCents: 90_000, Bookings: 5, Employees: MinGroup},
		{Month: "2026-03", Category: "silvercare", SpentCents: 10_000, Bookings: 2, Employees: MinGroup - 1},
	}
	cells, total := Suppress(rows)
	if total != nil {
		t.Errorf("total %d shown over suppressed cells: the childcare one could be recomputed", *total)
	}
	for i, c := range cells {
		small := rows[i].Employees < MinGroup
		if c.Suppressed != small || (c.SpentCents == nil) != small || (c.Bookings == nil) != small {
			t.Errorf("cell %d (%d employees): %+v", i, rows[i].Employees, c)
		}
	}
	raw, _ := json.Marshal(cells)
	for _, leak := range []string{"24000", "10000", "employees"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the shown cells carry %q: %s", leak, raw)
		}
	}
	if !strings.Contains(string(raw), "90000") {
		t.Errorf("the cell of %d employees is hidden: %s", MinGroup, raw)
	}

	cells, total = Suppress(rows[1:2])
	if total == nil || *total != 90_000 || cells[0].Suppressed {
		t.Errorf("no suppressed cell: total %v, cells %+v", total, cells)
	}
	if _, total = Suppress(nil); total == nil || *total != 0 {
		t.Errorf("no spending: total %v, want 0", total)
	}
}

// The credit returned at a single withdrawal is that employee's unspent
// credit: the statement hides it below MinGroup employees, in its JSON and
// its CSV, and shows the ledger's totals as they are.
func TestViewSuppressesTheCreditOfFewWithdrawals(t *testing.T) {
	st := store.CompanyStatement{Month: "2026-03", OpeningCents: 100_000, AllottedCents: 60_000, RevokedCents: 47_123,
		RevokedEmployees: 1, ClosingCents: 87_123}
	for employees, hidden := range map[int64]bool{1: true, MinGroup - 1: true, MinGroup: false} {
		st.RevokedEmployees = employees
		v := View(st)
		raw, _ := json.Marshal(v)
		csv, err := statementCSV(v, "it")
		if err != nil {
			t.Fatal(err)
		}
		leaks := strings.Contains(string(raw), "47123") || strings.Contains(string(csv), "471.23")
		if hidden == leaks || v.RevokedSuppressed != hidden || (v.RevokedCents == nil) != hidden {
			t.Errorf("%d employees returned credit: suppressed %v, JSON %s, CSV\n%s", employees, v.RevokedSuppressed, raw, csv)
		}
		if !strings.Contains(string(raw), `"closing_cents":87123`) || !strings.Contains(string(csv), "871.23") {
			t.Errorf("%d employees: the closing balance is not the ledger's: %s", employees, raw)
		}
	}
	st.RevokedCents, st.RevokedEmployees, st.ClosingCents = 0, 0, 40_000
	if v := View(st); v.RevokedSuppressed || v.RevokedCents == nil || *v.RevokedCents != 0 {
		t.Errorf("no withdrawal: %+v", v)
	}
}
