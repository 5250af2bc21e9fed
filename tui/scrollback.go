package tui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// The scrollback is written here rather than taken from bubbles/viewport:
// viewport.SetContent/SetContentLines scan every line (max width, newline
// split) on each update and its View re-wraps and pads the visible text
// through lipgloss on every frame. With thousands of sessions each redrawing
// on every message, the frame cost must not grow with the scrollback. This
// one keeps every entry's wrapped, styled rows cached per width and touches
// only the entries on screen, so View and a new line cost O(visible rows).

type entryKind uint8

const (
	entChat        entryKind = iota + 1
	entSystem                // a join or leave line from the room's history
	entNotice                // a reply for this session alone
	entError                 // a refusal or failure for this session alone
	entInfo                  // help text
	entInfoHead              // a heading in the help text
	entRuleHistory           // "── history ──" above replayed lines
	entRuleNow               // "── now ──" between history and live lines
	entBeginning             // "This is the beginning of ROOM."
	entLoading               // "loading older messages…"
	entLoadFailed            // a page of older lines could not be read
	entDay                   // "── Saturday 14 March 2026 ──" where the day changes
	entWelcome               // the Lobby's: a heading line, then help text
	entResult                // a search result: msg, numbered text
	entRuleLive              // below the lines a search result opened at
	entDirect                // a direct message shown outside its conversation: msg, with text the other party
	entRuleNew               // "── new ──" above the first line not seen before
)

// entry is one logical line of the scrollback and its rendered rows. It is
// kept small (64 bytes) because a busy room fills a thousand of them in
// every session: a room line points at the lobby's Message (live lines share
// one Message between all sessions) instead of copying it.
type entry struct {
	kind    entryKind
	history bool           // a replayed or paged line: shown dimmed
	mention bool           // a line meant for the user: highlighted
	mine    bool           // entDirect: the user's own, "you → NAME"
	marked  bool           // the line a search result opened at
	msg     *lobby.Message // entChat, entSystem, entResult, entDirect; read only
	text    string         // the other kinds; entDirect: the other party

	width int      // the width rows were made for; 0: not made yet
	rows  []string // self-contained styled rows, each at most width cells
}

func messageEntry(m *lobby.Message, history bool) entry {
	e := entry{kind: entChat, history: history, msg: m}
	if m.Kind == lobby.KindSystem {
		e.kind = entSystem
	}
	return e
}

// seq is the room line's Seq; 0 for lines that are not the room's (a
// direct message shown here is its conversation's).
func (e *entry) seq() uint64 {
	if e.msg == nil || e.kind == entResult || e.kind == entDirect {
		return 0
	}
	return e.msg.Seq
}

// isHeader reports whether e belongs to the markers kept above the oldest
// line, which a page of older lines goes beneath.
func (e *entry) isHeader() bool {
	switch e.kind {
	case entRuleHistory, entBeginning, entLoading, entLoadFailed:
		return true
	}
	return false
}

// scrollback is the message pane: a bounded list of entries and a position.
//
// Position: the top of the view is row topRow of entry top. follow means the
// last row is on screen, and new lines keep it there by moving the top.
// Positions are kept by entry, not by total row number, so nothing needs the
// height of the whole scrollback and a resize re-wraps only what is shown.
//
// Memory is bounded: at most limit entries (plus limit/8 of slack, so the
// front is trimmed in chunks, not one copy per line). Live lines push out
// the oldest ones while the user reads near the bottom; when a page of older
// lines pushes past the limit while the user reads far back, the newest
// entries are set aside instead ("detached") and the live lines that keep
// arriving go to a tail bounded the same way. End (or scrolling down past
// the last entry) drops the far-back window and shows the tail; the lines
// between are fetched again, as older history, when the user scrolls up.
type scrollback struct {
	st     *styles
	width  int
	height int

	entries []entry
	top     int
	topRow  int
	follow  bool
	unread  int  // lines added while the last row was off screen
	syncDue bool // lines were added while following; sync() is due
	// reply is 1 + the index of the last reply (a notice, help) added
	// while following since the last sync, 0 for none: a reply taller
	// than the view is shown from its top.
	reply int

	limit    int
	detached bool
	tail     []entry

	loading bool // a page of older lines is being fetched

	colours roomColours // of the names in this room

	// Times are shown in loc, the user's zone. A line from another day than
	// today says its day, and a rule above a line says when the day
	// changes (or that the first line is not from today).
	loc      *time.Location
	now      func() time.Time
	lastDay  civilDay // of the newest line added, zero before the first
	drawnDay civilDay // today, as when the rows were made

	// newFrom is the Seq from which the room's lines are new to the
	// user (0: none); the "new" rule goes before the first chat line at
	// or after it, and moves when a page of older lines holds that line.
	newFrom uint64

	// Entries before lo hold no rows. Rows of lines that scrolled far off
	// the top are dropped (they are made again if the user scrolls back),
	// so a session keeps about 64 bytes per line, not the rows as well.
	lo int

	out  []string // the visible rows, reused frame to frame
	span []span   // scratch for rendering

	chosen *lobby.Message // the search result chosen with ↑/↓, if any

	// pageFrom is where the last page of older lines began: the next is
	// asked from there, which may be above the first line held when the
	// user chose not to see some (lobby.Page.Next).
	pageFrom uint64
}

