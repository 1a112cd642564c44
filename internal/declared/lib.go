package declared

import (
	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/eval"
)

// libFuncs are the nixpkgs lib / builtins functions the module layer
// knows, with their arity. A bare name (mkIf under `with lib;`) resolves
// here when no lexical binding shadows it. The evaluator computes the
// builtins among them (toString, map, listToAttrs, mapAttrs, import).
var libFuncs = map[string]int{
	"mkIf": 2, "optionalAttrs": 2, "mkMerge": 1,
	"mkDefault": 1, "mkForce": 1, "mkOverride": 2, "mkOptionDefault": 1, "mkVMOverride": 1,
	"mkImageMediaOverride": 1, "mkBefore": 1, "mkAfter": 1, "mkOrder": 2,
	"optional": 2, "optionals": 2, "nameValuePair": 2,
	"listToAttrs": 1, "mapAttrs'": 2, "mapAttrs": 2, "genAttrs": 2, "concatMapAttrs": 2,
	"toString": 1, "recursiveUpdate": 2,
	// Option declarations: read only under options (see optionTable).
	"mkOption": 1, "mkEnableOption": 1, "mkPackageOption": 3,
	// Known to compute something the extractor does not follow; named so
	// that unresolved reasons say which function it was.
	"foldr": 3, "foldl": 3, "foldl'": 3, "filterAttrs": 2, "mapAttrsToList": 2,
	"mergeAttrsList": 1, "zipAttrsWith": 2, "import": 1, "map": 2, "filter": 2,
	"concatStringsSep": 2, "concatStrings": 1, "concatMapStrings": 2, "optionalString": 2,
	"escapeShellArg": 1, "escapeShellArgs": 1, "toJSON": 1, "getExe": 1, "makeBinPath": 1,
}

// stringFuncs return strings: a value built by them is never an attribute
// set. (toString, which the evaluator computes, is one too.)
var stringFuncs = map[string]bool{
	"concatStringsSep": true, "concatStrings": true, "concatMapStrings": true,
	"optionalString": true, "escapeShellArg": true, "escapeShellArgs": true, "toJSON": true,
	"getExe": true, "makeBinPath": true,
}

// priorities of the override wrappers that take no priority argument.
var wrapperPriority = map[string]int{
	"mkDefault": prioDefault, "mkForce": prioForce, "mkOptionDefault": prioOptionDefault,
	"mkVMOverride": 10, "mkImageMediaOverride": 60,
	"mkBefore": 0, "mkAfter": 0, // order, not priority
}

// Call applies a lib function to exactly its arity of arguments; the
// evaluator's builtins do the rest.
func (m *moduleSystem) Call(ev *eval.Evaluator, call ast.Expr, name string, args []*eval.Thunk) ([]eval.Value, bool) {
	switch name {
	case "mkIf", "optionalAttrs":
		if m.lazy {
			return ev.EncloseAll(ev.Force(args[1]), withFacets(eval.Value{}, facets{when: []*eval.Thunk{args[0]}})), true
		}
		b, known, elsewhere := m.condition(ev, args[0])
		switch {
		case known && b:
			return ev.Force(args[1]), true
		case known:
			return nil, true
		}
		return withDecidedAt(eval.MarkVanishing(ev.Force(args[1])), elsewhere), true
	case "mkMerge":
		l := ev.Force(args[0])
		if len(l) != 1 || l[0].Kind != eval.List {
			return []eval.Value{eval.NewUnknown(call, "computed by mkMerge of "+eval.Render(args[0].Expr))}, true
		}
		var out []eval.Value
		for _, t := range l[0].Elems {
			out = append(out, ev.EncloseAll(ev.Force(t), l[0])...)
		}
		return out, true
	case "mkOverride", "mkOrder":
		prio := 0
		if name == "mkOverride" {
			prio = prioNormal
			if vs := ev.Force(args[0]); len(vs) == 1 && vs[0].Kind == eval.Int {
				prio = int(vs[0].Integer)
			}
		}
		return withPriority(ev.Force(args[1]), prio), true
	case "mkDefault", "mkForce", "mkOptionDefault", "mkVMOverride", "mkImageMediaOverride", "mkBefore", "mkAfter":
		return withPriority(ev.Force(args[0]), wrapperPriority[name]), true
	case "optional", "optionals":
		return optional(ev, call, name, args), true
	case "nameValuePair":
		return []eval.Value{{Kind: eval.Set, Entries: []eval.Entry{
			{Key: "name", Pos: call.Pos(), Val: args[0]},
			{Key: "value", Pos: call.Pos(), Val: args[1]},
		}}}, true
	case "recursiveUpdate":
		return append(ev.Force(args[0]), ev.Force(args[1])...), true
	case "mkOption", "mkEnableOption", "mkPackageOption":
		return []eval.Value{optionValue(ev, call, name, args)}, true
	case "mapAttrs'", "concatMapAttrs":
		return mapAttrsLib(ev, call, name, args[0], args[1]), true
	case "genAttrs":
		return genAttrs(ev, call, args[0], args[1]), true
	case "import":
		// import <nixpkgs/lib> is nixpkgs' lib; other imports are the
		// evaluator's.
		if searchPath(args[0].Expr) == "nixpkgs/lib" {
			return []eval.Value{{Kind: eval.Builtin}}, true
		}
	}
	if stringFuncs[name] {
		return []eval.Value{{Kind: eval.Scalar}}, true
	}
	return nil, false
}

