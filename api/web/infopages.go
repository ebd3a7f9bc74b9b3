package web

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/infopages"
	"sportello/internal/richtext"
	"sportello/internal/store"
)

// The public information of a district (issue 15, part 5) and its editor.
//
// Anyone: /informazioni (the index: news and the pages), /informazioni/:slug
// (one page) and /notizie (every published news item), linked from every
// page's footer. Which district: a signed-in person's own; an anonymous
// visitor's is ?district=<id> when given (the index has a chooser), the
// default district (pageDistrict) otherwise; links between these pages
// keep the parameter. A page not written in English is shown in Italian,
// marked as such.
//
// Supervisors: /info-pages lists their district's pages (both languages)
// and news; /info-pages/:slug/:lang and /info-news/:id ("new" for a new
// item) edit one, with a preview, through internal/app/infopages (the same
// use cases as the JSON API's /api/v1/editor/...). Bodies are written by
// internal/richtext only.

// infoDistrict is the district the public pages show and the query that
// keeps it in links ("" for the default); ok is false for an unknown
// ?district=.
func (s *Site) infoDistrict(c *gin.Context, svc infopages.Service) (district, query string, all []store.DistrictName, ok bool, err error) {
	all, err = svc.Districts(c.Request.Context())
	if err != nil {
		return "", "", nil, false, err
	}
	if district, err = s.pageDistrict(c); err != nil {
		return "", "", nil, false, err
	}
	if httpx.CurrentUser(c).District == "" {
		if q := c.Query("district"); q != "" && q != district {
			district, query = q, "?district="+q
		}
	}
	ok = slices.ContainsFunc(all, func(d store.DistrictName) bool { return d.ID == district })
	return district, query, all, ok, nil
}

// infoPageLink is a page of the index.
type infoPageLink struct {
	Slug, Title string
}

// newsView is a news item as the pages show it.
type newsView struct {
	store.NewsItem
	HTML template.HTML
}

// infoIndexData is the index's data.
type infoIndexData struct {
	District  string
	Query     string
	Districts []staffOption // the chooser, for anonymous visitors
	Pages     []infoPageLink
	News      []newsView
	MoreNews  bool
}

// infoNewsOnIndex is how many news items the index shows.
const infoNewsOnIndex = 3

func (s *Site) infoIndexPage(c *gin.Context) error {
	svc := infopages.New(s.core)
	ctx, lang := c.Request.Context(), pageLang(c)
	district, query, all, ok, err := s.infoDistrict(c, svc)
	if err != nil {
		return err
	}
	if !ok {
		s.pageError(c, http.StatusNotFound)
		return nil
	}
	d := infoIndexData{District: district, Query: query}
	if httpx.CurrentUser(c).District == "" && len(all) > 1 {
		for _, x := range all {
			d.Districts = append(d.Districts, staffOption{Value: x.ID, Label: x.Name, Selected: x.ID == district})
		}
	}
	pages, err := svc.Published(ctx, district, lang)
	if err != nil {
		return err
	}
	written := map[string]string{}
	for _, p := range pages {
		written[p.Slug] = p.Title
	}
	for _, slug := range infopages.Slugs {
		title := written[slug]
		if title == "" {
			title = s.t(c, "info.slug."+slug)
		}
		d.Pages = append(d.Pages, infoPageLink{Slug: slug, Title: title})
	}
	news, err := svc.News(ctx, district, lang)
	if err != nil {
		return err
	}
	d.News, d.MoreNews = newsViews(news, infoNewsOnIndex), len(news) > infoNewsOnIndex
	s.render(c, http.StatusOK, "info_index", view{Title: s.t(c, "info.title"), Nav: "info", Data: d})
	return nil
}

// newsViews renders at most limit items.
func newsViews(items []store.NewsItem, limit int) []newsView {
	out := []newsView{}
	for i, n := range items {
		if i == limit {
			break
		}
		out = append(out, newsView{NewsItem: n, HTML: richtext.Render(n.Body)})
	}
	return out
}