func newScrollback(st *styles, limit int, loc *time.Location) scrollback {
	if loc == nil {
		loc = time.Local
	}
	return scrollback{st: st, follow: true, limit: max(limit, 50), loc: loc, now: time.Now}
}

// civilDay is a date in the user's zone.
type civilDay struct {
	year  int
	month time.Month
	day   int
}

func (s *scrollback) dayOf(t time.Time) civilDay {
	y, m, d := t.In(s.loc).Date()
	return civilDay{y, m, d}
}

// dayRule is the rule above a line at at, or false when the line is of the
// same day as the line before it (or, the first, of today).
func (s *scrollback) dayRule(at time.Time, prev civilDay) (entry, bool) {
	d := s.dayOf(at)
	if d == prev || (prev == civilDay{} && d == s.dayOf(s.now())) {
		return entry{}, false
	}
	return entry{kind: entDay, text: at.In(s.loc).Format("Monday 2 January 2006")}, true
}

func (s *scrollback) slack() int { return max(s.limit/8, 16) }

// reset empties the scrollback, as when the user enters a room.
func (s *scrollback) reset() {
	clear(s.entries)
	s.entries = s.entries[:0]
	s.tail = nil
	s.follow, s.top, s.topRow, s.unread = true, 0, 0, 0
	s.detached, s.loading, s.syncDue = false, false, false
	s.lo, s.reply, s.pageFrom = 0, 0, 0
	s.colours.reset()
	s.lastDay = civilDay{}
	s.newFrom = 0
}

// markNew puts the "new" rule before the first chat line held whose Seq
// is from or more. When the lines held start after from, older ones may
// be new too: the rule goes above the first line held, and a page of older
// lines that holds the true first moves it there (prepend).
func (s *scrollback) markNew(from uint64) {
	s.newFrom = from
	if from == 0 {
		return
	}
	for i := range s.entries {
		if e := &s.entries[i]; e.kind == entChat && e.seq() >= from {
			s.entries = slices.Insert(s.entries, i, entry{kind: entRuleNew})
			if s.top >= i && (s.top > 0 || s.topRow > 0) {
				s.top++
			}
			return
		}
	}
}

func (s *scrollback) setSize(width, height int) {
	s.width, s.height = max(width, 1), max(height, 1)
	if cap(s.out) < s.height {
		s.out = make([]string, s.height)
	}
	s.out = s.out[:s.height]
	s.syncDue, s.reply = false, 0
	if s.follow {
		s.top, s.topRow = s.bottomTop()
		return
	}
	if s.top < len(s.entries) {
		s.topRow = min(s.topRow, len(s.rowsOf(s.top))-1)
	}
	s.normalize()
}

// add appends a line, under a day rule when the day changed.
func (s *scrollback) add(e entry) {
	if e.msg != nil {
		if rule, ok := s.dayRule(e.msg.At, s.lastDay); ok {
			s.push(rule)
		}
		s.lastDay = s.dayOf(e.msg.At)
	}
	s.push(e)
}

