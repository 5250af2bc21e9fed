package lobby

import "github.com/mtibben/confusables"

// lookAlikeKeys are the keys under which a name is taken: a screen name or
// room name is refused while another one online (or stored) shares any of
// them. There are two, because case folding and the confusable skeleton
// (UTS #39) do not commute: the skeleton maps a capital I to l but leaves i
// alone, and maps the Greek and Cyrillic capitals Α, В, Т to Latin ones but
// not their small letters α, в, т. So
//
//   - userKey folds first, then takes the skeleton: "аре", "paypa1",
//     "Guest1O" and "TORN" match "ape", "paypal", "Guest10" and "tom";
//   - the key of the name as typed takes the skeleton first: "ΑΒΕ", "АВЕ",
//     "aIice" and "biII" match "ABE", "abe", "alice" and "bill".
//
// Both land in the same space (the second is userKey of the skeleton), so a
// name typed in capitals meets its look-alikes typed in small letters. A name
// and its case variants always share userKey: what is taken stays taken in
// any case. One key could not do both without tying every i to every l
// ("Ali" to "All"), since I is i's capital and looks like l.
func lookAlikeKeys(name string) []string {
	folded := userKey(name)
	typed := userKey(confusables.Skeleton(name))
	if typed == folded {
		return []string{folded}
	}
	return []string{folded, typed}
}

// lookIndex maps each look-alike key of the names in a set to the holder of
// the name. Guarded by Lobby.mu, like the sets it indexes.
type lookIndex[T comparable] map[string]T

// find returns the holder of a name that looks like name, if any.
func (ix lookIndex[T]) find(name string) (T, bool) {
	for _, k := range lookAlikeKeys(name) {
		if v, ok := ix[k]; ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// add indexes name for v. A key that is already taken keeps its holder.
func (ix lookIndex[T]) add(name string, v T) {
	for _, k := range lookAlikeKeys(name) {
		if _, ok := ix[k]; !ok {
			ix[k] = v
		}
	}
}

// remove drops the keys of name that v holds.
func (ix lookIndex[T]) remove(name string, v T) {
	for _, k := range lookAlikeKeys(name) {
		if ix[k] == v {
			delete(ix, k)
		}
	}
}

// loadRoom adds a stored room to a Lobby being made. Rooms were once
// compared by case alone, so two stored rooms may look alike ("ABE" and
// Greek "ΑΒΕ"): both stay, each reached by its own name, and the log says
// so; neither lets a third look-alike be created.
func (l *Lobby) loadRoom(rec RoomRecord) {
	meta, err := decodeRoomMeta(rec.Meta)
	if err != nil {
		// The lines are still there: the room is served without what the
		// meta said, and the log says so.
		l.logger.Error("stored room meta unreadable; the room goes on without it", "room", rec.Name, "err", err)
	}
	r := &room{
		meta:     meta,
		name:     rec.Name,
		created:  rec.Created,
		seq:      rec.LastSeq,
		members:  make(map[*member]struct{}),
		locals:   make(map[*Session]struct{}),
		watchers: make(map[*Session]struct{}),
	}
	if meta.Conversation {
		// Its parties are found once the registrations are in
		// (linkConversations).
		r.conv = &conversation{kept: true}
		l.convs[foldKey(rec.Name)] = r
		return
	}
	l.rooms[foldKey(rec.Name)] = r
	l.roomOrder = nil
	if other, ok := l.roomIx.find(r.name); ok {
		l.logger.Warn("stored rooms look alike; both are kept", "room", r.name, "like", other.name)
	}
	l.roomIx.add(r.name, r)
}
