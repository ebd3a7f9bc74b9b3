// Package districts embeds the district files of this folder, applied by
// `sportello district apply` and by the demo seed through internal/district:
// bene-comune.json, the Welfare Bene Comune district, and tradate.json, the
// Tradate district (the default one). Each file is the whole district: its
// presentation, municipalities, cooperatives and services, companies and
// their welfare plans (Tradate's demo company), Social Points, shops,
// funds, staff accounts and teams; neither has any code.
package districts

import "embed"

// Files holds the district files and their logos.
//
//go:embed *.json *.svg
var Files embed.FS

// Demo are the files the demo seed applies, in order.
var Demo = []string{"bene-comune.json", "tradate.json"}
