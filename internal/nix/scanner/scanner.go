// Package scanner implements a lexer for Nix source text, in the manner of
// go/scanner.
//
// The lexer reproduces the start-condition machine of Nix 2.8's flex lexer
// (lexer.l): the token stream depends only on the bytes, never on the parser,
// so the parser may look ahead freely. Where several rules match, the longest
// match wins and ties go to the earlier rule, exactly as in flex; this is
// what makes `a/b` a path, `x:x` a URI and `1e3` the integer 1 followed by
// the identifier e3.
package scanner

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Mode controls optional scanner behaviour.
type Mode uint

// ScanComments makes Scan return COMMENT lexemes instead of skipping them.
const ScanComments Mode = 1 << iota

// Lexeme is one scanned token.
type Lexeme struct {
	Tok token.Token
	Pos token.Pos // first byte
	End token.Pos // first byte after
	Lit string    // the source text
	// Value is the cooked value: escapes resolved for STRING_TEXT, the
	// bracket-less name for SPATH, and Lit otherwise.
	Value string
	// Indent reports, for STRING_TEXT inside an indented string, that the
	// text is literal source text whose leading spaces count as
	// indentation; escapes ('', ''$, ''\x) and lone ' or $ do not.
	Indent bool
}

// state mirrors a flex start condition of Nix's lexer.
type state uint8

const (
	stDefault   state = iota // INITIAL / DEFAULT
	stString                 // inside "…"
	stIndString              // inside ''…''
	stPathStart              // PATH_START: first segment of an interpolated path
	stPath                   // INPATH
	stPathSlash              // INPATH_SLASH: the path so far ends in '/'
)

// Scanner tokenizes one source file. The zero value is not usable; call Init.
type Scanner struct {
	file      *token.File
	src       []byte
	text      string // src as one string: literals are substrings of it, not copies
	mode      Mode
	off       int
	stack     []state
	pathFirst int // length of the first segment while in stPathStart
	errs      ErrorList
	// The look-ahead of an identifier, a number or a dot for the '/' of a
	// path or the ':' of a URI runs over the path (or scheme) characters
	// that follow, and a run such as y.a.a.….a holds many tokens. Each run
	// is measured once: a token starting inside the last run measured
	// reuses its end, which keeps scanning linear in the input.
	pathRun, schemeRun run
}

// run is a stretch [start, end) of bytes of one class that ends before a
// byte outside it.
type run struct{ start, end int }

// Init prepares s to scan src. A Scanner may be initialised again; it then
// reuses its state stack. The line table (File) is new for every source,
// because the syntax tree keeps it.
func (s *Scanner) Init(filename string, src []byte, mode Mode) {
	stack := append(s.stack[:0], stDefault)
	*s = Scanner{src: src, text: string(src), mode: mode, stack: stack}
	s.file = token.NewFile(filename, len(src))
	lines := make([]int, 1, bytes.Count(src, []byte{'\n'})+1) // one allocation: the tree keeps it
	for i := 0; ; {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		lines = append(lines, i)
	}
	s.file.SetLines(lines)
}

// File is the line table of the source being scanned.
func (s *Scanner) File() *token.File { return s.file }

// Errors returns the errors reported so far.
func (s *Scanner) Errors() ErrorList { return s.errs }

// Position converts a byte offset into a file-qualified Position.
func (s *Scanner) Position(off int) token.Position {
	return s.file.Position(token.PosAt(off))
}

func (s *Scanner) top() state      { return s.stack[len(s.stack)-1] }
func (s *Scanner) push(st state)   { s.stack = append(s.stack, st) }
func (s *Scanner) setTop(st state) { s.stack[len(s.stack)-1] = st }

// pop leaves the bottom state alone, like Nix's lexer does for a stray '}'.
func (s *Scanner) pop() {
	if len(s.stack) > 1 {
		s.stack = s.stack[:len(s.stack)-1]
	}
}

