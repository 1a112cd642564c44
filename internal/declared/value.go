package declared

import (
	"slices"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// kind classifies what the partial evaluator knows about a value.
type kind uint8

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
	vanish  bool
	boolean bool // kindBool
	// prio is the module-system priority set by mkOverride and friends, 0
	// when none was applied (which means prioNormal).
	prio int

	entries []entry  // kindSet
	str     string   // kindString
	integer int64    // kindInt
	list    []*thunk // kindList
	lambda  *ast.Lambda
	env     *env     // kindLambda: closure
	lib     string   // kindLib: function name, "" for a namespace
	args    []*thunk // kindLib: arguments applied so far
	why     string   // kindUnknown: what the value depends on
	at      ast.Node // kindUnknown: the expression that could not be read

	// ref is set on the unknown values that stand for the module arguments
	// or a part of config: selecting from them reads options.
	ref *configRef
	// opt says, on an unknown value, which option read made it unknown
	// ("services.x.name has 2 conflicting definitions"); it survives
	// string building so that messages about unit names can name it.
	opt *optWhy
	// defaults lists the options whose mkOption default this value comes
	// from. A host may set those options outside the repository, so
	// conditions never take such a value as decided.
	defaults []string
	// when holds the mkIf conditions not evaluated yet: only the lazy
	// evaluator that collects option definitions defers them, as the
	// module system does, so that reading one option does not force the
	// conditions around every other definition.
	when []*thunk
}

// configRef is what an unknown value reads from the module system.
type configRef struct {
	args bool     // the module arguments ({ config, lib, pkgs, ... })
	path []string // otherwise config at this option path
}

// entry is one attribute of a set. An attribute written with a path
// (a.b.c = v) is kept as key "a" with rest [b c], so that definitions of the
// same attribute in several places stay separate and keep their positions.
type entry struct {
	key     string
	dynamic bool // the key is ${…} that could not be resolved
	// cond: the key is one of several names a ${…} can take, or may name
	// nothing (an option defined only under mkIf): the attribute may not
	// exist under this name.
	cond     bool
	why      *optWhy  // for a dynamic key: the option read that kept it unknown
	defaults []string // options whose mkOption default gave the key its name
	keyNode  ast.Expr // the path element naming the key
	pos      token.Pos
	rest     []ast.Expr
	env      *env // scope of the rest keys
	val      *thunk
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
	if len(parent.when) > 0 {
		v.when = slices.Concat(parent.when, v.when)
	}
	return v
}

// joined adds what v is built from to v: a string made of parts is as
// conditional as its parts and comes from their options' defaults.
func (v value) joined(part value) value {
	v.cond = v.cond || part.cond
	v.vanish = v.vanish || part.vanish
	v.defaults = union(v.defaults, part.defaults)
	if len(part.when) > 0 {
		v.when = slices.Concat(v.when, part.when)
	}
	return v
}

// union is a followed by the elements of b not in a.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(slices.Clip(a), s)
		}
	}
	return a
}

// optWhy is why an option read is unknown.
type optWhy struct {
	text string // names the option read: "services.x.name has no static default: …"
	// root is the first failure in a chain of reads (a default reading
	// an option whose default reads another …): reads that depend on it
	// quote it rather than each other, so messages stay short.
	root string
}

func (w *optWhy) String() string {
	if w == nil {
		return ""
	}
	return w.text
}

// optReason is the first option read that made one of vs unknown.
func optReason(vs []value) *optWhy {
	for _, v := range vs {
		if v.opt != nil {
			return v.opt
		}
	}
	return nil
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
