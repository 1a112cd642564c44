package declared

import (
	"fmt"
	"slices"

	"github.com/driftcheck/driftcheck/internal/nix/eval"
)

// This file is the module system's layer on the Nix evaluator
// (internal/nix/eval): nixpkgs' lib functions that shape definitions
// (mkIf, mkMerge, mkOverride, …), module arguments and reads of config, and
// the facets the module system attaches to values.

// Priorities as lib.modules assigns them; lower wins.
const (
	prioForce         = 50
	prioNormal        = 100
	prioDefault       = 1000
	prioOptionDefault = 1500
)

// facets are what the module system knows about a value beyond the
// language: they ride on eval.Value.Meta (nil: none).
type facets struct {
	// prio is the module-system priority set by mkOverride and friends, 0
	// when none was applied (which means prioNormal).
	prio int
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
	when []*eval.Thunk
	// setAt are the definition sites an option value comes from; reading
	// every file (not one host's), a condition that only another file's
	// settings decide stays undecided.
	setAt []defSite
	// decidedAt are the other files' definition sites that such a
	// condition around this value would have been decided by.
	decidedAt []defSite
}

// defSite is where an option is defined.
type defSite struct {
	file string
	line int
}

func (s defSite) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

// unionSites is a followed by the sites of b not in a.
func unionSites(a, b []defSite) []defSite {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(slices.Clip(a), s)
		}
	}
	return a
}

// facetsOf returns the facets of a value or entry annotation.
func facetsOf(meta any) facets {
	if f, ok := meta.(*facets); ok && f != nil {
		return *f
	}
	return facets{}
}

// meta is f as an annotation: nil when f says nothing.
func (f facets) meta() any {
	if f.prio == 0 && f.ref == nil && f.opt == nil && f.defaults == nil && f.when == nil && f.setAt == nil && f.decidedAt == nil {
		return nil
	}
	return &f
}

func withFacets(v eval.Value, f facets) eval.Value {
	v.Meta = f.meta()
	return v
}

func priority(v eval.Value) int {
	if p := facetsOf(v.Meta).prio; p != 0 {
		return p
	}
	return prioNormal
}

func defaultsOf(meta any) []string { return facetsOf(meta).defaults }

func whenOf(v eval.Value) []*eval.Thunk { return facetsOf(v.Meta).when }

// withPrio is a value holding only a priority, to enclose others with.
func withPrio(prio int) eval.Value { return withFacets(eval.Value{}, facets{prio: prio}) }

