package scanner

import "github.com/driftcheck/driftcheck/internal/nix/token"

// The match functions return the length of the longest prefix of b matching
// one of the regular expressions of Nix's lexer, or 0.

// Byte classes, looked up in one table rather than tested by comparisons,
// because the scanner asks them of nearly every byte of the source.
const (
	cIdentStart = 1 << iota // [a-zA-Z_], first byte of ID
	cIdent                  // [a-zA-Z0-9_'-], later bytes of ID
	cPath                   // PATH_CHAR [a-zA-Z0-9._+-]
	cScheme                 // [a-zA-Z0-9+.-], later bytes of a URI scheme
	cSpace                  // [ \t\r\n]
	cPunct                  // a byte that is a whole token by itself and starts no longer one
)

var class [256]uint8

// punct maps the cPunct bytes to their tokens.
var punct [256]token.Token

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		letter := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
		digit := '0' <= b && b <= '9'
		if letter || b == '_' {
			class[c] |= cIdentStart
		}
		if letter || digit || b == '_' || b == '\'' || b == '-' {
			class[c] |= cIdent
		}
		if letter || digit || b == '.' || b == '_' || b == '-' || b == '+' {
			class[c] |= cPath
		}
		if letter || digit || b == '+' || b == '-' || b == '.' {
			class[c] |= cScheme
		}
		if b == ' ' || b == '\t' || b == '\r' || b == '\n' {
			class[c] |= cSpace
		}
	}
	// None of these begins a two-character operator, a number, a path, a
	// URI, "${" or "''"; '{', '}' and '"' also change the start condition.
	for c, tok := range map[byte]token.Token{
		'(': token.LPAREN, ')': token.RPAREN, '[': token.LBRACK, ']': token.RBRACK,
		';': token.SEMI, ':': token.COLON, ',': token.COMMA, '@': token.AT, '?': token.QUESTION,
		'{': token.LBRACE, '}': token.RBRACE, '"': token.STRING_OPEN,
	} {
		class[c] |= cPunct
		punct[c] = tok
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// isPathChar matches PATH_CHAR [a-zA-Z0-9\.\_\-\+].
func isPathChar(c byte) bool { return class[c]&cPath != 0 }

func isURIChar(c byte) bool {
	if isLetter(c) || isDigit(c) {
		return true
	}
	switch c {
	case '%', '/', '?', ':', '@', '&', '=', '+', '$', ',', '-', '_', '.', '!', '~', '*', '\'':
		return true
	}
	return false
}

func countWhile(b []byte, ok func(byte) bool) int {
	i := 0
	for i < len(b) && ok(b[i]) {
		i++
	}
	return i
}

// matchIdent matches ID [a-zA-Z\_][a-zA-Z0-9\_\'\-]*.
func matchIdent(b []byte) int {
	if len(b) == 0 || !(isLetter(b[0]) || b[0] == '_') {
		return 0
	}
	return 1 + countWhile(b[1:], func(c byte) bool {
		return isLetter(c) || isDigit(c) || c == '_' || c == '\'' || c == '-'
	})
}

// matchInt matches INT [0-9]+.
func matchInt(b []byte) int { return countWhile(b, isDigit) }

// matchFloat matches FLOAT (([1-9][0-9]*\.[0-9]*)|(0?\.[0-9]+))([Ee][+-]?[0-9]+)?.
func matchFloat(b []byte) int {
	n := 0
	if len(b) > 0 && b[0] >= '1' && b[0] <= '9' {
		i := 1 + countWhile(b[1:], isDigit)
		if i < len(b) && b[i] == '.' {
			n = i + 1 + countWhile(b[i+1:], isDigit)
		}
	}
	i := 0
	if len(b) > 0 && b[0] == '0' {
		i = 1
	}
	if i < len(b) && b[i] == '.' {
		if d := countWhile(b[i+1:], isDigit); d > 0 {
			n = max(n, i+1+d)
		}
	}
	if n == 0 {
		return 0
	}
	if n < len(b) && (b[n] == 'e' || b[n] == 'E') {
		j := n + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if d := countWhile(b[j:], isDigit); d > 0 {
			n = j + d
		}
	}
	return n
}

// matchSegments matches (\/{PATH_CHAR}+)+\/? and reports whether at least
// one segment was found.
func matchSegments(b []byte) (int, bool) {
	i, segs := 0, 0
	for i+1 < len(b) && b[i] == '/' && isPathChar(b[i+1]) {
		i += 1 + countWhile(b[i+1:], isPathChar)
		segs++
	}
	if segs == 0 {
		return 0, false
	}
	if i < len(b) && b[i] == '/' {
		i++
	}
	return i, true
}

// The matchers of paths and URIs take lead, the length of the run of
// PATH_CHAR (or, for matchURI, of scheme characters) that b starts with,
// which the scanner measures once per run.

// matchPathOnly matches PATH {PATH_CHAR}*(\/{PATH_CHAR}+)+\/?.
func matchPathOnly(b []byte, lead int) int {
	n, ok := matchSegments(b[lead:])
	if !ok {
		return 0
	}
	return lead + n
}

// matchPath matches PATH or HPATH \~(\/{PATH_CHAR}+)+\/?.
func matchPath(b []byte, lead int) int {
	if len(b) > 0 && b[0] == '~' {
		n, ok := matchSegments(b[1:])
		if !ok {
			return 0
		}
		return 1 + n
	}
	return matchPathOnly(b, lead)
}

// matchPathSeg matches PATH_SEG {PATH_CHAR}*\/.
func matchPathSeg(b []byte, lead int) int {
	if lead < len(b) && b[lead] == '/' {
		return lead + 1
	}
	return 0
}

// matchPathSegDollar matches {PATH_SEG}\$\{ or {HPATH_START}\$\{; the
// length includes the "${".
func matchPathSegDollar(b []byte, lead int) int {
	if hasPrefix(b, "~/${") {
		return 4
	}
	n := matchPathSeg(b, lead)
	if n > 0 && hasPrefix(b[n:], "${") {
		return n + 2
	}
	return 0
}

// matchSearchPath matches SPATH \<{PATH_CHAR}+(\/{PATH_CHAR}+)*\>.
func matchSearchPath(b []byte) int {
	if len(b) == 0 || b[0] != '<' {
		return 0
	}
	i := 1 + countWhile(b[1:], isPathChar)
	if i == 1 {
		return 0
	}
	for i+1 < len(b) && b[i] == '/' && isPathChar(b[i+1]) {
		i += 1 + countWhile(b[i+1:], isPathChar)
	}
	if i < len(b) && b[i] == '>' {
		return i + 1
	}
	return 0
}

// matchURI matches URI [a-zA-Z][a-zA-Z0-9\+\-\.]*\:[a-zA-Z0-9\%\/\?\:\@\&\=\+\$\,\-\_\.\!\~\*\']+;
// i is the length of the scheme: the letter b starts with and the scheme
// characters after it.
func matchURI(b []byte, i int) int {
	if len(b) == 0 || !isLetter(b[0]) {
		return 0
	}
	if i >= len(b) || b[i] != ':' {
		return 0
	}
	n := countWhile(b[i+1:], isURIChar)
	if n == 0 {
		return 0
	}
	return i + 1 + n
}