// infoPageData is one public page's data.
type infoPageData struct {
	store.InfoPage
	HTML     template.HTML
	Fallback bool // shown in Italian: not written in the reader's language
	Query    string
}

func (s *Site) infoPage(c *gin.Context) error {
	svc := infopages.New(s.core)
	ctx, lang, slug := c.Request.Context(), pageLang(c), c.Param("slug")
	district, query, _, ok, err := s.infoDistrict(c, svc)
	if err != nil {
		return err
	}
	if !ok || !slices.Contains(infopages.Slugs, slug) {
		s.pageError(c, http.StatusNotFound)
		return nil
	}
	p, err := svc.PublishedPage(ctx, district, slug, lang)
	fallback := false
	if httpx.From(err).Status == http.StatusNotFound && lang != "it" {
		p, err = svc.PublishedPage(ctx, district, slug, "it")
		fallback = true
	}
	if httpx.From(err).Status == http.StatusNotFound {
		s.pageError(c, http.StatusNotFound)
		return nil
	}
	if err != nil {
		return err
	}
	d := infoPageData{InfoPage: p, HTML: richtext.Render(p.Body), Fallback: fallback, Query: query}
	s.render(c, http.StatusOK, "info_page", view{Title: p.Title, Nav: "info",
		Crumbs: []crumb{{Href: "/informazioni" + query, Text: s.t(c, "info.title")}}, Data: d})
	return nil
}

// infoNewsData is the news page's data.
type infoNewsData struct {
	News  []newsView
	Query string
}

func (s *Site) infoNewsPage(c *gin.Context) error {
	svc := infopages.New(s.core)
	district, query, _, ok, err := s.infoDistrict(c, svc)
	if err != nil {
		return err
	}
	if !ok {
		s.pageError(c, http.StatusNotFound)
		return nil
	}
	news, err := svc.News(c.Request.Context(), district, pageLang(c))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "info_news", view{Title: s.t(c, "info.news"), Nav: "info",
		Crumbs: []crumb{{Href: "/informazioni" + query, Text: s.t(c, "info.title")}},
		Data:   infoNewsData{News: newsViews(news, infopages.NewsLimit), Query: query}})
	return nil
}

// ---- the supervisors' editor ----

// editorPageRow is a page of the editor's list: its state in each language.
type editorPageRow struct {
	Slug, Label string
	Langs       []editorPageLang
}

type editorPageLang struct {
	Lang, State string // State: a message id (info.state.*)
	Title       string
	Version     int
}

type editorListData struct {
	Pages []editorPageRow
	News  []store.NewsItem
}

func (s *Site) infoEditorPage(c *gin.Context) error {
	svc := infopages.New(s.core)
	user := httpx.CurrentUser(c)
	pages, err := svc.Pages(c.Request.Context(), user)
	if err != nil {
		return err
	}
	news, err := svc.NewsList(c.Request.Context(), user)
	if err != nil {
		return err
	}
	var d editorListData
	for _, slug := range infopages.Slugs {
		row := editorPageRow{Slug: slug, Label: s.t(c, "info.slug."+slug)}
		for _, lang := range infopages.Langs {
			l := editorPageLang{Lang: lang, State: "info.state.missing"}
			for _, p := range pages {
				if p.Slug == slug && p.Lang == lang {
					l.Title, l.Version, l.State = p.Title, p.Version, "info.state.draft"
					if p.Published {
						l.State = "info.state.published"
					}
				}
			}
			row.Langs = append(row.Langs, l)
		}
		d.Pages = append(d.Pages, row)
	}
	d.News = news
	s.render(c, http.StatusOK, "info_editor", view{Title: s.t(c, "info.editor.title"), Nav: "info-pages", Data: d})
	return nil
}