// push appends an entry.
func (s *scrollback) push(e entry) {
	if s.detached {
		s.tail = append(s.tail, e)
		if len(s.tail) > s.limit+s.slack() {
			s.tail = dropFront(s.tail, len(s.tail)-s.limit)
		}
		s.unread++
		return
	}
	s.entries = append(s.entries, e)
	if s.follow {
		// Moving the view waits for the next look at it, so a burst of
		// lines (a replayed history) wraps only the ones that end up shown.
		s.syncDue = true
		if e.isReply() {
			s.reply = len(s.entries)
		}
	} else {
		s.unread++
	}
	if len(s.entries) <= s.limit+s.slack() {
		return
	}
	if s.follow || s.top >= len(s.entries)/2 {
		d := len(s.entries) - s.limit
		s.entries = dropFront(s.entries, d)
		s.lo = max(s.lo-d, 0)
		s.reply = max(s.reply-d, 0)
		if s.top -= d; s.top < 0 {
			s.top, s.topRow = 0, 0
		}
		return
	}
	s.detach()
}

// sync moves the view down to the last row if lines were added while
// following. Everything that reads the position calls it first.
func (s *scrollback) sync() {
	if !s.syncDue {
		return
	}
	s.syncDue = false
	reply := s.reply
	s.reply = 0
	if !s.follow {
		return
	}
	s.top, s.topRow = s.bottomTop()
	if r := reply - 1; r >= 0 && len(s.rowsOf(r)) > s.height {
		// The reply (say /commands) does not fit: show its start, and let
		// the rest wait under "↓ new" for the user to read on.
		s.top, s.topRow = r, 0
		s.normalize()
	}
}

// isReply reports whether e is an answer to the user (a notice, a refusal,
// help), which is read from its start.
func (e *entry) isReply() bool {
	switch e.kind {
	case entNotice, entError, entInfo, entInfoHead, entWelcome:
		return true
	}
	return false
}

// detach sets aside the entries past the limit, which are far below what
// the user is reading.
func (s *scrollback) detach() {
	if s.follow || len(s.entries) <= s.limit || s.top >= s.limit {
		return
	}
	cut := s.entries[s.limit:]
	tail := make([]entry, 0, len(cut)+len(s.tail))
	tail = append(tail, cut...)
	tail = append(tail, s.tail...)
	if len(tail) > s.limit {
		tail = dropFront(tail, len(tail)-s.limit)
	}
	clear(cut)
	s.entries = s.entries[:s.limit]
	s.tail, s.detached = tail, true
	s.unread = len(tail)
}

// dropFront removes the first d entries in place.
func dropFront(es []entry, d int) []entry {
	n := copy(es, es[d:])
	clear(es[n:])
	return es[:n]
}

// reattach leaves a far-back window for the newest lines.
func (s *scrollback) reattach() {
	if !s.detached {
		return
	}
	clear(s.entries)
	s.entries = append(s.entries[:0], s.tail...)
	s.tail, s.detached, s.lo, s.pageFrom = nil, false, 0, 0
	s.follow, s.unread = true, 0
	s.top, s.topRow = s.bottomTop()
}

// firstSeq is the Seq of the oldest room line held, 0 when none is.
func (s *scrollback) firstSeq() uint64 {
	for i := range s.entries {
		if seq := s.entries[i].seq(); seq > 0 {
			return seq
		}
	}
	return 0
}

// lastBy is the newest line that name said and did not delete among the
// newest lines held, nil when there is none.
func (s *scrollback) lastBy(name string) *lobby.Message {
	const look = 200
	es := s.entries
	if s.detached {
		es = s.tail // the newest lines; the far-back window is older
	}
	for i := len(es) - 1; i >= max(0, len(es)-look); i-- {
		if m := es[i].msg; m != nil && m.From == name && m.Said() && !m.Deleted {
			return m
		}
	}
	return nil
}

// canPage reports whether older lines may exist before the first one held.
func (s *scrollback) canPage() bool {
	if s.loading || len(s.entries) == 0 || s.entries[0].kind == entBeginning {
		return false
	}
	return s.firstSeq() > 1
}

// startLoading shows the "loading" line above everything.
func (s *scrollback) startLoading() {
	s.sync()
	s.loading = true
	if len(s.entries) > 0 && s.entries[0].kind == entLoadFailed {
		s.entries[0] = entry{kind: entLoading}
		return
	}
	s.entries = append(s.entries, entry{})
	copy(s.entries[1:], s.entries)
	s.entries[0] = entry{kind: entLoading}
	if s.top > 0 || s.topRow > 0 {
		s.top++ // keep the view; at the very top the line is meant to be seen
	}
	s.normalize()
}

