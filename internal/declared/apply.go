package declared

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// libFuncs are the nixpkgs lib / builtins functions the evaluator knows,
// with their arity. A bare name (mkIf under `with lib;`) resolves here when
// no lexical binding shadows it.
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

// stringFuncs return strings: a value built by them is never an attribute set.
var stringFuncs = map[string]bool{
	"toString": true, "concatStringsSep": true, "concatStrings": true, "concatMapStrings": true,
	"optionalString": true, "escapeShellArg": true, "escapeShellArgs": true, "toJSON": true,
	"getExe": true, "makeBinPath": true,
}

// priorities of the override wrappers that take no priority argument.
var wrapperPriority = map[string]int{
	"mkDefault": prioDefault, "mkForce": prioForce, "mkOptionDefault": prioOptionDefault,
	"mkVMOverride": 10, "mkImageMediaOverride": 60,
	"mkBefore": 0, "mkAfter": 0, // order, not priority
}

func (ev *evaluator) apply(call ast.Expr, fns []value, args []*thunk) []value {
	if len(args) == 0 {
		return fns
	}
	if len(fns) != 1 {
		return []value{unknown(call, "computed by "+funcName(call))}
	}
	f := fns[0]
	switch f.kind {
	case kindLambda:
		res := ev.eval(f.lambda.Body, ev.bindParams(f.lambda, f.env, args[0]))
		if f.cond {
			res = markConditional(res)
		}
		return ev.apply(call, res, args[1:])
	case kindLib:
		arity, known := libFuncs[f.lib]
		if f.lib == "" || !known {
			return []value{unknown(call, "computed by "+funcName(call))}
		}
		all := append(append([]*thunk(nil), f.args...), args...)
		if len(all) < arity {
			return []value{{kind: kindLib, lib: f.lib, args: all}}
		}
		return ev.apply(call, ev.callLib(call, f.lib, all[:arity]), all[arity:])
	case kindUnknown:
		return []value{unknown(call, "computed by "+funcName(call))}
	}
	return []value{unknown(call, "applies a value that is not a function")}
}

// bindParams binds a lambda's parameter(s) to an argument.
func (ev *evaluator) bindParams(l *ast.Lambda, closure *env, arg *thunk) *env {
	sc := &env{parent: closure, names: map[string][]entry{}}
	if l.Param != nil {
		sc.names[l.Param.Name] = []entry{{key: l.Param.Name, keyNode: l.Param, pos: l.Param.Pos(), env: sc, val: arg}}
	}
	if l.Formals == nil {
		return sc
	}
	argVals := ev.force(arg)
	for _, f := range l.Formals.List {
		name := f.Name.Name
		var t *thunk
		vs, found := ev.selectKey(argVals, name)
		switch {
		case found:
			t = computed(vs)
		case f.Default != nil:
			t = &thunk{expr: f.Default, env: sc}
		default:
			t = computed([]value{unknown(f.Name, "depends on "+name)})
		}
		sc.names[name] = []entry{{key: name, keyNode: f.Name, pos: f.Name.Pos(), env: sc, val: t}}
	}
	return sc
}

func (ev *evaluator) boolOfThunk(t *thunk) (bool, bool) {
	if !t.done && t.expr != nil {
		return ev.boolOf(t.expr, t.env)
	}
	return decided(ev.force(t))
}

