package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

func TestParseShapes(t *testing.T) {
	tests := []struct{ src, want string }{
		// Literals and the number quirks of Nix 2.8.
		{"42", "42"},
		{"1.5", "1.5f"},
		{".5", "0.5f"},
		{"1.", "1f"},
		{"1.5e3", "1500f"},
		{"1e3", "(call 1 e3)"},
		{"01.5", "(call 1 0.5f)"},
		{"foo-bar'", "foo-bar'"},
		{"or'", "or'"},
		// Paths, search paths, URIs.
		{"./a.nix", `(path "./a.nix")`},
		{"../a/b", `(path "../a/b")`},
		{"/etc/x", `(path "/etc/x")`},
		{"~/a", `(path "~/a")`},
		{"a/b", `(path "a/b")`},
		{"./${x}.nix", `(path "./" ($ x) ".nix")`},
		{"~/${x}", `(path "~/" ($ x))`},
		{"./a/${x}/b${y}", `(path "./a/" ($ x) "/b" ($ y))`},
		{"<nixpkgs>", "<nixpkgs>"},
		{"<nixpkgs/lib>", "<nixpkgs/lib>"},
		{"https://x.y/z?q=1", `(uri "https://x.y/z?q=1")`},
		{"x:x", `(uri "x:x")`},
		// Strings.
		{`"a\nb\t\r\\\"\$\q"`, `(str "a\nb\t\r\\\"$q")`},
		{`"a${x}b"`, `(str "a" ($ x) "b")`},
		{`"$${x}"`, `(str "$${x}")`},
		{`"\${x}"`, `(str "${x}")`},
		{`"a$"`, `(str "a$")`},
		{`""`, `(str)`},
		{`"${"${x}"}"`, `(str ($ (str ($ x))))`},
		{"\"a\r\nb\"", `(str "a\nb")`},
		{"''\n  a\n    b\n  ''", `(istr "a\n  b\n")`},
		{"''  a\n  b''", `(istr "a\nb")`},
		{"''\n  a\n\n  b\n''", `(istr "a\n\nb\n")`},
		{"''\n  ''$x '''\n  ''\\n''", `(istr "$x ''\n\n")`},
		{"''\n    ${x}\n  y\n''", `(istr "  " ($ x) "\ny\n")`},
		{"''\n  ''\\tz\n  ''", `(istr "\tz\n")`},
		{"''$${x}''", `(istr "$${x}")`},
		{"''a${ { b = \"}\"; }.b }''", `(istr "a" ($ (. (set (= b (str "}"))) b)))`},
		{"''${''x''}''", `(istr ($ (istr "x")))`},
		{"''\t a\n  ''", `(istr "\t a\n")`},
		{"''''", `(istr)`},
		// Collections and bindings.
		{"[ 1 a.b (f x) ]", "(list 1 (. a b) (call f x))"},
		{"{ a.b.c = 1; \"d\" = 2; ${e} = 3; or = 4; }", `(set (= a.b.c 1) (= (str "d") 2) (= ($ e) 3) (= or 4))`},
		{"rec { a = 1; }", "(rec (= a 1))"},
		{"{ inherit a or; inherit (x.y) b \"c\"; }", `(set (inherit a or) (inherit-from (. x y) b (str "c")))`},
		{"let a = 1; b = a; in b", "(let (= a 1) (= b a) b)"},
		{"let in 1", "(let 1)"},
		{"let { body = 1; }", "(letset (= body 1))"},
		{"let a.${b} = 1; in a", "(let (= a.($ b) 1) a)"},
		{"let ${\"a\"} = 1; in a", `(let (= ($ (str "a")) 1) a)`},
		// Prefix forms.
		{"with lib; a", "(with lib a)"},
		{"assert a; b", "(assert a b)"},
		{"if a then b else c", "(if a b c)"},
		{"x: y: x", "(fn x (fn y x))"},
		{"{ a, b ? 1, ... }: a", "(fn {a b?1 ...} a)"},
		{"{ a, }: a", "(fn {a} a)"},
		{"{ }: 1", "(fn {} 1)"},
		{"{ ... }: 1", "(fn {...} 1)"},
		{"args@{ a }: a", "(fn args@{a} a)"},
		{"{ a, ... }@args: a", "(fn {a ...}@args a)"},
		// Application, select, or.
		{"f a b", "(call f a b)"},
		{"f -1", "(- f 1)"},
		{"a.b.c", "(. a b c)"},
		{`a."b".${c}`, `(. a (str "b") ($ c))`},
		{"a.b or c", "(. a b or c)"},
		{"a.b or c.d or e", "(. a b or (. c d or e))"},
		{"a.b or f x", "(call (. a b or f) x)"},
		{"f or", "(call f or)"},
		{"map or [ ]", "(call (call map or) (list))"},
		{"{ or = 1; }.or", "(. (set (= or 1)) or)"},
		{"a ? b.c", "(? a b c)"},
		// Precedence and associativity.
		{"a + b * c", "(+ a (* b c))"},
		{"a - b - c", "(- (- a b) c)"},
		{"a ++ b ++ c", "(++ a (++ b c))"},
		{"a // b // c", "(// a (// b c))"},
		{"a -> b -> c", "(-> a (-> b c))"},
		{"a || b && c", "(|| a (&& b c))"},
		{"a == b && c != d", "(&& (== a b) (!= c d))"},
		{"a < b == c >= d", "(== (< a b) (>= c d))"},
		{"!a + b", "(! (+ a b))"},
		{"!a // b", "(// (! a) b)"},
		{"!a == b", "(== (! a) b)"},
		{"-a ? b", "(? (neg a) b)"},
		{"- f x", "(neg (call f x))"},
		{"-a.b", "(neg (. a b))"},
		{"a ++ b ? c", "(++ a (? b c))"},
		{"a * -b ++ c", "(* a (++ (neg b) c))"},
		{"a + !b + c", "(+ a (! (+ b c)))"},
		{"a -> b || c", "(-> a (|| b c))"},
		{"a // b + c", "(// a (+ b c))"},
		{"a < b // c", "(< a (// b c))"},
		{"(a + b) * c", "(* (+ a b) c)"},
		{"- - a", "(neg (neg a))"},
		{"!!a", "(! (! a))"},
		// Comments are trivia.
		{"# c\n/* d */ a /* e */ # f", "a"},
	}
	for _, tt := range tests {
		x, err := ParseExpr(tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tt.src, err)
			continue
		}
		if got := sexpr(x); got != tt.want {
			t.Errorf("ParseExpr(%q)\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"{ a = 1 }", "f.nix:1:9: expected ';', found '}'"},
		{"{ a = 1;", "f.nix:1:9: expected attribute name or '}', found end of file"},
		{"\n  (a", "f.nix:2:5: expected ')', found end of file"},
		{"a b c )", "f.nix:1:7: expected end of file, found ')'"},
		{"a == b == c", "f.nix:1:8: unexpected '==': operator is not associative"},
		{"a < b > c", "f.nix:1:7: unexpected '>': operator is not associative"},
		{"a ? b ? c", "f.nix:1:7: unexpected '?': operator is not associative"},
		{"./a/", "f.nix:1:5: path has a trailing slash"},
		{"./a//b", "f.nix:1:1: expected '${' in path, found end of path"},
		{`"abc`, "f.nix:1:5: string literal not terminated"},
		{"''abc", "f.nix:1:6: indented string literal not terminated"},
		{"/* x", "f.nix:1:1: comment not terminated"},
		{"99999999999999999999", "f.nix:1:1: invalid integer '99999999999999999999'"},
		{".5e400", "f.nix:1:1: invalid float '.5e400'"},
		{"a | b", "f.nix:1:3: unexpected character '|'"},
		{"a |> b", "f.nix:1:3: pipe operator '|>' is not supported by Nix 2.8"},
		{"{ a, a }: a", "f.nix:1:6: duplicate formal function argument 'a'"},
		{"a@{ a }: a", "f.nix:1:1: duplicate formal function argument 'a'"},
		{"{ a ... }: a", "f.nix:1:5: expected '=', found '...'"},
		{"{ a, ..., }: a", "f.nix:1:9: expected '}', found ','"},
		{"{ inherit ${a}; }", "f.nix:1:11: dynamic attributes not allowed in inherit"},
		{"let ${a} = 1; in 1", "f.nix:1:1: dynamic attributes not allowed in let"},
		{"1 + if a then b else c", "f.nix:1:5: expected expression, found 'if'"},
		{"[ -1 ]", "f.nix:1:3: expected ']', found '-'"},
		{"a.", "f.nix:1:3: expected attribute name, found end of file"},
		{"a\x00", "f.nix:1:2: illegal NUL byte"},
		{"\"\xff\"", "f.nix:1:2: invalid UTF-8 encoding"},
		{"", "f.nix:1:1: expected expression, found end of file"},
		{"}", "f.nix:1:1: expected expression, found '}'"},
	}
	for _, tt := range tests {
		f, err := ParseFile("f.nix", []byte(tt.src))
		if err == nil {
			t.Errorf("ParseFile(%q) = %s, want error %q", tt.src, sexpr(f.Expr), tt.want)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("ParseFile(%q) error\n got %s\nwant %s", tt.src, got, tt.want)
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 || list[0].Pos.Filename != "f.nix" {
			t.Errorf("ParseFile(%q) error %#v is not a one-entry ErrorList with a position", tt.src, err)
		}
	}
}

func TestPositions(t *testing.T) {
	src := "{\n  systemd.services.foo = {\n    x = \"é${y}\"; # c\n  };\n}\n"
	f, err := ParseFile("m.nix", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident, *ast.String, *ast.Interp, *ast.Attr:
			got = append(got, fmt.Sprintf("%T %s-%s", n, lineCol(f, n.Pos()), lineCol(f, n.End())))
		}
		return true
	})
	want := []string{
		"*ast.Attr 2:3-4:5",
		"*ast.Ident 2:3-2:10", "*ast.Ident 2:11-2:19", "*ast.Ident 2:20-2:23",
		"*ast.Attr 3:5-3:18",
		"*ast.Ident 3:5-3:6",
		"*ast.String 3:9-3:17", "*ast.Interp 3:12-3:16", "*ast.Ident 3:14-3:15",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("positions:\n got %q\nwant %q", got, want)
	}
	if len(f.Comments) != 1 || f.Comments[0].Text != "# c" || lineCol(f, f.Comments[0].Pos()) != "3:19" {
		t.Errorf("comments = %+v, want one \"# c\" at 3:19", f.Comments)
	}
	if lineCol(f, f.EOF) != "6:1" || f.EOF.Offset() != len(src) {
		t.Errorf("EOF = %+v, want 6:1 at offset %d", f.EOF, len(src))
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000)
	tests := []struct {
		name string
		opts Options
		src  string
		want string // substring of the error, "" for success
	}{
		{"deep parens", Options{}, deep, "expression nested too deeply (limit 1000)"},
		{"deep lists", Options{}, strings.Repeat("[", 100000), "nested too deeply"},
		{"deep negation", Options{}, strings.Repeat("-", 100000) + "1", "nested too deeply"},
		{"deep not", Options{}, strings.Repeat("!", 100000) + "a", "nested too deeply"},
		{"deep lambdas", Options{}, strings.Repeat("x: ", 100000) + "x", "nested too deeply"},
		{"deep right assoc", Options{}, strings.Repeat("a ++ ", 100000) + "a", "nested too deeply"},
		{"long left chain", Options{}, strings.Repeat("a + ", 100000) + "a", "nested too deeply"},
		{"deep interpolation", Options{}, strings.Repeat(`"${`, 100000), "nested too deeply"},
		{"deep select default", Options{}, strings.Repeat("a.b or ", 100000) + "c", "nested too deeply"},
		{"within depth", Options{MaxDepth: 50}, strings.Repeat("(", 5) + "1" + strings.Repeat(")", 5), ""},
		{"custom depth", Options{MaxDepth: 50}, strings.Repeat("(", 60) + "1" + strings.Repeat(")", 60), "limit 50"},
		{"too large", Options{MaxSize: 10}, "[ 1 2 3 4 5 6 ]", "file too large: 15 bytes (limit 10)"},
		{"size ok", Options{MaxSize: 15}, "[ 1 2 3 4 5 6 ]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.ParseFile("big.nix", []byte(tt.src))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// lineCol is p as line:col in f.
func lineCol(f *ast.File, p token.Pos) string {
	pos := f.Position(p)
	return fmt.Sprintf("%d:%d", pos.Line, pos.Col)
}
