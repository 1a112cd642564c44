package declared

import (
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// maxRender bounds the length of an expression quoted in a message.
const maxRender = 60

// render prints an expression in short Nix syntax for messages: names,
// selections, strings with their ${…} parts, calls with their function.
func render(e ast.Node) string {
	var b strings.Builder
	renderTo(&b, e, 0)
	s := b.String()
	if len(s) > maxRender {
		s = s[:maxRender] + "…"
	}
	return s
}

func renderTo(b *strings.Builder, e ast.Node, depth int) {
	if depth > 8 || b.Len() > maxRender {
		b.WriteString("…")
		return
	}
	switch x := e.(type) {
	case *ast.Ident:
		b.WriteString(x.Name)
	case *ast.Int:
		b.WriteString(strconv.FormatInt(x.Value, 10))
	case *ast.String:
		b.WriteByte('"')
		for _, p := range x.Parts {
			renderTo(b, p, depth+1)
		}
		b.WriteByte('"')
	case *ast.Text:
		// Quoted as Go does, so that control characters from the source
		// never reach a message raw.
		q := strconv.Quote(x.Value)
		b.WriteString(q[1 : len(q)-1])
	case *ast.Interp:
		b.WriteString("${")
		renderTo(b, x.X, depth+1)
		b.WriteString("}")
	case *ast.Select:
		renderTo(b, x.X, depth+1)
		for _, p := range x.Path {
			b.WriteByte('.')
			renderTo(b, p, depth+1)
		}
	case *ast.Paren:
		b.WriteByte('(')
		renderTo(b, x.X, depth+1)
		b.WriteByte(')')
	case *ast.Call:
		renderTo(b, x.Fun, depth+1)
		b.WriteString(" …")
	case *ast.Binary:
		renderTo(b, x.X, depth+1)
		b.WriteString(" " + x.Op.String() + " ")
		renderTo(b, x.Y, depth+1)
	case *ast.Unary:
		b.WriteString(x.Op.String())
		renderTo(b, x.X, depth+1)
	case *ast.HasAttr:
		renderTo(b, x.X, depth+1)
		b.WriteString(" ? …")
	case *ast.AttrSet:
		b.WriteString("{ … }")
	case *ast.List:
		b.WriteString("[ … ]")
	case *ast.Lambda:
		b.WriteString("<function>")
	case *ast.Let:
		b.WriteString("let … in …")
	case *ast.If:
		b.WriteString("if … then … else …")
	default:
		b.WriteString("…")
	}
}

// inspect walks the tree depth-first, like go/ast.Inspect: f returns false
// to skip a node's children.
func inspect(n ast.Node, f func(ast.Node) bool) {
	if n == nil || !f(n) {
		return
	}
	each := func(es []ast.Expr) {
		for _, e := range es {
			inspect(e, f)
		}
	}
	bindings := func(bs []ast.Binding) {
		for _, b := range bs {
			inspect(b, f)
		}
	}
	switch x := n.(type) {
	case *ast.String:
		each(x.Parts)
	case *ast.Path:
		each(x.Parts)
	case *ast.Interp:
		inspect(x.X, f)
	case *ast.List:
		each(x.Elems)
	case *ast.AttrSet:
		bindings(x.Bindings)
	case *ast.LegacyLet:
		bindings(x.Bindings)
	case *ast.Let:
		bindings(x.Bindings)
		inspect(x.Body, f)
	case *ast.With:
		inspect(x.Scope, f)
		inspect(x.Body, f)
	case *ast.Assert:
		inspect(x.Cond, f)
		inspect(x.Body, f)
	case *ast.If:
		inspect(x.Cond, f)
		inspect(x.Then, f)
		inspect(x.Else, f)
	case *ast.Lambda:
		if x.Formals != nil {
			for _, fm := range x.Formals.List {
				if fm.Default != nil {
					inspect(fm.Default, f)
				}
			}
		}
		inspect(x.Body, f)
	case *ast.Call:
		inspect(x.Fun, f)
		each(x.Args)
	case *ast.Select:
		inspect(x.X, f)
		each(x.Path)
		if x.Default != nil {
			inspect(x.Default, f)
		}
	case *ast.HasAttr:
		inspect(x.X, f)
		each(x.Path)
	case *ast.Unary:
		inspect(x.X, f)
	case *ast.Binary:
		inspect(x.X, f)
		inspect(x.Y, f)
	case *ast.Paren:
		inspect(x.X, f)
	case *ast.Attr:
		each(x.Path)
		inspect(x.Value, f)
	case *ast.Inherit:
		if x.From != nil {
			inspect(x.From, f)
		}
		each(x.Names)
	}
}
