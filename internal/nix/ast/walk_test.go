package ast_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

func name(n ast.Node) string {
	switch n := n.(type) {
	case *ast.Ident:
		return n.Name
	case *ast.Int:
		return n.Lit
	case *ast.Text:
		return fmt.Sprintf("%q", n.Value)
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", n), "*ast.")
}

func TestInspectOrder(t *testing.T) {
	tests := []struct{ src, want string }{
		{"{ a, b ? 1 }@x: f a.b or c", "File Lambda Formals Formal a Formal b 1 x Call f Select a b c"},
		{"x@{ }: x", "File Lambda x Formals x"},
		{"let inherit (s) k; v = \"t${k}\"; in [ v ./${v} ]", "File Let Inherit s k Attr v String \"t\" Interp k List v Path \"./\" Interp v"},
		{"if !a then -1 else b ? c", "File If Unary a Unary 1 HasAttr b c"},
		{"with w; assert a == b; (c)", "File With w Assert Binary a b Paren c"},
	}
	for _, tt := range tests {
		f, err := parser.ParseFile("w.nix", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		ast.Inspect(f, func(n ast.Node) bool {
			if n != nil {
				got = append(got, name(n))
			}
			return true
		})
		if strings.Join(got, " ") != tt.want {
			t.Errorf("Inspect(%q)\n got %s\nwant %s", tt.src, strings.Join(got, " "), tt.want)
		}
	}
}

// counter records Visit calls, including the nil after each subtree.
type counter struct{ enter, leave *int }

func (c counter) Visit(n ast.Node) ast.Visitor {
	if n == nil {
		*c.leave++
		return nil
	}
	*c.enter++
	if _, ok := n.(*ast.List); ok {
		return nil // prune: children of lists are not visited
	}
	return c
}

func TestWalkPruneAndNil(t *testing.T) {
	f, err := parser.ParseFile("w.nix", []byte("{ a = [ 1 2 ]; b = 3; }"))
	if err != nil {
		t.Fatal(err)
	}
	var enter, leave int
	ast.Walk(counter{&enter, &leave}, f)
	// File, AttrSet, Attr a, Ident a, List (pruned), Attr b, Ident b, Int 3.
	if enter != 8 {
		t.Errorf("entered %d nodes, want 8", enter)
	}
	// Every entered node except the pruned List gets a closing Visit(nil).
	if leave != 7 {
		t.Errorf("%d Visit(nil) calls, want 7", leave)
	}
}
