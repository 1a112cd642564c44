package parser

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/nixgen"
)

// FuzzParse checks that ParseFile never panics or hangs, that errors are a
// one-entry ErrorList with a position inside the input, and that the tree
// of an accepted file has ordered positions inside the input.
func FuzzParse(f *testing.F) {
	fixtures, _ := filepath.Glob("testdata/*.nix")
	for _, name := range fixtures {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	g := nixgen.New(1)
	for range 50 {
		f.Add([]byte(g.Valid().Source()))
		f.Add([]byte(g.Invalid().Source()))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Options{MaxDepth: 200}.ParseFile("fuzz.nix", src)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("error %v is not a one-entry ErrorList", err)
			}
			if pos := list[0].Pos; pos.Offset < 0 || pos.Offset > len(src) || !pos.IsValid() {
				t.Fatalf("error position %+v outside the input (%d bytes)", pos, len(src))
			}
			return
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if n == nil {
				return false
			}
			start, end := n.Pos().Offset(), n.End().Offset()
			if start < 0 || end > len(src) || start > end {
				t.Fatalf("%T spans %d..%d, input has %d bytes", n, start, end, len(src))
			}
			return true
		})
	})
}
