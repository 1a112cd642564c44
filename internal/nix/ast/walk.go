package ast

import "github.com/driftcheck/driftcheck/internal/nix/token"

// A Visitor's Visit method is invoked for each node encountered by Walk. If
// the result visitor w is not nil, Walk visits each of the children of node
// with w, followed by a call of w.Visit(nil).
type Visitor interface {
	Visit(node Node) (w Visitor)
}

// Walk traverses a syntax tree in depth-first order, as go/ast.Walk does:
// it calls v.Visit(node), and unless that returns nil, walks the children
// of node in source order and then calls w.Visit(nil). Comments are not
// visited; they are in File.Comments.
func Walk(v Visitor, node Node) {
	if v = v.Visit(node); v == nil {
		return
	}
	for _, child := range children(node) {
		if child != nil {
			Walk(v, child)
		}
	}
	v.Visit(nil)
}

// children returns the direct children of node in source order. Nil
// entries (absent optional parts) are skipped by Walk.
func children(node Node) []Node {
	switch n := node.(type) {
	case *File:
		return []Node{n.Expr}
	case *String:
		return exprs(n.Parts)
	case *Interp:
		return []Node{n.X}
	case *Path:
		return exprs(n.Parts)
	case *List:
		return exprs(n.Elems)
	case *AttrSet:
		return bindings(n.Bindings)
	case *LegacyLet:
		return bindings(n.Bindings)
	case *Let:
		return append(bindings(n.Bindings), n.Body)
	case *With:
		return []Node{n.Scope, n.Body}
	case *Assert:
		return []Node{n.Cond, n.Body}
	case *If:
		return []Node{n.Cond, n.Then, n.Else}
	case *Lambda:
		var out []Node
		if n.Param != nil && (n.Formals == nil || n.Formals.BinderLeft) {
			out = append(out, n.Param)
		}
		if n.Formals != nil {
			out = append(out, n.Formals)
		}
		if n.Param != nil && n.Formals != nil && !n.Formals.BinderLeft {
			out = append(out, n.Param)
		}
		return append(out, n.Body)
	case *Formals:
		out := make([]Node, 0, len(n.List))
		for _, f := range n.List {
			out = append(out, f)
		}
		return out
	case *Formal:
		if n.Default == nil {
			return []Node{n.Name}
		}
		return []Node{n.Name, n.Default}
	case *Call:
		return append([]Node{n.Fun}, exprs(n.Args)...)
	case *Select:
		out := append([]Node{n.X}, exprs(n.Path)...)
		if n.Default != nil {
			out = append(out, n.Default)
		}
		return out
	case *HasAttr:
		return append([]Node{n.X}, exprs(n.Path)...)
	case *Unary:
		return []Node{n.X}
	case *Binary:
		return []Node{n.X, n.Y}
	case *Paren:
		return []Node{n.X}
	case *Attr:
		return append(exprs(n.Path), n.Value)
	case *Inherit:
		var out []Node
		if n.From != nil {
			out = append(out, n.From)
		}
		return append(out, exprs(n.Names)...)
	}
	return nil // leaves: Ident, Int, Float, Text, SearchPath, URI, Comment
}

func exprs(list []Expr) []Node {
	out := make([]Node, 0, len(list))
	for _, x := range list {
		out = append(out, x)
	}
	return out
}

func bindings(list []Binding) []Node {
	out := make([]Node, 0, len(list)+1)
	for _, b := range list {
		out = append(out, b)
	}
	return out
}

type inspector func(Node) bool

func (f inspector) Visit(node Node) Visitor {
	if f(node) {
		return f
	}
	return nil
}

// Inspect traverses a syntax tree in depth-first order, calling f(node) for
// each node; if f returns true, Inspect visits the children of node, and
// then calls f(nil).
func Inspect(node Node, f func(Node) bool) {
	Walk(inspector(f), node)
}

// Pos returns the position of the file's expression.
func (f *File) Pos() token.Pos {
	if f.Expr == nil {
		return token.NoPos
	}
	return f.Expr.Pos()
}

// End returns the position after the file's expression.
func (f *File) End() token.Pos {
	if f.Expr == nil {
		return f.EOF
	}
	return f.Expr.End()
}
