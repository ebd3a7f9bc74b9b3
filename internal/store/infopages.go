package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// The public information pages and news of a district (migration 030):
// anyone reads what is published (row-level security), a supervisor reads
// and writes their own district's. Saves are optimistic: each names the
// version it was based on, and a save based on an older one is the
// conflict "stale_version".

// Audit actions of the information pages.
const (
	AuditInfoPage = "info_page"
	AuditNewsItem = "news_item"
)

// InfoPage is one public page of a district in one language.
type InfoPage struct {
	District  string    `json:"district"`
	Slug      string    `json:"slug"`
	Lang      string    `json:"lang"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Published bool      `json:"published"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int       `json:"version"`
}

// NewsItem is a news item of a district in one language; PublishedAt is
// nil for a draft or a withdrawn item.
type NewsItem struct {
	ID          string     `json:"id"`
	District    string     `json:"district"`
	Lang        string     `json:"lang"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	PublishedAt *time.Time `json:"published_at"`
	UpdatedBy   string     `json:"updated_by"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     int        `json:"version"`
}

// DistrictName is a district's id and name.
type DistrictName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ErrStaleVersion is the conflict of a save based on an older version.
var ErrStaleVersion = Conflict("stale_version", "the record was changed by someone else since it was read")

const infoPageCols = `district_id, slug, lang, title, body, published, updated_by, updated_at, version`

func scanInfoPage(row pgx.Row) (InfoPage, error) {
	var p InfoPage
	err := row.Scan(&p.District, &p.Slug, &p.Lang, &p.Title, &p.Body, &p.Published, &p.UpdatedBy, &p.UpdatedAt, &p.Version)
	return p, err
}

const newsCols = `id::text, district_id, lang, title, body, published_at, updated_by, updated_at, version`

func scanNews(row pgx.Row) (NewsItem, error) {
	var n NewsItem
	err := row.Scan(&n.ID, &n.District, &n.Lang, &n.Title, &n.Body, &n.PublishedAt, &n.UpdatedBy, &n.UpdatedAt, &n.Version)
	return n, err
}

// collect reads every row of q with scan.
func collect[T any](ctx context.Context, tx pgx.Tx, scan func(pgx.Row) (T, error), q string, args ...any) ([]T, error) {
	out := []T{}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Districts lists the districts, by name.
func (a API) Districts(ctx context.Context) ([]DistrictName, error) {
	var out []DistrictName
	err := a.s.InTx(ctx, Scope{Kind: "anonymous"}, func(tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, func(r pgx.Row) (DistrictName, error) {
			var d DistrictName
			return d, r.Scan(&d.ID, &d.Name)
		}, `SELECT id, name FROM districts ORDER BY name, id`)
		return err
	})
	return out, MapError(err)
}

// InfoPages lists district's pages that scope may read in lang ("" both),
// by slug and language.
func (a API) InfoPages(ctx context.Context, scope Scope, district, lang string) ([]InfoPage, error) {
	var out []InfoPage
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, scanInfoPage, `SELECT `+infoPageCols+` FROM public_pages
			WHERE district_id = $1 AND ($2 = '' OR lang = $2) ORDER BY slug, lang DESC`, district, lang)
		return err
	})
	return out, MapError(err)
}

// InfoPageOf reads one page scope may read (ErrNotFound otherwise).
func (a API) InfoPageOf(ctx context.Context, scope Scope, district, slug, lang string) (InfoPage, error) {
	var p InfoPage
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		p, err = scanInfoPage(tx.QueryRow(ctx, `SELECT `+infoPageCols+` FROM public_pages
			WHERE district_id = $1 AND slug = $2 AND lang = $3`, district, slug, lang))
		return err
	})
	return p, MapError(err)
}

