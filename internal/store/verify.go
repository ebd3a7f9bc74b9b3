package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// The ledger check (`sportello verify`, the nightly LedgerVerify schedule
// and the tests that move money) recomputes the books from the transfers
// and checks the invariants the platform promises:
//
//   - all balances sum to zero (every movement is one transfer);
//   - every account's balance equals its credits minus its debits;
//   - no account is below zero, and only the external accounts (a
//     district's funding and online payments) may go below zero at all;
//   - a closed booking (cancelled or completed) holds nothing;
//   - every awarded voucher has its award transfers, every redemption its
//     transfer, every paid booking its payment transfer, every paid invoice
//     its payout transfer, each of the right amount and between the right
//     accounts; no booking is refunded more than it was paid; every paid
//     company top-up its topup transfer; every booking's funders (company
//     credit, voucher, online) pay its total, its sessions' parts add up to
//     each funder's share and each session to its price, and its company
//     part was held from the employee's credit;
//   - every booking movement names its booking;
//   - every published call's fund has a confirmed budget commitment of the
//     call's budget (the accounting system's "impegno di spesa"), and was
//     funded once of that amount; a call not published has no funding.
//
// Each check is one SQL statement over the whole ledger, so the check is
// also cheap to run often; each reports how many rows break it and a few of
// them.

// LedgerCheckResult is the outcome of one invariant (defined in
// internal/contract, with the report the LedgerVerify workflow reads).
type LedgerCheckResult = contract.LedgerCheckResult

// LedgerReport is the outcome of a whole ledger check (defined in
// internal/contract).
type LedgerReport = contract.LedgerReport

// DefaultVerifyGrace is how long a closed booking may hold the money of a
// refund the saga is still making (the provider may be down for a while);
// defined in internal/contract.
const DefaultVerifyGrace = contract.DefaultVerifyGrace

// VerifyOptions tune the ledger check.
type VerifyOptions struct {
	// Grace: a booking closed less than this long ago may still hold the
	// money of a refund the saga is making in the background. 0 checks
	// every closed booking (use it once every journey has ended).
	Grace time.Duration
	// Samples: how many violating rows each check lists (default 5).
	Samples int
}

// ledgerInvariant is one check: sql returns one text row per violation.
type ledgerInvariant struct {
	name, description, sql string
}

