package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/lobby"
)

func msgs(from, to uint64) []lobby.Message {
	var out []lobby.Message
	for seq := from; seq <= to; seq++ {
		out = append(out, lobby.Message{Room: "alpha", Seq: seq, At: time.Now(), From: "alice", Kind: lobby.KindChat, Text: fmt.Sprintf("line %d", seq)})
	}
	return out
}

func newTestScrollback(limit, w, h int) *scrollback {
	s := newScrollback(newStyles(), limit, time.UTC)
	s.setSize(w, h)
	return &s
}

func addLines(s *scrollback, from, to uint64, history bool) {
	for _, m := range msgs(from, to) {
		s.add(messageEntry(&m, history))
	}
}

func screenOf(s *scrollback) []string {
	var out []string
	for _, r := range s.visible() {
		out = append(out, ansi.Strip(r))
	}
	return out
}

func rendered(s *scrollback, width int) int {
	n := 0
	for i := range s.entries {
		if s.entries[i].width == width {
			n++
		}
	}
	return n
}

func TestScrollbackRendersOnlyWhatIsShown(t *testing.T) {
	s := newTestScrollback(10000, 50, 10)
	addLines(s, 1, 5000, false)
	s.visible()
	if n := rendered(s, 50); n > 11 {
		t.Fatalf("%d of 5000 entries were wrapped for a 10-row view, want at most 11", n)
	}
	s.setSize(20, 10)
	rows := s.visible()
	if n := rendered(s, 20); n > 11 {
		t.Fatalf("after a resize %d entries were re-wrapped, want only the visible ones (≤11)", n)
	}
	for i, r := range rows {
		if w := ansi.StringWidth(r); w > 20 {
			t.Errorf("row %d is %d cells at width 20: %q", i, w, r)
		}
	}
	if got := ansi.Strip(rows[len(rows)-1]); !strings.Contains(got, "5000") {
		t.Fatalf("last row = %q, want the newest line", got)
	}
}

func TestScrollbackCacheInvalidatedOnResize(t *testing.T) {
	s := newTestScrollback(100, 40, 10)
	long := lobby.Message{Seq: 1, At: time.Now(), From: "alice", Kind: lobby.KindChat, Text: strings.Repeat("word ", 20)}
	s.add(messageEntry(&long, false))
	at40 := append([]string(nil), s.rowsOf(0)...)
	s.setSize(20, 10)
	at20 := s.rowsOf(0)
	if len(at20) <= len(at40) {
		t.Fatalf("at width 20 the line has %d rows, at 40 %d; want more at 20", len(at20), len(at40))
	}
	s.setSize(40, 10)
	back := s.rowsOf(0)
	if strings.Join(back, "\n") != strings.Join(at40, "\n") {
		t.Fatalf("back at width 40 the rows differ:\n%q\n%q", back, at40)
	}
	// Same width, same rows: the cache is used, not re-made.
	if &s.rowsOf(0)[0] != &back[0] {
		t.Fatalf("rows were re-made without a width change")
	}
}

func TestScrollbackPagingKeepsAnchor(t *testing.T) {
	s := newTestScrollback(1000, 40, 6)
	s.add(entry{kind: entRuleHistory})
	for _, m := range msgs(101, 120) {
		s.add(messageEntry(&m, true))
	}
	s.toTop()
	s.scrollDown(3) // the top of the view is now "line 103"
	if got := screenOf(s)[0]; !strings.Contains(got, "line 103") {
		t.Fatalf("top row = %q, want line 103", got)
	}
	s.toTop()
	if !s.canPage() || s.firstSeq() != 101 {
		t.Fatalf("canPage %v firstSeq %d, want true, 101", s.canPage(), s.firstSeq())
	}
	s.startLoading()
	if got := screenOf(s)[0]; !strings.Contains(got, "loading older messages") {
		t.Fatalf("top row while loading = %q", got)
	}
	before := screenOf(s)
	anchor := -1
	for i, r := range before {
		if strings.Contains(r, "line 101") {
			anchor = i
		}
	}
	s.prepend("alpha", msgs(91, 100), false)
	after := screenOf(s)
	if after[anchor] != before[anchor] {
		t.Fatalf("line 101 moved: row %d was %q, now %q\nafter: %q", anchor, before[anchor], after[anchor], after)
	}
	if !strings.Contains(after[anchor-1], "line 100") {
		t.Fatalf("row above the anchor = %q, want the newest older line", after[anchor-1])
	}
	// Scroll to the top: the history rule is above the oldest line.
	s.toTop()
	if got := screenOf(s); !strings.Contains(got[0], "── history") || !strings.Contains(got[1], "line 91") {
		t.Fatalf("top after paging = %q", got)
	}
	s.startLoading()
	s.prepend("alpha", msgs(1, 90)[80:], true)
	s.toTop()
	if got := screenOf(s); !strings.Contains(got[0], "This is the beginning of alpha.") || !strings.Contains(got[2], "line 81") {
		t.Fatalf("top at the beginning = %q", got)
	}
	if s.canPage() {
		t.Fatalf("canPage at the beginning")
	}
}

