package tui

import (
	"charm.land/bubbles/v2/key"
)

// keyMap holds one session's key bindings; it is built per session and also
// feeds the help line.
type keyMap struct {
	Send     key.Binding
	Focus    key.Binding
	Next     key.Binding
	Prev     key.Binding
	Unread   key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	LineUp   key.Binding
	LineDown key.Binding
	Join     key.Binding
	Back     key.Binding
	Help     key.Binding // "?" only when it would not be typed
	HelpF1   key.Binding
	Quit     key.Binding
	Newline  key.Binding // a new line in the input
	Complete key.Binding // the same keys as Focus, with something typed
	EditLast key.Binding // ↑ on an empty input

	sidebar bool // which short help to show
}

func newKeyMap() keyMap {
	return keyMap{
		Send:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
		Focus:    key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "rooms")),
		Next:     key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("ctrl+n", "next room")),
		Prev:     key.NewBinding(key.WithKeys("ctrl+p"), key.WithHelp("ctrl+p", "prev room")),
		Unread:   key.NewBinding(key.WithKeys("alt+u"), key.WithHelp("alt+u", "next unread")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "scroll up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "scroll down")),
		Top:      key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "oldest")),
		Bottom:   key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "newest")),
		LineUp:   key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "scroll a line")),
		LineDown: key.NewBinding(key.WithKeys("down")),
		Join:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "join")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to typing")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		HelpF1:   key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "keys")),
		Quit:     key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		// Most terminals send Enter's bytes for Shift+Enter: Alt+Enter and
		// Ctrl+J are the keys that reach the server as themselves.
		Newline:  key.NewBinding(key.WithKeys("alt+enter", "ctrl+j", "shift+enter"), key.WithHelp("alt+enter", "new line")),
		Complete: key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "complete")),
		EditLast: key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "edit last line")),
	}
}

// ShortHelp implements help.KeyMap.
func (k keyMap) ShortHelp() []key.Binding {
	if k.sidebar {
		move := key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "choose"))
		return []key.Binding{move, k.Join, k.Back, k.Help, k.Quit}
	}
	return []key.Binding{k.Send, k.Focus, k.Next, k.Prev, k.PageUp, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k keyMap) FullHelp() [][]key.Binding {
	move := key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓ enter", "rooms: choose, join"))
	click := key.NewBinding(key.WithKeys("click"), key.WithHelp("click", "join a room"))
	wheel := key.NewBinding(key.WithKeys("wheel"), key.WithHelp("wheel", "scroll"))
	helpKeys := key.NewBinding(key.WithKeys("?"), key.WithHelp("?/f1", "keys"))
	return [][]key.Binding{
		{k.Send, k.Newline, k.Complete, k.EditLast},
		{k.Focus, k.Next, k.Prev, k.Unread, move},
		{k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.LineUp, wheel, click},
		{k.Back, helpKeys, k.Quit},
	}
}

// keyHelpText is the key list the Lobby shows: short enough that the
// Lobby's screen fits an 80×24 terminal (? shows every key).
func keyHelpText() string {
	return "Keys:\n" +
		"  Enter          send; Alt+Enter: a new line\n" +
		"  Tab            complete; empty input: room list\n" +
		"  ↑              empty input: edit your last line\n" +
		"  Ctrl+N Ctrl+P  next/previous room, Alt+U next unread\n" +
		"  PgUp PgDn      scroll; Home End: oldest, newest\n" +
		"  ? or F1        all keys    Ctrl+C  quit"
}
