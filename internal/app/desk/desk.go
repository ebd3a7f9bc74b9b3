// Package desk is the Social Point's desk: an operator registers a resident
// of the district who cannot do it alone and hands over a one-time
// activation code, reads and searches the citizens the desk serves, issues
// a new code (or, for an active account, asks its recovery); supervisors
// decide the recoveries that need them and share the district's desk or
// not; staff reach citizens without e-mail through contact tasks and record
// their outcome.
//
// Each use case is here once: the rule, the authorization decision (the
// role, then the desk's scope: the operator's municipality, or the
// district when it shares its desk), the store calls and the audit row,
// with acting_for the citizen. The JSON API (api/desk.go, desk_trust.go)
// and the desk's pages (api/web/desk.go) only decode their
// input and show the result. Filing an application on a citizen's behalf
// belongs to the applications; it resolves the citizen with Citizen and
// records its rows with OnBehalfAudit.
package desk

import (
	"context"
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/notify"
	"sportello/internal/store"
)

// Audit actions of the desk.
const (
	AuditRegisterCitizen = "register_citizen"
	AuditReissueCode     = "reissue_activation_code"
	AuditReadCitizen     = "read_citizen"
	AuditRecordContact   = "record_contact"
	AuditRequestRecovery = "request_account_recovery"
	AuditDecideRecovery  = "decide_account_recovery"
	AuditDeskSharing     = "set_desk_sharing"
)

// Mailer sends the e-mail with a recovery's code to its citizen.
type Mailer interface {
	Send(ctx context.Context, msg notify.Message) error
}

// Service does the desk's use cases.
type Service struct {
	*app.Core
	// Mail sends recovery codes; nil: a recovery by e-mail is refused
	// (Unavailable "mail_unavailable").
	Mail Mailer
}

// New returns the desk service on core, sending recovery codes with mail.
func New(core *app.Core, mail Mailer) Service { return Service{Core: core, Mail: mail} }

// The refusals of a role the desk does not serve (the routes refuse them
// first; these keep the rule with the use case).
var (
	errForbidden = app.Refuse(app.Forbidden, "forbidden", "your role may not use this resource")
)

func allow(user store.UserView, roles ...contract.Role) error {
	if slices.Contains(roles, contract.Role(user.Role)) {
		return nil
	}
	return errForbidden
}

func operatorsOnly(user store.UserView) error { return allow(user, contract.RoleOperator) }

func supervisorsOnly(user store.UserView) error { return allow(user, contract.RoleSupervisor) }

func staffOnly(user store.UserView) error {
	return allow(user, contract.RoleOperator, contract.RoleSupervisor)
}

