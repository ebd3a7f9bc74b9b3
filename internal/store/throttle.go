package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Throttling of logins and activations (issue 10): failed attempts are
// counted per account and per client address in login_throttle, shared by
// every API replica. After a few free failures each further one blocks the
// key for an exponentially growing time.

// Throttle kinds: what a key counts.
const (
	ThrottleLoginAccount      = "login_account"
	ThrottleLoginAddress      = "login_address"
	ThrottleActivationAccount = "activation_account"
	ThrottleActivationAddress = "activation_address"
)

// ThrottlePolicy is the back-off of one kind: Free failures cost nothing,
// the n-th failure after them blocks the key for Base·2^(n-1), at most Max.
type ThrottlePolicy struct {
	Free      int
	Base, Max time.Duration
}

// ThrottlePolicies are the policies of each kind. An address is shared by
// everyone behind one office's NAT, so it gets more free failures.
var ThrottlePolicies = map[string]ThrottlePolicy{
	ThrottleLoginAccount:      {Free: 3, Base: time.Second, Max: 15 * time.Minute},
	ThrottleLoginAddress:      {Free: 10, Base: time.Second, Max: 15 * time.Minute},
	ThrottleActivationAccount: {Free: 3, Base: time.Second, Max: 15 * time.Minute},
	ThrottleActivationAddress: {Free: 10, Base: time.Second, Max: 15 * time.Minute},
}

// ThrottleForget is how long a key must stay quiet to be forgotten.
const ThrottleForget = 24 * time.Hour

// Block returns how long the n-th failure (counting from 1) blocks a key.
func (p ThrottlePolicy) Block(n int) time.Duration {
	if n <= p.Free {
		return 0
	}
	shift := min(n-p.Free-1, 30)
	d := p.Base << shift
	if d <= 0 || d > p.Max {
		return p.Max
	}
	return d
}

// ThrottleKey names one counter: its kind and the value it counts (a
// username in lower case, a client address). Only a hash is stored.
type ThrottleKey struct{ Kind, Value string }

func (k ThrottleKey) hash() []byte {
	sum := sha256.Sum256([]byte(k.Kind + "\x00" + k.Value))
	return sum[:]
}

// ThrottleBlocked is the answer to an attempt made while a key is blocked.
type ThrottleBlocked struct {
	Kind  string    // the kind of the key that blocks longest
	Until time.Time // when the attempt may be made again
}

// ThrottleAttempt starts an attempt at now on keys. When one of them is
// blocked it returns the block and changes nothing. Otherwise the attempt
// is charged as a failure to every key at once (so that a burst of parallel
// attempts cannot all slip through before the first failure is counted);
// ThrottleSucceeded takes the charge back when the attempt succeeds.
func (a API) ThrottleAttempt(ctx context.Context, now time.Time, keys ...ThrottleKey) (*ThrottleBlocked, error) {
	keys = slices.Clone(keys)
	// A fixed locking order: no deadlock between two attempts on the same keys.
	slices.SortFunc(keys, func(x, y ThrottleKey) int { return bytes.Compare(x.hash(), y.hash()) })
	hashes := make([][]byte, len(keys))
	for i, k := range keys {
		hashes[i] = k.hash()
	}
	var blocked *ThrottleBlocked
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		blocked = nil
		rows, err := tx.Query(ctx, `SELECT kind, blocked_until FROM login_throttle WHERE key = ANY($1)
			ORDER BY key FOR UPDATE`, hashes)
		if err != nil {
			return err
		}
		for rows.Next() {
			var kind string
			var until *time.Time
			if err := rows.Scan(&kind, &until); err != nil {
				rows.Close()
				return err
			}
			if until != nil && until.After(now) && (blocked == nil || until.After(blocked.Until)) {
				blocked = &ThrottleBlocked{Kind: kind, Until: *until}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if blocked != nil {
			return nil
		}
		for i, k := range keys {
			var n int
			if err := tx.QueryRow(ctx, `INSERT INTO login_throttle AS t (key, kind, failures, blocked_until, last_failure)
				VALUES ($1, $2, 1, NULL, $3)
				ON CONFLICT (key) DO UPDATE SET
				  failures = CASE WHEN t.last_failure < $3::timestamptz - make_interval(secs => $4) THEN 1 ELSE t.failures + 1 END,
				  last_failure = $3
				RETURNING failures`, hashes[i], k.Kind, now, ThrottleForget.Seconds()).Scan(&n); err != nil {
				return err
			}
			if d := ThrottlePolicies[k.Kind].Block(n); d > 0 {
				if _, err := tx.Exec(ctx, `UPDATE login_throttle SET blocked_until = greatest(blocked_until, $2::timestamptz)
					WHERE key = $1`, hashes[i], now.Add(d)); err != nil {
					return err
				}
			}
		}
		// Keys quiet for ThrottleForget are forgotten, a few at a time.
		_, err = tx.Exec(ctx, `DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle
			WHERE last_failure < $1::timestamptz - make_interval(secs => $2) LIMIT 100)`, now, ThrottleForget.Seconds())
		return err
	})
	return blocked, MapError(err)
}

// ThrottleSucceeded ends an attempt that succeeded: the keys in reset are
// forgotten (the account: its failures no longer count), the charge on the
// keys in refund is taken back (the address: one success does not clear
// what others behind it failed), with the block it may have set.
func (a API) ThrottleSucceeded(ctx context.Context, reset, refund []ThrottleKey) error {
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		for _, k := range reset {
			if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = $1`, k.hash()); err != nil {
				return err
			}
		}
		for _, k := range refund {
			if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = $1 AND failures <= 1`, k.hash()); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE login_throttle SET failures = failures - 1,
				blocked_until = CASE WHEN failures - 1 <= $2::int THEN NULL ELSE blocked_until END
				WHERE key = $1 AND failures > 1`, k.hash(), ThrottlePolicies[k.Kind].Free); err != nil {
				return err
			}
		}
		return nil
	})
	return MapError(err)
}