// configRef is what an unknown value reads from the module system.
type configRef struct {
	args bool     // the module arguments ({ config, lib, pkgs, ... })
	path []string // otherwise config at this option path
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
func optReason(vs []eval.Value) *optWhy {
	for _, v := range vs {
		if w := facetsOf(v.Meta).opt; w != nil {
			return w
		}
	}
	return nil
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

// moduleSystem is the eval.Layer of NixOS modules. lazy defers mkIf
// conditions (facets.when): set while collecting option definitions,
// never while reading units.
type moduleSystem struct {
	lazy bool
	opts *optionTable // nil: config is never read
}

func newEvaluator(opts *optionTable) *eval.Evaluator {
	return eval.New(&moduleSystem{opts: opts}, nil)
}

// mode is an evaluator on the same budget, lazy or not.
func mode(ev *eval.Evaluator, lazy bool) *eval.Evaluator {
	return ev.WithLayer(&moduleSystem{lazy: lazy, opts: layerOf(ev).opts})
}

func layerOf(ev *eval.Evaluator) *moduleSystem { return ev.Layer().(*moduleSystem) }

func (m *moduleSystem) Arity(name string) (int, bool) {
	n, ok := libFuncs[name]
	return n, ok
}

func (m *moduleSystem) Free(name string) (eval.Value, bool) {
	if name == "lib" {
		return eval.Value{Kind: eval.Builtin}, true
	}
	if _, ok := libFuncs[name]; ok {
		return eval.Value{Kind: eval.Builtin, Name: name}, true
	}
	return eval.Value{}, false
}

// Member is lib.NAME: a sub-namespace or a function.
func (m *moduleSystem) Member(name string) eval.Value {
	if libNamespaces[name] {
		return eval.Value{Kind: eval.Builtin}
	}
	return eval.Value{Kind: eval.Builtin, Name: name}
}

var libNamespaces = map[string]bool{
	"lib": true, "attrsets": true, "lists": true, "strings": true, "modules": true,
	"trivial": true, "options": true, "types": true, "builtins": true,
}

func (m *moduleSystem) Select(ev *eval.Evaluator, v eval.Value, name string) []eval.Value {
	ref := facetsOf(v.Meta).ref
	switch {
	case name == "lib":
		// pkgs.lib, or the lib of any module argument.
		return []eval.Value{{Kind: eval.Builtin}}
	case ref != nil:
		return m.readConfig(ev, ref, name)
	}
	return []eval.Value{v}
}

// FromWith reads with cfg; … name …: an option (or a set of them) under cfg.
func (m *moduleSystem) FromWith(ev *eval.Evaluator, w eval.Value, name string) ([]eval.Value, bool) {
	ref := facetsOf(w.Meta).ref
	if ref != nil && !ref.args && m.opts.declares(append(slices.Clip(ref.path), name)) {
		return m.readConfig(ev, ref, name), true
	}
	return nil, false
}

// Forced turns, outside the lazy mode, the deferred conditions of values
// the lazy evaluator computed into undecided ones.
func (m *moduleSystem) Forced(_ *eval.Evaluator, vs []eval.Value) []eval.Value {
	if m.lazy || !slices.ContainsFunc(vs, func(v eval.Value) bool { return len(whenOf(v)) > 0 }) {
		return vs
	}
	out := make([]eval.Value, len(vs))
	for i, v := range vs {
		if f := facetsOf(v.Meta); len(f.when) > 0 {
			v.Cond, v.Vanish = true, true
			f.when = nil
			v = withFacets(v, f)
		}
		out[i] = v
	}
	return out
}

// Enclose: the outermost priority wins, as lib.modules pushes overrides
// down, and deferred conditions add up.
func (m *moduleSystem) Enclose(child, parent any) any {
	p := facetsOf(parent)
	if p.prio == 0 && len(p.when) == 0 && p.decidedAt == nil {
		return child
	}
	c := facetsOf(child)
	if p.prio != 0 {
		c.prio = p.prio
	}
	c.decidedAt = unionSites(c.decidedAt, p.decidedAt)
	if len(p.when) > 0 {
		c.when = slices.Concat(p.when, c.when)
	}
	return c.meta()
}

// Join: a string made of parts comes from their options' defaults and is
// under their deferred conditions.
func (m *moduleSystem) Join(whole, part any) any {
	p := facetsOf(part)
	if p.defaults == nil && len(p.when) == 0 && p.setAt == nil {
		return whole
	}
	w := facetsOf(whole)
	w.defaults = union(w.defaults, p.defaults)
	w.setAt = unionSites(w.setAt, p.setAt)
	if len(p.when) > 0 {
		w.when = slices.Concat(w.when, p.when)
	}
	return w.meta()
}

func (m *moduleSystem) Cause(vs []eval.Value) any {
	if w := optReason(vs); w != nil {
		return &facets{opt: w}
	}
	return nil
}

// Constant: a value from an option's default does not decide a condition
// (a host may set the option outside the repository, so mkIf cfg.enable
// stays a condition although enable defaults to false), nor does one
// under deferred conditions, nor, reading every file rather than one
// host's, one set in another file than the one read (the sites refused
// are kept in the option table for the unit's note).
func (m *moduleSystem) Constant(meta any) bool {
	f := facetsOf(meta)
	if len(f.when) > 0 || f.defaults != nil {
		return false
	}
	foreign := m.opts.foreign(f.setAt)
	if len(foreign) == 0 {
		return true
	}
	m.opts.refused = unionSites(m.opts.refused, foreign)
	return false
}