// loadFailed replaces the loading line with a failure line.
func (s *scrollback) loadFailed() {
	s.loading = false
	if len(s.entries) > 0 && s.entries[0].kind == entLoading {
		s.entries[0] = entry{kind: entLoadFailed}
	}
}

// prepend puts a page of older lines above the oldest one held, under the
// header markers, and keeps the line the user was reading where it was on
// screen. begin says the page reaches the room's first line.
func (s *scrollback) prepend(room string, older []lobby.Message, begin bool) {
	s.sync()
	s.loading = false
	k := 0 // header entries to replace
	hadRule := false
	for k < len(s.entries) && s.entries[k].isHeader() {
		hadRule = hadRule || s.entries[k].kind == entRuleHistory
		k++
	}
	// How far below the top of the view the first kept entry sits, when
	// the top of the view is among the headers being replaced.
	inHeader := s.top < k
	above := 0
	if inHeader {
		above = len(s.rowsOf(s.top)) - s.topRow
		for i := s.top + 1; i < k; i++ {
			above += len(s.rowsOf(i))
		}
	}

	front := make([]entry, 0, len(older)+2+len(s.entries)-k)
	if begin {
		front = append(front, entry{kind: entBeginning, text: room})
	}
	if len(older) > 0 || hadRule {
		front = append(front, entry{kind: entRuleHistory})
	}
	first := s.firstSeq()
	moved := false   // the new rule is in this page now
	var day civilDay // of the last line of the page
	for i := range older {
		if first == 0 || older[i].Seq < first {
			if rule, ok := s.dayRule(older[i].At, day); ok {
				front = append(front, rule)
			}
			day = s.dayOf(older[i].At)
			if s.newFrom != 0 && !moved && older[i].Seq >= s.newFrom && older[i].Kind == lobby.KindChat {
				front = append(front, entry{kind: entRuleNew})
				moved = true
			}
			// Points into the page, which only this session holds.
			front = append(front, messageEntry(&older[i], true))
		}
	}
	// Where the page meets the lines held, the day rule there is what the
	// page's last day says: a rule of the first line held goes if the page
	// ends on its day; one comes if the page ends on another.
	kept := k
	if day != (civilDay{}) {
		rule := kept < len(s.entries) && s.entries[kept].kind == entDay
		next := kept
		if rule {
			next++
		}
		if next < len(s.entries) && s.entries[next].kind == entRuleNew {
			next++ // the line it marks is what the day goes by
		}
		if next < len(s.entries) && s.entries[next].msg != nil {
			at := s.entries[next].msg.At
			switch r, differs := s.dayRule(at, day); {
			case rule && !differs:
				kept++ // the top of the view, if it was there, goes to the line
			case !rule && differs:
				front = append(front, r)
			}
		}
	}
	n := len(front)
	dropped := -1 // where the new rule was, if it moved into the page
	for i := kept; i < len(s.entries); i++ {
		if moved && s.entries[i].kind == entRuleNew {
			dropped = i
			continue
		}
		front = append(front, s.entries[i])
	}
	clear(s.entries)
	s.entries = front
	s.lo = 0 // the new lines are unrendered; release() walks the rest once

	switch {
	case inHeader && n < len(s.entries):
		s.top, s.topRow = n, 0
		s.scrollUp(above)
	case inHeader:
		s.top, s.topRow = s.bottomTop()
	case s.top < kept: // on the rule that went
		s.top, s.topRow = n, 0
	default:
		if dropped >= 0 && dropped < s.top {
			s.top--
		}
		s.top += n - kept
	}
	if len(s.entries) > s.limit+s.slack() {
		s.detach()
	}
	s.normalize()
}

// rowsOf returns entry i's rows at the current width, making them if the
// width changed since they were made.
func (s *scrollback) rowsOf(i int) []string {
	e := &s.entries[i]
	if e.width != s.width || e.rows == nil {
		s.lo = min(s.lo, i)
		e.rows = s.render(e, e.rows[:0])
		e.width = s.width
	}
	return e.rows
}

