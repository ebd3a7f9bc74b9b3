// Package registry is the population registry import as staff see it: an
// operator loads their municipality's extract, a supervisor any
// municipality's of their district, first as a dry run (what would change:
// new, moved, updated, gone) and then for real. The file is read and
// imported by internal/registry, the same path as the command line and the
// demo data; every import is recorded with an audit row in the same
// transaction (internal/store/registry.go). Its adapters are
// api/registry.go and api/web/registry.go.
package registry

import (
	"context"
	"errors"
	"fmt"

	"sportello/internal/app"
	"sportello/internal/i18n"
	extract "sportello/internal/registry"
	"sportello/internal/store"
)

// Service does the registry use cases.
type Service struct{ *app.Core }

// New returns the registry service on core.
func New(core *app.Core) Service { return Service{core} }

// MaxFieldErrors is how many problems of a refused file a refusal lists
// (the rest are counted in one last problem).
const MaxFieldErrors = 50

var (
	errRole  = app.Refuse(app.Forbidden, "forbidden", "only operators and supervisors import the population registry")
	errScope = app.Refuse(app.Forbidden, "registry_municipality_forbidden",
		"an operator imports only their own municipality's extract, a supervisor only their district's")
)

// Upload is a file sent for import.
type Upload struct {
	Data         []byte
	FileName     string
	Municipality string // "" for the one the rows name
	DryRun       bool
	// KeepFile keeps a dry run's file for Confirm (the portal's two steps).
	KeepFile bool
	Source   string // store.RegistrySourceAPI or store.RegistrySourceWeb
}

// Import imports (or, DryRun, compares) an extract for user. A
// municipality outside user's reach is refused by the store
// (ErrRegistryScope), and row-level security below it.
func (s Service) Import(ctx context.Context, user store.UserView, up Upload) (store.RegistryDiff, error) {
	if !app.IsStaff(user.Role) {
		return store.RegistryDiff{}, errRole
	}
	diff, err := extract.Import(ctx, s.Store, user.Scope(), extract.Request{Data: up.Data, FileName: up.FileName,
		Municipality: up.Municipality, DryRun: up.DryRun, KeepFile: up.KeepFile && up.DryRun, Source: up.Source,
		ActorID: user.ID, Actor: user.Username, RequestID: app.RequestID(ctx), At: s.Now()})
	if err != nil {
		return store.RegistryDiff{}, s.refused(ctx, user, up, Refusal(err))
	}
	return diff, nil
}

// Confirm applies the file a dry run of user's scope kept (previewID),
// as it was previewed; a preview confirmed, expired or out of scope is not
// found.
func (s Service) Confirm(ctx context.Context, user store.UserView, previewID string) (store.RegistryDiff, error) {
	if !app.IsStaff(user.Role) {
		return store.RegistryDiff{}, errRole
	}
	p, err := s.Store.RegistryPreviewFile(ctx, user.Scope(), previewID, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.RegistryDiff{}, app.Missing("registry dry run")
	}
	if err != nil {
		return store.RegistryDiff{}, err
	}
	up := Upload{Data: p.Content, FileName: p.FileName, Municipality: p.Municipality, Source: store.RegistrySourceWeb}
	diff, err := extract.Confirm(ctx, s.Store, user.Scope(), previewID, extract.Request{Data: p.Content,
		FileName: p.FileName, Municipality: p.Municipality, Source: store.RegistrySourceWeb, ActorID: user.ID,
		Actor: user.Username, RequestID: app.RequestID(ctx), At: s.Now()})
	if errors.Is(err, store.ErrNotFound) {
		return store.RegistryDiff{}, app.Missing("registry dry run")
	}
	if err != nil {
		return store.RegistryDiff{}, s.refused(ctx, user, up, Refusal(err))
	}
	return diff, nil
}

// Imports lists the newest imports user may see.
func (s Service) Imports(ctx context.Context, user store.UserView) ([]store.RegistryImportRecord, error) {
	if !app.IsStaff(user.Role) {
		return nil, errRole
	}
	return s.Store.RegistryImports(ctx, user.Scope(), 50)
}

// refused records a refused import in the audit trail and returns err.
func (s Service) refused(ctx context.Context, user store.UserView, up Upload, err error) error {
	var ae *app.Error
	if errors.As(err, &ae) && ae.Kind == app.Internal {
		return err
	}
	action := store.AuditRegistryImport
	if up.DryRun {
		action = store.AuditRegistryDryRun
	}
	s.AuditOutcome(ctx, user, store.AuditEntry{Action: action,
		Detail: app.AuditDetail(map[string]any{"sha256": extract.Checksum(up.Data), "file_name": up.FileName,
			"municipality": up.Municipality, "source": up.Source})}, err)
	return err
}

// Refusal turns an import's error into the refusal the adapters show: a
// file's problems are field problems (422), line by line; a municipality
// outside the caller's reach is forbidden; an unknown one a problem of the
// municipality parameter.
func Refusal(err error) error {
	var le *store.RegistryLineErrors
	switch {
	case errors.As(err, &le):
		return app.InvalidInput(Fields(le.Errors, MaxFieldErrors)...)
	case errors.Is(err, store.ErrRegistryScope):
		return errScope
	case errors.Is(err, store.ErrNotFound):
		return app.InvalidInput(app.Param("municipality", "unknown", "registry.err.municipality_param"))
	}
	return err
}

// Fields writes the problems of a file as field problems, at most max (a
// last one counts the others). A problem of a line points at it:
// /lines/<line>/<column>.
func Fields(errs []store.RegistryLineError, max int) []app.FieldError {
	out := make([]app.FieldError, 0, min(len(errs), max)+1)
	for i, e := range errs {
		if i == max {
			out = append(out, app.FieldError{Parameter: "file", Code: "more",
				Text: i18n.M("registry.err.more", len(errs)-max)})
			break
		}
		out = append(out, FieldError(e))
	}
	return out
}

// FieldError is one problem of a file as a field problem.
func FieldError(e store.RegistryLineError) app.FieldError {
	inner := i18n.M("registry.err."+e.Code, e.Args...)
	f := app.FieldError{Code: e.Code, Text: inner}
	switch {
	case e.Line > 0 && e.Column != "":
		f.Pointer = fmt.Sprintf("/lines/%d/%s", e.Line, e.Column)
		f.Text = i18n.M("registry.err.at_cell", e.Line, e.Column, inner)
	case e.Line > 0:
		f.Pointer = fmt.Sprintf("/lines/%d", e.Line)
		f.Text = i18n.M("registry.err.at_line", e.Line, inner)
	default:
		f.Parameter = "file"
	}
	return f
}
