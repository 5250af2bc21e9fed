package lobby

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// invisibleNotice refuses a chat line with nothing anybody could see in it.
const invisibleNotice = "That message has nothing visible in it (only spaces or invisible characters), so it was not sent."

// Format characters (Unicode category Cf) that CleanText keeps where they
// do something. Every other one (zero-width space U+200B, word joiner
// U+2060, BOM U+FEFF, soft hyphen, invisible operators, the language tag)
// is invisible everywhere: it can only hide text or make an empty line look
// like a message, so CleanText drops it.
const (
	zwnj      = '\u200c' // stops a join in Arabic, Persian, Indic scripts
	zwj       = '\u200d' // joins emoji (👩‍💻) and Indic conjuncts
	mongolian = '\u180e' // the Mongolian vowel separator
	tagFirst  = '\U000e0020'
	tagCancel = '\U000e007f' // ends a tag sequence
	vs16      = '\ufe0f'     // emoji presentation
)

// maxTags bounds the tag characters after an emoji: a subdivision flag
// (🏴 gbsct) needs five or six; a longer run is text smuggled out of sight.
const maxTags = 8

// keepFormat reports whether CleanText may keep the format character r, for
// now: joiners and tags stay only where dropLoneFormat finds them used.
func keepFormat(r rune) bool {
	switch {
	case r == zwj, r == zwnj, r == mongolian, r >= tagFirst && r <= tagCancel:
		return true
	case unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return true // visible: the Arabic number sign U+0600 and the like
	case r >= 0x13430 && r <= 0x1345f:
		return true // Egyptian hieroglyph format controls lay out the signs
	}
	return false
}

// isJoinerOrTag reports whether r is one of the format characters that
// dropLoneFormat checks in context.
func isJoinerOrTag(r rune) bool {
	return r == zwj || r == zwnj || r == mongolian || r >= tagFirst && r <= tagCancel
}

// dropLoneFormat removes the joiners and tags CleanText kept that join
// nothing: a ZWJ stays between emoji, a ZWJ, ZWNJ or Mongolian vowel
// separator between two letters or marks of a script that joins or forms
// conjuncts, and tags only as a tag sequence (at most maxTags tags and a
// cancel tag) right after an emoji. Each decision looks at the neighbours
// in s as CleanText left it; a kept one has no joiner or tag for a
// neighbour, so the result is a fixed point.
func dropLoneFormat(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prev := rune(-1)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isJoinerOrTag(r) {
			b.WriteString(s[i : i+size])
			prev = r
			i += size
			continue
		}
		if r >= tagFirst && r <= tagCancel {
			end, ok := tagSequence(s, i)
			if ok && isEmoji(prev) {
				b.WriteString(s[i:end])
				prev = tagCancel
			}
			i = end
			continue
		}
		next := rune(-1)
		if i+size < len(s) {
			next, _ = utf8.DecodeRuneInString(s[i+size:])
		}
		if joins(r, prev, next) {
			b.WriteRune(r)
		}
		prev = r
		i += size
	}
	return b.String()
}

// tagSequence reads the run of tag characters starting at s[i] and returns
// where it ends and whether it is one well-formed sequence: 1 to maxTags
// tags, then the cancel tag.
func tagSequence(s string, i int) (end int, ok bool) {
	tags := 0
	for end = i; end < len(s); {
		r, size := utf8.DecodeRuneInString(s[end:])
		if r < tagFirst || r > tagCancel {
			return end, false
		}
		end += size
		if r == tagCancel {
			return end, tags > 0 && tags <= maxTags
		}
		tags++
	}
	return end, false
}

// joins reports whether the joiner j between prev and next does anything.
func joins(j, prev, next rune) bool {
	if j == zwj && (isEmoji(prev) || prev == vs16 || isSkinTone(prev)) && isEmoji(next) {
		return true
	}
	return isLetterOrMark(prev) && isLetterOrMark(next) &&
		(joiningScript(prev) || joiningScript(next))
}

// isEmoji approximates Extended_Pictographic, which the unicode package
// lacks: emoji are symbols of category So (so are ❤, ♀ and ⚕).
func isEmoji(r rune) bool {
	return r > 0x7f && r != utf8.RuneError && unicode.Is(unicode.So, r)
}

func isSkinTone(r rune) bool { return r >= 0x1f3fb && r <= 0x1f3ff }

func isLetterOrMark(r rune) bool {
	return r >= 0 && unicode.In(r, unicode.L, unicode.M)
}

// joiningScripts are the scripts in which ZWJ and ZWNJ change how letters
// are drawn: cursive joining (Arabic, Syriac, N'Ko, Mongolian...) and
// conjuncts (the Brahmic scripts of South and South-East Asia). In Latin,
// Greek or Cyrillic they change nothing anybody can see.
var joiningScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mandaic, unicode.Mongolian,
	unicode.Hanifi_Rohingya, unicode.Adlam, unicode.Sogdian, unicode.Manichaean,
	unicode.Psalter_Pahlavi, unicode.Phags_Pa,
	unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati,
	unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada,
	unicode.Malayalam, unicode.Sinhala, unicode.Tibetan, unicode.Myanmar,
	unicode.Khmer, unicode.Tai_Tham, unicode.Balinese, unicode.Javanese,
	unicode.Sundanese, unicode.Limbu, unicode.Lepcha, unicode.Newa,
	unicode.Chakma, unicode.Sharada, unicode.Takri, unicode.Grantha,
	unicode.Tirhuta, unicode.Kaithi, unicode.Modi, unicode.Brahmi,
}

func joiningScript(r rune) bool {
	for _, t := range joiningScripts {
		if unicode.Is(t, r) {
			return true
		}
	}
	return false
}

// visible reports whether s, as CleanText returns it, has anything in it
// to see: a letter, digit, punctuation or symbol that is not blank. Spaces
// of every width, marks with no base, format characters and the blank
// letters used to fake an empty line (the Hangul fillers, the braille
// blank) are not.
func visible(s string) bool {
	for _, r := range s {
		if r > 0x20 && r < 0x7f {
			return true
		}
		if unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.M, r) &&
			!unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) && r != '\u2800' {
			return true
		}
	}
	return false
}
