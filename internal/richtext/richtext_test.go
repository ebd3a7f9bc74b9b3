package richtext

import (
	"strings"
	"testing"
)

func TestCheckRefusesMarkupAndUnsafeLinks(t *testing.T) {
	for _, c := range []struct {
		src, code string
		line      int
	}{
		{"<script>alert(1)</script>", CodeHTML, 1},
		{"Testo\n\n<img src=x onerror=alert(1)>", CodeHTML, 3},
		{"fine </p>", CodeHTML, 1},
		{"<!-- commento -->", CodeHTML, 1},
		{"# Titolo", CodeHeading1, 1},
		{"[clic](javascript:alert(1))", CodeLink, 1},
		{"[clic](JavaScript:alert(1))", CodeLink, 1},
		{"[clic]( javascript:alert(1))", CodeLink, 1},
		{"[clic](jav&#x61;script:alert(1))", CodeLink, 1},
		{"[clic](data:text/html;base64,PHNjcmlwdD4=)", CodeLink, 1},
		{"[clic](vbscript:msgbox)", CodeLink, 1},
		{"[clic](//evil.example/x)", CodeLink, 1},
		{"[clic](https://a.example/\"onmouseover=x)", CodeLink, 1},
		{"[clic](https://)", CodeLink, 1},
		{"ok\n[clic](https://a.example", CodeLinkForm, 2},
		{strings.Repeat("a", MaxBody+1), CodeTooLong, 0},
	} {
		p := Check(c.src)
		if p == nil || p.Code != c.code || p.Line != c.line {
			t.Errorf("Check(%q) = %+v, want %s on line %d", c.src, p, c.code, c.line)
		}
	}
	for _, ok := range []string{
		"", "## Contatti\n\nTelefono: [0331 826811](tel:+390331826811)\n\n- uno\n- due\n\n1. primo\n2. secondo",
		"Scrivi a [noi](mailto:ufficio@example.it) o vai su [AgID](https://form.agid.gov.it/) e [attiva](/attiva).",
		"ISEE < 10.000 € e 3 > 2; <3", "**grassetto** [testo] (parentesi)", strings.Repeat("à", MaxBody),
	} {
		if p := Check(ok); p != nil {
			t.Errorf("Check(%q) = %+v, want nil", ok, p)
		}
	}
}

func TestRenderEscapesEverything(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"## Orari\n\nDal lunedì al venerdì\n9-12", "<h2>Orari</h2>\n<p>Dal lunedì al venerdì 9-12</p>\n"},
		{"- uno\n- **due**\n\n1. a\n2. b", "<ul>\n<li>uno</li>\n<li><strong>due</strong></li>\n</ul>\n<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"},
		{"testo\n- voce", "<p>testo</p>\n<ul>\n<li>voce</li>\n</ul>\n"},
		{"[AgID](https://form.agid.gov.it/?a=1&b=2)", `<p><a href="https://form.agid.gov.it/?a=1&amp;b=2">AgID</a></p>` + "\n"},
		{"### A & B", "<h3>A &amp; B</h3>\n"},
		// Past Check (stored before a rule, or by hand): still inert text.
		{"<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		{"[x](javascript:alert(1))", "<p>x)</p>\n"}, // the address ends at the first ")"
		{`[x](https://a.example/" onclick="y)`, "<p>x</p>\n"},
		{`[<b>x</b>](/attiva)`, `<p><a href="/attiva">&lt;b&gt;x&lt;/b&gt;</a></p>` + "\n"},
		{"**<i>**", "<p><strong>&lt;i&gt;</strong></p>\n"},
		{"a\u202Eb", "<p>a\uFFFDb</p>\n"},
	} {
		if got := string(Render(c.src)); got != c.want {
			t.Errorf("Render(%q) =\n%q\nwant\n%q", c.src, got, c.want)
		}
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{"<script>", "[a](javascript:x)", "## t\n- a\n1. b", "**[x](/y)**", "[a](https://x.example/\"><svg>)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := string(Render(src))
		// Every "<" Render writes opens one of its own elements.
		for i := strings.Index(out, "<"); i >= 0; i = strings.Index(out, "<") {
			out = out[i+1:]
			ok := false
			for _, tag := range []string{"p>", "/p>", "h2>", "/h2>", "h3>", "/h3>", "ul>", "/ul>", "ol>", "/ol>", "li>", "/li>",
				"strong>", "/strong>", `a href="`, "/a>"} {
				if strings.HasPrefix(out, tag) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("Render(%q) wrote markup of its own: <%s", src, out)
			}
		}
		if strings.Contains(strings.ToLower(string(Render(src))), `href="javascript`) {
			t.Fatalf("Render(%q) wrote a javascript: link", src)
		}
	})
}
