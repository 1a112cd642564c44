// Package token defines the lexical tokens of the Nix language and source
// positions, in the manner of go/token.
package token

import (
	"fmt"
	"sort"
)

// Pos is a position in one source file, compact as go/token's: the byte
// offset plus one, so that the zero Pos, NoPos, means "no position". Line
// and column are computed when needed, from the file's line table (File).
type Pos int

// NoPos is the zero Pos: no position.
const NoPos Pos = 0

// IsValid reports whether p is a real position.
func (p Pos) IsValid() bool { return p != NoPos }

// Offset is the byte offset of p in its file, 0-based; -1 for NoPos.
func (p Pos) Offset() int { return int(p) - 1 }

// PosAt is the Pos of a byte offset.
func PosAt(offset int) Pos { return Pos(offset + 1) }

// Position is a Pos resolved against its file: file name, byte offset, and
// line and column, 1-based. Col counts bytes, as Nix's own error messages
// do. A Position with Line 0 is not valid.
type Position struct {
	Filename string
	Offset   int // byte offset, 0-based
	Line     int
	Col      int
}

// IsValid reports whether the position has a line.
func (p Position) IsValid() bool { return p.Line > 0 }

// String is file:line:col, line:col without a file name, the file name
// alone without a line, and "-" without either.
func (p Position) String() string {
	switch {
	case p.Filename != "" && p.IsValid():
		return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Col)
	case p.Filename != "":
		return p.Filename
	case p.IsValid():
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return "-"
}

// File is the line table of one source file: where each line starts.
// The scanner fills it as it reads the source; positions are resolved
// through it only when printed.
type File struct {
	name  string
	size  int
	lines []int // offset of the first byte of each line; lines[0] is 0 (empty: one line)
}

// NewFile is the line table of a file of size bytes, holding its first
// line.
func NewFile(name string, size int) *File {
	return &File{name: name, size: size}
}

// Name is the file name positions are reported with.
func (f *File) Name() string { return f.name }

// Size is the file's length in bytes.
func (f *File) Size() int { return f.size }

// LineCount is the number of lines recorded.
func (f *File) LineCount() int { return max(len(f.lines), 1) }

// AddLine records that a line starts at offset. Offsets must grow and
// stay inside the file (the end of the file counts: a final newline starts
// a last, empty line); others are ignored, as go/token does.
func (f *File) AddLine(offset int) {
	if len(f.lines) == 0 {
		f.lines = append(f.lines, 0)
	}
	if n := len(f.lines); f.lines[n-1] < offset && offset <= f.size {
		f.lines = append(f.lines, offset)
	}
}

// SetLines replaces the line table: lines holds the offset of the first
// byte of every line, in increasing order, starting with 0. It reports
// false, changing nothing, when lines is not such a table.
func (f *File) SetLines(lines []int) bool {
	for i, off := range lines {
		if (i == 0 && off != 0) || (i > 0 && off <= lines[i-1]) || off > f.size {
			return false
		}
	}
	if len(lines) == 0 {
		return false
	}
	f.lines = lines
	return true
}

// Pos is the Pos of an offset in f.
func (f *File) Pos(offset int) Pos { return PosAt(offset) }

// Offset is the byte offset of p.
func (f *File) Offset(p Pos) int { return p.Offset() }

// Line is the 1-based line of p, 0 for NoPos.
func (f *File) Line(p Pos) int { return f.Position(p).Line }

// Position resolves p: line and column from the line table. NoPos (or a
// nil File) gives a Position without a line.
func (f *File) Position(p Pos) Position {
	if f == nil {
		return Position{}
	}
	if !p.IsValid() {
		return Position{Filename: f.name}
	}
	off := p.Offset()
	if len(f.lines) == 0 {
		return Position{Filename: f.name, Offset: off, Line: 1, Col: off + 1}
	}
	i := sort.SearchInts(f.lines, off+1) - 1
	return Position{Filename: f.name, Offset: off, Line: i + 1, Col: off - f.lines[i] + 1}
}

// Token is a lexical token kind.
type Token int

