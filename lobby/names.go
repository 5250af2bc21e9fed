package lobby

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
)

// Names match by userKey (case and confusables), or when one looks like
// the other in any of its usual cases. userKey folds case first, which
// turns a capital I into a small i before the confusable skeleton (UTS #39)
// could see that it looks like a small l, so "aIice" would pass for
// "alice" under userKey alone. The skeleton of a name as written keeps the
// I, and maps it to l. It is not folded afterwards, or "ALICE" (skeleton
// "ALlCE") would come to match "ALLCE", which looks nothing like it;
// instead a name is filed under the skeletons of its own spelling and of
// its lower-case, upper-case and capitalised forms, and looked up under
// the same, so that "aIice" also matches "Alice" (the same name as
// "alice", case apart).

// lookKeys are the skeletons a name is filed under: of its spelling and
// of its usual case forms.
func lookKeys(name string) []string {
	lower := strings.ToLower(name)
	title := lower
	if r, n := utf8.DecodeRuneInString(lower); r != utf8.RuneError {
		title = string(unicode.ToTitle(r)) + lower[n:]
	}
	var keys []string
	for _, form := range []string{name, lower, strings.ToUpper(name), title} {
		if k := confusables.Skeleton(form); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// nameIndex finds what a name stands for (a member online, a
// registration) the way names match. Guarded by Lobby.mu.
type nameIndex[T comparable] struct {
	byKey  map[string]T // by userKey
	byLook map[string]T // by each of lookKeys
}

func newNameIndex[T comparable]() nameIndex[T] {
	return nameIndex[T]{byKey: make(map[string]T), byLook: make(map[string]T)}
}

// get returns what a name matching name stands for. Looking up name's
// case forms too makes matching symmetric: "AIice" and "alice" match
// whichever came first.
func (x *nameIndex[T]) get(name string) (T, bool) {
	if v, ok := x.byKey[userKey(name)]; ok {
		return v, true
	}
	for _, k := range lookKeys(name) {
		if v, ok := x.byLook[k]; ok {
			return v, true
		}
	}
	var none T
	return none, false
}

// put files v under name, which the caller has checked is free.
func (x *nameIndex[T]) put(name string, v T) {
	x.byKey[userKey(name)] = v
	for _, k := range lookKeys(name) {
		if _, taken := x.byLook[k]; !taken {
			x.byLook[k] = v
		}
	}
}

// remove takes name out if it stands for v.
func (x *nameIndex[T]) remove(name string, v T) {
	if k := userKey(name); x.byKey[k] == v {
		delete(x.byKey, k)
	}
	for _, k := range lookKeys(name) {
		if x.byLook[k] == v {
			delete(x.byLook, k)
		}
	}
}

// len is the number of names filed.
func (x *nameIndex[T]) len() int { return len(x.byKey) }
