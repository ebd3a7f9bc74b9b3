package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The population registry import (migration 018): a municipality's extract
// of the national registry replaces what the platform knows of that
// municipality's residents, in one transaction. Parsing and validating the
// file is internal/registry; this file compares the valid rows with the
// residents table and applies the difference.

// RegistryRow is one valid row of an extract.
type RegistryRow struct {
	Line         int // line of the file (1 is the header)
	TaxCode      string
	LastName     string
	FirstName    string
	BirthDate    time.Time // zero when the extract has none
	Municipality string    // as written in the file: a municipality id or its cadastral code
	Household    string
}

// RegistryLineError is one problem of an extract, on one line (0: the file
// as a whole) and column (the header's name, "" for the whole line). Code
// names the message registry.err.<code> of internal/i18n; Args are its
// arguments after the line number.
type RegistryLineError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Code   string `json:"code"`
	Args   []any  `json:"-"`
}

// RegistryLineErrors refuses an extract: nothing was imported.
type RegistryLineErrors struct{ Errors []RegistryLineError }

func (e *RegistryLineErrors) Error() string {
	if len(e.Errors) == 0 {
		return "registry extract refused"
	}
	f := e.Errors[0]
	return fmt.Sprintf("registry extract refused: %d problem(s), the first on line %d (%s %s)", len(e.Errors), f.Line, f.Column, f.Code)
}

// Sources of an import.
const (
	RegistrySourceCLI  = "cli"
	RegistrySourceAPI  = "api"
	RegistrySourceWeb  = "web"
	RegistrySourceSeed = "seed"
)

// AuditRegistryImport is the audit action of an applied import (a dry run:
// AuditRegistryDryRun).
const (
	AuditRegistryImport = "registry_import"
	AuditRegistryDryRun = "registry_dry_run"
)

// ErrRegistryScope refuses an import of a municipality outside the
// caller's reach (an operator: another municipality; a supervisor: another
// district), before anything is read.
var ErrRegistryScope = errors.New("registry: municipality outside the caller's reach")

// RegistryImport is one import of one municipality's extract.
type RegistryImport struct {
	Municipality string // a municipality id or cadastral code; "" for the one every row names
	Rows         []RegistryRow
	DryRun       bool
	// KeepFile (with DryRun) keeps Content with the dry run's record, for
	// a confirmation that applies exactly this file (ConfirmRegistryImport).
	KeepFile bool
	Content  []byte
	FileName string
	SHA256   string // of Content
	Source   string // RegistrySource*
	// ActorID and ActorUsername say who imports (0 and a name such as
	// "cli:<user>" for the command line and the seed).
	ActorID       int64
	ActorUsername string
	RequestID     string
	At            time.Time
	// QuietWhenUnchanged: an import that changes nothing is not recorded
	// (the seed's demo extracts only; ImportID stays "").
	QuietWhenUnchanged bool
}

// RegistryChange is one resident the import adds, moves, updates or marks
// gone.
type RegistryChange struct {
	Line             int    `json:"line,omitempty"` // 0 for a resident gone (not in the file)
	TaxCode          string `json:"tax_code"`
	LastName         string `json:"last_name"`
	FirstName        string `json:"first_name"`
	Household        string `json:"household,omitempty"`
	FromMunicipality string `json:"from_municipality,omitempty"` // moved: the municipality before
	FromHousehold    string `json:"from_household,omitempty"`    // moved: the household before
}

// RegistrySampleSize is how many changes of each kind a diff lists.
const RegistrySampleSize = 20

// RegistryDiff is what an import changes (or, for a dry run, would change):
// counts of every kind and the first RegistrySampleSize changes of each.
type RegistryDiff struct {
	ImportID     string           `json:"id"`
	DryRun       bool             `json:"dry_run"`
	District     string           `json:"district"`
	Municipality string           `json:"municipality"`
	SHA256       string           `json:"sha256"`
	Rows         int              `json:"rows"`
	New          int              `json:"new"`
	Moved        int              `json:"moved"`
	Updated      int              `json:"updated"`
	Gone         int              `json:"gone"`
	Unchanged    int              `json:"unchanged"`
	NewRows      []RegistryChange `json:"new_rows"`
	MovedRows    []RegistryChange `json:"moved_rows"`
	UpdatedRows  []RegistryChange `json:"updated_rows"`
	GoneRows     []RegistryChange `json:"gone_rows"`
	At           time.Time        `json:"at"`
}

