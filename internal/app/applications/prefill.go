package applications

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"sportello/forms"
	"sportello/internal/store"
)

// Known is what the platform already knows about an applicant, to fill in
// the application form before they type anything.
type Known struct {
	FirstName, LastName string
	TaxCode             string
	Email, Phone        string
	Municipality        string
	Address             string // street and number, "" when unknown
	HomeDelivery        bool
}

// KnownFromUser is what a user's account says (the display name split into
// first and last name).
func KnownFromUser(u store.UserView) Known {
	first, last, _ := strings.Cut(u.DisplayName, " ")
	return Known{FirstName: first, LastName: last, TaxCode: u.TaxCode, Email: u.Email, Municipality: u.Municipality}
}

// KnownAbout is what the platform knows about the logged-in citizen: the
// account, and the address from their profile (a postal address recorded
// at a Social Point) or, failing that, from their latest application.
func (s Service) KnownAbout(ctx context.Context, u store.UserView) (Known, error) {
	k := KnownFromUser(u)
	addr, err := s.Store.KnownAddress(ctx, u.Scope(), u.ID)
	if err != nil {
		return k, err
	}
	k.Address = addr
	return k, nil
}

// PrefillData is the application data the form starts from: the names,
// the tax code and the date of birth it encodes, the e-mail and phone, the
// municipality and address, and home delivery when the citizen asked for it.
func PrefillData(k Known, now time.Time) json.RawMessage {
	applicant := map[string]any{"first_name": k.FirstName, "last_name": k.LastName}
	if k.TaxCode != "" {
		applicant["tax_code"] = k.TaxCode
		if born, _, ok := forms.TaxCodeBirth(k.TaxCode, now); ok {
			applicant["birth_date"] = born.Format(time.DateOnly)
		}
	}
	if k.Email != "" {
		applicant["email"] = k.Email
	}
	if k.Phone != "" {
		applicant["phone"] = k.Phone
	}
	v := map[string]any{"applicant": applicant}
	residence := map[string]any{}
	if k.Municipality != "" {
		residence["municipality"] = k.Municipality
	}
	if k.Address != "" {
		residence["address"] = k.Address
	}
	if len(residence) > 0 {
		v["residence"] = residence
	}
	if k.HomeDelivery {
		v["delivery"] = "home"
	}
	raw, _ := json.Marshal(v)
	return raw
}