func (s *Scanner) lexeme(tok token.Token, start, end int) Lexeme {
	var lit string
	switch {
	case end == start:
	case tok.IsOperator() || tok.IsKeyword():
		lit = tok.String() // fixed text: no allocation
	default:
		lit = s.text[start:end]
	}
	return Lexeme{Tok: tok, Pos: token.PosAt(start), End: token.PosAt(end), Lit: lit, Value: lit}
}

func (s *Scanner) fail(off int, format string, args ...any) Lexeme {
	s.errs.Add(s.Position(off), fmt.Sprintf(format, args...))
	s.off = len(s.src)
	return Lexeme{Tok: token.ILLEGAL, Pos: token.PosAt(off), End: token.PosAt(off)}
}

// Scan returns the next lexeme. After an error it returns ILLEGAL, and the
// error is in Errors; at the end of input it returns EOF.
func (s *Scanner) Scan() (lx Lexeme) {
	if len(s.errs) > 0 {
		return Lexeme{Tok: token.ILLEGAL, Pos: token.PosAt(s.off), End: token.PosAt(s.off)}
	}
	switch s.top() {
	case stString:
		return s.scanStringPart()
	case stIndString:
		return s.scanIndStringPart()
	case stPathStart:
		return s.scanPathStart()
	case stPath, stPathSlash:
		return s.scanPathPart()
	}
	for s.skipSpace() {
		lx = s.scanComment()
		if s.mode&ScanComments != 0 || lx.Tok == token.ILLEGAL {
			return lx
		}
	}
	return s.scanDefault()
}

// skipSpace skips whitespace and reports whether a comment follows.
func (s *Scanner) skipSpace() bool {
	src, i := s.src, s.off
	for i < len(src) && class[src[i]]&cSpace != 0 {
		i++
	}
	s.off = i
	return i < len(src) && (src[i] == '#' || src[i] == '/' && i+1 < len(src) && src[i+1] == '*')
}

// scanComment scans the comment at s.off, which skipSpace found.
func (s *Scanner) scanComment() Lexeme {
	start := s.off
	if s.src[start] == '#' {
		end := start
		for end < len(s.src) && s.src[end] != '\n' && s.src[end] != '\r' {
			end++
		}
		s.off = end
		return s.lexeme(token.COMMENT, start, end)
	}
	for i := start + 2; i+1 < len(s.src); i++ {
		if s.src[i] == '*' && s.src[i+1] == '/' {
			s.off = i + 2
			return s.lexeme(token.COMMENT, start, i+2)
		}
	}
	return s.fail(start, "comment not terminated")
}

// rule identifies the flex rule that produced the longest match.
type rule int

const (
	ruleNone rule = iota
	ruleOperator
	ruleIdent
	ruleInt
	ruleFloat
	ruleDollarCurly
	ruleIndString
	rulePathSegDollar
	rulePath
	ruleSearchPath
	ruleURI
	ruleChar
)

// operator2 returns the two-character operator b starts with, or ILLEGAL.
func operator2(b []byte) token.Token {
	if len(b) < 2 {
		return token.ILLEGAL
	}
	switch string(b[:2]) {
	case "==":
		return token.EQL
	case "!=":
		return token.NEQ
	case "<=":
		return token.LEQ
	case ">=":
		return token.GEQ
	case "&&":
		return token.LAND
	case "||":
		return token.LOR
	case "->":
		return token.IMPL
	case "//":
		return token.UPDATE
	case "++":
		return token.CONCAT
	case "|>":
		return token.PIPE_R
	case "<|":
		return token.PIPE_L
	}
	return token.ILLEGAL
}

// operators1 maps the bytes that are one-character operators to their
// tokens, and every other byte to ILLEGAL.
var operators1 = [256]token.Token{
	'(': token.LPAREN, ')': token.RPAREN, '[': token.LBRACK, ']': token.RBRACK,
	';': token.SEMI, ':': token.COLON, ',': token.COMMA, '.': token.DOT,
	'@': token.AT, '=': token.ASSIGN, '?': token.QUESTION, '+': token.ADD,
	'-': token.SUB, '*': token.MUL, '/': token.QUO, '!': token.NOT,
	'<': token.LSS, '>': token.GTR,
}

