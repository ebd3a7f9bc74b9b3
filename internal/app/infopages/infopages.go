// Package infopages is the public information of a district (issue 15,
// part 5): its fixed set of pages (services, contacts and call-centre
// hours, how to get credentials, privacy notice, accessibility statement,
// legal notes) and its news, in Italian and English. Anyone reads what is
// published; the district's supervisors edit, preview and publish, each
// save checked (title, body through internal/richtext), based on the
// version it was read at (a stale one is the conflict "stale_version") and
// audited with the values before and after.
package infopages

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/richtext"
	"sportello/internal/store"
)

// Slugs are the pages of every district, in the order of the index.
var Slugs = []string{"servizi", "contatti", "credenziali", "privacy", "accessibilita", "note-legali"}

// Langs are the languages of pages and news.
var Langs = []string{"it", "en"}

// NewsLimit bounds the news lists.
const NewsLimit = 50

// Service is the information pages' use cases.
type Service struct{ *app.Core }

// New returns the service on core.
func New(core *app.Core) Service { return Service{core} }

// anonymous is the scope of the public reads: row-level security shows it
// the published rows only.
var anonymous = store.Scope{Kind: "anonymous"}

// PageRequest is a save of a page in one language
// (PUT /api/v1/editor/info-pages/{slug}): version is the one the editor
// read (0 for a page not written yet in that language).
type PageRequest struct {
	Lang      string `json:"lang"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Published bool   `json:"published"`
	Version   int    `json:"version"`
}

// NewsRequest is a news item as its editor sends it; Version as in
// PageRequest (ignored when creating).
type NewsRequest struct {
	Lang      string `json:"lang"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Published bool   `json:"published"`
	Version   int    `json:"version"`
}

// checkText checks a title and body in language lang; problems point into
// the request.
func checkText(lang, title, body string) []app.FieldError {
	var fields []app.FieldError
	if !slices.Contains(Langs, lang) {
		fields = append(fields, app.Field("/lang", "enum", "info.err.lang"))
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(title)); {
	case n == 0:
		fields = append(fields, app.Field("/title", "required", "info.err.title_required"))
	case n > richtext.MaxTitle:
		fields = append(fields, app.Field("/title", "too_long", "info.err.title_too_long", richtext.MaxTitle))
	}
	if strings.TrimSpace(body) == "" {
		fields = append(fields, app.Field("/body", "required", "info.err.body_required"))
	} else if p := richtext.Check(body); p != nil {
		if p.Code == richtext.CodeTooLong {
			fields = append(fields, app.Field("/body", p.Code, "info.err.body_too_long", richtext.MaxBody))
		} else {
			fields = append(fields, app.Field("/body", p.Code, "richtext.err."+p.Code, p.Line))
		}
	}
	return fields
}

// supervisor refuses anyone but a supervisor.
func supervisor(user store.UserView) error {
	if user.Role != string(contract.RoleSupervisor) {
		return app.Refuse(app.Forbidden, "forbidden", "only supervisors edit the information pages")
	}
	return nil
}

// Districts lists the districts (the public pages' chooser).
func (s Service) Districts(ctx context.Context) ([]store.DistrictName, error) {
	return s.API.Districts(ctx)
}

// Published lists district's published pages in lang, in the order of
// Slugs.
func (s Service) Published(ctx context.Context, district, lang string) ([]store.InfoPage, error) {
	if !slices.Contains(Langs, lang) {
		return nil, app.InvalidInput(app.Param("lang", "enum", "info.err.lang"))
	}
	pages, err := s.API.InfoPages(ctx, anonymous, district, lang)
	sortPages(pages)
	return pages, err
}

// PublishedPage reads one published page (NotFound otherwise).
func (s Service) PublishedPage(ctx context.Context, district, slug, lang string) (store.InfoPage, error) {
	if !slices.Contains(Langs, lang) {
		return store.InfoPage{}, app.InvalidInput(app.Param("lang", "enum", "info.err.lang"))
	}
	p, err := s.API.InfoPageOf(ctx, anonymous, district, slug, lang)
	if errors.Is(err, store.ErrNotFound) {
		return p, app.Missing("page")
	}
	return p, err
}

// News lists district's published news in lang, the newest first.
func (s Service) News(ctx context.Context, district, lang string) ([]store.NewsItem, error) {
	if !slices.Contains(Langs, lang) {
		return nil, app.InvalidInput(app.Param("lang", "enum", "info.err.lang"))
	}
	return s.API.NewsItems(ctx, anonymous, district, lang, NewsLimit)
}

// sortPages orders pages as Slugs, Italian first.
func sortPages(pages []store.InfoPage) {
	slices.SortStableFunc(pages, func(a, b store.InfoPage) int {
		if d := slices.Index(Slugs, a.Slug) - slices.Index(Slugs, b.Slug); d != 0 {
			return d
		}
		return slices.Index(Langs, a.Lang) - slices.Index(Langs, b.Lang)
	})
}