// ledgerInvariants are the checks in the order they are reported. $1 is the
// grace period of closed bookings.
var ledgerInvariants = []ledgerInvariant{
	{"balances_sum_to_zero", "all balances sum to zero",
		`SELECT format('the balances sum to %s cents', s) FROM (SELECT coalesce(sum(balance_cents), 0) AS s FROM accounts) x
		 WHERE s <> 0`},
	{"balance_matches_transfers", "every balance equals its credits minus its debits",
		`WITH moves AS (SELECT to_account AS id, amount_cents AS d FROM transfers
		                UNION ALL SELECT from_account, -amount_cents FROM transfers),
		      sums AS (SELECT id, sum(d) AS s FROM moves GROUP BY id)
		 SELECT format('%s: balance %s, transfers %s', a.id, a.balance_cents, coalesce(s.s, 0))
		 FROM accounts a LEFT JOIN sums s ON s.id = a.id
		 WHERE a.balance_cents <> coalesce(s.s, 0) ORDER BY a.id`},
	{"no_negative_balance", "no account is below zero but a district's funding and payments",
		`SELECT format('%s (%s): balance %s', id, kind, balance_cents) FROM accounts
		 WHERE balance_cents < 0 AND (NOT allow_negative OR kind NOT IN ('funding', 'payments')) ORDER BY id`},
	{"negative_only_external", "only a district's funding and payments accounts may go negative",
		`SELECT format('%s (%s) allows a negative balance', id, kind) FROM accounts
		 WHERE allow_negative AND kind NOT IN ('funding', 'payments') ORDER BY id`},
	{"closed_booking_holds_nothing", "a cancelled or completed booking holds no money",
		`SELECT format('booking %s (%s): %s holds %s cents', b.number, b.status, a.id, a.balance_cents)
		 FROM bookings b JOIN accounts a ON a.id IN ('booking:' || b.id || ':voucher', 'booking:' || b.id || ':online', 'booking:' || b.id || ':company')
		 WHERE b.status IN ('cancelled', 'completed') AND a.balance_cents <> 0 AND b.updated_at <= now() - $1::interval
		 ORDER BY b.number, a.id`},
	{"award_has_transfers", "every voucher's amount was awarded from its fund, exactly",
		`SELECT format('voucher %s: amount %s, awarded %s', v.code, v.amount_cents, coalesce(t.s, 0))
		 FROM vouchers v LEFT JOIN (SELECT voucher_id, sum(amount_cents) AS s FROM transfers
		   WHERE kind = 'award' GROUP BY voucher_id) t ON t.voucher_id = v.id
		 WHERE coalesce(t.s, 0) <> v.amount_cents ORDER BY v.code`},
	{"redemption_has_transfer", "every redemption has its transfer from the voucher to the merchant",
		`SELECT format('redemption %s: %s cents, transfer %s %s -> %s of %s', r.id, r.amount_cents, t.kind, t.from_account, t.to_account, t.amount_cents)
		 FROM redemptions r JOIN transfers t ON t.id = r.transfer_id
		 WHERE t.kind <> 'redemption' OR t.amount_cents <> r.amount_cents
		    OR t.from_account <> 'voucher:' || r.voucher_id OR t.to_account <> 'merchant:' || r.merchant_id
		 ORDER BY r.id`},
	{"payment_has_transfer", "every paid booking has its payment transfer of its online part",
		`SELECT format('booking %s (%s): online %s, payment transfers %s', b.number, b.payment_status, b.online_cents, coalesce(t.s, 0))
		 FROM bookings b LEFT JOIN (SELECT booking_id, sum(amount_cents) AS s FROM transfers
		   WHERE kind = 'payment' GROUP BY booking_id) t ON t.booking_id = b.id
		 WHERE b.online_cents > 0 AND b.payment_status IN ('paid', 'refunded', 'partially_refunded')
		   AND coalesce(t.s, 0) <> b.online_cents
		 ORDER BY b.number`},
	{"payment_transfer_has_paid_booking", "every payment transfer belongs to a booking whose payment was taken",
		`SELECT format('transfer %s (%s cents): booking %s', t.idempotency_key, t.amount_cents, coalesce(b.number::text || ' is ' || b.payment_status, 'missing'))
		 FROM transfers t LEFT JOIN bookings b ON b.id = t.booking_id
		 WHERE t.kind = 'payment' AND (b.id IS NULL OR b.payment_status NOT IN ('paid', 'refunded', 'partially_refunded'))
		 ORDER BY t.id`},
	{"refund_within_payment", "no booking is refunded more than it was paid",
		`SELECT format('booking %s: paid %s, refunded %s', b.number, coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'payment'), 0),
		   coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'refund'), 0))
		 FROM bookings b JOIN transfers t ON t.booking_id = b.id AND t.kind IN ('payment', 'refund')
		 GROUP BY b.id, b.number
		 HAVING coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'refund'), 0) > coalesce(sum(t.amount_cents) FILTER (WHERE t.kind = 'payment'), 0)
		 ORDER BY b.number`},
	{"booking_movement_names_booking", "every booking movement names its booking",
		`SELECT format('transfer %s (%s) names no booking', idempotency_key, kind) FROM transfers
		 WHERE kind IN ('hold', 'void', 'payment', 'post', 'settle', 'refund') AND booking_id IS NULL ORDER BY id`},
	{"topup_has_transfer", "every paid company top-up has its transfer of its amount from the district's payments",
		`SELECT format('top-up %s: amount %s, transfer %s', c.id, c.amount_cents, coalesce(t.kind || ' of ' || t.amount_cents, 'missing'))
		 FROM company_topups c LEFT JOIN transfers t ON t.id = c.transfer_id
		 WHERE c.status = 'paid' AND (t.id IS NULL OR t.kind <> 'topup' OR t.amount_cents <> c.amount_cents
		    OR t.from_account <> 'payments:' || c.district_id || ':companies' OR t.to_account <> 'company:' || c.company_id)
		 ORDER BY c.created_at, c.id`},
	{"funder_shares_add_up", "every booking's funders pay its total, and its sessions' parts add up to each funder's share and to the unit price",
		`SELECT format('booking %s: total %s; company %s, voucher %s, online %s; sessions %s, %s, %s; a session off its price: %s',
		   b.number, b.total_cents, b.company_cents, b.voucher_cents, b.online_cents, s.company, s.voucher, s.online, s.off)
		 FROM bookings b JOIN (SELECT booking_id, sum(company_cents) AS company, sum(voucher_cents) AS voucher, sum(online_cents) AS online,
		     bool_or(company_cents + voucher_cents + online_cents <> (SELECT unit_price_cents FROM bookings x WHERE x.id = booking_id)) AS off
		   FROM booking_sessions GROUP BY booking_id) s ON s.booking_id = b.id
		 WHERE b.company_cents + b.voucher_cents + b.online_cents <> b.total_cents
		    OR (s.company, s.voucher, s.online) IS DISTINCT FROM (b.company_cents, b.voucher_cents, b.online_cents) OR s.off
		 ORDER BY b.number`},
	{"company_share_held", "every booking's company part was held from the employee's credit, exactly",
		`SELECT format('booking %s: company part %s, held %s', b.number, b.company_cents, coalesce(t.s, 0))
		 FROM bookings b LEFT JOIN (SELECT booking_id, sum(amount_cents) AS s FROM transfers
		   WHERE kind = 'hold' AND from_account LIKE 'company_credit:%' GROUP BY booking_id) t ON t.booking_id = b.id
		 WHERE coalesce(t.s, 0) <> b.company_cents ORDER BY b.number`},
	{"call_fund_committed", "every published call's fund has a confirmed budget commitment of the call's budget, funded once of that amount; no other call's fund is funded",
		`SELECT format('call %s (%s): budget %s, commitment %s of %s, funded %s', c.id, c.status, c.budget_cents,
		   coalesce(c.commitment_number, 'missing'), coalesce(c.commitment_cents::text, '-'), coalesce(t.s, 0))
		 FROM calls c LEFT JOIN (SELECT fund_id, sum(amount_cents) AS s FROM transfers
		   WHERE kind = 'funding' AND to_account = 'fund:' || fund_id GROUP BY fund_id) t ON t.fund_id = c.id
		 WHERE (c.status = 'published' AND (c.commitment_number IS NULL OR c.commitment_cents IS DISTINCT FROM c.budget_cents
		        OR coalesce(t.s, 0) <> c.commitment_cents))
		    OR (c.status <> 'published' AND coalesce(t.s, 0) <> 0)
		 ORDER BY c.id`},
	{"paid_invoice_has_payout", "every paid invoice has its payout transfer of its total",
		`SELECT format('invoice %s: total %s, payout %s', i.number, i.total_cents, coalesce(t.kind || ' of ' || t.amount_cents, 'missing'))
		 FROM invoices i LEFT JOIN transfers t ON t.id = i.payout_transfer_id
		 WHERE i.status = 'paid' AND (t.id IS NULL OR t.kind <> 'payout' OR t.amount_cents <> i.total_cents)
		 ORDER BY i.number`},
}

