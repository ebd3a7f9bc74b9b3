// Package districts embeds the district files of this folder (the demo
// seed applies them through internal/district, as `sportello district
// apply` does): tradate.json, the presentation and municipalities of the
// Tradate district, whose other demo data is still Go code in
// internal/seed, and bene-comune.json, the whole Welfare Bene Comune
// district, which has no code at all.
package districts

import "embed"

// Files holds the district files and their logos.
//
//go:embed *.json *.svg
var Files embed.FS

// Demo are the files the demo seed applies, in order.
var Demo = []string{"tradate.json", "bene-comune.json"}