// callLib applies a known lib function to exactly its arity of arguments.
func (ev *evaluator) callLib(call ast.Expr, name string, args []*thunk) []value {
	switch name {
	case "mkIf", "optionalAttrs":
		if ev.lazy {
			return underAll(ev.force(args[1]), value{when: []*thunk{args[0]}})
		}
		b, known := ev.boolOfThunk(args[0])
		switch {
		case known && b:
			return ev.force(args[1])
		case known:
			return nil
		}
		return markVanishing(ev.force(args[1]))
	case "mkMerge":
		l := ev.force(args[0])
		if len(l) != 1 || l[0].kind != kindList {
			return []value{unknown(call, "computed by mkMerge of "+render(exprOf(args[0])))}
		}
		var out []value
		for _, t := range l[0].list {
			out = append(out, underAll(ev.force(t), l[0])...)
		}
		return out
	case "mkOverride", "mkOrder":
		prio := 0
		if name == "mkOverride" {
			prio = prioNormal
			if vs := ev.force(args[0]); len(vs) == 1 && vs[0].kind == kindInt {
				prio = int(vs[0].integer)
			}
		}
		return withPriority(ev.force(args[1]), prio)
	case "mkDefault", "mkForce", "mkOptionDefault", "mkVMOverride", "mkImageMediaOverride", "mkBefore", "mkAfter":
		return withPriority(ev.force(args[0]), wrapperPriority[name])
	case "optional", "optionals":
		b, known := ev.boolOfThunk(args[0])
		if known && !b {
			return []value{{kind: kindList, list: []*thunk{}}}
		}
		var l value
		if name == "optional" {
			l = value{kind: kindList, list: []*thunk{args[1]}}
		} else {
			vs := ev.force(args[1])
			if len(vs) != 1 || vs[0].kind != kindList {
				return []value{unknown(call, "computed by "+name)}
			}
			l = vs[0]
		}
		if !known {
			l.cond, l.vanish = true, true // the list may be empty
		}
		return []value{l}
	case "nameValuePair":
		return []value{{kind: kindSet, entries: []entry{
			{key: "name", pos: call.Pos(), val: args[0]},
			{key: "value", pos: call.Pos(), val: args[1]},
		}}}
	case "recursiveUpdate":
		return append(ev.force(args[0]), ev.force(args[1])...)
	case "toString":
		vs := ev.force(args[0])
		if len(vs) == 1 && vs[0].kind == kindInt && !vs[0].cond {
			return []value{{kind: kindString, str: strconv.FormatInt(vs[0].integer, 10), defaults: vs[0].defaults}}
		}
		if s, ok := ev.stringsOf(vs); ok && len(s) == 1 {
			return []value{{kind: kindString, str: s[0], defaults: vs[0].defaults}}
		}
		return []value{{kind: kindScalar}}
	case "mkOption", "mkEnableOption", "mkPackageOption":
		return []value{ev.optionDecl(call, name, args)}
	case "listToAttrs":
		return ev.listToAttrs(call, args[0])
	case "mapAttrs'", "mapAttrs", "concatMapAttrs":
		return ev.mapAttrs(call, name, args[0], args[1])
	case "genAttrs":
		return ev.genAttrs(call, args[0], args[1])
	case "map":
		return ev.mapList(call, args[0], args[1])
	case "import":
		// import <nixpkgs/lib> is nixpkgs' lib; any other import is opaque.
		if searchPath(exprOf(args[0])) == "nixpkgs/lib" {
			return []value{{kind: kindLib}}
		}
	}
	if stringFuncs[name] {
		return []value{{kind: kindScalar}}
	}
	return []value{unknown(call, "computed by "+name+templateOf(call))}
}

func withPriority(vs []value, prio int) []value {
	out := make([]value, len(vs))
	for i, v := range vs {
		if prio != 0 && v.prio == 0 {
			v.prio = prio
		}
		out[i] = v
	}
	return out
}

func exprOf(t *thunk) ast.Expr { return t.expr }

// searchPath is the X of <X>, also in the form Nix prints it,
// __findFile __nixPath "X"; "" for anything else.
func searchPath(e ast.Expr) string {
	switch e := unparen(e).(type) {
	case *ast.SearchPath:
		return e.Value
	case *ast.Call:
		fn, ok := unparen(e.Fun).(*ast.Ident)
		if !ok || fn.Name != "__findFile" || len(e.Args) != 2 {
			return ""
		}
		if s, ok := unparen(e.Args[1]).(*ast.String); ok {
			name, _ := staticName(s)
			return name
		}
	}
	return ""
}

func unparen(e ast.Expr) ast.Expr {
	for {
		p, ok := e.(*ast.Paren)
		if !ok {
			return e
		}
		e = p.X
	}
}

// staticAttr is an attribute of a fully known set.
type staticAttr struct {
	name string
	pos  token.Pos
	val  *thunk
}

// staticAttrs lists the attributes of a set whose every key is known and
// that applies unconditionally.
func (ev *evaluator) staticAttrs(vs []value) ([]staticAttr, bool) {
	var out []staticAttr
	index := map[string]int{}
	for _, v := range vs {
		if v.kind != kindSet || v.cond {
			return nil, false
		}
		for _, e := range v.entries {
			if e.dynamic {
				return nil, false
			}
			if _, seen := index[e.key]; seen {
				continue
			}
			index[e.key] = len(out)
			var same []entry
			for _, o := range v.entries {
				if !o.dynamic && o.key == e.key {
					same = append(same, o)
				}
			}
			out = append(out, staticAttr{name: e.key, pos: e.pos, val: computed(ev.entryValues(same, v))})
		}
	}
	return out, true
}

// nameValue reads a { name = …; value = …; } result.
func (ev *evaluator) nameValue(vs []value) (string, *thunk, bool) {
	names, found := ev.selectKey(vs, "name")
	if !found || len(names) != 1 || names[0].kind != kindString || names[0].cond {
		return "", nil, false
	}
	vals, found := ev.selectKey(vs, "value")
	if !found {
		return "", nil, false
	}
	return names[0].str, computed(vals), true
}