func TestScrollbackLimit(t *testing.T) {
	s := newTestScrollback(100, 40, 10)
	addLines(s, 1, 1000, false)
	if n := len(s.entries); n > 100+s.slack() {
		t.Fatalf("holding %d entries, limit 100 (+%d slack)", n, s.slack())
	}
	if got := screenOf(s); !strings.Contains(got[len(got)-1], "line 1000") {
		t.Fatalf("last row %q, want line 1000", got[len(got)-1])
	}
	if s.firstSeq() <= 1 || !s.canPage() {
		t.Fatalf("dropped lines must be fetchable again: firstSeq %d canPage %v", s.firstSeq(), s.canPage())
	}
}

func TestScrollbackDetachAndReattach(t *testing.T) {
	s := newTestScrollback(100, 40, 10)
	addLines(s, 901, 1000, true)
	// Page back far: each page goes on top and the newest lines are set
	// aside once the limit is passed.
	for from := uint64(851); from >= 701; from -= 50 {
		s.toTop()
		s.startLoading()
		s.prepend("alpha", msgs(from, from+49), false)
	}
	if !s.detached {
		t.Fatalf("after paging far back the scrollback should be detached")
	}
	if n := len(s.entries) + len(s.tail); n > 2*(100+s.slack()) {
		t.Fatalf("holding %d entries", n)
	}
	s.toTop()
	top := screenOf(s)[0]
	addLines(s, 1001, 1005, false) // live lines keep arriving
	if got := screenOf(s)[0]; got != top {
		t.Fatalf("a live line moved a far-back view: %q → %q", top, got)
	}
	if s.unread == 0 {
		t.Fatalf("unread = 0 while live lines wait below")
	}
	s.toBottom()
	if s.detached || s.unread != 0 {
		t.Fatalf("after End: detached %v unread %d", s.detached, s.unread)
	}
	if got := screenOf(s); !strings.Contains(got[len(got)-1], "line 1005") {
		t.Fatalf("after End the newest line should show: %q", got)
	}
	if !s.canPage() {
		t.Fatalf("the gap must be fetchable as older history after End")
	}
}

func TestScrollbackFollowAndUnread(t *testing.T) {
	s := newTestScrollback(1000, 40, 5)
	addLines(s, 1, 20, false)
	s.scrollUp(3)
	top := screenOf(s)[0]
	addLines(s, 21, 22, false)
	if got := screenOf(s)[0]; got != top || s.unread != 2 {
		t.Fatalf("scrolled up: top %q→%q, unread %d; want unchanged view and 2 unread", top, got, s.unread)
	}
	s.scrollDown(100)
	if !s.follow || s.unread != 0 {
		t.Fatalf("scrolled to the end: follow %v unread %d", s.follow, s.unread)
	}
	addLines(s, 23, 23, false)
	if got := screenOf(s); !strings.Contains(got[4], "line 23") {
		t.Fatalf("following: last row %q, want line 23", got[4])
	}
}

func TestScrollbackShortContentStartsAtTop(t *testing.T) {
	s := newTestScrollback(1000, 40, 5)
	addLines(s, 1, 2, false)
	got := screenOf(s)
	if !strings.Contains(got[0], "line 1") || got[2] != "" {
		t.Fatalf("short content should be top-aligned: %q", got)
	}
	s.scrollDown(3)
	s.scrollUp(3)
	if got := screenOf(s); !strings.Contains(got[0], "line 1") {
		t.Fatalf("scrolling short content moved it: %q", got)
	}
}

func TestScrollbackReleasesRowsFarAbove(t *testing.T) {
	s := newTestScrollback(10000, 40, 10)
	for i := uint64(1); i <= 500; i++ {
		addLines(s, i, i, false)
		s.visible() // a frame per line, as the program draws
	}
	cached := 0
	for i := range s.entries {
		if s.entries[i].rows != nil {
			cached++
		}
	}
	if cached > keepAbove+12 {
		t.Fatalf("%d of 500 entries keep rows, want at most about %d", cached, keepAbove+12)
	}
	// Scrolling back makes them again.
	s.toTop()
	if got := screenOf(s); !strings.Contains(got[0], "line 1") {
		t.Fatalf("after scrolling back the top row = %q", got[0])
	}
}

