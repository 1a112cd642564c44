// Package termsafe makes untrusted strings (unit names, file names, daemon
// messages) safe to print on a terminal: control characters, including
// escape sequences, are written as Go-style escapes instead of raw bytes.
package termsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s unchanged when it holds only printable text, and
// otherwise a copy with every control character and invalid byte escaped.
func String(s string) string {
	return escape(s, true)
}

// Message is String for whole messages whose untrusted parts were already
// quoted with %q: it leaves backslashes alone, so "\x1b" from the quoting
// is not escaped a second time. Backslashes cannot drive a terminal.
func Message(s string) string {
	return escape(s, false)
}

func escape(s string, backslash bool) string {
	if isClean(s, backslash) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == '\\' && backslash:
			b.WriteString(`\\`)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidi(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isClean(s string, backslash bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || (r == '\\' && backslash) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidi(r) {
			return false
		}
	}
	return true
}

// isBidi reports bidirectional overrides, which can make a printed name read
// differently from what it is (Trojan Source).
func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f'
}
