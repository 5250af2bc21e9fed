package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Links: http:// and https:// URLs in messages are sent as OSC 8 terminal
// hyperlinks, with the visible text unchanged. A link wrapped over several
// rows is opened and closed on each row (every row is drawn on its own),
// under one id, so that terminals treat the pieces as one link: it stays
// clickable however the pane wraps it. A terminal that knows no OSC 8 shows
// the text alone.

// linkClose ends a hyperlink.
const linkClose = "\x1b]8;;\x1b\\"

// linkOpen is the OSC 8 sequence that starts a hyperlink to url, named id.
// The URL is percent-encoded (encodeURL) and the id cut to the characters
// an id may hold, so that nothing in them can end the sequence early or
// start another: between "ESC ] 8 ;" and the final "ESC \" there is only
// printable ASCII.
func linkOpen(url, id string) string {
	var b strings.Builder
	b.Grow(len(url) + len(id) + 16)
	b.WriteString("\x1b]8;")
	if id = linkID(id); id != "" {
		b.WriteString("id=")
		b.WriteString(id)
	}
	b.WriteByte(';')
	encodeURL(&b, url)
	b.WriteString("\x1b\\")
	return b.String()
}

// hyperlink is text as a link to url, named id.
func hyperlink(url, id, text string) string {
	return linkOpen(url, id) + text + linkClose
}

// urlKeep reports whether the byte c may stand as it is in a URL inside an
// OSC 8 sequence: RFC 3986's unreserved and reserved characters and '%'.
// Everything else (controls, ESC, BEL, space, quotes, '\', bytes of other
// characters than ASCII) is percent-encoded.
func urlKeep(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}

// encodeURL writes url percent-encoded: each byte urlKeep refuses becomes
// %XX. A '%' already in the URL stays as it is (the URL was typed encoded),
// so a URL that was valid is unchanged.
func encodeURL(b *strings.Builder, url string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(url); i++ {
		if c := url[i]; urlKeep(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}

// maxLinkID bounds an id; terminals keep them per link.
const maxLinkID = 32

// linkID keeps of id what an OSC 8 id may hold: letters, digits, '-' and
// '_', and not too many of them.
func linkID(id string) string {
	id = strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return r
		}
		return -1
	}, id)
	return id[:min(len(id), maxLinkID)]
}

// findLinks returns the byte ranges [start, end) of the http:// and https://
// URLs in text, in order: from the scheme, at the start of a word, to the
// first space or character that cannot be part of one, less punctuation
// that ends a sentence (and a closing bracket that opens nowhere in the
// URL). Only these two schemes are links.
func findLinks(text string) [][2]int {
	var out [][2]int
	for i := 0; i < len(text); {
		j := indexScheme(text[i:])
		if j < 0 {
			break
		}
		start := i + j
		if start > 0 {
			if r, _ := utf8.DecodeLastRuneInString(text[:start]); unicode.IsLetter(r) || unicode.IsDigit(r) {
				i = start + 1 // "xhttp://" is no link
				continue
			}
		}
		end := start
		for end < len(text) {
			r, n := utf8.DecodeRuneInString(text[end:])
			if unicode.IsSpace(r) || r == utf8.RuneError || unicode.IsControl(r) || strings.ContainsRune("<>\"`{}|\\^", r) {
				break
			}
			end += n
		}
		end = trimLinkEnd(text[start:end]) + start
		head := schemeLen(text[start:])
		if end-start > head {
			out = append(out, [2]int{start, end})
		}
		i = max(end, start+head)
	}
	return out
}

// indexScheme is the offset of the first "http://" or "https://" in s,
// without regard to case, or -1.
func indexScheme(s string) int {
	for i := 0; i+7 <= len(s); i++ {
		if (s[i] == 'h' || s[i] == 'H') && schemeLen(s[i:]) > 0 {
			return i
		}
	}
	return -1
}

// schemeLen is the length of the "http://" or "https://" s starts with, or 0.
func schemeLen(s string) int {
	for _, p := range []string{"http://", "https://"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return len(p)
		}
	}
	return 0
}

// trimLinkEnd is the length of url without the punctuation that ends the
// sentence around it: "see https://go.dev." links go.dev, and "(at
// https://go.dev)" leaves the bracket out, while "https://x.org/a_(b)"
// keeps its own.
func trimLinkEnd(url string) int {
	end := len(url)
	for end > 0 {
		c := url[end-1]
		switch {
		case strings.IndexByte(".,;:!?'*", c) >= 0:
		case c == ')' && strings.Count(url[:end], "(") < strings.Count(url[:end], ")"):
		case c == ']' && strings.Count(url[:end], "[") < strings.Count(url[:end], "]"):
		default:
			return end
		}
		end--
	}
	return end
}