// ruleAt is the index of the "new" rule among s's entries, -1 for none, and
// the Seq of the line after it.
func ruleAt(s *scrollback) (int, uint64) {
	for i := range s.entries {
		if s.entries[i].kind == entRuleNew {
			if i+1 < len(s.entries) {
				return i, s.entries[i+1].seq()
			}
			return i, 0
		}
	}
	return -1, 0
}

func TestScrollbackNewRule(t *testing.T) {
	// The first new line is among the history shown.
	s := newTestScrollback(100, 40, 10)
	s.add(entry{kind: entRuleHistory})
	addLines(s, 11, 30, true)
	s.markNew(25)
	if i, next := ruleAt(s); i < 0 || next != 25 {
		t.Fatalf("rule at %d before line %d, want before line 25", i, next)
	}
	screen := strings.Join(screenOf(s), "\n")
	if !strings.Contains(screen, "── new ──") {
		t.Errorf("the rule is not on screen:\n%s", screen)
	}

	// Older than the history shown: above it, then in the page that holds it.
	s = newTestScrollback(100, 40, 10)
	s.add(entry{kind: entRuleHistory})
	addLines(s, 21, 30, true)
	s.markNew(15)
	if _, next := ruleAt(s); next != 21 {
		t.Fatalf("rule before line %d, want above the first line held, 21", next)
	}
	s.toTop()
	s.prepend("alpha", msgs(11, 20), false)
	if i, next := ruleAt(s); next != 15 {
		t.Fatalf("after a page: rule at %d before line %d, want before 15", i, next)
	}
	n := 0
	for i := range s.entries {
		if s.entries[i].kind == entRuleNew {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d new rules, want 1", n)
	}
	// A page older still leaves it alone.
	s.toTop()
	s.prepend("alpha", msgs(1, 10), true)
	if _, next := ruleAt(s); next != 15 {
		t.Errorf("after an older page the rule is before %d, want 15", next)
	}
	// Nothing new: no rule.
	s = newTestScrollback(100, 40, 10)
	addLines(s, 1, 5, true)
	s.markNew(0)
	if i, _ := ruleAt(s); i >= 0 {
		t.Errorf("a rule with nothing new, at %d", i)
	}
}

func TestScrollbackDirectAndMention(t *testing.T) {
	s := newTestScrollback(100, 60, 4)
	at := time.Now() // today: no day rule
	in := lobby.Message{Room: "@alice@me", Seq: 7, At: at, From: "alice", Kind: lobby.KindChat, Text: "psst"}
	out := lobby.Message{Room: "@alice@me", Seq: 8, At: at, From: "me", Kind: lobby.KindChat, Text: "what?"}
	named := lobby.Message{Room: "alpha", Seq: 3, At: at, From: "bob", Kind: lobby.KindChat, Text: "me: look"}
	s.add(entry{kind: entDirect, msg: &in, text: "alice"})
	s.add(entry{kind: entDirect, msg: &out, text: "alice", mine: true})
	e := messageEntry(&named, false)
	e.mention = true
	s.add(e)
	rows := s.visible()
	for i, want := range []string{"alice → you: psst", "you → alice: what?", "bob: me: look"} {
		if got := ansi.Strip(rows[i]); !strings.Contains(got, want) {
			t.Errorf("row %d = %q, want %q", i, got, want)
		}
	}
	if plain := messageEntry(&named, false); s.render(&plain, nil)[0] == rows[2] {
		t.Errorf("a mention looks like any line: %q", rows[2])
	}
	// A direct message shown in a room is no line of the room's: paging
	// goes by the room's own lines.
	if got := s.firstSeq(); got != 3 {
		t.Errorf("firstSeq = %d, want 3, the room's line", got)
	}
}

// dayLines are lines at the given times, numbered from seq.
func dayLines(seq uint64, at ...time.Time) []lobby.Message {
	var out []lobby.Message
	for i, t := range at {
		out = append(out, lobby.Message{Room: "alpha", Seq: seq + uint64(i), At: t, From: "alice", Kind: lobby.KindChat, Text: fmt.Sprintf("line %d", seq+uint64(i))})
	}
	return out
}

// TestDaysInTheScrollback: a line from another day than today says its day,
// and a rule marks where the day changes, in the user's zone (issue #9).
func TestDaysInTheScrollback(t *testing.T) {
	zone := time.FixedZone("UTC+10", 10*3600)
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, zone)
	on := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 30, 0, 0, zone).UTC() } // stored in UTC
	newSB := func() *scrollback {
		s := newScrollback(newStyles(), 1000, zone)
		s.now = func() time.Time { return now }
		s.setSize(60, 20)
		return &s
	}
	text := func(s *scrollback) string {
		var b strings.Builder
		for _, r := range screenOf(s) {
			if r = strings.TrimRight(r, " "); r != "" {
				b.WriteString(r + "\n")
			}
		}
		return b.String()
	}
	rule := func(label string) string { return ansi.Strip(rule(newStyles(), label, 60)) + "\n" }

	t.Run("history then today", func(t *testing.T) {
		s := newSB()
		for _, m := range dayLines(1, on(12, 9), on(12, 23), on(13, 1)) {
			s.add(messageEntry(&m, true))
		}
		for _, m := range dayLines(4, on(14, 8), on(14, 11)) {
			s.add(messageEntry(&m, false))
		}
		want := rule("Thursday 12 March 2026") +
			"Mar 12 09:30 alice: line 1\n" +
			"Mar 12 23:30 alice: line 2\n" +
			rule("Friday 13 March 2026") +
			"Mar 13 01:30 alice: line 3\n" +
			rule("Saturday 14 March 2026") +
			"08:30 alice: line 4\n" +
			"11:30 alice: line 5\n"
		if got := text(s); got != want {
			t.Errorf("scrollback:\n%s\nwant:\n%s", got, want)
		}

		// Past midnight today's lines say their day too.
		now = now.Add(24 * time.Hour)
		defer func() { now = now.Add(-24 * time.Hour) }()
		if got := text(s); !strings.Contains(got, "Mar 14 08:30 alice: line 4") {
			t.Errorf("the day after, line 4 does not say its day:\n%s", got)
		}
	})

	t.Run("today alone has no rule", func(t *testing.T) {
		s := newSB()
		for _, m := range dayLines(1, on(14, 8), on(14, 9)) {
			s.add(messageEntry(&m, false))
		}
		if got := text(s); strings.Contains(got, "──") {
			t.Errorf("a rule among today's lines:\n%s", got)
		}
	})

	t.Run("a page older meets the lines held", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			page []time.Time
			want string
		}{
			{"on the same day", []time.Time{on(12, 9), on(13, 0)}, rule("Thursday 12 March 2026") +
				"Mar 12 09:30 alice: line 1\n" + rule("Friday 13 March 2026") +
				"Mar 13 00:30 alice: line 2\n" + "Mar 13 01:30 alice: line 3\n"},
			{"on the day before", []time.Time{on(11, 9), on(12, 9)}, rule("Wednesday 11 March 2026") +
				"Mar 11 09:30 alice: line 1\n" + rule("Thursday 12 March 2026") +
				"Mar 12 09:30 alice: line 2\n" + rule("Friday 13 March 2026") + "Mar 13 01:30 alice: line 3\n"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := newSB()
				held := dayLines(3, on(13, 1))
				s.add(messageEntry(&held[0], true))
				s.prepend("alpha", dayLines(1, tt.page...), false)
				s.toTop() // the view stays on the line it showed; look at all
				got := text(s)
				got = strings.TrimPrefix(got, rule("history")) // the header above a page
				if got != tt.want {
					t.Errorf("scrollback:\n%s\nwant:\n%s", got, tt.want)
				}
			})
		}
	})
}

// TestTallReplyFromItsTop: a reply taller than the view (/commands) is
// shown from its first row, not its last; lines after it wait below, and a
// reply that fits changes nothing.
func TestTallReplyFromItsTop(t *testing.T) {
	s := newTestScrollback(1000, 40, 5)
	addLines(s, 1, 20, false)
	s.add(entry{kind: entNotice, text: "short"})
	if got := screenOf(s); !strings.Contains(got[4], "short") {
		t.Fatalf("a short reply: %q", got)
	}
	s.add(entry{kind: entInfo, text: "Commands:\n  one\n  two\n  three\n  four\n  five\n  six"})
	got := screenOf(s)
	if got[0] != "Commands:" || got[4] != "  four" {
		t.Fatalf("a tall reply shows %q, want it from its top", got)
	}
	addLines(s, 21, 22, false)
	if got := screenOf(s); got[0] != "Commands:" || s.unread != 2 {
		t.Fatalf("after two lines: %q, unread %d", got, s.unread)
	}
	s.toBottom()
	if got := screenOf(s); !strings.Contains(got[4], "line 22") {
		t.Fatalf("End shows %q", got)
	}
}
