// Package activities holds every side effect of Sportello's workflows.
package activities

import "sportello/internal/store"

// Cases groups the activities of case workflows; its fields are their
// dependencies. Workflows call its methods through a nil *Cases.
type Cases struct {
	Store *store.Store
}
