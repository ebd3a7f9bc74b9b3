package api

import (
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/infopages"
	"sportello/internal/richtext"
	"sportello/internal/store"
)

// The public information pages and news of a district (issue 15, part 5):
// anyone reads the published ones (GET /info-pages, /info-pages/{slug},
// /news; ?district= defaults to the caller's district, or to the default
// one for anonymous callers; ?lang= to Italian), each with its body
// rendered as HTML by internal/richtext; supervisors list, create and
// change their district's (/editor/...) through internal/app/infopages.

// infoPageOut is a published page with its HTML.
type infoPageOut struct {
	store.InfoPage
	HTML template.HTML `json:"html"`
}

// newsOut is a published news item with its HTML.
type newsOut struct {
	store.NewsItem
	HTML template.HTML `json:"html"`
}

// infoQuery reads ?district= and ?lang=: without ?district=, the caller's
// district, or the one shown to an anonymous visitor (app.Core.DefaultDistrict).
func (s *server) infoQuery(c *gin.Context) (district, lang string, err error) {
	lang = c.DefaultQuery("lang", "it")
	district, err = s.visitorDistrict(c)
	return district, lang, err
}

func (s *server) listInfoPages(c *gin.Context) error {
	district, lang, err := s.infoQuery(c)
	if err != nil {
		return err
	}
	pages, err := infopages.New(s.core).Published(c.Request.Context(), district, lang)
	if err != nil {
		return err
	}
	out := make([]infoPageOut, 0, len(pages))
	for _, p := range pages {
		out = append(out, infoPageOut{InfoPage: p, HTML: richtext.Render(p.Body)})
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *server) getInfoPage(c *gin.Context) error {
	district, lang, err := s.infoQuery(c)
	if err != nil {
		return err
	}
	p, err := infopages.New(s.core).PublishedPage(c.Request.Context(), district, c.Param("slug"), lang)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, infoPageOut{InfoPage: p, HTML: richtext.Render(p.Body)})
	return nil
}

func (s *server) listNews(c *gin.Context) error {
	district, lang, err := s.infoQuery(c)
	if err != nil {
		return err
	}
	news, err := infopages.New(s.core).News(c.Request.Context(), district, lang)
	if err != nil {
		return err
	}
	out := make([]newsOut, 0, len(news))
	for _, n := range news {
		out = append(out, newsOut{NewsItem: n, HTML: richtext.Render(n.Body)})
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *server) listEditorPages(c *gin.Context) error {
	pages, err := infopages.New(s.core).Pages(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": pages})
	return nil
}

func (s *server) putEditorPage(c *gin.Context) error {
	var req infopages.PageRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := infopages.New(s.core).SavePage(c.Request.Context(), httpx.CurrentUser(c), c.Param("slug"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, p)
	return nil
}

func (s *server) listEditorNews(c *gin.Context) error {
	news, err := infopages.New(s.core).NewsList(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": news})
	return nil
}

// saveEditorNews is POST /editor/news (create: status 201) and PUT
// /editor/news/{id}.
func (s *server) saveEditorNews(c *gin.Context) error {
	var req infopages.NewsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	n, err := infopages.New(s.core).SaveNews(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if c.Param("id") == "" {
		status = http.StatusCreated
	}
	c.JSON(status, n)
	return nil
}
