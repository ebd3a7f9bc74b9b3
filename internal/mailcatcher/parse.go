package mailcatcher

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"unicode/utf8"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader knows the charsets mail clients use besides UTF-8 (which
// mime.WordDecoder handles itself): Latin-1 and its Windows superset
// (close enough for display).
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "cp1252":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		return strings.NewReader(latin1(b)), nil
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	}
	return nil, fmt.Errorf("unsupported charset %q", charset)
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// parseMessage extracts the headers and the first text/plain and text/html
// parts of raw. It never fails: problems are reported in ParseError.
func parseMessage(raw []byte) Captured {
	var m Captured
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.ParseError = err.Error()
		m.Text = toUTF8(raw, "")
		return m
	}
	m.Header = map[string][]string(msg.Header)
	m.Subject = decodeHeader(msg.Header.Get("Subject"))
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	m.HeaderFrom = addressList(msg.Header, "From")
	m.HeaderTo = addressList(msg.Header, "To")
	if err := walkPart(&m, msg.Header, msg.Body, 0); err != nil {
		m.ParseError = err.Error()
	}
	return m
}

func addressList(h mail.Header, key string) string {
	if h.Get(key) == "" {
		return ""
	}
	dec := mail.AddressParser{WordDecoder: wordDecoder}
	list, err := dec.ParseList(h.Get(key))
	if err != nil {
		return decodeHeader(h.Get(key))
	}
	parts := make([]string, len(list))
	for i, a := range list {
		if a.Name != "" {
			parts[i] = fmt.Sprintf("%s <%s>", a.Name, a.Address)
		} else {
			parts[i] = a.Address
		}
	}
	return strings.Join(parts, ", ")
}

type header interface{ Get(string) string }

const maxDepth = 8

func walkPart(m *Captured, h header, body io.Reader, depth int) error {
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mediatype, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mediatype, params = "text/plain", map[string]string{}
	}
	if strings.EqualFold(h.Get("Content-Disposition"), "attachment") ||
		strings.HasPrefix(strings.ToLower(h.Get("Content-Disposition")), "attachment;") {
		return nil
	}
	switch {
	case strings.HasPrefix(mediatype, "multipart/"):
		if depth >= maxDepth {
			return fmt.Errorf("MIME nesting deeper than %d", maxDepth)
		}
		boundary := params["boundary"]
		if boundary == "" {
			return fmt.Errorf("%s without boundary", mediatype)
		}
		mr := multipart.NewReader(body, boundary)
		for {
			// NextRawPart: we decode the transfer encoding ourselves, the
			// same way for every part.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walkPart(m, p.Header, p, depth+1); err != nil {
				return err
			}
		}
	case mediatype == "text/plain" || mediatype == "text/html":
		b, err := io.ReadAll(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
		if err != nil {
			return fmt.Errorf("%s part: %w", mediatype, err)
		}
		s := toUTF8(b, params["charset"])
		if mediatype == "text/plain" && m.Text == "" {
			m.Text = s
		} else if mediatype == "text/html" && m.HTML == "" {
			m.HTML = s
		}
	}
	return nil
}

func decodeTransfer(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: r})
	}
	return r
}

// newlineStripper drops CR and LF so that base64 bodies split in lines
// decode.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func toUTF8(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "cp1252":
		return latin1(b)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