// Changes tells whether applying the diff changes any resident.
func (d RegistryDiff) Changes() bool { return d.New+d.Moved+d.Updated+d.Gone > 0 }

type currentResident struct {
	municipality, district, household, first, last string
	birth                                          *time.Time
	ceased                                         bool
}

// ImportRegistry compares in.Rows with the residents of the import's
// municipality and, unless in.DryRun, applies the difference, all in one
// transaction under scope (row-level security: an operator writes only
// their municipality's residents, a supervisor their district's):
//
//   - new: a tax code not resident in the district (never seen, no longer
//     resident, or resident in another district);
//   - moved: resident in another municipality of the district, or in
//     another household of this one;
//   - updated: same municipality and household, other names or birth date;
//   - gone: a current resident of the municipality absent from the extract,
//     marked no longer resident at in.At (never deleted).
//
// Every import, dry runs included, is recorded in registry_imports with an
// audit row (the seed's demo extracts: without). A row naming an unknown municipality, or another one than the
// import's, refuses the whole file (*RegistryLineErrors).
func (s *Store) ImportRegistry(ctx context.Context, scope Scope, in RegistryImport) (RegistryDiff, error) {
	var diff RegistryDiff
	if in.At.IsZero() {
		in.At = time.Now()
	}
	err := s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		diff, err = importRegistry(ctx, tx, scope, in)
		return err
	})
	if err != nil {
		return RegistryDiff{}, registryError(err)
	}
	return diff, nil
}

func registryError(err error) error {
	var le *RegistryLineErrors
	if errors.As(err, &le) || errors.Is(err, ErrRegistryScope) || errors.Is(err, ErrNotFound) {
		return err
	}
	return MapError(err)
}

// municipalityRef resolves a municipality id or cadastral code (any case).
type municipalityRef struct{ id, district string }

