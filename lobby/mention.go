package lobby

import (
	"unicode"
	"unicode/utf8"
)

// Mentions: a line names a user when it holds their name as a whole word,
// with or without a leading '@', in any case. Names are made of letters,
// digits, combining marks and '.', '-', '_' (validName), so a word here is
// a run of those; '@' and everything else ends one. A word names a user
// when it is the name, or the name with a little of the punctuation that
// names may also hold around it: "alice." at the end of a sentence and
// "...alice" name alice, while "alice.bob" and "bob_alice" are other words.
// Precisely, the candidates of a word are the word itself and the word
// with any of its leading and trailing '.', '-' and '_' taken off, keeping
// at most maxKeptPunct of each on either side; a name with more than that
// around its letters is named only by the whole word. A word of punctuation
// alone names nobody. Case is compared as foldKey compares it.
//
// The applier finds the names in a line once (mentionWords) and looks each
// candidate up among the readers (unread.go); front ends ask Mentions for
// lines of history. Both use the same candidates, so a highlighted line is
// exactly one the sidebar counted.

// maxKeptPunct is how many of a word's leading or trailing '.', '-', '_'
// a candidate may keep; see above.
const maxKeptPunct = 2

// Mentions reports whether text names name as a whole word, with or
// without '@', in any case. A user's own lines never count as naming them:
// callers leave those out.
func Mentions(text, name string) bool {
	if name == "" {
		return false
	}
	want := mentionKey(name)
	found := false
	mentionWords(text, func(cand string) bool {
		found = mentionKey(cand) == want
		return found
	})
	return found
}

// mentionKey is the form a name and a candidate are compared in: foldKey,
// with a shortcut for ASCII, which folds to lower case.
func mentionKey(s string) string {
	if isPlainASCII(s) {
		for i := 0; i < len(s); i++ {
			if 'A' <= s[i] && s[i] <= 'Z' {
				b := []byte(s)
				for j := i; j < len(b); j++ {
					if 'A' <= b[j] && b[j] <= 'Z' {
						b[j] += 'a' - 'A'
					}
				}
				return string(b)
			}
		}
		return s
	}
	return foldKey(s)
}

// isNameRune reports whether r can be part of a name, as validName allows.
func isNameRune(r rune) bool {
	return r == '.' || r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc)
}

func isNamePunct(b byte) bool { return b == '.' || b == '-' || b == '_' }

// maxNameBytes bounds a candidate: MaxNameLen characters of at most four
// bytes, each with its marks.
const maxNameBytes = MaxNameLen * 4 * (1 + maxMarks)

// mentionWords calls f with every candidate of every word of text (see
// above), until f returns true. The candidates are substrings of text.
func mentionWords(text string, f func(cand string) bool) {
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		if !isNameRune(r) {
			i += n
			continue
		}
		start := i
		for i < len(text) {
			r, n = rune(text[i]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(text[i:])
			}
			if !isNameRune(r) {
				break
			}
			i += n
		}
		if wordCandidates(text[start:i], f) {
			return
		}
	}
}

// wordCandidates calls f with the candidates of one word; it reports
// whether f returned true.
func wordCandidates(w string, f func(string) bool) bool {
	lead := 0
	for lead < len(w) && isNamePunct(w[lead]) {
		lead++
	}
	if lead == len(w) {
		return false // punctuation alone
	}
	trail := 0
	for trail < len(w) && isNamePunct(w[len(w)-1-trail]) {
		trail++
	}
	if len(w) <= maxNameBytes && f(w) {
		return true
	}
	// Keep 0..maxKeptPunct of each side, the whole word aside.
	for keepL := 0; keepL <= min(lead, maxKeptPunct); keepL++ {
		for keepT := 0; keepT <= min(trail, maxKeptPunct); keepT++ {
			if keepL == lead && keepT == trail {
				continue // the whole word, tried above
			}
			cand := w[lead-keepL : len(w)-trail+keepT]
			if len(cand) <= maxNameBytes && f(cand) {
				return true
			}
		}
	}
	return false
}
