package parser

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// sexpr renders an expression as a compact S-expression so tests can state
// tree shapes, precedence and cooked values in one line. Parentheses from
// the source are transparent.
func sexpr(x ast.Node) string {
	var b strings.Builder
	writeSexpr(&b, x)
	return b.String()
}

func writeSexpr(b *strings.Builder, x ast.Node) {
	list := func(head string, nodes ...ast.Node) {
		b.WriteString("(" + head)
		for _, n := range nodes {
			b.WriteByte(' ')
			writeSexpr(b, n)
		}
		b.WriteByte(')')
	}
	switch n := x.(type) {
	case *ast.Ident:
		b.WriteString(n.Name)
	case *ast.Int:
		b.WriteString(strconv.FormatInt(n.Value, 10))
	case *ast.Float:
		b.WriteString(strconv.FormatFloat(n.Value, 'g', -1, 64) + "f")
	case *ast.Text:
		b.WriteString(strconv.Quote(n.Value))
	case *ast.String:
		head := "str"
		if n.Indented {
			head = "istr"
		}
		list(head, exprNodes(n.Parts)...)
	case *ast.Interp:
		list("$", n.X)
	case *ast.Path:
		list("path", exprNodes(n.Parts)...)
	case *ast.SearchPath:
		b.WriteString("<" + n.Value + ">")
	case *ast.URI:
		list("uri " + strconv.Quote(n.Value))
	case *ast.List:
		list("list", exprNodes(n.Elems)...)
	case *ast.AttrSet:
		head := "set"
		if n.RecPos.IsValid() {
			head = "rec"
		}
		list(head, bindingNodes(n.Bindings)...)
	case *ast.LegacyLet:
		list("letset", bindingNodes(n.Bindings)...)
	case *ast.Let:
		list("let", append(bindingNodes(n.Bindings), n.Body)...)
	case *ast.With:
		list("with", n.Scope, n.Body)
	case *ast.Assert:
		list("assert", n.Cond, n.Body)
	case *ast.If:
		list("if", n.Cond, n.Then, n.Else)
	case *ast.Lambda:
		b.WriteString("(fn ")
		if n.Param != nil && (n.Formals == nil || n.Formals.BinderLeft) {
			b.WriteString(n.Param.Name)
			if n.Formals != nil {
				b.WriteByte('@')
			}
		}
		if n.Formals != nil {
			b.WriteByte('{')
			for i, f := range n.Formals.List {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(f.Name.Name)
				if f.Default != nil {
					b.WriteByte('?')
					writeSexpr(b, f.Default)
				}
			}
			if n.Formals.Ellipsis {
				if len(n.Formals.List) > 0 {
					b.WriteByte(' ')
				}
				b.WriteString("...")
			}
			b.WriteByte('}')
			if n.Param != nil && !n.Formals.BinderLeft {
				b.WriteString("@" + n.Param.Name)
			}
		}
		b.WriteByte(' ')
		writeSexpr(b, n.Body)
		b.WriteByte(')')
	case *ast.Call:
		list("call", append([]ast.Node{n.Fun}, exprNodes(n.Args)...)...)
	case *ast.Select:
		nodes := append([]ast.Node{n.X}, exprNodes(n.Path)...)
		if n.Default != nil {
			list(".", append(nodes, &orMarker{}, n.Default)...)
		} else {
			list(".", nodes...)
		}
	case *ast.HasAttr:
		list("?", append([]ast.Node{n.X}, exprNodes(n.Path)...)...)
	case *ast.Unary:
		op := "!"
		if n.Op.String() == "-" {
			op = "neg"
		}
		list(op, n.X)
	case *ast.Binary:
		list(n.Op.String(), n.X, n.Y)
	case *ast.Paren:
		writeSexpr(b, n.X)
	case *ast.Attr:
		var path []string
		for _, p := range n.Path {
			path = append(path, sexpr(p))
		}
		list("= "+strings.Join(path, "."), n.Value)
	case *ast.Inherit:
		nodes := exprNodes(n.Names)
		if n.From != nil {
			list("inherit-from", append([]ast.Node{n.From}, nodes...)...)
		} else {
			list("inherit", nodes...)
		}
	case *orMarker:
		b.WriteString("or")
	default:
		fmt.Fprintf(b, "<%T>", x)
	}
}

// orMarker prints the "or" keyword inside a select.
type orMarker struct{ ast.Ident }

func exprNodes(list []ast.Expr) []ast.Node {
	out := make([]ast.Node, len(list))
	for i, x := range list {
		out[i] = x
	}
	return out
}

func bindingNodes(list []ast.Binding) []ast.Node {
	out := make([]ast.Node, len(list))
	for i, x := range list {
		out[i] = x
	}
	return out
}
