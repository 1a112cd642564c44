package parser

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/nixgen"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// nixShow renders an expression the way `nix-instantiate --parse` (Nix
// 2.8's ExprShow) prints it, for the subset nixgen's Operators programs use:
// identifiers, integers, lists, empty sets, every operator, application,
// select with or, has-attribute, simple lambdas, if, with and assert.
// Operators are desugared as Nix desugars them (a - b is __sub a b, a > b is
// __lessThan b a, …) and calls merge their arguments as Nix's parser does.
// It reports false for anything outside the subset.
func nixShow(x ast.Expr) (string, bool) {
	var b strings.Builder
	ok := writeShow(&b, x)
	return b.String(), ok
}

func unparen(x ast.Expr) ast.Expr {
	for {
		p, ok := x.(*ast.Paren)
		if !ok {
			return x
		}
		x = p.X
	}
}

// asCall returns the ExprCall Nix builds for x: the function and arguments
// of an application or of a desugared operator.
func asCall(x ast.Expr) (fun ast.Expr, args []ast.Expr, ok bool) {
	switch n := unparen(x).(type) {
	case *ast.Call:
		// (f a) b is one ExprCall: Nix's application rule appends to an
		// existing call. The legacy `x or` rule builds a fresh call instead.
		legacyOr := len(n.Args) == 1 && isOrIdent(n.Args[0])
		if f, a, ok := asCall(n.Fun); ok && !legacyOr {
			return f, append(append([]ast.Expr(nil), a...), n.Args...), true
		}
		return n.Fun, n.Args, true
	case *ast.Unary:
		if n.Op == token.SUB {
			return builtin("__sub"), []ast.Expr{&ast.Int{Value: 0}, n.X}, true
		}
	case *ast.Binary:
		switch n.Op {
		case token.SUB:
			return builtin("__sub"), []ast.Expr{n.X, n.Y}, true
		case token.MUL:
			return builtin("__mul"), []ast.Expr{n.X, n.Y}, true
		case token.QUO:
			return builtin("__div"), []ast.Expr{n.X, n.Y}, true
		case token.LSS:
			return builtin("__lessThan"), []ast.Expr{n.X, n.Y}, true
		case token.GTR:
			return builtin("__lessThan"), []ast.Expr{n.Y, n.X}, true
		}
	}
	return nil, nil, false
}

func isOrIdent(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == "or"
}

func builtin(name string) *ast.Ident { return &ast.Ident{Name: name} }

func writeShow(b *strings.Builder, x ast.Expr) bool {
	if fun, args, ok := asCall(x); ok {
		b.WriteByte('(')
		ok := writeShow(b, fun)
		for _, a := range args {
			b.WriteByte(' ')
			ok = writeShow(b, a) && ok
		}
		b.WriteByte(')')
		return ok
	}
	infix := func(op string, l, r ast.Expr) bool {
		b.WriteByte('(')
		ok := writeShow(b, l)
		b.WriteString(" " + op + " ")
		ok = writeShow(b, r) && ok
		b.WriteByte(')')
		return ok
	}
	switch n := unparen(x).(type) {
	case *ast.Ident:
		b.WriteString(n.Name)
	case *ast.Int:
		b.WriteString(strconv.FormatInt(n.Value, 10))
	case *ast.List:
		b.WriteString("[ ")
		ok := true
		for _, e := range n.Elems {
			b.WriteByte('(')
			ok = writeShow(b, e) && ok
			b.WriteString(") ")
		}
		b.WriteByte(']')
		return ok
	case *ast.AttrSet:
		b.WriteString("{ }")
		return len(n.Bindings) == 0 && !n.RecPos.IsValid()
	case *ast.Unary: // only ! reaches here; - is a call
		b.WriteString("(! ")
		ok := writeShow(b, n.X)
		b.WriteByte(')')
		return ok
	case *ast.Binary:
		switch n.Op {
		case token.ADD:
			return infix("+", n.X, n.Y)
		case token.LEQ, token.GEQ:
			l, r := n.Y, n.X
			if n.Op == token.GEQ {
				l, r = n.X, n.Y
			}
			b.WriteString("(! ")
			ok := writeShow(b, &ast.Binary{X: l, Op: token.LSS, Y: r})
			b.WriteByte(')')
			return ok
		}
		return infix(n.Op.String(), n.X, n.Y)
	case *ast.Select:
		b.WriteByte('(')
		ok := writeShow(b, n.X)
		b.WriteString(").")
		ok = writeAttrPath(b, n.Path) && ok
		if n.Default != nil {
			b.WriteString(" or (")
			ok = writeShow(b, n.Default) && ok
			b.WriteByte(')')
		}
		return ok
	case *ast.HasAttr:
		b.WriteString("((")
		ok := writeShow(b, n.X)
		b.WriteString(") ? ")
		ok = writeAttrPath(b, n.Path) && ok
		b.WriteByte(')')
		return ok
	case *ast.Lambda:
		if n.Formals != nil {
			return false
		}
		b.WriteString("(" + n.Param.Name + ": ")
		ok := writeShow(b, n.Body)
		b.WriteByte(')')
		return ok
	case *ast.If:
		b.WriteString("(if ")
		ok := writeShow(b, n.Cond)
		b.WriteString(" then ")
		ok = writeShow(b, n.Then) && ok
		b.WriteString(" else ")
		ok = writeShow(b, n.Else) && ok
		b.WriteByte(')')
		return ok
	case *ast.With:
		b.WriteString("(with ")
		ok := writeShow(b, n.Scope)
		b.WriteString("; ")
		ok = writeShow(b, n.Body) && ok
		b.WriteByte(')')
		return ok
	case *ast.Assert:
		b.WriteString("assert ")
		ok := writeShow(b, n.Cond)
		b.WriteString("; ")
		return writeShow(b, n.Body) && ok
	default:
		fmt.Fprintf(b, "<%T>", n)
		return false
	}
	return true
}

func writeAttrPath(b *strings.Builder, path []ast.Expr) bool {
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		id, ok := p.(*ast.Ident)
		if !ok {
			return false
		}
		b.WriteString(id.Name)
	}
	return true
}

// TestOracleNormalForm compares the tree shape, not just accept/reject:
// for generated operator expressions, nixShow of our tree must equal Nix's
// own --parse output byte for byte. This pins precedence, associativity,
// select/or, application merging and the prefix forms against Nix.
func TestOracleNormalForm(t *testing.T) {
	g := nixgen.New(777)
	files := writePrograms(t, t.TempDir(), 800, g.Operators)
	nix := testreqNix(t)
	verdicts, err := runOracle(t.Context(), nix, files)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	compared, mismatches := 0, 0
	for i, name := range files {
		v := verdicts[i]
		if v.kind != nixAccepted {
			continue
		}
		src := readFile(t, name)
		f, err := ParseFile(name, src)
		if err != nil {
			t.Errorf("%s: nix accepted, we rejected: %v\n%s", name, err, src)
			continue
		}
		got, ok := nixShow(f.Expr)
		if !ok {
			t.Errorf("%s: nixShow does not cover %s", name, got)
			continue
		}
		compared++
		if got != v.show {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("normal form differs\nsource: %s\n   nix: %s\n  ours: %s", src, v.show, got)
			}
		}
	}
	t.Logf("compared %d normal forms, %d differ", compared, mismatches)
	if compared < 400 {
		t.Errorf("only %d of %d programs compared; the generator drifted", compared, len(files))
	}
}
