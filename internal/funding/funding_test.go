package funding

import (
	"math/rand/v2"
	"testing"
)

func TestSplitCompanyFirstThenVoucherThenOnline(t *testing.T) {
	cases := []struct {
		name  string
		total int64
		av    Available
		want  Shares
	}{
		{"company covers all", 5000, Available{CompanyCents: 9000, VoucherCents: 3000}, Shares{5000, 0, 0}},
		{"company then voucher", 5000, Available{CompanyCents: 2000, VoucherCents: 2500}, Shares{2000, 2500, 500}},
		{"company then voucher covers the rest", 5000, Available{CompanyCents: 2000, VoucherCents: 9999}, Shares{2000, 3000, 0}},
		{"no funder", 5000, Available{}, Shares{0, 0, 5000}},
		{"voucher only", 5000, Available{VoucherCents: 1234}, Shares{0, 1234, 3766}},
		{"negative balances count as none", 100, Available{CompanyCents: -5, VoucherCents: -1}, Shares{0, 0, 100}},
		{"free service", 0, Available{CompanyCents: 100, VoucherCents: 100}, Shares{}},
	}
	for _, c := range cases {
		got, err := Split(c.total, c.av)
		if err != nil || got != c.want {
			t.Errorf("%s: Split(%d, %+v) = %+v, %v; want %+v", c.name, c.total, c.av, got, err, c.want)
		}
	}
	if _, err := Split(-1, Available{}); err == nil {
		t.Error("a negative total was split")
	}
}

// TestSessionsKeepEveryShareToTheCent checks, over many bookings, that every
// session adds up to its price, every funder's parts add up to its share,
// no part is negative, a funder's parts differ by one cent at most, and any
// partial refund leaves refunded + kept = share for every funder.
func TestSessionsKeepEveryShareToTheCent(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 1))
	check := func(q int, unit int64, s Shares) {
		t.Helper()
		parts := Sessions(q, unit, s)
		if len(parts) != q {
			t.Fatalf("Sessions(%d, %d, %+v): %d parts", q, unit, s, len(parts))
		}
		var sum Shares
		lo, hi := parts[0], parts[0]
		for i, p := range parts {
			if p.CompanyCents < 0 || p.VoucherCents < 0 || p.OnlineCents < 0 {
				t.Fatalf("Sessions(%d, %d, %+v): session %d has a negative part %+v", q, unit, s, i, p)
			}
			if p.Total() != unit {
				t.Fatalf("Sessions(%d, %d, %+v): session %d adds up to %d", q, unit, s, i, p.Total())
			}
			sum = sum.Add(p)
			lo = Shares{min(lo.CompanyCents, p.CompanyCents), min(lo.VoucherCents, p.VoucherCents), min(lo.OnlineCents, p.OnlineCents)}
			hi = Shares{max(hi.CompanyCents, p.CompanyCents), max(hi.VoucherCents, p.VoucherCents), max(hi.OnlineCents, p.OnlineCents)}
		}
		if sum != s {
			t.Fatalf("Sessions(%d, %d, %+v): parts add up to %+v", q, unit, s, sum)
		}
		if hi.CompanyCents-lo.CompanyCents > 1 || hi.VoucherCents-lo.VoucherCents > 1 {
			t.Fatalf("Sessions(%d, %d, %+v): uneven parts %+v .. %+v", q, unit, s, lo, hi)
		}
		// Cancel a random subset: refunded and kept add up to each share.
		var cancelled, kept []int
		for i := range parts {
			if r.IntN(2) == 0 {
				cancelled = append(cancelled, i)
			} else {
				kept = append(kept, i)
			}
		}
		if got := Refund(parts, cancelled).Add(Refund(parts, kept)); got != s {
			t.Fatalf("Sessions(%d, %d, %+v): refunded %v + kept %v = %+v", q, unit, s, cancelled, kept, got)
		}
	}
	// Every split of small bookings, then random large ones.
	for q := 1; q <= 7; q++ {
		for unit := int64(0); unit <= 9; unit++ {
			total := int64(q) * unit
			for c := int64(0); c <= total; c++ {
				for v := int64(0); v <= total-c; v++ {
					check(q, unit, Shares{c, v, total - c - v})
				}
			}
		}
	}
	for range 20000 {
		q := 1 + r.IntN(100)
		unit := r.Int64N(100_000)
		total := int64(q) * unit
		s, err := Split(total, Available{CompanyCents: r.Int64N(total + 1), VoucherCents: r.Int64N(total + 1)})
		if err != nil {
			t.Fatal(err)
		}
		check(q, unit, s)
	}
}

func TestSessionsRefuseSharesThatDoNotAddUp(t *testing.T) {
	for _, c := range []struct {
		q    int
		unit int64
		s    Shares
	}{
		{0, 100, Shares{}},
		{2, 100, Shares{100, 50, 49}},
		{2, 100, Shares{-1, 101, 100}},
	} {
		if got := Sessions(c.q, c.unit, c.s); got != nil {
			t.Errorf("Sessions(%d, %d, %+v) = %v, want nil", c.q, c.unit, c.s, got)
		}
	}
}

// TestSessionsExample: 3 sessions of 10.00 paid 10.01 by company credit,
// 10.01 by voucher and 9.98 online. The company's 2 extra cents go to the
// first two sessions, the voucher's to the next two (the third, then round
// to the first); online pays the rest of each session.
func TestSessionsExample(t *testing.T) {
	got := Sessions(3, 1000, Shares{1001, 1001, 998})
	exp := []Shares{{334, 334, 332}, {334, 333, 333}, {333, 334, 333}}
	for i := range exp {
		if got[i] != exp[i] {
			t.Fatalf("session %d = %+v, want %+v (all: %+v)", i, got[i], exp[i], got)
		}
	}
}
