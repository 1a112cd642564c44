package ast_test

import (
	"fmt"
	goast "go/ast"
	goparser "go/parser"
	gotoken "go/token"
	"path/filepath"
	"reflect"
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

// everyKind is a file holding every kind of node the parser makes.
const everyKind = `let
  inherit (s) k;
  inherit j;
  v = rec { a.${k} = "t${k}"; b = ''x${v}''; };
  old = let { body = 1; };
in { a, b ? 1.5 }@x:
  with w; assert !a -> b ? c;
  if a.b or c then [ ./p/${v} <nixpkgs> https://e.org/x (f 1) ] else -v
`

// TestWalkVisitsEveryNode checks the walker's coverage: every kind of node
// declared in this package (every type with a Pos method, read from the
// package's source, so that a new kind cannot be forgotten) is visited, and
// every node a visited node holds in a field is visited too.
func TestWalkVisitsEveryNode(t *testing.T) {
	f, err := parser.ParseFile("every.nix", []byte(everyKind))
	if err != nil {
		t.Fatal(err)
	}
	visited := map[ast.Node]bool{}
	kinds := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if n != nil {
			visited[n] = true
			kinds[reflect.TypeOf(n).Elem().Name()] = true
		}
		return true
	})
	for n := range visited {
		for _, c := range fieldNodes(n) {
			if !visited[c] {
				t.Errorf("the walker skips the %T held by a %T", c, n)
			}
		}
	}
	for _, k := range nodeKinds(t) {
		if !kinds[k] && k != "Comment" { // comments are trivia, in File.Comments
			t.Errorf("the walker never visited a %s (or the test source lacks one)", k)
		}
	}
}

// fieldNodes lists the nodes n holds in its fields, directly or in slices,
// except its comments.
func fieldNodes(n ast.Node) []ast.Node {
	nodeType := reflect.TypeOf((*ast.Node)(nil)).Elem()
	var out []ast.Node
	add := func(v reflect.Value) {
		if v.Type().Implements(nodeType) && !v.IsNil() {
			out = append(out, v.Interface().(ast.Node))
		}
	}
	v := reflect.ValueOf(n).Elem()
	for i := range v.NumField() {
		field := v.Field(i)
		if v.Type().Field(i).Name == "Comments" {
			continue
		}
		switch {
		case field.Kind() == reflect.Slice:
			for j := range field.Len() {
				add(field.Index(j))
			}
		case field.Kind() == reflect.Interface || field.Kind() == reflect.Pointer:
			add(field)
		}
	}
	return out
}

// nodeKinds reads the package's source for the types that have a Pos
// method: the kinds of node.
func nodeKinds(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	var out []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := goparser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*goast.FuncDecl)
			if !ok || fn.Name.Name != "Pos" || fn.Recv == nil {
				continue
			}
			if star, ok := fn.Recv.List[0].Type.(*goast.StarExpr); ok {
				out = append(out, star.X.(*goast.Ident).Name)
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found %d node kinds in the package source, want the whole tree's", len(out))
	}
	return out
}