// NewCitizen is a registration at the desk: the body of POST
// /api/v1/citizens and the registration page's form.
type NewCitizen struct {
	TaxCode      string `json:"tax_code"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Address      string `json:"address"`
	HomeDelivery bool   `json:"home_delivery"`
}

var validPhone = regexp.MustCompile(`^\+?[0-9][0-9 ]*[0-9]$`)

// Validate trims the registration and lists its problems (pointers
// /tax_code, /first_name, /last_name, /email, /phone, /address).
func (r *NewCitizen) Validate() []app.FieldError {
	r.TaxCode = strings.ToUpper(strings.TrimSpace(r.TaxCode))
	r.FirstName, r.LastName = strings.TrimSpace(r.FirstName), strings.TrimSpace(r.LastName)
	r.Email, r.Phone, r.Address = strings.TrimSpace(r.Email), strings.TrimSpace(r.Phone), strings.TrimSpace(r.Address)
	var fields []app.FieldError
	switch {
	case r.TaxCode == "":
		fields = append(fields, app.Field("/tax_code", "required", "desk.err.tax_code_required"))
	case !forms.ValidTaxCode(r.TaxCode):
		fields = append(fields, app.Field("/tax_code", "invalid", "desk.err.tax_code_invalid"))
	}
	for _, n := range []struct{ ptr, v, required string }{
		{"/first_name", r.FirstName, "desk.err.first_name_required"},
		{"/last_name", r.LastName, "desk.err.last_name_required"},
	} {
		switch {
		case n.v == "":
			fields = append(fields, app.Field(n.ptr, "required", n.required))
		case utf8.RuneCountInString(n.v) > 80:
			fields = append(fields, app.Field(n.ptr, "too_long", "desk.err.name_too_long"))
		}
	}
	if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
			fields = append(fields, app.Field("/email", "invalid", "desk.err.email_invalid"))
		}
	}
	if r.Phone != "" && (len(r.Phone) < 6 || len(r.Phone) > 20 || !validPhone.MatchString(r.Phone)) {
		fields = append(fields, app.Field("/phone", "invalid", "desk.err.phone_invalid"))
	}
	switch {
	case utf8.RuneCountInString(r.Address) < 3:
		fields = append(fields, app.Field("/address", "required", "desk.err.address_required"))
	case utf8.RuneCountInString(r.Address) > 200:
		fields = append(fields, app.Field("/address", "too_long", "desk.err.address_too_long"))
	}
	return fields
}

// Registration is what a registration returns: the citizen and the
// activation code, shown once.
type Registration struct {
	Citizen    store.DeskCitizen `json:"citizen"`
	Activation store.IssuedCode  `json:"activation"`
}

// Register registers a resident of the district for user (an operator),
// audited with acting_for. Problems are Invalid with pointers /tax_code,
// ...; a tax code already registered is a Conflict "citizen_exists".
func (s Service) Register(ctx context.Context, user store.UserView, in NewCitizen) (Registration, error) {
	var out Registration
	if err := operatorsOnly(user); err != nil {
		return out, err
	}
	if fields := in.Validate(); len(fields) > 0 {
		return out, app.InvalidInput(fields...)
	}
	e := store.AuditEntry{Action: AuditRegisterCitizen, Municipality: user.Municipality, ActingFor: in.TaxCode,
		Detail: app.AuditDetail(map[string]any{"has_email": in.Email != "", "has_phone": in.Phone != "",
			"home_delivery": in.HomeDelivery})}
	err := s.Audited(ctx, user, e, func() error {
		var err error
		out.Citizen, out.Activation, err = s.API.RegisterCitizen(ctx, user.Scope(), store.NewCitizen{
			TaxCode: in.TaxCode, FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Phone: in.Phone,
			Address: in.Address, HomeDelivery: in.HomeDelivery, Now: s.Now()})
		if errors.Is(err, store.ErrNotResident) {
			return app.InvalidInput(app.Field("/tax_code", "not_resident",
				"desk.err.not_resident"))
		}
		if errors.Is(err, store.ErrNotServed) {
			return app.InvalidInput(app.Field("/tax_code", "not_served",
				"desk.err.not_served"))
		}
		return err
	})
	return out, err
}

// Citizen reads, by their public id, a citizen user serves at the desk (of
// the operator's municipality, or of the district when the district shares
// its desk), audited as a read with acting_for (NotFound when there is
// none, and for anything that is not a public id).
func (s Service) Citizen(ctx context.Context, user store.UserView, publicID string) (store.DeskCitizen, error) {
	if err := operatorsOnly(user); err != nil {
		return store.DeskCitizen{}, err
	}
	d, err := s.API.DeskCitizenByPublicID(ctx, user.Scope(), publicID)
	if errors.Is(err, store.ErrNotFound) {
		return d, app.Missing("citizen")
	}
	if err != nil {
		return d, err
	}
	return d, s.Audit(ctx, user, app.OnBehalfAudit(AuditReadCitizen, user, &d, "", nil))
}

// MaxQuery bounds a search of the desk's citizens (longer queries are cut);
// SearchLimit is how many citizens a search shows.
const (
	MaxQuery    = 100
	SearchLimit = 50
)

// SearchQuery is q as Citizens searches it: trimmed, at most MaxQuery bytes.
func SearchQuery(q string) string {
	q = strings.TrimSpace(q)
	if len(q) > MaxQuery {
		q = q[:MaxQuery]
	}
	return q
}

// Citizens lists the citizens the desk serves, those matching q (see
// SearchQuery) when it is not empty; a search is audited with the query
// and the number of results.
func (s Service) Citizens(ctx context.Context, user store.UserView, q string) ([]store.DeskCitizen, error) {
	if err := operatorsOnly(user); err != nil {
		return nil, err
	}
	q = SearchQuery(q)
	list, err := s.API.DeskCitizens(ctx, user.Scope(), q, SearchLimit)
	if err != nil {
		return nil, err
	}
	if q != "" {
		if err := s.Audit(ctx, user, store.AuditEntry{Action: store.AuditSearch, Municipality: user.Municipality,
			Detail: app.AuditDetail(map[string]any{"citizen_query": q, "results": len(list)})}); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// Cases lists the cases of desk citizen d (read with Citizen) that user
// may see.
func (s Service) Cases(ctx context.Context, user store.UserView, d *store.DeskCitizen) ([]store.CaseSummary, error) {
	if err := operatorsOnly(user); err != nil {
		return nil, err
	}
	cases, _, err := s.API.Cases(ctx, user.Scope(), store.CaseFilter{TaxCode: d.TaxCode, Limit: 50})
	return cases, err
}

// NewCode is what a request for a new code gives the desk: the Code of an
// account waiting for activation, or the Recovery of an active account,
// whose code goes to the citizen's e-mail or waits for a supervisor, never
// to the desk.
type NewCode struct {
	Code     *store.IssuedCode
	Recovery *store.Recovery
}

// ReissueCode issues a new activation code for desk citizen d (read with
// Citizen) when their account waits for activation, or asks the recovery
// of their active account (see NewCode); origin is the portal's address
// for the links of the recovery e-mail.
func (s Service) ReissueCode(ctx context.Context, user store.UserView, d *store.DeskCitizen, origin string) (NewCode, error) {
	var out NewCode
	if err := operatorsOnly(user); err != nil {
		return out, err
	}
	if d.Status != store.UserActive {
		err := s.Audited(ctx, user, app.OnBehalfAudit(AuditReissueCode, user, d, "", nil), func() error {
			code, err := s.API.ReissueActivationCode(ctx, user.Scope(), d.ID, s.Now())
			out.Code = &code
			return err
		})
		return out, err
	}
	channel := store.RecoveryChannelEmail
	if d.Email == "" {
		channel = store.RecoveryChannelApproval
	}
	e := app.OnBehalfAudit(AuditRequestRecovery, user, d, "", map[string]any{"channel": channel})
	err := s.Audited(ctx, user, e, func() error {
		r, err := s.API.RequestRecovery(ctx, user.Scope(), d.ID, s.Now(), func(rc store.RecoveryCode) error {
			return s.sendRecoveryCode(ctx, rc, origin)
		})
		out.Recovery = &r
		return err
	})
	return out, err
}
