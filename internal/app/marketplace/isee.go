package marketplace

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"

	"sportello/internal/app"
	"sportello/internal/store"
)

// The citizen's declared ISEE (issue 5, part A): the one in their profile,
// and the one the catalogue prices with.

// ISEE is the citizen's ISEE: the one in the profile and the one the
// catalogue uses (the newer of the profile's and the latest application's).
type ISEE struct {
	store.ProfileISEE
	Catalogue *store.CitizenISEE `json:"catalogue"`
}

// ISEE reads the citizen user's ISEE.
func (s Service) ISEE(ctx context.Context, user store.UserView) (ISEE, error) {
	p, err := s.API.ProfileISEE(ctx, user.Scope(), user.ID)
	if err != nil {
		return ISEE{}, err
	}
	out := ISEE{ProfileISEE: p}
	used, ok, err := s.API.CitizenISEE(ctx, user.Scope(), user.ID)
	if err != nil {
		return ISEE{}, err
	}
	if ok {
		out.Catalogue = &used
	}
	return out, nil
}

// ISEEInput is the body of PUT /me/isee.
type ISEEInput struct {
	ISEE json.RawMessage `json:"isee_euro"`
}

// PutISEE sets (or, with null, removes) the ISEE of the citizen user's
// profile and returns their ISEE as it is now.
func (s Service) PutISEE(ctx context.Context, user store.UserView, in ISEEInput) (ISEE, error) {
	euro, err := ParseISEE(in.ISEE)
	if err != nil {
		return ISEE{}, err
	}
	if err := s.SetISEE(ctx, user, euro); err != nil {
		return ISEE{}, err
	}
	return s.ISEE(ctx, user)
}

// SetISEE sets the ISEE of the citizen user's profile (nil: removed).
func (s Service) SetISEE(ctx context.Context, user store.UserView, euro *int) error {
	_, err := s.API.SetProfileISEE(ctx, user, euro, app.RequestID(ctx))
	return err
}

var errISEEField = app.Field("/isee_euro", "invalid",
	"marketplace.err.isee_euro_invalid")

// ParseISEE reads the isee_euro of a request: null clears it; a number of
// euro with at most two decimals is rounded up to the whole euro.
func ParseISEE(raw json.RawMessage) (*int, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, app.InvalidInput(app.Field("/isee_euro", "required", "marketplace.err.isee_euro_required"))
	}
	if string(trimmed) == "null" {
		return nil, nil
	}
	if trimmed[0] == '"' {
		return nil, app.InvalidInput(errISEEField) // json.Number would take "8500"
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var n json.Number
	if err := dec.Decode(&n); err != nil || len(n) > 30 {
		return nil, app.InvalidInput(errISEEField)
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(store.MaxISEEEuro, 1)) > 0 ||
		!new(big.Rat).Mul(r, big.NewRat(100, 1)).IsInt() {
		return nil, app.InvalidInput(errISEEField)
	}
	return ISEEEuroUp(new(big.Rat).Mul(r, big.NewRat(100, 1)).Num().Int64()), nil
}

// ISEEEuroUp turns cents into whole euro, rounding up (bands are bounded in
// whole euro: 10,000.50 is above a band that ends at 10,000).
func ISEEEuroUp(cents int64) *int {
	e := int((cents + 99) / 100)
	return &e
}
