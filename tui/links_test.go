package tui

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/internal/attacks"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestFindLinks(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"see https://go.dev.", []string{"https://go.dev"}},
		{"HTTP://EXAMPLE.COM/x?y=1&z=2#f, then", []string{"HTTP://EXAMPLE.COM/x?y=1&z=2#f"}},
		{"(at https://go.dev/doc)", []string{"https://go.dev/doc"}},
		{"https://en.wikipedia.org/wiki/Go_(game) is it", []string{"https://en.wikipedia.org/wiki/Go_(game)"}},
		{"two: http://a.b and https://c.d!", []string{"http://a.b", "https://c.d"}},
		{"no scheme: go.dev, ftp://x.y, javascript:alert(1), file:///etc/passwd", nil},
		{"xhttps://glued.to.a.word", nil},
		{"https://", nil},
		{"https:// nothing", nil},
		{"<https://in.angles>", []string{"https://in.angles"}},
		{"https://ja.wikipedia.org/wiki/日本語 ok", []string{"https://ja.wikipedia.org/wiki/日本語"}},
		{`"https://quoted.example"`, []string{"https://quoted.example"}},
		{"https://a.b/c\nhttps://d.e", []string{"https://a.b/c", "https://d.e"}},
	}
	for _, tc := range tests {
		var got []string
		for _, r := range findLinks(tc.text) {
			got = append(got, tc.text[r[0]:r[1]])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("findLinks(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestHyperlink(t *testing.T) {
	got := hyperlink("https://go.dev/a b\x1b\\\x07ü", "m:1;x", "go.dev")
	want := "\x1b]8;id=m1x;https://go.dev/a%20b%1B%5C%07%C3%BC\x1b\\go.dev\x1b]8;;\x1b\\"
	if got != want {
		t.Errorf("hyperlink = %q, want %q", got, want)
	}
}

// checkLinkOpen checks that the OSC 8 sequence linkOpen makes for rawURL is
// one sequence holding printable ASCII only, which a terminal reads back
// (as ultraviolet does) as the URL, percent-decoding to rawURL.
func checkLinkOpen(t *testing.T, rawURL, id string) {
	t.Helper()
	open := linkOpen(rawURL, id)
	body, ok := strings.CutPrefix(open, "\x1b]8;")
	if !ok || !strings.HasSuffix(body, "\x1b\\") {
		t.Fatalf("linkOpen(%q) = %q: not an OSC 8 sequence", rawURL, open)
	}
	body = strings.TrimSuffix(body, "\x1b\\")
	for i := 0; i < len(body); i++ {
		if c := body[i]; c < 0x21 || c > 0x7e {
			t.Fatalf("linkOpen(%q) = %q: byte %#x inside the sequence", rawURL, open, c)
		}
	}
	var link uv.Link
	uv.ReadLink([]byte("8;"+body), &link)
	if strings.ContainsAny(link.Params, ";:") && !strings.HasPrefix(link.Params, "id=") {
		t.Fatalf("linkOpen(%q): params %q", rawURL, link.Params)
	}
	back, err := url.PathUnescape(link.URL)
	if err == nil && !strings.Contains(rawURL, "%") && back != rawURL {
		t.Fatalf("linkOpen(%q): the terminal reads %q, which decodes to %q", rawURL, link.URL, back)
	}
	// The whole link, parsed as a terminal does: one OSC, the text, one OSC.
	whole := hyperlink(rawURL, id, "text")
	var oscs int
	p := ansi.NewParser()
	p.SetHandler(ansi.Handler{HandleOsc: func(cmd int, _ []byte) {
		oscs++
		if cmd != 8 {
			t.Fatalf("hyperlink(%q) holds OSC %d", rawURL, cmd)
		}
	}})
	for i := 0; i < len(whole); i++ {
		p.Advance(whole[i])
	}
	if oscs != 2 || ansi.Strip(whole) != "text" {
		t.Fatalf("hyperlink(%q) = %q: %d OSC sequences, text %q", rawURL, whole, oscs, ansi.Strip(whole))
	}
}

// FuzzHyperlink: whatever the URL and id, the link never breaks out of its
// sequence. Seeded with the terminal attacks, as URLs and as ids.
func FuzzHyperlink(f *testing.F) {
	list, err := attacks.Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("https://go.dev/", "alpha-3")
	for _, a := range list {
		f.Add("https://x.example/"+a.Payload, a.Payload)
		f.Add(a.Payload, "id")
	}
	f.Fuzz(func(t *testing.T, rawURL, id string) {
		checkLinkOpen(t, rawURL, id)
	})
}

// FuzzFindLinks: on any clean text, the links found are in order, apart,
// inside the text, start with the scheme and hold no space; and each, made
// a hyperlink, stays inert. Seeded with the terminal attacks, cleaned as
// the lobby cleans every message.
func FuzzFindLinks(f *testing.F) {
	list, err := attacks.Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("see https://go.dev/doc, then http://a.b/(c).")
	for _, a := range list {
		f.Add(lobby.CleanLines("https://" + a.Payload + " and " + a.Payload))
	}
	f.Fuzz(func(t *testing.T, text string) {
		text = lobby.CleanLines(text)
		last := 0
		for _, r := range findLinks(text) {
			if r[0] < last || r[1] <= r[0] || r[1] > len(text) {
				t.Fatalf("findLinks(%q): range %v after %d", text, r, last)
			}
			u := text[r[0]:r[1]]
			if schemeLen(u) == 0 || len(u) <= schemeLen(u) || strings.ContainsFunc(u, unicode.IsSpace) {
				t.Fatalf("findLinks(%q) found %q", text, u)
			}
			checkLinkOpen(t, u, "x")
			last = r[1]
		}
	})
}

// TestWrappedLinkOnEveryRow: a URL wrapped over three rows is a link on
// each of them, to the same URL under the same id, and the rows read as
// the text did.
func TestWrappedLinkOnEveryRow(t *testing.T) {
	const u = "https://example.com/a/very/long/path/that/wraps"
	open := linkOpen(u, "alpha-7-0")
	rows := wrapSpans(nil, []span{{text: "see "}, {text: u, link: open}, {text: " now"}}, 20)
	var plain []string
	for _, r := range rows {
		plain = append(plain, ansi.Strip(r))
	}
	if got := strings.ReplaceAll(strings.Join(plain, ""), " ", ""); got != "see"+u+"now" {
		t.Errorf("the rows read %q", plain)
	}
	linked := 0
	for i, r := range rows {
		if ansi.StringWidth(r) > 20 {
			t.Errorf("row %d is %d cells wide", i, ansi.StringWidth(r))
		}
		hasURL := strings.ContainsAny(ansi.Strip(r), "/")
		if n := strings.Count(r, open); n != strings.Count(r, linkClose) || (n == 1) != hasURL || n > 1 {
			t.Errorf("row %d: %q", i, r)
		}
		if hasURL {
			linked++
		}
	}
	if linked != 3 {
		t.Errorf("the link is on %d rows, want 3: %q", linked, plain)
	}
}
