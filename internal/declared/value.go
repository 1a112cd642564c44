package declared

import (
	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// kind classifies what the partial evaluator knows about a value.
type kind int

const (
	kindUnknown kind = iota // not statically known; why says what it depends on
	kindSet                 // an attribute set with (mostly) known keys
	kindString
	kindBool
	kindInt
	kindList
	kindLambda
	kindLib    // a nixpkgs lib / builtins function (lib != "") or namespace
	kindScalar // a known non-attrset value whose content is not known
	kindNull
)

// Priorities as lib.modules assigns them; lower wins.
const (
	prioForce         = 50
	prioNormal        = 100
	prioDefault       = 1000
	prioOptionDefault = 1500
)

// value is the partial evaluator's view of a Nix value. A single Nix
// expression can stand for several values at once (mkMerge, if-then-else,
// //), so evaluation returns a slice of them.
type value struct {
	kind kind
	// cond is true when the value only applies under a condition the
	// extractor cannot decide (mkIf, optionalAttrs, if-then-else).
	cond bool
	// vanish is true when the condition can remove the definition
	// altogether (mkIf, optionalAttrs), unlike if-then-else, whose
	// branches both define it.
	vanish bool
	// prio is the module-system priority set by mkOverride and friends, 0
	// when none was applied (which means prioNormal).
	prio int

	entries []entry  // kindSet
	str     string   // kindString
	boolean bool     // kindBool
	integer int64    // kindInt
	list    []*thunk // kindList
	lambda  *ast.Lambda
	env     *env     // kindLambda: closure
	lib     string   // kindLib: function name, "" for a namespace
	args    []*thunk // kindLib: arguments applied so far
	why     string   // kindUnknown: what the value depends on
	at      ast.Node // kindUnknown: the expression that could not be read
}

// entry is one attribute of a set. An attribute written with a path
// (a.b.c = v) is kept as key "a" with rest [b c], so that definitions of the
// same attribute in several places stay separate and keep their positions.
type entry struct {
	key     string
	dynamic bool     // the key is ${…} that could not be resolved
	keyNode ast.Expr // the path element naming the key
	pos     token.Pos
	rest    []ast.Expr
	env     *env // scope of the rest keys
	val     *thunk
}

// thunk is a delayed expression, or a value already computed (done). An
// expression is evaluated at most once.
type thunk struct {
	expr  ast.Expr
	env   *env
	fixed []value
	done  bool
}

// computed is a thunk holding values already known.
func computed(vs []value) *thunk { return &thunk{fixed: vs, done: true} }

// env is a lexical scope. with-scopes are kept separately because Nix looks
// them up only after every lexical binding failed.
type env struct {
	parent *env
	names  map[string][]entry
	with   *thunk
}

func (e *env) lookup(name string) ([]entry, bool) {
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

func unknown(at ast.Node, why string) value {
	return value{kind: kindUnknown, at: at, why: why}
}

func (v value) priority() int {
	if v.prio == 0 {
		return prioNormal
	}
	return v.prio
}

// under returns v as seen through an enclosing value: conditions add up and
// the outermost priority wins, as lib.modules pushes overrides down.
func (v value) under(parent value) value {
	v.cond = v.cond || parent.cond
	v.vanish = v.vanish || parent.vanish
	if parent.prio != 0 {
		v.prio = parent.prio
	}
	return v
}

func underAll(vs []value, parent value) []value {
	out := make([]value, len(vs))
	for i, v := range vs {
		out[i] = v.under(parent)
	}
	return out
}

func markConditional(vs []value) []value {
	out := make([]value, len(vs))
	for i, v := range vs {
		v.cond = true
		out[i] = v
	}
	return out
}

// markVanishing marks values that an undecided mkIf or optionalAttrs may
// remove.
func markVanishing(vs []value) []value {
	out := markConditional(vs)
	for i := range out {
		out[i].vanish = true
	}
	return out
}
