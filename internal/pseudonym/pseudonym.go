// Package pseudonym makes the stable pseudonyms of the retention run
// (issue 13, part 5): a keyed HMAC-SHA256 of what identifies a person
// (their tax code), so that the same person gets the same pseudonym in
// every table and every run, and nobody without the key can compute it
// from a tax code. The key (SPORTELLO_PSEUDONYM_KEY) is a secret kept
// apart from the database: with it, and a tax code, an authority's lawful
// request can still be answered ("which pseudonymised cases were this
// person's?"); without it the pseudonymised rows lead to nobody.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
)

// MinKeyLength is the shortest key accepted (bytes).
const MinKeyLength = 16

// Prefix starts every pseudonym, so a pseudonymised field is recognisable.
const Prefix = "PSN-"

// Maker computes pseudonyms under one key.
type Maker struct{ key []byte }

// New returns a Maker with key (at least MinKeyLength bytes).
func New(key string) (Maker, error) {
	if len(key) < MinKeyLength {
		return Maker{}, errors.New("pseudonym: the key is shorter than 16 characters")
	}
	return Maker{key: []byte(key)}, nil
}

// Of is the pseudonym of subject (a tax code, upper-cased and trimmed
// first, so the same person always gets the same one): "PSN-" and 20
// base32 characters (100 bits of the HMAC).
func (m Maker) Of(subject string) string {
	mac := hmac.New(sha256.New, m.key)
	mac.Write([]byte("sportello/person/v1\x00"))
	mac.Write([]byte(strings.ToUpper(strings.TrimSpace(subject))))
	sum := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil))
	return Prefix + sum[:20]
}