// infoEditData is the edit form of a page or a news item.
type infoEditData struct {
	Action    string // the form's URL
	Back      string
	Heading   string // what is edited (the page and language)
	TitleF    fieldView
	BodyF     fieldView
	Lang      *selectView // a news item's language; nil for a page
	Published bool
	Version   int
	Preview   template.HTML
	Previewed bool
	Conflict  bool
}

// infoForm is the posted form.
type infoForm struct {
	title, body, lang string
	published         bool
	version           int
}

func readInfoForm(c *gin.Context) infoForm {
	v, _ := strconv.Atoi(c.PostForm("version"))
	return infoForm{title: strings.TrimSpace(c.PostForm("title")), body: c.PostForm("body"),
		lang: c.PostForm("lang"), published: c.PostForm("published") == "on", version: v}
}

func (s *Site) infoEditForm(c *gin.Context, action, heading string, f infoForm, langs bool, errs map[string]string) infoEditData {
	d := infoEditData{Action: action, Back: "/info-pages", Heading: heading, Published: f.published, Version: f.version,
		TitleF: fieldView{Name: "title", ID: "info-title", Label: s.t(c, "info.field.title"), Value: f.title, Required: true,
			Error: errs["/title"], Autocomplete: "off", Extra: map[string]string{"maxlength": strconv.Itoa(richtext.MaxTitle)}},
		BodyF: fieldView{Name: "body", ID: "info-body", Label: s.t(c, "info.field.body"), Value: f.body, Required: true,
			Hint: s.t(c, "info.field.body_hint"), Error: errs["/body"], Rows: 16}}
	if langs {
		d.Lang = &selectView{Name: "lang", ID: "info-lang", Label: s.t(c, "info.field.lang"), Error: errs["/lang"]}
		for _, l := range infopages.Langs {
			d.Lang.Options = append(d.Lang.Options, staffOption{Value: l, Label: s.t(c, "lang."+l), Selected: f.lang == l})
		}
	}
	return d
}

// infoFieldIDs maps request pointers to the form's element ids.
var infoFieldIDs = map[string]string{"/title": "info-title", "/body": "info-body", "/lang": "info-lang", "/version": "info-title"}

// infoEditPage is /info-pages/:slug/:lang.
func (s *Site) infoEditPage(c *gin.Context) error {
	p, err := infopages.New(s.core).Page(c.Request.Context(), httpx.CurrentUser(c), c.Param("slug"), c.Param("lang"))
	if err != nil {
		return err
	}
	f := infoForm{title: p.Title, body: p.Body, lang: p.Lang, published: p.Published, version: p.Version}
	s.renderInfoEdit(c, http.StatusOK, s.infoEditForm(c, infoPageAction(p.Slug, p.Lang), s.pageHeading(c, p.Slug, p.Lang), f, false, nil), nil)
	return nil
}

func infoPageAction(slug, lang string) string { return "/info-pages/" + slug + "/" + lang }

func (s *Site) pageHeading(c *gin.Context, slug, lang string) string {
	return s.t(c, "info.slug."+slug) + " — " + s.t(c, "lang."+lang)
}

func (s *Site) renderInfoEdit(c *gin.Context, status int, d infoEditData, summary []summaryItem) {
	s.render(c, status, "info_edit", view{Title: s.t(c, "info.editor.edit_title"), Nav: "info-pages",
		Crumbs: []crumb{{Href: "/info-pages", Text: s.t(c, "info.editor.title")}}, Data: d, Errors: summary})
}

