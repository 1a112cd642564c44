// Package ast declares the types used to represent Nix syntax trees, in the
// manner of go/ast. Every node carries the position of its first byte and
// of the byte after it, as byte offsets (token.Pos); the file's line table
// (File.Lines) turns them into file:line:col.
package ast

import "github.com/driftcheck/driftcheck/internal/nix/token"

// Node is any node of the tree.
type Node interface {
	Pos() token.Pos // first byte of the node
	End() token.Pos // first byte after the node
}

// Expr is a Nix expression.
type Expr interface {
	Node
	exprNode()
}

// Binding is one entry of an attribute set or let block: *Attr or *Inherit.
type Binding interface {
	Node
	bindingNode()
}

// File is a parsed Nix source file.
type File struct {
	Name     string
	Expr     Expr
	Comments []*Comment
	EOF      token.Pos
	Lines    *token.File // where the lines start: positions to line:col
}

// Position resolves a position in the file to file:line:col.
func (f *File) Position(p token.Pos) token.Position { return f.Lines.Position(p) }

// Comment is a # line comment or a /* */ block comment, kept as trivia.
type Comment struct {
	Slash token.Pos
	Text  string // including the comment markers
	EndP  token.Pos
}

func (c *Comment) Pos() token.Pos { return c.Slash }
func (c *Comment) End() token.Pos { return c.EndP }

type (
	// Ident is a variable reference or an attribute name (foo, or, __curPos).
	Ident struct {
		NamePos token.Pos
		Name    string
		EndP    token.Pos
	}

	// Int is an integer literal.
	Int struct {
		ValuePos token.Pos
		Lit      string
		Value    int64
		EndP     token.Pos
	}

	// Float is a floating-point literal.
	Float struct {
		ValuePos token.Pos
		Lit      string
		Value    float64
		EndP     token.Pos
	}

	// String is a "…" or ''…'' string. Parts alternate between *Text and
	// *Interp in source order; adjacent text is merged. Text values are
	// cooked: escapes resolved and, for indented strings, indentation
	// stripped exactly as Nix does.
	String struct {
		OpenPos  token.Pos
		Indented bool
		Parts    []Expr // *Text or *Interp
		EndP     token.Pos
	}

	// Text is a literal piece of a string or path.
	Text struct {
		ValuePos token.Pos
		Value    string
		EndP     token.Pos
	}

	// Interp is ${X} inside a string, a path, or an attribute name.
	Interp struct {
		Dollar token.Pos
		X      Expr
		EndP   token.Pos
	}

	// Path is a path literal: ./a, /a, ~/a, ./${x}.nix. Parts holds *Text and
	// *Interp; a path without interpolation has a single *Text.
	Path struct {
		ValuePos token.Pos
		Parts    []Expr
		EndP     token.Pos
	}

	// SearchPath is <nixpkgs> or <nixpkgs/lib>; Value excludes the brackets.
	SearchPath struct {
		ValuePos token.Pos
		Value    string
		EndP     token.Pos
	}

	// URI is an unquoted URI literal such as https://example.org/x.
	URI struct {
		ValuePos token.Pos
		Value    string
		EndP     token.Pos
	}

	// List is [ a b c ].
	List struct {
		Lbrack token.Pos
		Elems  []Expr
		EndP   token.Pos
	}

	// AttrSet is { … } or rec { … }.
	AttrSet struct {
		RecPos   token.Pos // position of "rec", or the zero Pos
		Lbrace   token.Pos
		Bindings []Binding
		EndP     token.Pos
	}

	// LegacyLet is the deprecated `let { …; body = e; }` form.
	LegacyLet struct {
		LetPos   token.Pos
		Bindings []Binding
		EndP     token.Pos
	}

	// Let is let bindings in body.
	Let struct {
		LetPos   token.Pos
		Bindings []Binding
		Body     Expr
	}

	// With is with scope; body.
	With struct {
		WithPos token.Pos
		Scope   Expr
		Body    Expr
	}

	// Assert is assert cond; body.
	Assert struct {
		AssertPos token.Pos
		Cond      Expr
		Body      Expr
	}

	// If is if cond then a else b.
	If struct {
		IfPos token.Pos
		Cond  Expr
		Then  Expr
		Else  Expr
	}

	// Lambda is x: body, { a, b ? d, ... }: body, or either with an @ binder.
	// Exactly one of Param and Formals is set, or both when an @ binder is
	// used (Param is then the binder).
	Lambda struct {
		StartPos token.Pos
		Param    *Ident
		Formals  *Formals
		Body     Expr
	}

	// Call is function application; Nix application is left-associative, and
	// f a b is represented as one Call with Args [a b].
	Call struct {
		Fun  Expr
		Args []Expr
	}

	// Select is X.a.b or X.a.b or Default. Path elements are *Ident,
	// *String or *Interp.
	Select struct {
		X       Expr
		Path    []Expr
		Default Expr // nil without "or"
		EndP    token.Pos
	}

	// HasAttr is X ? a.b.
	HasAttr struct {
		X    Expr
		Path []Expr
		EndP token.Pos
	}

	// Unary is !X or -X.
	Unary struct {
		OpPos token.Pos
		Op    token.Token // NOT or SUB
		X     Expr
	}

	// Binary is X op Y for every infix operator.
	Binary struct {
		X     Expr
		OpPos token.Pos
		Op    token.Token
		Y     Expr
	}

	// Paren is ( X ).
	Paren struct {
		Lparen token.Pos
		X      Expr
		EndP   token.Pos
	}
)

