package tui

import "strings"

// roomColours gives the names seen in one room their colours (palette
// slots), so that the people present at once are drawn apart wherever the
// palette allows: two people alone in a room never share a colour. A name
// keeps its slot for as long as the scrollback lasts (until the user moves
// to another room). Its own slot (userIndex, a hash of the name) comes
// first, so that a name mostly keeps its colour from room to room; when a
// member present holds it, the next slot nobody present holds.
//
// The zero value is ready; a nil *roomColours colours by hash alone.
type roomColours struct {
	slots map[string]int // by lower-cased name
	// present are the room's members as last heard (setMembers), by
	// lower-cased name; unknown (nil) counts everyone given a slot.
	present map[string]bool
}

// maxColoured bounds the names a room keeps slots for: with more than a
// few times the palette, the names past it are coloured by hash.
const maxColoured = 4 * paletteSize

// reset forgets the room: a new one is entered.
func (c *roomColours) reset() {
	clear(c.slots)
	c.present = nil
}

// of is the slot of name, given on first sight.
func (c *roomColours) of(name string) int {
	if c == nil {
		return userIndex(name)
	}
	k := strings.ToLower(name)
	if i, ok := c.slots[k]; ok {
		return i
	}
	return c.give(k)
}

// setMembers records who is in the room now. Members seen for the first
// time get their slots at once, in the order given, so that everyone
// present differs before anyone's line is drawn.
func (c *roomColours) setMembers(names []string) {
	c.present = make(map[string]bool, len(names))
	for _, n := range names {
		c.present[strings.ToLower(n)] = true
	}
	for _, n := range names {
		c.of(n)
	}
}

// give picks a slot for k (lower-cased) and keeps it.
func (c *roomColours) give(k string) int {
	own := userIndex(k)
	if len(c.slots) >= maxColoured {
		return own
	}
	var taken [paletteSize]bool
	for n, i := range c.slots {
		if c.present == nil || c.present[n] {
			taken[i] = true
		}
	}
	slot := own
	for d := range paletteSize {
		if i := (own + d) % paletteSize; !taken[i] {
			slot = i
			break
		}
	}
	if c.slots == nil {
		c.slots = make(map[string]int)
	}
	c.slots[k] = slot
	return slot
}