// scanDefault scans one token in the default start condition: the
// longest match over Nix's rules, ties to the earlier rule, as flex does.
// Only the rules that can start with the first byte are tried, and the
// common tokens (punctuation, identifiers that no path or URI extends) are
// decided without trying the others.
func (s *Scanner) scanDefault() Lexeme {
	start := s.off
	if start >= len(s.src) {
		return Lexeme{Tok: token.EOF, Pos: token.PosAt(start), End: token.PosAt(start)}
	}
	rest := s.src[start:]
	c := rest[0]
	if class[c]&cPunct != 0 {
		// A byte that starts no longer token than itself.
		return s.punct(start, c)
	}
	// A path needs a '/' after its leading path characters, a URI a ':'
	// after its scheme; most identifiers and numbers have neither.
	lead := s.pathRun.through(s.src, start, cPath) - start
	extended := lead < len(rest) && (rest[lead] == '/' || rest[lead] == ':') || c == '~'
	if class[c]&cIdentStart != 0 && !extended {
		n := 1
		for n < len(rest) && class[rest[n]]&cIdent != 0 {
			n++
		}
		s.off = start + n
		lit := s.text[start:s.off]
		tok := token.Lookup(lit)
		return Lexeme{Tok: tok, Pos: token.PosAt(start), End: token.PosAt(s.off), Lit: lit, Value: lit}
	}
	best, which := 0, ruleNone
	consider := func(n int, r rule) {
		if n > best { // strictly longer: ties keep the earlier rule
			best, which = n, r
		}
	}
	var opTok token.Token
	if len(rest) >= 3 && string(rest[:3]) == "..." {
		consider(3, ruleOperator)
		opTok = token.ELLIPSIS
	} else if t := operator2(rest); t != token.ILLEGAL {
		consider(2, ruleOperator)
		opTok = t
	}
	if isLetter(c) || c == '_' {
		consider(matchIdent(rest), ruleIdent)
	}
	if isDigit(c) {
		consider(matchInt(rest), ruleInt)
	}
	if isDigit(c) || c == '.' {
		consider(matchFloat(rest), ruleFloat)
	}
	switch c {
	case '$':
		if hasPrefix(rest, "${") {
			consider(2, ruleDollarCurly)
		}
	case '\'':
		if hasPrefix(rest, "''") {
			consider(2, ruleIndString)
		}
	case '<':
		consider(matchSearchPath(rest), ruleSearchPath)
	}
	if extended {
		if isPathChar(c) || c == '/' || c == '~' {
			consider(matchPathSegDollar(rest, lead), rulePathSegDollar)
			consider(matchPath(rest, lead), rulePath)
		}
		if isLetter(c) {
			consider(matchURI(rest, s.schemeRun.through(s.src, start+1, cScheme)-start), ruleURI)
		}
	}
	consider(1, ruleChar)

	end := start + best
	switch which {
	case ruleOperator:
		s.off = end
		return s.lexeme(opTok, start, end)
	case ruleIdent:
		s.off = end
		lx := s.lexeme(token.IDENT, start, end)
		lx.Tok = token.Lookup(lx.Lit)
		return lx
	case ruleInt:
		s.off = end
		lx := s.lexeme(token.INT, start, end)
		if _, err := strconv.ParseInt(lx.Lit, 10, 64); err != nil {
			return s.fail(start, "invalid integer '%s'", lx.Lit)
		}
		return lx
	case ruleFloat:
		s.off = end
		lx := s.lexeme(token.FLOAT, start, end)
		if _, err := strconv.ParseFloat(lx.Lit, 64); err != nil {
			return s.fail(start, "invalid float '%s'", lx.Lit)
		}
		return lx
	case ruleDollarCurly:
		s.off = end
		s.push(stDefault)
		return s.lexeme(token.DOLLAR_CURLY, start, end)
	case ruleIndString:
		// ''(\ *\n)? : a first line holding only spaces is part of the opener.
		i := end
		for i < len(s.src) && s.src[i] == ' ' {
			i++
		}
		if i < len(s.src) && s.src[i] == '\n' {
			end = i + 1
		}
		s.off = end
		s.push(stIndString)
		return s.lexeme(token.IND_STRING_OPEN, start, end)
	case rulePathSegDollar:
		s.pathFirst = best - 2 // without the "${"
		s.push(stPathStart)
		return s.lexeme(token.PATH_OPEN, start, start)
	case rulePath:
		return s.scanPath(start, end)
	case ruleSearchPath:
		s.off = end
		lx := s.lexeme(token.SPATH, start, end)
		lx.Value = lx.Lit[1 : len(lx.Lit)-1]
		return lx
	case ruleURI:
		s.off = end
		return s.lexeme(token.URI, start, end)
	}
	if t := operators1[rest[0]]; t != token.ILLEGAL {
		s.off = start + 1
		return s.lexeme(t, start, start+1)
	}
	return s.fail(start, "unexpected character %s", quoteByte(rest[0]))
}

