// Package workflows holds every journey of the platform as deterministic
// Temporal workflow code, one file per journey (a case, a booking, an
// appointment, a delegation, a billing run, the ledger check, the
// operations watch and its refund resolution, the retention run), and every
// change id of running journeys in versions.go.
//
// Size: the package is a little above the size of the others because a
// workflow's type name, the name its histories record, is its function's
// name in this package; the journeys also share the activity options, the
// version gates and the message ids. A split into packages by domain would
// keep the names but would have to export those shared parts, and would
// move the replay tests of workflows/testdata/histories apart from the
// one list of the worker's workflows they check.
package workflows
