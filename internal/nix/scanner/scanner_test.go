package scanner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// tokens renders the lexemes of src as "TOK" or "TOK:value", separated by
// spaces; comments are included.
func tokens(src string) string {
	var s Scanner
	s.Init("t.nix", []byte(src), ScanComments)
	var out []string
	for {
		lx := s.Scan()
		switch lx.Tok {
		case token.EOF:
			return strings.Join(out, " ")
		case token.ILLEGAL:
			return strings.Join(append(out, "ERROR:"+s.Errors().Error()), " ")
		}
		item := lx.Tok.String()
		switch lx.Tok {
		case token.IDENT, token.INT, token.FLOAT, token.PATH, token.PATH_TEXT, token.SPATH, token.URI, token.COMMENT:
			item += ":" + lx.Value
		case token.STRING_TEXT:
			item += fmt.Sprintf(":%q", lx.Value)
			if lx.Indent {
				item += "i"
			}
		}
		out = append(out, item)
	}
}

func TestScan(t *testing.T) {
	tests := []struct{ src, want string }{
		{"a-b' or orx _x", "identifier:a-b' or identifier:orx identifier:_x"},
		{"1e3 1.5e3 .5 01.5 1.", "integer:1 identifier:e3 float:1.5e3 float:.5 integer:01 float:.5 float:1."},
		{"a/b x:x a / b", "path:a/b URI:x:x identifier:a / identifier:b"},
		{"https://x.y/z?q=1&r=2,", "URI:https://x.y/z?q=1&r=2,"},
		{"./a ../b /c ~/d -/e", "path:./a path:../b path:/c path:~/d path:-/e"},
		{"<nixpkgs> <nixpkgs/lib> a <b", "<path>:nixpkgs <path>:nixpkgs/lib identifier:a < identifier:b"},
		{"./${x}.nix", "path path text:./ ${ identifier:x } path text:.nix end of path"},
		{"~/${x}", "path path text:~/ ${ identifier:x } end of path"},
		{"./a${x}", "path path text:./a ${ identifier:x } end of path"},
		{"./a/", "path path text:./a/ ERROR:t.nix:1:5: path has a trailing slash"},
		{"a//b ++ -> ... || && == != <= >=", "identifier:a // identifier:b ++ -> ... || && == != <= >="},
		{"# c\r\n/* d\n*/x", "comment:# c comment:/* d\n*/ identifier:x"},
		{`"a\n${b}$${c}\$d$"`, `" string text:"a\n" ${ identifier:b } string text:"$${c}$d$" end of string`},
		{`"${ "}" }"`, `" ${ " string text:"}" end of string } end of string`},
		{"'' \n  a ''$ ''' ''\\t $x $${y} 'b '$''", `'' string text:"  a "i string text:"$" string text:" "i string text:"''" string text:" "i string text:"\t" string text:" $x $${y} 'b "i string text:"'" string text:"$" end of string`},
		{"''${ ''x'' }''", `'' ${ '' string text:"x"i end of string } end of string`},
		{"{ } }", "{ } }"},
		{"a |> b", "identifier:a |> identifier:b"},
		{"a & b", "identifier:a ERROR:t.nix:1:3: unexpected character '&'"},
		{`"abc`, `" string text:"abc" ERROR:t.nix:1:5: string literal not terminated`},
	}
	for _, tt := range tests {
		if got := tokens(tt.src); got != tt.want {
			t.Errorf("tokens(%q)\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func TestPos(t *testing.T) {
	var s Scanner
	s.Init("p.nix", []byte("a\n  bb\n\nc"), 0)
	var got []string
	for lx := s.Scan(); lx.Tok != token.EOF; lx = s.Scan() {
		pos, end := s.File().Position(lx.Pos), s.File().Position(lx.End)
		got = append(got, fmt.Sprintf("%s@%d:%d-%d:%d/%d", lx.Lit, pos.Line, pos.Col, end.Line, end.Col, lx.Pos.Offset()))
	}
	want := "a@1:1-1:2/0 bb@2:3-2:5/4 c@4:1-4:2/8"
	if strings.Join(got, " ") != want {
		t.Errorf("positions %q, want %q", strings.Join(got, " "), want)
	}
}

func TestEOFRepeats(t *testing.T) {
	var s Scanner
	s.Init("e.nix", []byte("a"), 0)
	s.Scan()
	for i := range 3 {
		if lx := s.Scan(); lx.Tok != token.EOF {
			t.Fatalf("scan %d after the end: %s, want EOF", i, lx.Tok)
		}
	}
}