// punct scans a byte that is a token by itself; '{', '}' and '"' also
// change the start condition.
func (s *Scanner) punct(start int, c byte) Lexeme {
	s.off = start + 1
	tok := punct[c]
	lit := tok.String()
	switch tok {
	case token.LBRACE:
		s.push(stDefault)
	case token.RBRACE:
		s.pop()
	case token.STRING_OPEN:
		s.push(stString)
		lit = s.text[start : start+1] // not an operator: source text, as lexeme gives
	}
	return Lexeme{Tok: tok, Pos: token.PosAt(start), End: token.PosAt(start + 1), Lit: lit, Value: lit}
}

// through is the end of the run of bytes of class cl that holds off (off
// itself when src[off] is not of the class). A run is measured once: for
// an offset inside the run measured last, its end is known.
func (r *run) through(src []byte, off int, cl uint8) int {
	if r.start <= off && off < r.end {
		return r.end
	}
	end := off
	for end < len(src) && class[src[end]]&cl != 0 {
		end++
	}
	if end > off {
		*r = run{off, end}
	}
	return end
}

// scanPath handles a PATH or HPATH match of src[start:end]. A path that
// continues with an interpolation (or, oddly, more slashes) is returned as
// PATH_OPEN, PATH_TEXT…, PATH_CLOSE; a plain path as a single PATH.
func (s *Scanner) scanPath(start, end int) Lexeme {
	rest := s.src[end:]
	if s.src[end-1] != '/' && !hasPrefix(rest, "${") && !hasPrefix(rest, "/") {
		s.off = end
		return s.lexeme(token.PATH, start, end)
	}
	s.pathFirst = end - start
	s.push(stPathStart)
	return s.lexeme(token.PATH_OPEN, start, start)
}

func (s *Scanner) scanPathStart() Lexeme {
	start := s.off
	end := start + s.pathFirst
	s.off = end
	if s.src[end-1] == '/' {
		s.setTop(stPathSlash)
	} else {
		s.setTop(stPath)
	}
	return s.lexeme(token.PATH_TEXT, start, end)
}

func (s *Scanner) scanPathPart() Lexeme {
	start := s.off
	rest := s.src[start:]
	if hasPrefix(rest, "${") {
		s.setTop(stPath)
		s.push(stDefault)
		s.off = start + 2
		return s.lexeme(token.DOLLAR_CURLY, start, start+2)
	}
	lead := s.pathRun.through(s.src, start, cPath) - start
	n := max(matchPathOnly(rest, lead), matchPathSeg(rest, lead), lead)
	if n > 0 {
		end := start + n
		s.off = end
		if s.src[end-1] == '/' {
			s.setTop(stPathSlash)
		} else {
			s.setTop(stPath)
		}
		return s.lexeme(token.PATH_TEXT, start, end)
	}
	if s.top() == stPathSlash {
		return s.fail(start, "path has a trailing slash")
	}
	s.pop()
	return s.lexeme(token.PATH_CLOSE, start, start)
}