// SaveInfoPage stores p (its district, slug and language) in place of
// version base: base 0 creates it. A save based on another version than
// the stored one is ErrStaleVersion; a district scope may not write is
// ErrNotFound (row-level security hides it).
func (a API) SaveInfoPage(ctx context.Context, scope Scope, p InfoPage, base int) (InfoPage, error) {
	var out InfoPage
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		if base == 0 {
			out, err = scanInfoPage(tx.QueryRow(ctx, `INSERT INTO public_pages (district_id, slug, lang, title, body, published, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING `+infoPageCols,
				p.District, p.Slug, p.Lang, p.Title, p.Body, p.Published, p.UpdatedBy))
		} else {
			out, err = scanInfoPage(tx.QueryRow(ctx, `UPDATE public_pages SET title = $4, body = $5, published = $6,
					updated_by = $7, updated_at = now(), version = version + 1
				WHERE district_id = $1 AND slug = $2 AND lang = $3 AND version = $8 RETURNING `+infoPageCols,
				p.District, p.Slug, p.Lang, p.Title, p.Body, p.Published, p.UpdatedBy, base))
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM public_pages WHERE district_id = $1 AND slug = $2 AND lang = $3
			AND sportello_edits_district(district_id))`, p.District, p.Slug, p.Lang).Scan(&exists); err != nil {
			return err
		}
		if exists || base == 0 {
			return ErrStaleVersion
		}
		return ErrNotFound
	})
	return out, MapError(err)
}

// NewsItems lists district's news scope may read in lang ("" both), the
// newest first (drafts, for their editors, before everything), at most
// limit.
func (a API) NewsItems(ctx context.Context, scope Scope, district, lang string, limit int) ([]NewsItem, error) {
	var out []NewsItem
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, scanNews, `SELECT `+newsCols+` FROM news_items
			WHERE district_id = $1 AND ($2 = '' OR lang = $2)
			ORDER BY published_at DESC NULLS FIRST, created_at DESC, id LIMIT $3`, district, lang, limit)
		return err
	})
	return out, MapError(err)
}

// NewsItemOf reads one news item scope may read (ErrNotFound otherwise).
func (a API) NewsItemOf(ctx context.Context, scope Scope, id string) (NewsItem, error) {
	var n NewsItem
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		n, err = scanNews(tx.QueryRow(ctx, `SELECT `+newsCols+` FROM news_items WHERE id = $1`, id))
		return err
	})
	return n, MapError(err)
}

// SaveNewsItem creates n (base 0, n.ID new) or stores it in place of
// version base; publish sets the publication time when it has none (now),
// !publish clears it. Conflicts and hidden rows as SaveInfoPage.
func (a API) SaveNewsItem(ctx context.Context, scope Scope, n NewsItem, publish bool, base int) (NewsItem, error) {
	var out NewsItem
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		if base == 0 {
			out, err = scanNews(tx.QueryRow(ctx, `INSERT INTO news_items (id, district_id, lang, title, body, published_at, updated_by)
				VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, $7) ON CONFLICT DO NOTHING RETURNING `+newsCols,
				n.ID, n.District, n.Lang, n.Title, n.Body, publish, n.UpdatedBy))
		} else {
			out, err = scanNews(tx.QueryRow(ctx, `UPDATE news_items SET lang = $2, title = $3, body = $4,
					published_at = CASE WHEN $5 THEN coalesce(published_at, now()) END,
					updated_by = $6, updated_at = now(), version = version + 1
				WHERE id = $1 AND version = $7 AND sportello_edits_district(district_id) RETURNING `+newsCols,
				n.ID, n.Lang, n.Title, n.Body, publish, n.UpdatedBy, base))
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM news_items WHERE id = $1 AND sportello_edits_district(district_id))`,
			n.ID).Scan(&exists); err != nil {
			return err
		}
		if exists || base == 0 {
			return ErrStaleVersion
		}
		return ErrNotFound
	})
	return out, MapError(err)
}

// SeedInfoPage writes p unless its page exists (supervisors' edits stay).
func SeedInfoPage(ctx context.Context, tx pgx.Tx, p InfoPage) error {
	_, err := tx.Exec(ctx, `INSERT INTO public_pages (district_id, slug, lang, title, body, published, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, 'seed') ON CONFLICT DO NOTHING`, p.District, p.Slug, p.Lang, p.Title, p.Body, p.Published)
	return err
}

// SeedNewsItem writes n unless its id exists, published at n.PublishedAt.
func SeedNewsItem(ctx context.Context, tx pgx.Tx, n NewsItem) error {
	_, err := tx.Exec(ctx, `INSERT INTO news_items (id, district_id, lang, title, body, published_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, 'seed') ON CONFLICT DO NOTHING`, n.ID, n.District, n.Lang, n.Title, n.Body, n.PublishedAt)
	return err
}
