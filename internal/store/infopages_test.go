package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// The row-level security of migration 030, per role: everyone (anonymous
// visitors too) reads the published pages and news whose time has come;
// only the system and a supervisor of the district read drafts and write;
// saves are optimistic (a stale version is a conflict).
func TestInfoPagesRowLevelSecurity(t *testing.T) {
	ctx := context.Background()
	st := seededStore(t)
	a := st.API()

	// A draft page and a draft news item in Tradate, a news item published
	// in the future, and the seeded published ones.
	draft := store.InfoPage{District: "tradate", Slug: "bozza", Lang: "it", Title: "Bozza", Body: "Testo", UpdatedBy: "test"}
	if _, err := a.SaveInfoPage(ctx, store.System, draft, 0); err != nil {
		t.Fatal(err)
	}
	draftNews := uuid.NewString()
	if _, err := a.SaveNewsItem(ctx, store.System, store.NewsItem{ID: draftNews, District: "tradate", Lang: "it",
		Title: "Bozza", Body: "Testo", UpdatedBy: "test"}, false, 0); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(48 * time.Hour)
	futureNews := uuid.NewString()
	if err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return store.SeedNewsItem(ctx, tx, store.NewsItem{ID: futureNews, District: "tradate", Lang: "it", Title: "Domani",
			Body: "x", PublishedAt: &future})
	}); err != nil {
		t.Fatal(err)
	}

	scopes := map[string]store.Scope{
		"anonymous":          {Kind: "anonymous"},
		"citizen":            userScope(t, st, "cittadino.tradate"),
		"operator":           userScope(t, st, "operatore.tradate"),
		"merchant":           userScope(t, st, "esercente.tradate"),
		"cooperative":        userScope(t, st, "coop.baobab"),
		"supervisor":         userScope(t, st, "supervisore"),
		"supervisor (other)": userScope(t, st, "supervisore.padova"),
	}
	for who, sc := range scopes {
		editor := who == "supervisor"
		pages, err := a.InfoPages(ctx, sc, "tradate", "")
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		sawDraft := false
		for _, p := range pages {
			sawDraft = sawDraft || p.Slug == "bozza"
		}
		if len(pages) < 12 || sawDraft != editor {
			t.Errorf("%s: %d pages, draft seen %v (want %v)", who, len(pages), sawDraft, editor)
		}
		news, err := a.NewsItems(ctx, sc, "tradate", "it", 50)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, n := range news {
			seen[n.ID] = true
		}
		if len(news) < 2 || seen[draftNews] != editor || seen[futureNews] != editor {
			t.Errorf("%s: %d news, draft %v, future %v (want %v)", who, len(news), seen[draftNews], seen[futureNews], editor)
		}

		// Writes: only the district's supervisor changes a row.
		err = st.InTx(ctx, sc, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE public_pages SET title = 'x' WHERE district_id = 'tradate'`)
			if err != nil {
				return err
			}
			if (tag.RowsAffected() > 0) != editor {
				t.Errorf("%s: updated %d pages of Tradate", who, tag.RowsAffected())
			}
			tag, err = tx.Exec(ctx, `DELETE FROM news_items WHERE district_id = 'tradate'`)
			if err != nil {
				return err
			}
			if (tag.RowsAffected() > 0) != editor {
				t.Errorf("%s: deleted %d news of Tradate", who, tag.RowsAffected())
			}
			return errors.New("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Errorf("%s: %v", who, err)
		}
		// An insert into Tradate is refused by the policy for all but its supervisor.
		err = st.InTx(ctx, sc, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO public_pages (district_id, slug, lang, title, body, updated_by)
				VALUES ('tradate', 'nuova', 'it', 'T', 'B', 'x')`)
			return err
		})
		if (err == nil) != editor {
			t.Errorf("%s: insert into Tradate: %v", who, err)
		}
	}

	// Optimistic saves: two supervisors read version 1; the second save is stale.
	sup := scopes["supervisor"]
	p, err := a.InfoPageOf(ctx, sup, "tradate", "contatti", "it")
	if err != nil || p.Version != 1 {
		t.Fatalf("contatti: %+v %v", p, err)
	}
	p.Title, p.UpdatedBy = "Contatti (1)", "supervisore"
	saved, err := a.SaveInfoPage(ctx, sup, p, 1)
	if err != nil || saved.Version != 2 || saved.Title != "Contatti (1)" {
		t.Fatalf("first save: %+v %v", saved, err)
	}
	p.Title = "Contatti (2)"
	if _, err := a.SaveInfoPage(ctx, sup, p, 1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale save: %v, want a conflict", err)
	}
	if _, err := a.SaveInfoPage(ctx, sup, draft, 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("creating an existing page: %v, want a conflict", err)
	}
	// Another district's supervisor neither sees nor changes Tradate's drafts.
	other := scopes["supervisor (other)"]
	if _, err := a.SaveInfoPage(ctx, other, store.InfoPage{District: "tradate", Slug: "bozza", Lang: "it", Title: "x", Body: "y",
		UpdatedBy: "x"}, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other district's save: %v, want not found", err)
	}
	if _, err := a.SaveNewsItem(ctx, other, store.NewsItem{ID: draftNews, Lang: "it", Title: "x", Body: "y", UpdatedBy: "x"}, true, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other district's news save: %v, want not found", err)
	}
	// Publishing a news item sets its time once; unpublishing withdraws it.
	n, err := a.SaveNewsItem(ctx, sup, store.NewsItem{ID: draftNews, Lang: "it", Title: "Ora", Body: "y", UpdatedBy: "supervisore"}, true, 1)
	if err != nil || n.PublishedAt == nil || n.Version != 2 {
		t.Fatalf("publish: %+v %v", n, err)
	}
	if got, err := a.NewsItemOf(ctx, store.Scope{Kind: "anonymous"}, draftNews); err != nil || got.Title != "Ora" {
		t.Fatalf("published news read anonymously: %+v %v", got, err)
	}
	n, err = a.SaveNewsItem(ctx, sup, store.NewsItem{ID: draftNews, Lang: "it", Title: "Ora", Body: "y", UpdatedBy: "supervisore"}, false, 2)
	if err != nil || n.PublishedAt != nil {
		t.Fatalf("unpublish: %+v %v", n, err)
	}
	if _, err := a.NewsItemOf(ctx, store.Scope{Kind: "anonymous"}, draftNews); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("withdrawn news read anonymously: %v", err)
	}
}
