package tui

import (
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
)

// entry is one logical line of the scrollback and its rendered rows. It is
// kept small (64 bytes) because a busy room fills a thousand of them in
// every session: a room line points at the lobby's Message (live lines share
// one Message between all sessions) instead of copying it.
type entry struct {
	kind    entryKind
	history bool           // a replayed or paged line: shown dimmed
	msg     *lobby.Message // entChat, entSystem; read only
	text    string         // the other kinds

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

// seq is the room line's Seq; 0 for lines that are not the room's.
func (e *entry) seq() uint64 {
	if e.msg == nil {
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

	// Entries before lo hold no rows. Rows of lines that scrolled far off
	// the top are dropped (they are made again if the user scrolls back),
	// so a session keeps about 64 bytes per line, not the rows as well.
	lo int

	out  []string // the visible rows, reused frame to frame
	span []span   // scratch for rendering
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
	s.lo, s.reply = 0, 0
	s.colours.reset()
	s.lastDay = civilDay{}
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
	case entNotice, entError, entInfo, entInfoHead:
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
	s.tail, s.detached, s.lo = nil, false, 0
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
	var day civilDay // of the last line of the page
	for i := range older {
		if first == 0 || older[i].Seq < first {
			if rule, ok := s.dayRule(older[i].At, day); ok {
				front = append(front, rule)
			}
			day = s.dayOf(older[i].At)
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
	front = append(front, s.entries[kept:]...)
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
	case entChat, entSystem:
		m := e.msg
		stamp := m.Stamp(s.now(), s.loc)
		gw := len(stamp) + 1
		if w < gw+8 {
			gw = 0 // too narrow for a time column
		}
		sp := s.span[:0]
		if e.kind == entChat {
			slot := s.colours.of(m.From)
			text, name := &st.text, &st.users[slot]
			if e.history {
				text, name = &st.history, &st.usersOld[slot]
			}
			sp = append(sp, span{style: name, text: m.From}, span{style: text, text: ": " + m.Text})
		} else {
			sys := &st.system
			if e.history {
				sys = &st.history
			}
			sp = append(sp, span{style: sys, text: "* " + m.Text})
		}
		start := len(dst)
		dst = wrapSpans(dst, sp, w-gw)
		s.span = sp[:0]
		if gw > 0 {
			pad := strings.Repeat(" ", gw)
			for i := start; i < len(dst); i++ {
				if i == start {
					dst[i] = st.gutter.render(stamp) + " " + dst[i]
				} else {
					dst[i] = pad + dst[i]
				}
			}
		}
		return dst
	case entNotice:
		return wrapText(dst, e.text, &st.notice, w)
	case entError:
		return wrapText(dst, "! "+e.text, &st.errNote, w)
	case entInfo:
		return wrapText(dst, e.text, &st.info, w)
	case entInfoHead:
		return wrapText(dst, e.text, &st.infoHead, w)
	case entRuleHistory:
		return append(dst, rule(st, "history", w))
	case entRuleNow:
		return append(dst, rule(st, "now", w))
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

// rule is a full-width "── label ───…" line.
func rule(st *styles, label string, w int) string {
	head := "── " + label + " "
	if n := w - ansi.StringWidth(head); n > 0 {
		return st.rule.render(head + strings.Repeat("─", n))
	}
	return st.rule.render(ansi.Truncate(head, w, ""))
}