// bottomTop is the top position that puts the last row at the bottom of
// the view, or the very top when everything fits.
func (s *scrollback) bottomTop() (top, topRow int) {
	need := s.height
	for i := len(s.entries) - 1; i >= 0; i-- {
		n := len(s.rowsOf(i))
		if n >= need {
			return i, n - need
		}
		need -= n
	}
	return 0, 0
}

// rowsFromTop counts the rows from the top of the view to the end, stopping
// once it passes the height of the view.
func (s *scrollback) rowsFromTop() int {
	if len(s.entries) == 0 {
		return 0
	}
	rows := len(s.rowsOf(s.top)) - s.topRow
	for i := s.top + 1; i < len(s.entries) && rows <= s.height; i++ {
		rows += len(s.rowsOf(i))
	}
	return rows
}

// normalize clamps the position and works out whether the last row shows.
func (s *scrollback) normalize() {
	if len(s.entries) == 0 {
		s.top, s.topRow = 0, 0
	} else if s.top >= len(s.entries) {
		s.top, s.topRow = s.bottomTop()
	}
	s.follow = s.rowsFromTop() <= s.height
	if s.follow && !s.detached {
		s.unread = 0
	}
}

// atTop reports whether the first row is on screen.
func (s *scrollback) atTop() bool {
	s.sync()
	return s.top == 0 && s.topRow == 0
}

func (s *scrollback) scrollUp(n int) {
	s.sync()
	for n > 0 && len(s.entries) > 0 {
		if s.topRow > 0 {
			d := min(n, s.topRow)
			s.topRow -= d
			n -= d
			continue
		}
		if s.top == 0 {
			break
		}
		s.top--
		s.topRow = len(s.rowsOf(s.top))
	}
	s.normalize()
}

func (s *scrollback) scrollDown(n int) {
	s.sync()
	if s.follow {
		if s.detached && n > 0 {
			s.reattach()
		}
		return
	}
	for n > 0 {
		if rows := len(s.rowsOf(s.top)); s.topRow+1 < rows {
			d := min(n, rows-1-s.topRow)
			s.topRow += d
			n -= d
			continue
		}
		if s.top == len(s.entries)-1 {
			break
		}
		s.top++
		s.topRow = 0
		n--
	}
	if s.rowsFromTop() < s.height {
		s.top, s.topRow = s.bottomTop() // no blank rows below the end
	}
	s.normalize()
}

func (s *scrollback) toTop() {
	s.syncDue, s.reply = false, 0
	s.top, s.topRow = 0, 0
	s.normalize()
}

func (s *scrollback) toBottom() {
	s.syncDue, s.reply = false, 0
	s.reattach()
	s.top, s.topRow = s.bottomTop()
	s.normalize()
}

// visible returns the rows on screen, top to bottom, always s.height of
// them ("" for empty rows). It touches only the entries on screen.
func (s *scrollback) visible() []string {
	if today := s.dayOf(s.now()); today != s.drawnDay {
		// Past midnight a line of yesterday shows its day: make the rows
		// again (once a day).
		for i := range s.entries {
			s.entries[i].width = 0
		}
		s.drawnDay = today
	}
	s.sync()
	s.release()
	out := s.out
	k := 0
	for i, r := s.top, s.topRow; k < len(out) && i < len(s.entries); i, r = i+1, 0 {
		rows := s.rowsOf(i)
		for ; r < len(rows) && k < len(out); r++ {
			out[k] = rows[r]
			k++
		}
	}
	clear(out[k:])
	return out
}

// keepAbove is how many entries above the view keep their rows, so that
// scrolling back a little does not re-wrap anything.
const keepAbove = 64

// release drops the rows of entries far above the view. Each entry is
// visited once as the view moves down, so it costs O(1) per new line.
func (s *scrollback) release() {
	for ; s.lo < s.top-keepAbove; s.lo++ {
		e := &s.entries[s.lo]
		e.rows, e.width = nil, 0
	}
}

