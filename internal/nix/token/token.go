// Package token defines the lexical tokens of the Nix language and source
// positions, in the manner of go/token.
package token

import "fmt"

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// bytes, as Nix's own error messages do. The zero Pos is "no position".
type Pos struct {
	Offset int // byte offset, 0-based
	Line   int
	Col    int
}

// IsValid reports whether p is a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string {
	if !p.IsValid() {
		return "-"
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

// Position is a Pos qualified by the file it belongs to.
type Position struct {
	Filename string
	Pos
}

func (p Position) String() string {
	if p.Filename == "" {
		return p.Pos.String()
	}
	if !p.IsValid() {
		return p.Filename
	}
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Col)
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