const (
	ILLEGAL Token = iota
	EOF
	COMMENT

	literalBeg
	IDENT // foo, or-as-identifier
	INT   // 123
	FLOAT // 1.5, .5, 1.5e3
	PATH  // ./a, /a, ~/a (interpolated paths are split into parts by the scanner)
	SPATH // <nixpkgs>
	URI   // https://example.org/x
	literalEnd

	// String pieces. The scanner emits STRING_OPEN / IND_STRING_OPEN, then a
	// sequence of STRING_TEXT and DOLLAR_CURLY … RBRACE, then STRING_CLOSE.
	STRING_OPEN     // "
	IND_STRING_OPEN // ''
	STRING_TEXT     // literal text between interpolations (cooked value in the literal)
	STRING_CLOSE    // " or ''
	DOLLAR_CURLY    // ${
	PATH_OPEN       // start of an interpolated path like ./${x}.nix
	PATH_TEXT       // literal segment of an interpolated path
	PATH_CLOSE      // end of an interpolated path

	operatorBeg
	LPAREN   // (
	RPAREN   // )
	LBRACK   // [
	RBRACK   // ]
	LBRACE   // {
	RBRACE   // }
	SEMI     // ;
	COLON    // :
	COMMA    // ,
	DOT      // .
	ELLIPSIS // ...
	AT       // @
	ASSIGN   // =
	QUESTION // ?

	CONCAT // ++
	UPDATE // //
	ADD    // +
	SUB    // -
	MUL    // *
	QUO    // /
	NOT    // !
	EQL    // ==
	NEQ    // !=
	LSS    // <
	GTR    // >
	LEQ    // <=
	GEQ    // >=
	LAND   // &&
	LOR    // ||
	IMPL   // ->
	PIPE_R // |> (not in Nix 2.8; scanned so the parser can reject it clearly)
	PIPE_L // <|
	operatorEnd

	keywordBeg
	IF
	THEN
	ELSE
	ASSERT
	WITH
	LET
	IN
	REC
	INHERIT
	OR // "or" is a keyword only after a select; elsewhere an identifier
	keywordEnd
)

var names = [...]string{
	ILLEGAL: "ILLEGAL", EOF: "end of file", COMMENT: "comment",
	IDENT: "identifier", INT: "integer", FLOAT: "float", PATH: "path", SPATH: "<path>", URI: "URI",
	STRING_OPEN: `"`, IND_STRING_OPEN: "''", STRING_TEXT: "string text", STRING_CLOSE: "end of string",
	DOLLAR_CURLY: "${", PATH_OPEN: "path", PATH_TEXT: "path text", PATH_CLOSE: "end of path",
	LPAREN: "(", RPAREN: ")", LBRACK: "[", RBRACK: "]", LBRACE: "{", RBRACE: "}",
	SEMI: ";", COLON: ":", COMMA: ",", DOT: ".", ELLIPSIS: "...", AT: "@", ASSIGN: "=", QUESTION: "?",
	CONCAT: "++", UPDATE: "//", ADD: "+", SUB: "-", MUL: "*", QUO: "/", NOT: "!",
	EQL: "==", NEQ: "!=", LSS: "<", GTR: ">", LEQ: "<=", GEQ: ">=", LAND: "&&", LOR: "||", IMPL: "->",
	PIPE_R: "|>", PIPE_L: "<|",
	IF: "if", THEN: "then", ELSE: "else", ASSERT: "assert", WITH: "with", LET: "let", IN: "in",
	REC: "rec", INHERIT: "inherit", OR: "or",
}

func (t Token) String() string {
	if t >= 0 && int(t) < len(names) && names[t] != "" {
		return names[t]
	}
	return fmt.Sprintf("token(%d)", int(t))
}

// IsKeyword reports whether t is a keyword token.
func (t Token) IsKeyword() bool { return keywordBeg < t && t < keywordEnd }

// IsOperator reports whether t is an operator or delimiter.
func (t Token) IsOperator() bool { return operatorBeg < t && t < operatorEnd }

// Lookup maps an identifier to its keyword token, or IDENT.
func Lookup(ident string) Token {
	// A switch on the string compiles to comparisons of length, then of
	// bytes, which is cheaper than hashing every identifier for a map.
	switch ident {
	case "if":
		return IF
	case "then":
		return THEN
	case "else":
		return ELSE
	case "assert":
		return ASSERT
	case "with":
		return WITH
	case "let":
		return LET
	case "in":
		return IN
	case "rec":
		return REC
	case "inherit":
		return INHERIT
	case "or":
		return OR
	}
	return IDENT
}
