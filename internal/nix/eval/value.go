package eval

import (
	"path"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Kind classifies what the evaluator knows about a value.
type Kind uint8

const (
	Unknown Kind = iota // not statically known; Value.Why says what it depends on
	Set                 // an attribute set with (mostly) known keys
	String
	Bool
	Int
	List
	Lambda
	Builtin // a function known by name (Value.Name), or a namespace of them (Name "")
	Scalar  // a known value that is not an attribute set, whose content is not known
	Null
	Path // a path literal resolved against its file (only when the evaluator has Files)
)

// Value is the evaluator's view of a Nix value. A single Nix expression can
// stand for several values at once (if-then-else on an undecided
// condition, //), so evaluation returns a slice of them.
type Value struct {
	Kind Kind
	// Cond is true when the value only applies under a condition the
	// evaluator cannot decide (if-then-else, or a Layer's conditions).
	Cond bool
	// Vanish is true when that condition can remove the value altogether
	// (a Layer's mkIf), unlike if-then-else, whose branches both exist.
	Vanish bool

	Boolean bool     // Bool
	Str     string   // String; Path: the file path, slash-separated
	Integer int64    // Int
	Entries []Entry  // Set
	Elems   []*Thunk // List
	Fn      *ast.Lambda
	Closure *Env     // Lambda
	Name    string   // Builtin: function name, "" for a namespace
	Args    []*Thunk // Builtin: arguments applied so far
	Why     string   // Unknown: what the value depends on
	At      ast.Node // Unknown: the expression that could not be read

	// Meta is the Layer's annotation (nil without a Layer). The evaluator
	// combines it with Layer.Enclose and Layer.Join, never reads it.
	Meta any
}

// Entry is one attribute of a set. An attribute written with a path
// (a.b.c = v) is kept as key "a" with Rest [b c], so that definitions of the
// same attribute in several places stay separate and keep their positions.
type Entry struct {
	Key     string
	Dynamic bool // the key is ${…} that could not be resolved
	// Cond: the key is one of several names a ${…} can take, or may name
	// nothing: the attribute may not exist under this name.
	Cond    bool
	Meta    any      // the Layer's annotation of the values that named the key
	Why     any      // Dynamic: Layer.Cause of the values that kept the key unknown
	KeyNode ast.Expr // the path element naming the key
	Pos     token.Pos
	Rest    []ast.Expr
	Env     *Env // scope of the Rest keys and of Val
	Val     *Thunk
}

// Thunk is a delayed expression, or values already computed. An expression
// is evaluated at most once.
type Thunk struct {
	Expr  ast.Expr
	Env   *Env
	fixed []Value
	done  bool
}

// Fixed returns the thunk's values when it has been forced (or was
// built with them), without evaluating anything.
func (t *Thunk) Fixed() ([]Value, bool) { return t.fixed, t.done }

// Computed is a thunk holding values already known.
func Computed(vs []Value) *Thunk { return &Thunk{fixed: vs, done: true} }

// Delay is a thunk of expr in env, evaluated when forced.
func Delay(expr ast.Expr, env *Env) *Thunk { return &Thunk{Expr: expr, Env: env} }

// Evaluated is a thunk that keeps expr (for its position) with its values
// already known.
func Evaluated(expr ast.Expr, env *Env, vs []Value) *Thunk {
	return &Thunk{Expr: expr, Env: env, fixed: vs, done: true}
}

// Source is a file whose expressions the evaluator reads. Path is how the
// caller names it (inside a repository or revision, slash-separated); it
// resolves the relative paths written in the file.
type Source struct {
	Path string
	AST  *ast.File
}

// Env is a lexical scope. with-scopes are kept separately because Nix looks
// them up only after every lexical binding failed.
type Env struct {
	parent *Env
	names  map[string][]Entry
	with   *Thunk
	source *Source
}

// NewEnv is an empty scope inside parent (nil: the top of a file without a
// Source).
func NewEnv(parent *Env) *Env {
	return &Env{parent: parent, names: map[string][]Entry{}, source: parent.Source()}
}

// FileEnv is the top scope of a file: relative paths resolve against src.
func FileEnv(src *Source) *Env { return &Env{source: src} }

func withEnv(parent *Env, scope *Thunk) *Env {
	return &Env{parent: parent, with: scope, source: parent.Source()}
}

// Source is the file the scope belongs to, nil when not known.
func (e *Env) Source() *Source {
	if e == nil {
		return nil
	}
	return e.source
}

// Bind adds a binding of name to the scope.
func (e *Env) Bind(name string, es ...Entry) { e.names[name] = append(e.names[name], es...) }

// Lookup finds the lexical bindings of name, innermost scope first.
func (e *Env) Lookup(name string) ([]Entry, bool) {
	for s := e; s != nil; s = s.parent {
		if s.names == nil {
			continue
		}
		if es, ok := s.names[name]; ok {
			return es, true
		}
	}
	return nil, false
}

// dir is the directory relative paths resolve against, "" when unknown.
func (e *Env) dir() (string, bool) {
	src := e.Source()
	if src == nil || src.Path == "" {
		return "", false
	}
	return path.Dir(src.Path), true
}

// NewUnknown is a value that cannot be read statically.
func NewUnknown(at ast.Node, why string) Value {
	return Value{Kind: Unknown, At: at, Why: why}
}

// MarkConditional marks values that apply only under an undecided condition.
func MarkConditional(vs []Value) []Value {
	out := make([]Value, len(vs))
	for i, v := range vs {
		v.Cond = true
		out[i] = v
	}
	return out
}

// MarkVanishing marks values that an undecided condition may remove.
func MarkVanishing(vs []Value) []Value {
	out := MarkConditional(vs)
	for i := range out {
		out[i].Vanish = true
	}
	return out
}
