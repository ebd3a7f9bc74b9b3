package web

import (
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/registry"
	extract "sportello/internal/registry"
	"sportello/internal/store"
)

// The population registry import (issue 13): staff upload their
// municipality's extract (a supervisor: any of the district's), see what
// would change (a dry run, the file kept for an hour), then confirm; the
// JSON API's twin is POST /api/v1/registry/imports.

type registryData struct {
	Municipalities []staffOption // a supervisor's choice; empty for an operator
	Municipality   string        // the operator's own, or the one chosen
	Diff           *store.RegistryDiff
	FileName       string
	Kinds          []registryKind
	History        []store.RegistryImportRecord
	Names          map[string]string
}

// registryKind is one kind of change of a dry run, with its first rows.
type registryKind struct {
	Key   string // new, moved, updated, gone, unchanged
	Count int
	Rows  []store.RegistryChange
}

func (s *Site) registryPage(c *gin.Context) error {
	return s.renderRegistry(c, http.StatusOK, &registryData{}, nil)
}

func (s *Site) renderRegistry(c *gin.Context, status int, d *registryData, errs []summaryItem) error {
	ctx := c.Request.Context()
	user := httpx.CurrentUser(c)
	names, opts, err := s.municipalityNames(ctx, user)
	if err != nil {
		return err
	}
	d.Names = names
	if user.Role == roleSupervisor {
		d.Municipalities = opts
	} else {
		d.Municipality = user.Municipality
	}
	if d.History, err = s.registry.Imports(ctx, user); err != nil {
		return err
	}
	if len(d.History) > 10 {
		d.History = d.History[:10]
	}
	if d.Diff != nil {
		df := d.Diff
		d.Kinds = []registryKind{{"new", df.New, df.NewRows}, {"moved", df.Moved, df.MovedRows},
			{"updated", df.Updated, df.UpdatedRows}, {"gone", df.Gone, df.GoneRows}, {"unchanged", df.Unchanged, nil}}
	}
	s.render(c, status, "registry", view{Title: s.t(c, "registry.title"), Nav: "registry", Data: d, Errors: errs})
	return nil
}

// registryPreviewSubmit is the dry run of an uploaded extract.
func (s *Site) registryPreviewSubmit(c *gin.Context) error {
	user := httpx.CurrentUser(c)
	d := &registryData{Municipality: c.PostForm("municipality")}
	fail := func(items ...summaryItem) error {
		return s.renderRegistry(c, http.StatusUnprocessableEntity, d, items)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return fail(summaryItem{Href: "#file", Text: s.t(c, "registry.file") + ": " + s.t(c, "registry.err.file_missing")})
	}
	d.FileName = fh.Filename
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, extract.MaxFileBytes+1))
	if err != nil {
		return err
	}
	municipality := d.Municipality
	if user.Role != roleSupervisor {
		municipality = user.Municipality
	}
	diff, err := s.registry.Import(c.Request.Context(), user, registry.Upload{Data: data, FileName: fh.Filename,
		Municipality: municipality, DryRun: true, KeepFile: true, Source: store.RegistrySourceWeb})
	he := httpx.From(err)
	switch {
	case err == nil:
		d.Diff = &diff
		return s.renderRegistry(c, http.StatusOK, d, nil)
	case he.Status == http.StatusUnprocessableEntity:
		items := make([]summaryItem, 0, len(he.Fields)+1)
		items = append(items, summaryItem{Href: "#file", Text: s.t(c, "registry.refused")})
		for _, f := range he.Fields {
			href := "#file"
			if f.Parameter == "municipality" {
				href = "#municipality"
			}
			items = append(items, summaryItem{Href: href, Text: f.In(pageLang(c))})
		}
		return fail(items...)
	}
	return err
}

// registryConfirmSubmit applies the file of a dry run.
func (s *Site) registryConfirmSubmit(c *gin.Context) error {
	diff, err := s.registry.Confirm(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	setFlash(c, "success", "registry.applied", strconv.Itoa(diff.New), strconv.Itoa(diff.Moved), strconv.Itoa(diff.Updated),
		strconv.Itoa(diff.Gone))
	redirect(c, "/registry")
	return nil
}