// VerifyLedger runs every ledger invariant over q (a pool, or a transaction
// for one consistent snapshot) and reports them all. An error is a failure
// to read, never a violation.
func VerifyLedger(ctx context.Context, q Querier, opts VerifyOptions) (LedgerReport, error) {
	if opts.Samples <= 0 {
		opts.Samples = 5
	}
	grace := max(opts.Grace, 0)
	var r LedgerReport
	if err := q.QueryRow(ctx, `SELECT now(), (SELECT count(*) FROM accounts), (SELECT count(*) FROM transfers)`).
		Scan(&r.CheckedAt, &r.Accounts, &r.Transfers); err != nil {
		return r, fmt.Errorf("ledger check: %w", err)
	}
	for _, inv := range ledgerInvariants {
		res := LedgerCheckResult{Name: inv.name, Description: inv.description}
		sql := inv.sql
		var args []any
		if strings.Contains(sql, "$1") {
			args = append(args, grace)
		}
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return r, fmt.Errorf("ledger check %s: %w", inv.name, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return r, fmt.Errorf("ledger check %s: %w", inv.name, err)
			}
			res.Violations++
			if len(res.Samples) < opts.Samples {
				res.Samples = append(res.Samples, s)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return r, fmt.Errorf("ledger check %s: %w", inv.name, err)
		}
		r.Checks = append(r.Checks, res)
	}
	return r, nil
}

// VerifyLedgerSnapshot runs VerifyLedger in one read-only repeatable-read
// transaction: every check sees the same books, even while money moves.
func (s *Store) VerifyLedgerSnapshot(ctx context.Context, opts VerifyOptions) (LedgerReport, error) {
	var r LedgerReport
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		r, err = VerifyLedger(ctx, tx, opts)
		return err
	})
	return r, err
}