// render makes e's rows at s.width.
func (s *scrollback) render(e *entry, dst []string) []string {
	st, w := s.st, s.width
	switch e.kind {
	case entChat, entSystem, entDirect:
		m := e.msg
		stamp := m.Stamp(s.now(), s.loc)
		gw := len(stamp) + 1
		if w < gw+8 {
			gw = 0 // too narrow for a time column
		}
		start := len(dst)
		if e.kind == entChat || e.kind == entDirect {
			dst = s.chatRows(dst, e, w-gw)
		} else {
			sys := &st.system
			if e.history {
				sys = &st.history
			}
			dst = wrapSpans(dst, []span{{style: sys, text: "* " + m.Text}}, w-gw)
		}
		if gw > 0 {
			gutter := &st.gutter
			if e.marked {
				gutter = &st.mark
			}
			pad := strings.Repeat(" ", gw)
			for i := start; i < len(dst); i++ {
				if i == start {
					dst[i] = gutter.render(stamp) + " " + dst[i]
				} else {
					dst[i] = pad + dst[i]
				}
			}
		}
		return dst
	case entResult:
		m := e.msg
		num := &st.faint
		if s.chosen == m {
			num = &st.mark
		}
		return wrapSpans(dst, []span{{style: num, text: e.text}, {style: &st.notice, text: " " + lobby.ResultLine(m, s.loc)}}, w)
	case entRuleLive:
		return append(dst, rule(st, "End: the newest lines", w))
	case entNotice:
		return wrapText(dst, e.text, &st.notice, w)
	case entError:
		return wrapText(dst, "! "+e.text, &st.errNote, w)
	case entInfo:
		return wrapText(dst, e.text, &st.info, w)
	case entInfoHead:
		return wrapText(dst, e.text, &st.infoHead, w)
	case entWelcome:
		head, rest, _ := strings.Cut(e.text, "\n")
		return wrapText(wrapText(dst, head, &st.infoHead, w), rest, &st.info, w)
	case entRuleHistory:
		return append(dst, rule(st, "history", w))
	case entRuleNow:
		return append(dst, rule(st, "now", w))
	case entRuleNew:
		return append(dst, st.newRule.render(ruleText("new", w)))
	case entBeginning:
		return wrapText(dst, "This is the beginning of "+e.text+".", &st.system, w)
	case entLoading:
		return wrapText(dst, "loading older messages…", &st.faint, w)
	case entDay:
		return append(dst, rule(st, e.text, w))
	case entLoadFailed:
		return wrapText(dst, "Older messages could not be loaded; scroll up to try again.", &st.errNote, w)
	}
	return append(dst, "")
}

// chatRows makes the rows of a chat or action line at width w: the author,
// then the text; a text of several lines goes on under its first, indented
// past the author's name (so that no line of it passes for someone else's),
// each line wrapped on its own. URLs are links (OSC 8), an edited line says
// so, and a deleted one leaves a mark.
func (s *scrollback) chatRows(dst []string, e *entry, w int) []string {
	st, m := s.st, e.msg
	slot := s.colours.of(m.From)
	text, name := &st.text, &st.users[slot]
	if e.history {
		text, name = &st.history, &st.usersOld[slot]
	}
	if e.mention || e.kind == entDirect && !e.mine {
		text = &st.mention // meant for the user
	}
	sp := s.span[:0]
	switch {
	case e.kind == entDirect && e.mine:
		// Marked as direct wherever it shows: "you → bob: ...".
		sp = append(sp, span{style: &st.direct, text: "you → " + e.text}, span{style: text, text: ": "})
	case e.kind == entDirect:
		// "alice → you: ..."
		sp = append(sp, span{style: name, text: m.From}, span{style: &st.direct, text: " → you"}, span{style: text, text: ": "})
	case m.Deleted:
		sp = append(sp, span{style: name, text: m.From}, span{style: &st.faint, text: ": message deleted"})
		dst = wrapSpans(dst, sp, w)
		s.span = sp[:0]
		return dst
	case m.Kind == lobby.KindAction:
		sp = append(sp, span{style: text, text: "* "}, span{style: name, text: m.From}, span{style: text, text: " "})
	default:
		sp = append(sp, span{style: name, text: m.From}, span{style: text, text: ": "})
	}
	lead := 0
	for _, p := range sp {
		lead += ansi.StringWidth(p.text)
	}
	lines := m.Lines()
	for i, line := range lines {
		if i > 0 {
			sp = sp[:0]
		}
		sp = s.linkSpans(sp, line, text, m.Seq, i)
		if i == len(lines)-1 && !m.Edited.IsZero() {
			sp = append(sp, span{style: &st.faint, text: " (edited)"})
		}
		if i == 0 {
			dst = wrapSpans(dst, sp, w)
			continue
		}
		indent := min(lead, w/3)
		at := len(dst)
		dst = wrapSpans(dst, sp, w-indent)
		pad := strings.Repeat(" ", indent)
		for j := at; j < len(dst); j++ {
			dst[j] = pad + dst[j]
		}
	}
	s.span = sp[:0]
	return dst
}

