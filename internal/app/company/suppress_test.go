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