// condition decides a mkIf condition; elsewhere are the other files'
// settings that would have decided it, when every file is read.
func (m *moduleSystem) condition(ev *eval.Evaluator, c *eval.Thunk) (b, known bool, elsewhere []defSite) {
	if m.opts == nil {
		b, known = ev.BoolOfThunk(c)
		return b, known, nil
	}
	outer := m.opts.refused
	m.opts.refused = nil
	b, known = ev.BoolOfThunk(c)
	elsewhere = m.opts.refused
	m.opts.refused = unionSites(outer, elsewhere)
	return b, known, elsewhere
}

// withDecidedAt notes on vs the other files' sites that decide the
// condition they are under.
func withDecidedAt(vs []eval.Value, sites []defSite) []eval.Value {
	if len(sites) == 0 {
		return vs
	}
	for i, v := range vs {
		f := facetsOf(v.Meta)
		f.decidedAt = unionSites(f.decidedAt, sites)
		vs[i] = withFacets(v, f)
	}
	return vs
}

func optional(ev *eval.Evaluator, call ast.Expr, name string, args []*eval.Thunk) []eval.Value {
	b, known := ev.BoolOfThunk(args[0])
	if known && !b {
		return []eval.Value{{Kind: eval.List, Elems: []*eval.Thunk{}}}
	}
	var l eval.Value
	if name == "optional" {
		l = eval.Value{Kind: eval.List, Elems: []*eval.Thunk{args[1]}}
	} else {
		vs := ev.Force(args[1])
		if len(vs) != 1 || vs[0].Kind != eval.List {
			return []eval.Value{eval.NewUnknown(call, "computed by "+name)}
		}
		l = vs[0]
	}
	if !known {
		l.Cond, l.Vanish = true, true // the list may be empty
	}
	return []eval.Value{l}
}

func withPriority(vs []eval.Value, prio int) []eval.Value {
	out := make([]eval.Value, len(vs))
	for i, v := range vs {
		if f := facetsOf(v.Meta); prio != 0 && f.prio == 0 {
			f.prio = prio
			v = withFacets(v, f)
		}
		out[i] = v
	}
	return out
}

// searchPath is the X of <X>, also in the form Nix prints it,
// __findFile __nixPath "X"; "" for anything else.
func searchPath(e ast.Expr) string {
	switch e := ast.Unparen(e).(type) {
	case *ast.SearchPath:
		return e.Value
	case *ast.Call:
		fn, ok := ast.Unparen(e.Fun).(*ast.Ident)
		if !ok || fn.Name != "__findFile" || len(e.Args) != 2 {
			return ""
		}
		if s, ok := ast.Unparen(e.Args[1]).(*ast.String); ok {
			name, _ := eval.StaticName(s)
			return name
		}
	}
	return ""
}

// mapAttrsLib is lib's mapAttrs' (f returns a name-value pair) and
// concatMapAttrs (f returns a set to merge).
func mapAttrsLib(ev *eval.Evaluator, call ast.Expr, name string, fn, set *eval.Thunk) []eval.Value {
	fns := ev.Force(fn)
	fail := []eval.Value{eval.NewUnknown(call, "computed by "+name+eval.TemplateIn(call, fns))}
	attrs, ok := ev.StaticAttrs(ev.Force(set))
	if !ok {
		return fail
	}
	out := eval.Value{Kind: eval.Set}
	for _, a := range attrs {
		res := ev.Apply(call, fns, []*eval.Thunk{eval.Computed([]eval.Value{{Kind: eval.String, Str: a.Name}}), a.Val})
		switch name {
		case "mapAttrs'":
			n, val, ok := ev.NameValue(res)
			if !ok {
				return fail
			}
			out.Entries = append(out.Entries, eval.Entry{Key: n, Pos: a.Pos, Val: val})
		case "concatMapAttrs":
			sub, ok := ev.StaticAttrs(res)
			if !ok {
				return fail
			}
			for _, s := range sub {
				out.Entries = append(out.Entries, eval.Entry{Key: s.Name, Pos: a.Pos, Val: s.Val})
			}
		}
	}
	return []eval.Value{out}
}

func genAttrs(ev *eval.Evaluator, call ast.Expr, names, fn *eval.Thunk) []eval.Value {
	fail := []eval.Value{eval.NewUnknown(call, "computed by genAttrs over "+eval.Render(names.Expr))}
	l := ev.Force(names)
	if len(l) != 1 || l[0].Kind != eval.List || l[0].Cond {
		return fail
	}
	fns := ev.Force(fn)
	out := eval.Value{Kind: eval.Set}
	for _, t := range l[0].Elems {
		n, ok := ev.StringsOf(ev.Force(t))
		if !ok || len(n) != 1 {
			return fail
		}
		res := ev.Apply(call, fns, []*eval.Thunk{eval.Computed([]eval.Value{{Kind: eval.String, Str: n[0]}})})
		out.Entries = append(out.Entries, eval.Entry{Key: n[0], Pos: eval.PosOf(t, call), Val: eval.Computed(res)})
	}
	return []eval.Value{out}
}