// linkSpans appends text to sp in style, its URLs as links named after the
// line (seq) and its place in it, so that the pieces of one URL wrapped over
// rows are one link.
func (s *scrollback) linkSpans(sp []span, text string, style *paint, seq uint64, line int) []span {
	at := 0
	for k, r := range findLinks(text) {
		if r[0] > at {
			sp = append(sp, span{style: style, text: text[at:r[0]]})
		}
		u := text[r[0]:r[1]]
		id := "l" + strconv.FormatUint(seq, 10) + "-" + strconv.Itoa(line) + "-" + strconv.Itoa(k)
		sp = append(sp, span{style: &s.st.link, text: u, link: linkOpen(u, id)})
		at = r[1]
	}
	if at < len(text) || at == 0 {
		sp = append(sp, span{style: style, text: text[at:]})
	}
	return sp
}

// replace puts the new version of a line (an edit, a deletion) in place of
// the old one wherever it is held, and reports whether it was.
func (s *scrollback) replace(m *lobby.Message) bool {
	found := false
	for _, es := range [][]entry{s.entries, s.tail} {
		for i := range es {
			e := &es[i]
			if e.kind == entChat && e.msg.Seq == m.Seq && e.msg.Room == m.Room {
				e.msg, e.rows, e.width = m, nil, 0
				found = true
			}
		}
	}
	return found
}

// setLocation shows times in loc from now on.
func (s *scrollback) setLocation(loc *time.Location) {
	if loc == nil || loc == s.loc {
		return
	}
	s.loc = loc
	for _, es := range [][]entry{s.entries, s.tail} {
		for i := range es {
			es[i].rows, es[i].width = nil, 0
		}
	}
	s.drawnDay = civilDay{}
}

// choose marks the search result m as the one chosen (nil: none).
func (s *scrollback) choose(m *lobby.Message) {
	if s.chosen == m {
		return
	}
	old := s.chosen
	s.chosen = m
	for i := len(s.entries) - 1; i >= 0; i-- {
		if e := &s.entries[i]; e.kind == entResult && (e.msg == old || e.msg == m) {
			e.rows, e.width = nil, 0
		}
	}
}

// jump shows lines around the line seq of the room (a search result
// opened), that line marked, in place of what was shown, which is set
// aside with the live lines still to come: End brings it back.
func (s *scrollback) jump(room string, lines []lobby.Message, seq uint64) {
	s.sync()
	live := append(s.entries, s.tail...)
	if len(live) > s.limit {
		live = live[len(live)-s.limit:]
	}
	view := make([]entry, 0, len(lines)+3)
	if len(lines) == 0 || lines[0].Seq <= 1 {
		view = append(view, entry{kind: entBeginning, text: room})
	}
	view = append(view, entry{kind: entRuleHistory})
	target := 0
	for i := range lines {
		e := messageEntry(&lines[i], true)
		if lines[i].Seq == seq {
			e.marked, target = true, len(view)
		}
		view = append(view, e)
	}
	view = append(view, entry{kind: entRuleLive})
	s.entries, s.tail = view, live
	s.detached, s.follow, s.unread, s.lo, s.reply, s.pageFrom = true, false, 0, 0, 0, 0
	// The line asked for a few rows below the top, the lines before it
	// above.
	s.top, s.topRow = target, 0
	s.scrollUp(min(3, s.height/3))
	s.normalize()
}

// rule is a full-width "── label ───…" line.
func rule(st *styles, label string, w int) string {
	return st.rule.render(ruleText(label, w))
}

func ruleText(label string, w int) string {
	head := "── " + label + " "
	if n := w - ansi.StringWidth(head); n > 0 {
		return head + strings.Repeat("─", n)
	}
	return ansi.Truncate(head, w, "")
}
