package testidp

import (
	"strings"
	"time"

	"sportello/internal/seed"
)

// DemoCitizens are the people the provider lists under `sportello dev` and
// in the tests: the residents of the demo registry (with the demo accounts'
// e-mail where they have one) and Carla Neri, who lives in no municipality
// served here (to see the page that says so).
func DemoCitizens() []Citizen {
	emails := map[string]string{}
	for _, u := range seed.DemoUsers() {
		if u.TaxCode != "" {
			emails[u.TaxCode] = u.Email
		}
	}
	var list []Citizen
	for _, r := range seed.Residents() {
		tc := r.TaxCode()
		email := emails[tc]
		if email == "" {
			email = strings.ToLower(r.FirstName+"."+r.LastName) + "@example.org"
		}
		list = append(list, Citizen{TaxCode: tc, FirstName: r.FirstName, LastName: r.LastName, Email: email, Note: r.Municipality})
	}
	return append(list, Outsider())
}

// Outsider is the demo person who is in no population registry served here.
func Outsider() Citizen {
	return Citizen{TaxCode: seed.TaxCode("Neri", "Carla", true, time.Date(1970, 2, 14, 0, 0, 0, 0, time.UTC), "F205"),
		FirstName: "Carla", LastName: "Neri", Email: "carla.neri@example.org", Note: "Milano"}
}