func loadMunicipalities(ctx context.Context, tx pgx.Tx) (map[string]municipalityRef, error) {
	rows, err := tx.Query(ctx, `SELECT id, district_id, cadastral_code FROM municipalities`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]municipalityRef{}
	for rows.Next() {
		var id, district, cadastral string
		if err := rows.Scan(&id, &district, &cadastral); err != nil {
			return nil, err
		}
		ref := municipalityRef{id: id, district: district}
		out[id] = ref
		out[upperASCII(cadastral)] = ref
	}
	return out, rows.Err()
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// lookupMunicipality finds name (an id, or a cadastral code in any case).
func lookupMunicipality(refs map[string]municipalityRef, name string) (municipalityRef, bool) {
	if r, ok := refs[name]; ok {
		return r, true
	}
	r, ok := refs[upperASCII(name)]
	return r, ok
}

// inReach tells whether scope may import municipality m.
func inReach(scope Scope, m municipalityRef) bool {
	switch scope.Kind {
	case System.Kind:
		return true
	case "supervisor":
		return m.district == scope.District
	case "operator":
		return m.district == scope.District && m.id == scope.Municipality
	}
	return false
}

func importRegistry(ctx context.Context, tx pgx.Tx, scope Scope, in RegistryImport) (RegistryDiff, error) {
	refs, err := loadMunicipalities(ctx, tx)
	if err != nil {
		return RegistryDiff{}, err
	}
	// The import's municipality: the one named, else the one of the rows
	// (else, for an operator, their own).
	target := in.Municipality
	if target == "" && len(in.Rows) > 0 {
		target = in.Rows[0].Municipality
	}
	if target == "" && scope.Kind == "operator" {
		target = scope.Municipality
	}
	if target == "" {
		return RegistryDiff{}, &RegistryLineErrors{Errors: []RegistryLineError{{Code: "municipality_missing"}}}
	}
	m, ok := lookupMunicipality(refs, target)
	if !ok {
		if in.Municipality != "" {
			return RegistryDiff{}, ErrNotFound
		}
		return RegistryDiff{}, &RegistryLineErrors{Errors: []RegistryLineError{{Line: in.Rows[0].Line, Column: "comune",
			Code: "municipality_unknown", Args: []any{target}}}}
	}
	if !inReach(scope, m) {
		return RegistryDiff{}, ErrRegistryScope
	}
	var lineErrs []RegistryLineError
	for _, r := range in.Rows {
		rm, ok := lookupMunicipality(refs, r.Municipality)
		switch {
		case !ok || rm.district != m.district:
			lineErrs = append(lineErrs, RegistryLineError{Line: r.Line, Column: "comune", Code: "municipality_unknown",
				Args: []any{r.Municipality}})
		case rm.id != m.id:
			lineErrs = append(lineErrs, RegistryLineError{Line: r.Line, Column: "comune", Code: "municipality_other",
				Args: []any{r.Municipality, m.id}})
		}
	}
	if len(lineErrs) > 0 {
		return RegistryDiff{}, &RegistryLineErrors{Errors: lineErrs}
	}
	// One import of a municipality at a time: the second waits and then
	// compares with what the first wrote.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('registry:' || $1, 0))`, m.id); err != nil {
		return RegistryDiff{}, err
	}
	diff := RegistryDiff{DryRun: in.DryRun, District: m.district, Municipality: m.id, SHA256: in.SHA256,
		Rows: len(in.Rows), At: in.At}
	codes := make([]string, len(in.Rows))
	for i, r := range in.Rows {
		codes[i] = r.TaxCode
	}
	current := map[string]currentResident{}
	// The file's tax codes wherever they live (a staff member's own reach
	// is their district, migration 022) and the municipality's residents.
	rows, err := tx.Query(ctx, `SELECT tax_code, municipality_id, district_id, household_id, first_name, last_name,
			birth_date, ceased FROM sportello_registry_known($1, $2)`, codes, m.id)
	if err != nil {
		return RegistryDiff{}, err
	}
	for rows.Next() {
		var code string
		var c currentResident
		if err := rows.Scan(&code, &c.municipality, &c.district, &c.household, &c.first, &c.last, &c.birth, &c.ceased); err != nil {
			rows.Close()
			return RegistryDiff{}, err
		}
		current[code] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return RegistryDiff{}, err
	}
	sample := func(list *[]RegistryChange, ch RegistryChange) {
		if len(*list) < RegistrySampleSize {
			*list = append(*list, ch)
		}
	}
	var write []RegistryRow
	inFile := make(map[string]bool, len(in.Rows))
	for _, r := range in.Rows {
		inFile[r.TaxCode] = true
		ch := RegistryChange{Line: r.Line, TaxCode: r.TaxCode, LastName: r.LastName, FirstName: r.FirstName, Household: r.Household}
		c, found := current[r.TaxCode]
		switch {
		case !found || c.ceased || c.district != m.district:
			diff.New++
			sample(&diff.NewRows, ch)
		case c.municipality != m.id || c.household != r.Household:
			diff.Moved++
			ch.FromMunicipality, ch.FromHousehold = c.municipality, c.household
			sample(&diff.MovedRows, ch)
		case c.first != r.FirstName || c.last != r.LastName || !sameDate(c.birth, r.BirthDate):
			diff.Updated++
			sample(&diff.UpdatedRows, ch)
		default:
			diff.Unchanged++
			continue
		}
		write = append(write, r)
	}
	var gone []string
	for code, c := range current {
		if c.municipality == m.id && !c.ceased && !inFile[code] {
			gone = append(gone, code)
		}
	}
	if len(gone) > 0 {
		slices.Sort(gone)
		diff.Gone = len(gone)
		for _, code := range gone {
			c := current[code]
			sample(&diff.GoneRows, RegistryChange{TaxCode: code, LastName: c.last, FirstName: c.first, Household: c.household})
		}
	}
	if !in.DryRun {
		if err := writeResidents(ctx, tx, m.id, write, gone, in.At); err != nil {
			return RegistryDiff{}, err
		}
	}
	if in.QuietWhenUnchanged && !diff.Changes() {
		return diff, nil
	}
	status := "applied"
	if in.DryRun {
		status = "dry_run"
	}
	var content []byte
	if in.DryRun && in.KeepFile {
		content = in.Content
		// Files of dry runs never confirmed are personal data kept for no
		// purpose once expired: dropped here, in the caller's reach.
		if _, err := tx.Exec(ctx, `UPDATE registry_imports SET content = NULL
			WHERE content IS NOT NULL AND created_at < $1`, in.At.Add(-RegistryPreviewTTL)); err != nil {
			return RegistryDiff{}, err
		}
	}
	var actor any
	if in.ActorID != 0 {
		actor = in.ActorID
	}
	if err := tx.QueryRow(ctx, `INSERT INTO registry_imports (district_id, municipality_id, status, source, actor_id,
			actor_username, file_name, file_sha256, rows, new_count, moved_count, updated_count, gone_count, unchanged_count,
			content, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id::text`,
		m.district, m.id, status, in.Source, actor, in.ActorUsername, in.FileName, in.SHA256, diff.Rows,
		diff.New, diff.Moved, diff.Updated, diff.Gone, diff.Unchanged, content, in.At).Scan(&diff.ImportID); err != nil {
		return RegistryDiff{}, err
	}
	if in.Source == RegistrySourceSeed {
		// The demo data is reference data, like the funds the seed creates:
		// recorded in registry_imports, not in the trail of people's actions.
		return diff, nil
	}
	action := AuditRegistryImport
	if in.DryRun {
		action = AuditRegistryDryRun
	}
	detail, err := json.Marshal(map[string]any{"import_id": diff.ImportID, "sha256": in.SHA256, "file_name": in.FileName,
		"source": in.Source, "rows": diff.Rows, "new": diff.New, "moved": diff.Moved, "updated": diff.Updated,
		"gone": diff.Gone, "unchanged": diff.Unchanged})
	if err != nil {
		return RegistryDiff{}, err
	}
	role := scope.Kind
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (at, district_id, municipality_id, actor_id, actor_username, actor_role,
			action, detail, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		in.At, m.district, m.id, actor, in.ActorUsername, role, action, detail, in.RequestID); err != nil {
		return RegistryDiff{}, err
	}
	return diff, nil
}

