package voucherpdf

import (
	"io"
	"strconv"
	"time"
)

// Document is a text document of sections: a title, a few lines about the
// document and its sections, each a heading and lines of text. The caller
// writes every text in the reader's language; this only lays it out on A4
// pages, numbered in the footer. It is the readable copy of everything
// held about a citizen (PersonalData, their GDPR download,
// internal/app/privacy) and a company's monthly statement
// (internal/app/company).
type Document struct {
	Title    string
	Subtitle string
	Intro    []string
	Sections []Section
	Footer   string // before the page number, e.g. "Sportello - dati personali"
	PageWord string // "pagina" / "page"
	Created  time.Time
}

// Section is one heading and its lines; Empty is shown when there are none.
type Section struct {
	Heading string
	Lines   []string
	Empty   string
}

// PersonalData is the readable copy of everything held about a citizen.
type PersonalData = Document

// WritePersonalData renders d and writes it to w (WriteDocument).
func WritePersonalData(w io.Writer, d PersonalData) error { return WriteDocument(w, d) }

// WriteDocument renders d and writes it to w. The same d gives the same
// bytes (it is dated d.Created).
func WriteDocument(w io.Writer, d Document) error {
	c := newCanvas(d.Title, d.Subtitle, d.Created)
	width := pageW - 2*margin
	page := 0
	var y float64
	newPage := func() {
		c.pdf.AddPage()
		page++
		y = pageH - margin - 10
		c.stroke(primary, 0.8)
		c.line(margin, footerTop, pageW-margin, footerTop)
		c.text(sans, 8, margin, footerTop-14, ink, d.Footer)
		c.right(sans, 8, pageW-margin, footerTop-14, ink, d.PageWord+" "+strconv.Itoa(page))
	}
	need := func(h float64) {
		if y-h < footerTop+16 {
			newPage()
		}
	}
	newPage()
	head, size := c.fit(sansBold, 20, 12, width, d.Title)
	c.text(sansBold, size, margin, y-size, primary, head)
	y -= size + 10
	for _, l := range c.wrap(sans, 10, width, d.Subtitle) {
		c.text(sans, 10, margin, y-10, ink, l)
		y -= 14
	}
	y -= 6
	for _, p := range d.Intro {
		for _, l := range c.wrap(sans, 9, width, p) {
			need(13)
			c.text(sans, 9, margin, y-9, ink, l)
			y -= 13
		}
		y -= 4
	}
	for _, s := range d.Sections {
		need(40)
		y -= 8
		c.fill(primaryBg)
		c.rect(margin, y-18, width, 18, "F")
		c.text(sansBold, 11, margin+6, y-13, primary, s.Heading)
		y -= 24
		lines := s.Lines
		if len(lines) == 0 && s.Empty != "" {
			lines = []string{s.Empty}
		}
		for _, item := range lines {
			for i, l := range c.wrap(sans, 9, width-12, item) {
				need(13)
				x := margin + 6
				if i > 0 {
					x += 8
				}
				c.text(sans, 9, x, y-9, ink, l)
				y -= 13
			}
			y -= 2
		}
	}
	return c.output(w)
}
