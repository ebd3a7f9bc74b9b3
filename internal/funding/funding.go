// Package funding holds the rule of a multi-funder checkout (issue 15): how
// the price of a booking is split between the funders that pay for it (the
// employee's company welfare credit, the municipal service voucher, the
// person's own online payment), and how each funder's part is spread over
// the booking's sessions so that every later movement of money (the
// cooperative's payment per delivered session, the refund of cancelled
// sessions, the billing) keeps each funder's share to the cent.
//
// The rule, in one place (Split):
//
//  1. company credit first, as much as the credit has left, up to the total:
//     company welfare is primary and public money subsidiary (principle of
//     subsidiarity), and the credit lapses with the plan's year;
//  2. then the service voucher the person chose, as much as it has left, up
//     to what remains;
//  3. whatever remains is paid online.
//
// The person chooses which funders to use (company credit yes or no, which
// voucher), never the amounts: the server computes them from the balances
// it reads under lock at checkout. A browser may send the split it showed;
// a split that differs from the one computed means that a balance changed
// meanwhile (the API answers 409 and the person confirms the new split).
//
// Sessions spreads each funder's part over the sessions (Sessions): the
// company part evenly, its extra cents on the first sessions; the voucher
// part evenly, its extra cents on the sessions right after the company's
// extra ones (wrapping round); the online part is the rest of each
// session's price. Every session's parts add up to its price, every
// funder's parts add up to its share, and a funder's part in one session
// differs from its part in another by one cent at most. A partial refund
// gives each funder back exactly its parts in the cancelled sessions
// (Refund), so the refunded and the kept add up to each funder's share.
package funding

import "errors"

// Funders a booking's price may be paid by.
const (
	Company = "company" // the employee's company welfare credit
	Voucher = "voucher" // the municipal service voucher
	Online  = "online"  // the person's online payment
)

// Shares is what each funder pays, in cents.
type Shares struct {
	CompanyCents int64 `json:"company_cents"`
	VoucherCents int64 `json:"voucher_cents"`
	OnlineCents  int64 `json:"online_cents"`
}

// Total is the sum of the shares.
func (s Shares) Total() int64 { return s.CompanyCents + s.VoucherCents + s.OnlineCents }

// Add returns s plus t, funder by funder.
func (s Shares) Add(t Shares) Shares {
	return Shares{s.CompanyCents + t.CompanyCents, s.VoucherCents + t.VoucherCents, s.OnlineCents + t.OnlineCents}
}

// Available is what the funders the person chose have left: a funder not
// chosen has 0. Amounts below zero count as zero.
type Available struct {
	CompanyCents int64
	VoucherCents int64
}

// ErrNegativeTotal: a price cannot be below zero.
var ErrNegativeTotal = errors.New("funding: the total is negative")

// Split splits total between the funders by the rule of the package:
// company credit first, then the voucher, the rest online.
func Split(total int64, av Available) (Shares, error) {
	if total < 0 {
		return Shares{}, ErrNegativeTotal
	}
	s := Shares{CompanyCents: min(max(av.CompanyCents, 0), total)}
	s.VoucherCents = min(max(av.VoucherCents, 0), total-s.CompanyCents)
	s.OnlineCents = total - s.CompanyCents - s.VoucherCents
	return s, nil
}

// Sessions spreads the shares of a booking over quantity sessions of unit
// cents each (see the package's doc). It needs shares.Total() ==
// quantity*unit and no share below zero; otherwise, or with no session, it
// returns nil.
func Sessions(quantity int, unit int64, shares Shares) []Shares {
	n := int64(quantity)
	if quantity <= 0 || unit < 0 || shares.CompanyCents < 0 || shares.VoucherCents < 0 || shares.OnlineCents < 0 ||
		shares.Total() != n*unit {
		return nil
	}
	out := make([]Shares, quantity)
	cBase, cExtra := shares.CompanyCents/n, shares.CompanyCents%n
	vBase, vExtra := shares.VoucherCents/n, shares.VoucherCents%n
	for i := range out {
		out[i].CompanyCents = cBase
		if int64(i) < cExtra {
			out[i].CompanyCents++
		}
		out[i].VoucherCents = vBase
		// The voucher's extra cents go to the vExtra sessions after the
		// company's extra ones, wrapping round: a session takes both extra
		// cents only when cExtra+vExtra > n, and then cBase+vBase+2 <= unit
		// (n*(cBase+vBase) + cExtra + vExtra <= n*unit with cExtra+vExtra > n).
		if (int64(i)-cExtra+n)%n < vExtra {
			out[i].VoucherCents++
		}
		out[i].OnlineCents = unit - out[i].CompanyCents - out[i].VoucherCents
	}
	return out
}

// Refund is what each funder gets back when the sessions at the positions
// idx (0-based) of sessions are cancelled: exactly their parts.
func Refund(sessions []Shares, idx []int) Shares {
	var r Shares
	for _, i := range idx {
		if i >= 0 && i < len(sessions) {
			r = r.Add(sessions[i])
		}
	}
	return r
}