func sameDate(a *time.Time, b time.Time) bool {
	if a == nil {
		return b.IsZero()
	}
	return !b.IsZero() && a.Format(time.DateOnly) == b.Format(time.DateOnly)
}

// writeResidents upserts the new, moved and updated rows into municipality
// m and marks the gone ones no longer resident, each in one statement.
func writeResidents(ctx context.Context, tx pgx.Tx, m string, write []RegistryRow, gone []string, at time.Time) error {
	if len(write) > 0 {
		codes := make([]string, len(write))
		firsts := make([]string, len(write))
		lasts := make([]string, len(write))
		households := make([]string, len(write))
		births := make([]*time.Time, len(write))
		for i, r := range write {
			codes[i], firsts[i], lasts[i], households[i] = r.TaxCode, r.FirstName, r.LastName, r.Household
			if !r.BirthDate.IsZero() {
				b := r.BirthDate
				births[i] = &b
			}
		}
		// Residents moving in from outside the caller's reach are handed
		// over first, so that the upsert finds every row it updates.
		if _, err := tx.Exec(ctx, `SELECT sportello_registry_move_in($1, $2, $3)`, codes, m, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO residents (tax_code, municipality_id, first_name, last_name, household_id,
				birth_date, ceased_at, updated_at)
			SELECT c, $1, f, l, h, b, NULL, $7
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::date[]) AS x(c, f, l, h, b)
			ON CONFLICT (tax_code) DO UPDATE SET municipality_id = EXCLUDED.municipality_id,
				first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, household_id = EXCLUDED.household_id,
				birth_date = EXCLUDED.birth_date, ceased_at = NULL, updated_at = EXCLUDED.updated_at`,
			m, codes, firsts, lasts, households, births, at); err != nil {
			return err
		}
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE residents SET ceased_at = $3, updated_at = $3
			WHERE municipality_id = $1 AND tax_code = ANY($2) AND ceased_at IS NULL`, m, gone, at); err != nil {
			return err
		}
	}
	return nil
}