// infoEditSubmit is the post of a page's form: a preview, or a save.
func (s *Site) infoEditSubmit(c *gin.Context) error {
	user := httpx.CurrentUser(c)
	svc := infopages.New(s.core)
	slug, lang := c.Param("slug"), c.Param("lang")
	if _, err := svc.Page(c.Request.Context(), user, slug, lang); err != nil {
		return err
	}
	f := readInfoForm(c)
	f.lang = lang
	d := s.infoEditForm(c, infoPageAction(slug, lang), s.pageHeading(c, slug, lang), f, false, nil)
	if c.PostForm("action") == "preview" {
		d.Preview, d.Previewed = richtext.Render(f.body), true
		s.renderInfoEdit(c, http.StatusOK, d, nil)
		return nil
	}
	_, err := svc.SavePage(c.Request.Context(), user, slug, infopages.PageRequest{Lang: lang, Title: f.title, Body: f.body,
		Published: f.published, Version: f.version})
	return s.infoSaved(c, err, d, func(errs map[string]string) infoEditData {
		return s.infoEditForm(c, d.Action, d.Heading, f, false, errs)
	}, "info.editor.saved")
}

// infoSaved ends a save: PRG on success, the form again with 422 and the
// field errors, or 409 on a stale version (the text typed is kept).
func (s *Site) infoSaved(c *gin.Context, err error, d infoEditData, form func(map[string]string) infoEditData, done string) error {
	if err == nil {
		setFlash(c, "success", done)
		redirect(c, "/info-pages")
		return nil
	}
	var ae *app.Error
	he := httpx.From(err)
	switch {
	case he.Status == http.StatusConflict:
		d.Conflict = true
		s.renderInfoEdit(c, http.StatusConflict, d, nil)
		return nil
	case he.Status == http.StatusUnprocessableEntity && errors.As(err, &ae):
		errs := map[string]string{}
		var summary []summaryItem
		for _, f := range he.Fields {
			msg := f.In(pageLang(c))
			if _, dup := errs[f.Pointer]; !dup {
				errs[f.Pointer] = msg
			}
			summary = append(summary, summaryItem{Href: "#" + infoFieldIDs[f.Pointer],
				Text: s.t(c, "info.field"+strings.ReplaceAll(f.Pointer, "/", ".")) + ": " + msg})
		}
		s.renderInfoEdit(c, http.StatusUnprocessableEntity, form(errs), summary)
		return nil
	}
	return err
}

// newsAction is the form URL of a news item ("new" for a new one).
func newsAction(id string) string { return "/info-news/" + id }

// infoNewsEditPage is /info-news/:id.
func (s *Site) infoNewsEditPage(c *gin.Context) error {
	f := infoForm{lang: pageLang(c)}
	id := c.Param("id")
	if id != "new" {
		n, err := infopages.New(s.core).NewsItem(c.Request.Context(), httpx.CurrentUser(c), id)
		if err != nil {
			return err
		}
		f = infoForm{title: n.Title, body: n.Body, lang: n.Lang, published: n.PublishedAt != nil, version: n.Version}
	}
	s.renderInfoEdit(c, http.StatusOK, s.infoEditForm(c, newsAction(id), s.t(c, "info.news_item"), f, true, nil), nil)
	return nil
}

// infoNewsEditSubmit is the post of a news item's form.
func (s *Site) infoNewsEditSubmit(c *gin.Context) error {
	user := httpx.CurrentUser(c)
	svc := infopages.New(s.core)
	id := c.Param("id")
	if id != "new" {
		if _, err := svc.NewsItem(c.Request.Context(), user, id); err != nil {
			return err
		}
	}
	f := readInfoForm(c)
	d := s.infoEditForm(c, newsAction(id), s.t(c, "info.news_item"), f, true, nil)
	if c.PostForm("action") == "preview" {
		d.Preview, d.Previewed = richtext.Render(f.body), true
		s.renderInfoEdit(c, http.StatusOK, d, nil)
		return nil
	}
	if id == "new" {
		id = ""
	}
	_, err := svc.SaveNews(c.Request.Context(), user, id, infopages.NewsRequest{Lang: f.lang, Title: f.title, Body: f.body,
		Published: f.published, Version: f.version})
	return s.infoSaved(c, err, d, func(errs map[string]string) infoEditData {
		return s.infoEditForm(c, d.Action, d.Heading, f, true, errs)
	}, "info.editor.news_saved")
}