func (ev *evaluator) listToAttrs(call ast.Expr, list *thunk) []value {
	l := ev.force(list)
	template := templateOf(call)
	if template == "" && len(l) == 1 && l[0].kind == kindUnknown {
		// listToAttrs (map mkJob xs): the template is in mkJob, which the
		// failed map already found.
		if i := strings.Index(l[0].why, " (template "); i >= 0 {
			template = l[0].why[i:]
		}
	}
	fail := []value{unknown(call, "computed by listToAttrs"+template)}
	if len(l) != 1 || l[0].kind != kindList || l[0].cond {
		return fail
	}
	set := value{kind: kindSet}
	for _, t := range l[0].list {
		name, val, ok := ev.nameValue(ev.force(t))
		if !ok {
			return fail
		}
		set.entries = append(set.entries, entry{key: name, pos: posOf(t, call), val: val})
	}
	return []value{set}
}

func (ev *evaluator) mapAttrs(call ast.Expr, name string, fn, set *thunk) []value {
	fns := ev.force(fn)
	fail := []value{unknown(call, "computed by "+name+templateIn(call, fns))}
	attrs, ok := ev.staticAttrs(ev.force(set))
	if !ok {
		return fail
	}
	out := value{kind: kindSet}
	for _, a := range attrs {
		res := ev.apply(call, fns, []*thunk{computed([]value{{kind: kindString, str: a.name}}), a.val})
		switch name {
		case "mapAttrs":
			out.entries = append(out.entries, entry{key: a.name, pos: a.pos, val: computed(res)})
		case "mapAttrs'":
			n, val, ok := ev.nameValue(res)
			if !ok {
				return fail
			}
			out.entries = append(out.entries, entry{key: n, pos: a.pos, val: val})
		case "concatMapAttrs":
			sub, ok := ev.staticAttrs(res)
			if !ok {
				return fail
			}
			for _, s := range sub {
				out.entries = append(out.entries, entry{key: s.name, pos: a.pos, val: s.val})
			}
		}
	}
	return []value{out}
}

func (ev *evaluator) genAttrs(call ast.Expr, names, fn *thunk) []value {
	fail := []value{unknown(call, "computed by genAttrs over "+render(exprOf(names)))}
	l := ev.force(names)
	if len(l) != 1 || l[0].kind != kindList || l[0].cond {
		return fail
	}
	fns := ev.force(fn)
	out := value{kind: kindSet}
	for _, t := range l[0].list {
		n, ok := ev.stringsOf(ev.force(t))
		if !ok || len(n) != 1 {
			return fail
		}
		res := ev.apply(call, fns, []*thunk{computed([]value{{kind: kindString, str: n[0]}})})
		out.entries = append(out.entries, entry{key: n[0], pos: posOf(t, call), val: computed(res)})
	}
	return []value{out}
}

// mapList is map f over a list written out, keeping each element's
// position for the attributes it may name.
func (ev *evaluator) mapList(call ast.Expr, fn, list *thunk) []value {
	l := ev.force(list)
	if len(l) != 1 || l[0].kind != kindList {
		return []value{unknown(call, "computed by map"+templateIn(call, ev.force(fn)))}
	}
	fns := ev.force(fn)
	out := value{kind: kindList, cond: l[0].cond}
	for _, el := range l[0].list {
		res := ev.apply(call, fns, []*thunk{el})
		// Keep the element's expression for its position; its value is res.
		out.list = append(out.list, &thunk{expr: el.expr, env: el.env, fixed: res, done: true})
	}
	return []value{out}
}

func posOf(t *thunk, fallback ast.Node) token.Pos {
	if t.expr != nil {
		return t.expr.Pos()
	}
	if fallback == nil {
		return token.Pos{}
	}
	return fallback.Pos()
}

// funcName names the function of a call for messages.
func funcName(call ast.Expr) string {
	if c, ok := call.(*ast.Call); ok {
		return render(c.Fun)
	}
	return render(call)
}

// templateIn is templateOf, looking into the body of the function applied
// when the call does not show the template itself (mapAttrs' mkJob jobs).
func templateIn(call ast.Expr, fns []value) string {
	if t := templateOf(call); t != "" {
		return t
	}
	if len(fns) == 1 && fns[0].kind == kindLambda {
		return templateOf(fns[0].lambda.Body)
	}
	return ""
}

// templateOf finds the name template of a generated attribute set, the
// first argument of nameValuePair or the name attribute, for messages:
// ` (template "job-${n}")`.
func templateOf(call ast.Expr) string {
	var found ast.Expr
	inspect(call, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.Call:
			if fn := render(n.Fun); (fn == "nameValuePair" || fn == "lib.nameValuePair") && len(n.Args) > 0 {
				found = n.Args[0]
			}
		case *ast.Attr:
			if id, ok := n.Path[0].(*ast.Ident); ok && len(n.Path) == 1 && id.Name == "name" {
				found = n.Value
			}
		}
		return true
	})
	if found == nil {
		return ""
	}
	return fmt.Sprintf(" (template %s)", render(found))
}
