// Package registry reads a municipality's extract of the national
// population registry (ANPR) and imports it: the one path of the command
// line (sportello registry import), the JSON API and the portal (through
// internal/app/registry) and the demo data (internal/seed).
//
// The extract is a CSV file, UTF-8 (a byte order mark is tolerated),
// fields separated by ';', with a header row naming at least the columns
// codice_fiscale, cognome, nome, data_nascita, comune and id_famiglia, in
// any order (other columns are ignored). Every row is checked (Parse) and
// every problem reported with its line; a file with any problem imports
// nothing. The comparison with the platform's residents and the writes are
// store.ImportRegistry, one transaction per extract.
package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"sportello/forms"
	"sportello/internal/store"
	"sportello/internal/textcheck"
)

// Columns of the extract.
const (
	ColTaxCode      = "codice_fiscale"
	ColLastName     = "cognome"
	ColFirstName    = "nome"
	ColBirthDate    = "data_nascita"
	ColMunicipality = "comune"
	ColHousehold    = "id_famiglia"
)

// Columns is the header of an extract, in the order Write writes it.
var Columns = []string{ColTaxCode, ColLastName, ColFirstName, ColBirthDate, ColMunicipality, ColHousehold}

// Limits of an extract.
const (
	MaxFileBytes = 32 << 20 // a district's largest town is some 25,000 residents, about 2 MB
	MaxRows      = 200_000
	maxName      = 100
	maxHousehold = 40
	// MaxErrors is how many problems Parse lists before it stops.
	MaxErrors = 200
)

