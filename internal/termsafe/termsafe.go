// Package termsafe makes untrusted strings (unit names, file names, daemon
// messages) safe to print on a terminal or to hand to one as JSON: control
// characters, including escape sequences and C1 controls, and
// bidirectional overrides are written as Go-style or JSON escapes instead
// of raw runes.
package termsafe

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s unchanged when it holds only printable text, and
// otherwise a copy with every control character, bidirectional control
// and invalid byte escaped (\x1b, \u202e, \xff).
//
// Backslashes are left alone: they cannot drive a terminal, systemd
// writes them in unit names itself (dev-disk-by\x2duuid.device), and a
// message whose untrusted parts were already quoted with %q must not be
// escaped twice. So the output is safe, not reversible.
func String(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isClean(s string) bool {
	for i, r := range s {
		if (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) || unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune reports what a terminal acts on or what makes text read
// differently from what it is: C0 and C1 controls, DEL, line and paragraph
// separators, and bidirectional controls.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidi(r)
}

// isBidi reports bidirectional controls, which can make a printed name read
// differently from what it is (Trojan Source): embeddings and overrides
// (U+202A–U+202E), isolates (U+2066–U+2069), and the marks U+200E, U+200F
// and U+061C.
func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// NewJSONEncoder is json.NewEncoder for output a person may read on a
// terminal: encoding/json writes C1 controls and bidirectional controls
// in strings raw, so the encoder writes through a filter that escapes them
// as \uXXXX (valid JSON, the same decoded value). Outside strings, JSON is
// ASCII, so every such rune the filter sees is inside a string.
func NewJSONEncoder(w io.Writer) *json.Encoder {
	return json.NewEncoder(jsonEscaper{w})
}

type jsonEscaper struct{ w io.Writer }

// Write escapes p, which encoding/json writes as one whole document per
// call, so no rune is split between calls.
func (e jsonEscaper) Write(p []byte) (int, error) {
	if _, err := e.w.Write(EscapeJSON(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// EscapeJSON returns JSON text with every C1 control, DEL and
// bidirectional control written as a \uXXXX escape. encoding/json already
// escapes C0 controls and U+2028/U+2029.
func EscapeJSON(p []byte) []byte {
	clean := true
	for _, r := range string(p) {
		if r >= 0x7f && unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return p
	}
	out := make([]byte, 0, len(p)+32)
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if r >= 0x7f && unsafeRune(r) && !(r == utf8.RuneError && size == 1) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, p[i:i+size]...)
		}
		i += size
	}
	return out
}