// Formals is the { a, b ? d, ... } pattern of a lambda.
type Formals struct {
	Lbrace     token.Pos
	List       []*Formal
	Ellipsis   bool
	EndP       token.Pos
	BinderLeft bool // true for x @ { … }, false for { … } @ x
}

func (f *Formals) Pos() token.Pos { return f.Lbrace }
func (f *Formals) End() token.Pos { return f.EndP }

// Formal is one parameter of a pattern, with an optional default.
type Formal struct {
	Name    *Ident
	Default Expr // nil without "?"
}

func (f *Formal) Pos() token.Pos { return f.Name.Pos() }
func (f *Formal) End() token.Pos {
	if f.Default != nil {
		return f.Default.End()
	}
	return f.Name.End()
}

// Attr is path = value; inside a set or let. Path elements are *Ident,
// *String or *Interp.
type Attr struct {
	Path  []Expr
	Value Expr
	EndP  token.Pos // after the semicolon
}

// Inherit is inherit a b; or inherit (from) a b;. Names are *Ident or *String
// (or *Interp, which Nix rejects in inherit; the parser reports it).
type Inherit struct {
	InheritPos token.Pos
	From       Expr // nil for plain inherit
	Names      []Expr
	EndP       token.Pos
}

func (a *Attr) Pos() token.Pos    { return a.Path[0].Pos() }
func (a *Attr) End() token.Pos    { return a.EndP }
func (i *Inherit) Pos() token.Pos { return i.InheritPos }
func (i *Inherit) End() token.Pos { return i.EndP }
func (*Attr) bindingNode()        {}
func (*Inherit) bindingNode()     {}

func (x *Ident) Pos() token.Pos      { return x.NamePos }
func (x *Int) Pos() token.Pos        { return x.ValuePos }
func (x *Float) Pos() token.Pos      { return x.ValuePos }
func (x *String) Pos() token.Pos     { return x.OpenPos }
func (x *Text) Pos() token.Pos       { return x.ValuePos }
func (x *Interp) Pos() token.Pos     { return x.Dollar }
func (x *Path) Pos() token.Pos       { return x.ValuePos }
func (x *SearchPath) Pos() token.Pos { return x.ValuePos }
func (x *URI) Pos() token.Pos        { return x.ValuePos }
func (x *List) Pos() token.Pos       { return x.Lbrack }
func (x *AttrSet) Pos() token.Pos {
	if x.RecPos.IsValid() {
		return x.RecPos
	}
	return x.Lbrace
}
func (x *LegacyLet) Pos() token.Pos { return x.LetPos }
func (x *Let) Pos() token.Pos       { return x.LetPos }
func (x *With) Pos() token.Pos      { return x.WithPos }
func (x *Assert) Pos() token.Pos    { return x.AssertPos }
func (x *If) Pos() token.Pos        { return x.IfPos }
func (x *Lambda) Pos() token.Pos    { return x.StartPos }
func (x *Call) Pos() token.Pos      { return x.Fun.Pos() }
func (x *Select) Pos() token.Pos    { return x.X.Pos() }
func (x *HasAttr) Pos() token.Pos   { return x.X.Pos() }
func (x *Unary) Pos() token.Pos     { return x.OpPos }
func (x *Binary) Pos() token.Pos    { return x.X.Pos() }
func (x *Paren) Pos() token.Pos     { return x.Lparen }

func (x *Ident) End() token.Pos      { return x.EndP }
func (x *Int) End() token.Pos        { return x.EndP }
func (x *Float) End() token.Pos      { return x.EndP }
func (x *String) End() token.Pos     { return x.EndP }
func (x *Text) End() token.Pos       { return x.EndP }
func (x *Interp) End() token.Pos     { return x.EndP }
func (x *Path) End() token.Pos       { return x.EndP }
func (x *SearchPath) End() token.Pos { return x.EndP }
func (x *URI) End() token.Pos        { return x.EndP }
func (x *List) End() token.Pos       { return x.EndP }
func (x *AttrSet) End() token.Pos    { return x.EndP }
func (x *LegacyLet) End() token.Pos  { return x.EndP }
func (x *Let) End() token.Pos        { return x.Body.End() }
func (x *With) End() token.Pos       { return x.Body.End() }
func (x *Assert) End() token.Pos     { return x.Body.End() }
func (x *If) End() token.Pos         { return x.Else.End() }
func (x *Lambda) End() token.Pos     { return x.Body.End() }
func (x *Call) End() token.Pos       { return x.Args[len(x.Args)-1].End() }
func (x *Select) End() token.Pos     { return x.EndP }
func (x *HasAttr) End() token.Pos    { return x.EndP }
func (x *Unary) End() token.Pos      { return x.X.End() }
func (x *Binary) End() token.Pos     { return x.Y.End() }
func (x *Paren) End() token.Pos      { return x.EndP }

func (*Ident) exprNode()      {}
func (*Int) exprNode()        {}
func (*Float) exprNode()      {}
func (*String) exprNode()     {}
func (*Text) exprNode()       {}
func (*Interp) exprNode()     {}
func (*Path) exprNode()       {}
func (*SearchPath) exprNode() {}
func (*URI) exprNode()        {}
func (*List) exprNode()       {}
func (*AttrSet) exprNode()    {}
func (*LegacyLet) exprNode()  {}
func (*Let) exprNode()        {}
func (*With) exprNode()       {}
func (*Assert) exprNode()     {}
func (*If) exprNode()         {}
func (*Lambda) exprNode()     {}
func (*Call) exprNode()       {}
func (*Select) exprNode()     {}
func (*HasAttr) exprNode()    {}
func (*Unary) exprNode()      {}
func (*Binary) exprNode()     {}
func (*Paren) exprNode()      {}