// Pages lists the supervisor's district's pages in both languages, drafts
// included.
func (s Service) Pages(ctx context.Context, user store.UserView) ([]store.InfoPage, error) {
	if err := supervisor(user); err != nil {
		return nil, err
	}
	pages, err := s.API.InfoPages(ctx, user.Scope(), user.District, "")
	sortPages(pages)
	return pages, err
}

// Page reads a page of the supervisor's district in lang; a known slug not
// written yet in lang is an empty page of version 0.
func (s Service) Page(ctx context.Context, user store.UserView, slug, lang string) (store.InfoPage, error) {
	if err := supervisor(user); err != nil {
		return store.InfoPage{}, err
	}
	if !slices.Contains(Slugs, slug) || !slices.Contains(Langs, lang) {
		return store.InfoPage{}, app.Missing("page")
	}
	p, err := s.API.InfoPageOf(ctx, user.Scope(), user.District, slug, lang)
	if errors.Is(err, store.ErrNotFound) {
		return store.InfoPage{District: user.District, Slug: slug, Lang: lang}, nil
	}
	return p, err
}

// SavePage checks and stores a page of the supervisor's district, audited
// with the values before and after. Problems are Invalid with pointers; an
// unknown slug NotFound; a save based on an older version the conflict
// "stale_version".
func (s Service) SavePage(ctx context.Context, user store.UserView, slug string, req PageRequest) (store.InfoPage, error) {
	if err := supervisor(user); err != nil {
		return store.InfoPage{}, err
	}
	if fields := checkText(req.Lang, req.Title, req.Body); len(fields) > 0 {
		return store.InfoPage{}, app.InvalidInput(fields...)
	}
	if req.Version < 0 {
		return store.InfoPage{}, app.InvalidInput(app.Field("/version", "range", "info.err.version"))
	}
	cur, err := s.Page(ctx, user, slug, req.Lang)
	if err != nil {
		return store.InfoPage{}, err
	}
	p := store.InfoPage{District: user.District, Slug: slug, Lang: req.Lang, Title: strings.TrimSpace(req.Title),
		Body: req.Body, Published: req.Published, UpdatedBy: user.Username}
	e := store.AuditEntry{Action: store.AuditInfoPage,
		Detail: app.AuditDetail(map[string]any{"slug": slug, "lang": req.Lang, "base_version": req.Version,
			"before": pageAudit(cur), "after": pageAudit(p)})}
	var after store.InfoPage
	err = s.Audited(ctx, user, e, func() error {
		var err error
		after, err = s.API.SaveInfoPage(ctx, user.Scope(), p, req.Version)
		return err
	})
	return after, err
}

// pageAudit is what an audit row keeps of a page.
func pageAudit(p store.InfoPage) map[string]any {
	return map[string]any{"title": p.Title, "body": p.Body, "published": p.Published, "version": p.Version}
}

// NewsList lists the supervisor's district's news, drafts included.
func (s Service) NewsList(ctx context.Context, user store.UserView) ([]store.NewsItem, error) {
	if err := supervisor(user); err != nil {
		return nil, err
	}
	return s.API.NewsItems(ctx, user.Scope(), user.District, "", NewsLimit)
}

// NewsItem reads a news item of the supervisor's district.
func (s Service) NewsItem(ctx context.Context, user store.UserView, id string) (store.NewsItem, error) {
	if err := supervisor(user); err != nil {
		return store.NewsItem{}, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return store.NewsItem{}, app.Missing("news item")
	}
	n, err := s.API.NewsItemOf(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && n.District != user.District) {
		return store.NewsItem{}, app.Missing("news item")
	}
	return n, err
}

// SaveNews creates (id "") or changes a news item of the supervisor's
// district, audited; publishing sets its publication time once,
// unpublishing withdraws it. Refusals as SavePage.
func (s Service) SaveNews(ctx context.Context, user store.UserView, id string, req NewsRequest) (store.NewsItem, error) {
	if err := supervisor(user); err != nil {
		return store.NewsItem{}, err
	}
	if fields := checkText(req.Lang, req.Title, req.Body); len(fields) > 0 {
		return store.NewsItem{}, app.InvalidInput(fields...)
	}
	n := store.NewsItem{ID: id, District: user.District, Lang: req.Lang, Title: strings.TrimSpace(req.Title),
		Body: req.Body, UpdatedBy: user.Username}
	base := 0
	var before any
	if id == "" {
		n.ID = uuid.NewString()
	} else {
		if req.Version < 1 {
			return store.NewsItem{}, app.InvalidInput(app.Field("/version", "range", "info.err.version"))
		}
		cur, err := s.NewsItem(ctx, user, id)
		if err != nil {
			return store.NewsItem{}, err
		}
		base, before = req.Version, cur
	}
	e := store.AuditEntry{Action: store.AuditNewsItem,
		Detail: app.AuditDetail(map[string]any{"id": n.ID, "base_version": base, "published": req.Published,
			"before": before, "after": n})}
	var after store.NewsItem
	err := s.Audited(ctx, user, e, func() error {
		var err error
		after, err = s.API.SaveNewsItem(ctx, user.Scope(), n, req.Published, base)
		return err
	})
	return after, err
}
