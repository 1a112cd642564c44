package eval

import (
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// maxRender bounds the length of an expression quoted in a message.
const maxRender = 60

// Render prints an expression in short Nix syntax for messages: names,
// selections, strings with their ${…} parts, calls with their function.
func Render(e ast.Node) string {
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