// Parse reads an extract. It returns the valid rows when the file has no
// problem, else every problem found (at most MaxErrors), each with its line.
func Parse(data []byte) ([]store.RegistryRow, []store.RegistryLineError) {
	fileErr := func(code string, args ...any) []store.RegistryLineError {
		return []store.RegistryLineError{{Code: code, Args: args}}
	}
	if len(data) > MaxFileBytes {
		return nil, fileErr("file_too_large", MaxFileBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fileErr("file_empty")
	}
	if !utf8.Valid(data) {
		return nil, fileErr("file_not_utf8")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fileErr("header_unreadable")
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[name]; dup && name != "" {
			return nil, []store.RegistryLineError{{Line: 1, Column: name, Code: "header_duplicate"}}
		}
		col[name] = i
	}
	var errs []store.RegistryLineError
	for _, c := range Columns {
		if _, ok := col[c]; !ok {
			errs = append(errs, store.RegistryLineError{Line: 1, Column: c, Code: "header_missing"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var rows []store.RegistryRow
	seen := map[string]int{}
	add := func(e store.RegistryLineError) bool {
		errs = append(errs, e)
		return len(errs) < MaxErrors
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			if !add(store.RegistryLineError{Line: line, Code: "line_unreadable"}) {
				return nil, errs
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rows)+len(errs) >= MaxRows {
			return nil, fileErr("too_many_rows", MaxRows)
		}
		if len(rec) != len(header) {
			if !add(store.RegistryLineError{Line: line, Code: "field_count", Args: []any{len(rec), len(header)}}) {
				return nil, errs
			}
			continue
		}
		row, rowErrs := parseRow(rec, col, line)
		if len(rowErrs) == 0 {
			if first, dup := seen[row.TaxCode]; dup {
				rowErrs = append(rowErrs, store.RegistryLineError{Line: line, Column: ColTaxCode, Code: "tax_code_duplicate",
					Args: []any{first}})
			} else {
				seen[row.TaxCode] = line
			}
		}
		for _, e := range rowErrs {
			if !add(e) {
				return nil, errs
			}
		}
		if len(rowErrs) == 0 {
			rows = append(rows, row)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(rows) == 0 {
		return nil, fileErr("no_rows")
	}
	return rows, nil
}

// parseRow checks one record.
func parseRow(rec []string, col map[string]int, line int) (store.RegistryRow, []store.RegistryLineError) {
	var errs []store.RegistryLineError
	unclean := map[string]bool{}
	field := func(name string) string {
		v := strings.TrimSpace(rec[col[name]])
		if code := textcheck.Check(v, false); code != "" {
			errs = append(errs, store.RegistryLineError{Line: line, Column: name, Code: "text_" + code})
			unclean[name] = true
			return ""
		}
		return v
	}
	bad := func(name, code string, args ...any) {
		if !unclean[name] { // one problem per field: the text's comes first
			errs = append(errs, store.RegistryLineError{Line: line, Column: name, Code: code, Args: args})
		}
	}
	row := store.RegistryRow{Line: line}
	row.TaxCode = strings.ToUpper(field(ColTaxCode))
	if row.TaxCode == "" {
		bad(ColTaxCode, "required")
	} else if !forms.ValidTaxCode(row.TaxCode) {
		bad(ColTaxCode, "tax_code_invalid", row.TaxCode)
	}
	for _, n := range []struct {
		col string
		dst *string
	}{{ColLastName, &row.LastName}, {ColFirstName, &row.FirstName}} {
		*n.dst = field(n.col)
		switch {
		case *n.dst == "":
			bad(n.col, "required")
		case utf8.RuneCountInString(*n.dst) > maxName:
			bad(n.col, "too_long", maxName)
		}
	}
	if v := field(ColBirthDate); v == "" {
		bad(ColBirthDate, "required")
	} else if d, ok := parseDate(v); !ok {
		bad(ColBirthDate, "date_invalid", v)
	} else {
		row.BirthDate = d
	}
	row.Municipality = field(ColMunicipality)
	if row.Municipality == "" {
		bad(ColMunicipality, "required")
	}
	row.Household = field(ColHousehold)
	switch {
	case row.Household == "":
		bad(ColHousehold, "required")
	case len(row.Household) > maxHousehold || !householdChars(row.Household):
		bad(ColHousehold, "household_invalid", maxHousehold)
	}
	return row, errs
}

// parseDate reads YYYY-MM-DD or DD/MM/YYYY, a plausible date of birth.
func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.DateOnly, "02/01/2006"} {
		if d, err := time.Parse(layout, v); err == nil {
			return d, d.Year() >= 1880 && d.Before(time.Now().Add(24*time.Hour))
		}
	}
	return time.Time{}, false
}

func householdChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_' || c == '/' || c == '.') {
			return false
		}
	}
	return true
}

// Write writes rows as an extract (header first, dates as YYYY-MM-DD).
func Write(w io.Writer, rows []store.RegistryRow) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, r := range rows {
		birth := ""
		if !r.BirthDate.IsZero() {
			birth = r.BirthDate.Format(time.DateOnly)
		}
		if err := cw.Write([]string{r.TaxCode, r.LastName, r.FirstName, birth, r.Municipality, r.Household}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Checksum is the hex SHA-256 of a file, as recorded with its import.
func Checksum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Request is one import of one file.
type Request struct {
	Data         []byte
	FileName     string
	Municipality string // "" for the one the rows name (an operator: their own)
	DryRun       bool
	KeepFile     bool // a dry run keeps the file for its confirmation (the portal)
	// QuietWhenUnchanged records nothing when the file changes nothing (the
	// demo data, imported at every start of the dev stack).
	QuietWhenUnchanged bool
	Source             string
	ActorID            int64
	Actor              string
	RequestID          string
	At                 time.Time
}

// Import parses req.Data and imports it under scope: the rows' problems
// are a *store.RegistryLineErrors, and nothing is written.
func Import(ctx context.Context, st *store.Store, scope store.Scope, req Request) (store.RegistryDiff, error) {
	in, err := request(req)
	if err != nil {
		return store.RegistryDiff{}, err
	}
	return st.ImportRegistry(ctx, scope, in)
}

// Confirm applies the file kept by dry run previewID (read back by the
// caller into req.Data) under scope.
func Confirm(ctx context.Context, st *store.Store, scope store.Scope, previewID string, req Request) (store.RegistryDiff, error) {
	req.DryRun, req.KeepFile = false, false
	in, err := request(req)
	if err != nil {
		return store.RegistryDiff{}, err
	}
	return st.ConfirmRegistryImport(ctx, scope, previewID, in)
}

func request(req Request) (store.RegistryImport, error) {
	rows, errs := Parse(req.Data)
	if len(errs) > 0 {
		return store.RegistryImport{}, &store.RegistryLineErrors{Errors: errs}
	}
	name := req.FileName
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if textcheck.Check(name, false) != "" || utf8.RuneCountInString(name) > 200 {
		name = ""
	}
	return store.RegistryImport{Municipality: req.Municipality, Rows: rows, DryRun: req.DryRun, KeepFile: req.KeepFile,
		Content: req.Data, FileName: name, SHA256: Checksum(req.Data), Source: req.Source, ActorID: req.ActorID,
		ActorUsername: req.Actor, RequestID: req.RequestID, At: req.At, QuietWhenUnchanged: req.QuietWhenUnchanged}, nil
}

// Describe writes a problem of an extract in English, for logs and the
// command line ("line 12, codice_fiscale: tax_code_invalid").
func Describe(e store.RegistryLineError) string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
	} else {
		b.WriteString("file")
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", %s", e.Column)
	}
	fmt.Fprintf(&b, ": %s", e.Code)
	return b.String()
}
