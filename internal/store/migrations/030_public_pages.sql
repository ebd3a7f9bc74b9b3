-- Public information pages and news (issue 15, part 5): per district and
-- language, written by the district's supervisors, read by anyone.
--
-- A page is one of a fixed set of slugs (the application's list:
-- internal/app/infopages); its body is the small text language of
-- internal/richtext, never HTML. version counts the saves: a save names
-- the version it was based on and is refused when another came first
-- (optimistic concurrency, internal/store/infopages.go).
--
-- Row-level security: anyone (anonymous visitors too) reads published
-- pages and news whose time has come; a supervisor reads and writes their
-- own district's, drafts included; the system scope (seed) everything.

CREATE TABLE public_pages (
  district_id  text NOT NULL REFERENCES districts(id),
  slug         text NOT NULL CHECK (slug ~ '^[a-z][a-z0-9-]{0,39}$'),
  lang         text NOT NULL CHECK (lang IN ('it', 'en')),
  title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  body         text NOT NULL CHECK (char_length(body) <= 20000),
  published    boolean NOT NULL DEFAULT false,
  updated_by   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  PRIMARY KEY (district_id, slug, lang)
);

CREATE TABLE news_items (
  id            uuid PRIMARY KEY,
  district_id   text NOT NULL REFERENCES districts(id),
  lang          text NOT NULL CHECK (lang IN ('it', 'en')),
  title         text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  body          text NOT NULL CHECK (char_length(body) <= 20000),
  published_at  timestamptz,                     -- NULL: a draft, or withdrawn
  updated_by    text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  created_at    timestamptz NOT NULL DEFAULT now(),
  version       integer NOT NULL DEFAULT 1 CHECK (version >= 1)
);
CREATE INDEX news_items_district ON news_items (district_id, lang, published_at DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON public_pages, news_items TO sportello_app;

-- sportello_edits_district: may the current scope write district d's pages?
CREATE FUNCTION sportello_edits_district(d text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE sportello_scope()
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN d = sportello_district()
    ELSE false
  END
$$;

ALTER TABLE public_pages ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_pages_read ON public_pages FOR SELECT
  USING (published OR sportello_edits_district(district_id));
CREATE POLICY public_pages_insert ON public_pages FOR INSERT
  WITH CHECK (sportello_edits_district(district_id));
CREATE POLICY public_pages_update ON public_pages FOR UPDATE
  USING (sportello_edits_district(district_id)) WITH CHECK (sportello_edits_district(district_id));
CREATE POLICY public_pages_delete ON public_pages FOR DELETE
  USING (sportello_edits_district(district_id));

ALTER TABLE news_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY news_items_read ON news_items FOR SELECT
  USING ((published_at IS NOT NULL AND published_at <= now()) OR sportello_edits_district(district_id));
CREATE POLICY news_items_insert ON news_items FOR INSERT
  WITH CHECK (sportello_edits_district(district_id));
CREATE POLICY news_items_update ON news_items FOR UPDATE
  USING (sportello_edits_district(district_id)) WITH CHECK (sportello_edits_district(district_id));
CREATE POLICY news_items_delete ON news_items FOR DELETE
  USING (sportello_edits_district(district_id));

---- create above / drop below ----

DROP TABLE news_items, public_pages;
DROP FUNCTION sportello_edits_district(text);
