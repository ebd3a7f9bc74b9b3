package company

import "sportello/internal/store"

// Small-group suppression. A company's welfare manager sees its employees'
// spending in aggregate only; with few employees an aggregate is a person
// ("childcare in March: 1 employee, EUR 240" tells who bought what). So,
// in every aggregate of spending this package hands out (the API's
// spending, the /azienda page, the monthly statement and its CSV):
//
//   - a cell (a month and a category) is shown only when it sums the
//     spending of at least MinGroup distinct employees; otherwise it says
//     "suppressed" and carries neither amount nor number of bookings;
//   - no total is shown over a suppressed cell: a statement's total
//     spending is shown only when none of its cells is suppressed, so no
//     shown figure lets one recompute a suppressed one by subtraction
//     (cells of different months or categories share no employee money:
//     they are disjoint sums);
//   - the number of employees of a cell is never shown (it only decides).
//
// The credit returned to the company at withdrawals is suppressed the same
// way (SuppressReturned): an employee's returned credit is their annual
// credit less what they spent, so a month's returned credit summed over
// fewer than MinGroup employees is shown as "suppressed". The statement's
// totals stay the ledger's (opening, top-ups, allotted, closing: reconciled
// to the cent); only that breakdown figure is hidden. Known limit: whoever
// knows the other figures of the account (the manager does: they enrolled
// the employees) can still take them from the closing balance; the
// statement itself never names the amount.
//
// The rule lives here and only here (Suppress, SuppressReturned); the
// store keeps raw figures.
// Supervisors see the same suppressed figures in a company's statement.

// MinGroup is the fewest distinct employees a spending cell may sum and still be shown.
const MinGroup = 3

// SpendingCell is one aggregate of spending as it may be shown: with its
// amount and bookings, or suppressed without them.
type SpendingCell struct {
	Month      string `json:"month,omitempty"` // YYYY-MM; empty in a statement (its month)
	Category   string `json:"category"`
	Suppressed bool   `json:"suppressed"`
	SpentCents *int64 `json:"spent_cents,omitempty"`
	Bookings   *int64 `json:"bookings,omitempty"`
}

// Suppress turns raw spending cells into what may be shown, and gives
// their total when it may be shown too (nil when any cell is suppressed).
func Suppress(rows []store.SpendingRow) ([]SpendingCell, *int64) {
	cells := make([]SpendingCell, 0, len(rows))
	var total int64
	whole := true
	for _, r := range rows {
		c := SpendingCell{Month: r.Month, Category: r.Category}
		if r.Employees < MinGroup {
			c.Suppressed, whole = true, false
		} else {
			spent, bookings := r.SpentCents, r.Bookings
			c.SpentCents, c.Bookings = &spent, &bookings
			total += spent
		}
		cells = append(cells, c)
	}
	if !whole {
		return cells, nil
	}
	return cells, &total
}

// SuppressReturned is the month's credit returned by employees, cents
// summed over employees, as it may be shown: nil when 1 to MinGroup-1
// employees returned it (a month without withdrawals shows its 0).
func SuppressReturned(cents, employees int64) *int64 {
	if employees > 0 && employees < MinGroup {
		return nil
	}
	return &cents
}