func (s *Scanner) scanStringPart() Lexeme {
	start := s.off
	src := s.src
	if start >= len(src) {
		return s.fail(start, "string literal not terminated")
	}
	switch {
	case src[start] == '"':
		s.off = start + 1
		s.pop()
		return s.lexeme(token.STRING_CLOSE, start, start+1)
	case hasPrefix(src[start:], "${"):
		s.off = start + 2
		s.push(stDefault)
		return s.lexeme(token.DOLLAR_CURLY, start, start+2)
	}
	i := start
loop:
	for i < len(src) {
		switch src[i] {
		case '"':
			break loop
		case '\\':
			i = min(i+2, len(src))
		case '$':
			if i+1 < len(src) && src[i+1] == '{' {
				break loop
			}
			if i+1 < len(src) && src[i+1] == '$' {
				i += 2 // "$$" is literal, so "$${" is not an interpolation
			} else {
				i++
			}
		default:
			i++
		}
	}
	s.off = i
	lx := s.lexeme(token.STRING_TEXT, start, i)
	lx.Value = unescape(src[start:i], lx.Lit)
	return lx
}

func (s *Scanner) scanIndStringPart() Lexeme {
	start := s.off
	src := s.src
	rest := src[start:]
	if len(rest) == 0 {
		return s.fail(start, "indented string literal not terminated")
	}
	text := func(n int, value string, indent bool) Lexeme {
		s.off = start + n
		lx := s.lexeme(token.STRING_TEXT, start, start+n)
		lx.Value, lx.Indent = value, indent
		return lx
	}
	switch {
	case hasPrefix(rest, "'''"):
		return text(3, "''", false)
	case hasPrefix(rest, "''$"):
		return text(3, "$", false)
	case hasPrefix(rest, "''\\") && len(rest) >= 4:
		return text(4, unescape(rest[2:4], ""), false)
	case hasPrefix(rest, "''"):
		s.off = start + 2
		s.pop()
		return s.lexeme(token.STRING_CLOSE, start, start+2)
	case hasPrefix(rest, "${"):
		s.off = start + 2
		s.push(stDefault)
		return s.lexeme(token.DOLLAR_CURLY, start, start+2)
	}
	n := matchIndText(rest)
	if n == 0 {
		// A lone ' before $ or a lone $ before ' or at the end.
		return text(1, s.text[start:start+1], false)
	}
	s.off = start + n
	lx := s.lexeme(token.STRING_TEXT, start, start+n)
	lx.Indent = true
	return lx
}

// matchIndText matches ([^$']|\$[^{']|'[^'$])+ .
func matchIndText(b []byte) int {
	i := 0
	for i < len(b) {
		switch b[i] {
		case '$':
			if i+1 < len(b) && b[i+1] != '{' && b[i+1] != '\'' {
				i += 2
				continue
			}
			return i
		case '\'':
			if i+1 < len(b) && b[i+1] != '\'' && b[i+1] != '$' {
				i += 2
				continue
			}
			return i
		default:
			i++
		}
	}
	return i
}

// unescape resolves backslash escapes and normalises CR and CRLF to LF, as
// Nix's unescapeStr does. raw, if not empty, is string(b), returned as is
// when there is nothing to unescape.
func unescape(b []byte, raw string) string {
	if raw != "" && bytes.IndexByte(b, '\\') < 0 && bytes.IndexByte(b, '\r') < 0 {
		return raw
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b):
			i++
			switch b[i] {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			default:
				out = append(out, b[i])
			}
		case c == '\\':
			// A trailing backslash only happens at EOF; the parser reports it.
		case c == '\r':
			out = append(out, '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("0x%02x", c)
}
