package contract

import "time"

// The ledger check's report: the VerifyLedger activity returns it, the
// LedgerVerify workflow reads it and attaches it to its failure.

// LedgerCheckResult is the outcome of one invariant.
type LedgerCheckResult struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Violations  int      `json:"violations"`
	Samples     []string `json:"samples,omitempty"` // up to the number the check was asked for
}

// LedgerReport is the outcome of a whole ledger check.
type LedgerReport struct {
	CheckedAt time.Time           `json:"checked_at"`
	Accounts  int64               `json:"accounts"`
	Transfers int64               `json:"transfers"`
	Checks    []LedgerCheckResult `json:"checks"`
}

// OK reports whether every invariant holds.
func (r LedgerReport) OK() bool { return r.Violations() == 0 }

// Violations counts the rows that break an invariant, over all checks.
func (r LedgerReport) Violations() int {
	n := 0
	for _, c := range r.Checks {
		n += c.Violations
	}
	return n
}

// FirstProblem describes the first violation, or "" when the books balance.
func (r LedgerReport) FirstProblem() string {
	for _, c := range r.Checks {
		if c.Violations > 0 {
			s := c.Name + ": " + c.Description
			if len(c.Samples) > 0 {
				s += " (" + c.Samples[0] + ")"
			}
			return s
		}
	}
	return ""
}

// DefaultVerifyGrace is how long a closed booking may hold the money of a
// refund the saga is still making (the provider may be down for a while):
// the grace of a ledger check that names none.
const DefaultVerifyGrace = time.Hour