// RegistryImportRecord is one recorded import, for the lists.
type RegistryImportRecord struct {
	ID            string    `json:"id"`
	District      string    `json:"district"`
	Municipality  string    `json:"municipality"`
	Status        string    `json:"status"` // dry_run or applied
	Source        string    `json:"source"`
	ActorUsername string    `json:"actor_username"`
	FileName      string    `json:"file_name"`
	SHA256        string    `json:"sha256"`
	Rows          int       `json:"rows"`
	New           int       `json:"new"`
	Moved         int       `json:"moved"`
	Updated       int       `json:"updated"`
	Gone          int       `json:"gone"`
	Unchanged     int       `json:"unchanged"`
	At            time.Time `json:"at"`
}

// RegistryImports lists the newest recorded imports in scope (row-level
// security: an operator's municipality, a supervisor's district), at most
// limit (50 when not positive).
func (s *Store) RegistryImports(ctx context.Context, scope Scope, limit int) ([]RegistryImportRecord, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	out := []RegistryImportRecord{}
	err := s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id::text, district_id, municipality_id, status, source, actor_username, file_name,
				file_sha256, rows, new_count, moved_count, updated_count, gone_count, unchanged_count, created_at
			FROM registry_imports ORDER BY created_at DESC, id LIMIT $1`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r RegistryImportRecord
			if err := rows.Scan(&r.ID, &r.District, &r.Municipality, &r.Status, &r.Source, &r.ActorUsername, &r.FileName,
				&r.SHA256, &r.Rows, &r.New, &r.Moved, &r.Updated, &r.Gone, &r.Unchanged, &r.At); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// RegistryPreview is the file a dry run kept for its confirmation.
type RegistryPreview struct {
	ID           string
	Municipality string
	FileName     string
	SHA256       string
	Content      []byte
	ActorID      int64
	At           time.Time
}

// RegistryPreviewTTL is how long a dry run's file waits for its
// confirmation.
const RegistryPreviewTTL = time.Hour

// RegistryPreviewFile returns the file kept by dry run id in scope, not yet
// confirmed and younger than RegistryPreviewTTL at now (ErrNotFound
// otherwise).
func (s *Store) RegistryPreviewFile(ctx context.Context, scope Scope, id string, now time.Time) (RegistryPreview, error) {
	var p RegistryPreview
	var actor *int64
	err := s.InTx(ctx, scope, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id::text, municipality_id, file_name, file_sha256, content, actor_id, created_at
			FROM registry_imports
			WHERE id::text = $1 AND status = 'dry_run' AND content IS NOT NULL AND confirmed_by IS NULL AND created_at > $2`,
			id, now.Add(-RegistryPreviewTTL)).Scan(&p.ID, &p.Municipality, &p.FileName, &p.SHA256, &p.Content, &actor, &p.At)
	})
	if actor != nil {
		p.ActorID = *actor
	}
	return p, MapError(err)
}

// ConfirmRegistryImport applies a dry run's kept file: in's rows are that
// file's, parsed again; the dry run is marked confirmed by the new import
// and its file dropped, in the same transaction.
func (s *Store) ConfirmRegistryImport(ctx context.Context, scope Scope, previewID string, in RegistryImport) (RegistryDiff, error) {
	var diff RegistryDiff
	if in.At.IsZero() {
		in.At = time.Now()
	}
	in.DryRun = false
	err := s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT id::text FROM registry_imports
			WHERE id::text = $1 AND status = 'dry_run' AND content IS NOT NULL AND confirmed_by IS NULL FOR UPDATE`,
			previewID).Scan(&id); err != nil {
			return err
		}
		var err error
		if diff, err = importRegistry(ctx, tx, scope, in); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE registry_imports SET confirmed_by = $2::uuid, content = NULL WHERE id::text = $1`,
			previewID, diff.ImportID)
		return err
	})
	if err != nil {
		return RegistryDiff{}, registryError(err)
	}
	return diff, nil
}
