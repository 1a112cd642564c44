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
	walkChildren(v, node)
	v.Visit(nil)
}

// walkChildren walks the direct children of node in source order, skipping
// absent optional parts. It builds no list of them: the walker runs over
// every tree the extractor reads, and a slice per node was a tenth of the
// allocation of a whole `units` run.
func walkChildren(v Visitor, node Node) {
	switch n := node.(type) {
	case *File:
		walkIf(v, n.Expr)
	case *String:
		walkExprs(v, n.Parts)
	case *Interp:
		walkIf(v, n.X)
	case *Path:
		walkExprs(v, n.Parts)
	case *List:
		walkExprs(v, n.Elems)
	case *AttrSet:
		walkBindings(v, n.Bindings)
	case *LegacyLet:
		walkBindings(v, n.Bindings)
	case *Let:
		walkBindings(v, n.Bindings)
		walkIf(v, n.Body)
	case *With:
		walkIf(v, n.Scope)
		walkIf(v, n.Body)
	case *Assert:
		walkIf(v, n.Cond)
		walkIf(v, n.Body)
	case *If:
		walkIf(v, n.Cond)
		walkIf(v, n.Then)
		walkIf(v, n.Else)
	case *Lambda:
		walkLambda(v, n)
	case *Formals:
		for _, f := range n.List {
			Walk(v, f)
		}
	case *Formal:
		Walk(v, n.Name)
		walkIf(v, n.Default)
	case *Call:
		walkIf(v, n.Fun)
		walkExprs(v, n.Args)
	case *Select:
		walkIf(v, n.X)
		walkExprs(v, n.Path)
		walkIf(v, n.Default)
	case *HasAttr:
		walkIf(v, n.X)
		walkExprs(v, n.Path)
	case *Unary:
		walkIf(v, n.X)
	case *Binary:
		walkIf(v, n.X)
		walkIf(v, n.Y)
	case *Paren:
		walkIf(v, n.X)
	case *Attr:
		walkExprs(v, n.Path)
		walkIf(v, n.Value)
	case *Inherit:
		walkIf(v, n.From)
		walkExprs(v, n.Names)
	}
	// Leaves (Ident, Int, Float, Text, SearchPath, URI, Comment) have none.
}

// walkLambda visits the parameter where the source writes it: `x @ { … }`
// before the formals, `{ … } @ x` after them.
func walkLambda(v Visitor, n *Lambda) {
	paramFirst := n.Formals == nil || n.Formals.BinderLeft
	if n.Param != nil && paramFirst {
		Walk(v, n.Param)
	}
	if n.Formals != nil {
		Walk(v, n.Formals)
	}
	if n.Param != nil && !paramFirst {
		Walk(v, n.Param)
	}
	walkIf(v, n.Body)
}

// walkIf walks an interface-typed child unless it is absent (nil).
func walkIf(v Visitor, node Node) {
	if node != nil {
		Walk(v, node)
	}
}

func walkExprs(v Visitor, list []Expr) {
	for _, x := range list {
		walkIf(v, x)
	}
}

func walkBindings(v Visitor, list []Binding) {
	for _, b := range list {
		walkIf(v, b)
	}
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
