package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestOracleEdgeCases compares accept/reject with Nix on hand-picked
// lexical and grammatical corner cases (each is prefixed with "with {};" so
// free variables do not matter).
func TestOracleEdgeCases(t *testing.T) {
	srcs := []string{
		"a ? b or c", "a.b or c ? d", "{ a = 1; }.a or 2", "f a.b or c d", "[ a.b or c ]", "a or b",
		"a.or", "a.or or b", "let or = 1; in or", "{ or }: 1", "x@y: 1", "{ a }@{ b }: 1",
		"assert a; with b; let c = 1; in c", "if a then b else if c then d else e", "- - 1", "!!a",
		"a.${b}.c", "a.\"b${c}\".d or e", "{ \"a\".b = 1; }", "{ ${a}.b = 1; }", "let a.b = 1; in a",
		"inherit", "{ inherit; }", "{ inherit (a); }", "let inherit (a) b; in b", "rec { }.a",
		"let { }", "./a.nix/b", "./a.nix./b", "a.b/c", "1/2", "1 / 2", "<a/b/c>", "<a//b>", "<a>/b",
		"~", "~/", "~/a/", "./.", "./..", "../../a", "/", "//a", "a./b", "_/a", "-/a", "+/a",
		"x:y:z", "a:b:c ", "a : b", "https://a.b/c#d", "''a'''''", "''''${x}''", "'''", "\"\\\"", "''\\",
		"\"$\"", "\"$$\"", "\"${x}${y}\"", "''  a\n ''", "''\n\n''", "1.5.5", "1..2", "a.1", "a.\"1\"",
		"a-1", "a'b'c", "__curPos", "true || false -> null", "a == b != c", "a <= b >= c",
		"(a) b c", "f (x: x) 1", "{ a ? 1 }: a", "{ a ? b: b }: a", "{ ... , }: 1", "{ , }: 1",
		"{a,b,}: a", "{ a, b, ... }@x:1", "x @ { } : 1", "let in let in 1",
		"with a; with b; c", "[ (a) [ b ] { } \"c\" ''d'' ./e <f> g:h 1 2.0 ]", "a ++ [ ] ++ b",
		"a // { } // b", "a ? \"b\"", "a ? ${b}", "a ? b.${c}", "./${a}${b}", "./a${b}c${d}e",
		"${a}", "a.${b}", "{ a = 1; } ? a.b", "\"\\\n\"", "\r\n1\r\n", "a |> b", "a <| b",
		"9223372036854775807", "9223372036854775808", "1e400", "1.0e400",
	}
	dir := t.TempDir()
	files := make([]string, len(srcs))
	for i, src := range srcs {
		files[i] = filepath.Join(dir, fmt.Sprintf("e%03d.nix", i))
		if err := os.WriteFile(files[i], []byte("with {}; "+src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	differential(t, files)
}
