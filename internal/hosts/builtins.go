package hosts

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// builtin is a function implemented here: Nix's builtins and the few lib
// functions that need Go (nixosSystem, mkFlake, haumea's load).
type builtin struct {
	name  string
	arity int
	args  []*thunk
	fn    func(ev *evaluator, args []*thunk) *value
}

func fnValue(name string, arity int, fn func(ev *evaluator, args []*thunk) *value) *value {
	return &value{kind: kBuiltin, bi: &builtin{name: name, arity: arity, fn: fn}}
}

// unsupported builtins are known but compute nothing here (derivations,
// fetchers, hashes): their results are unknown, named.
var unsupported = []string{"derivation", "fetchTarball", "fetchGit", "fetchurl", "fetchTree", "getFlake",
	"hashString", "hashFile", "toFile", "storePath", "toXML", "fromTOML", "filterSource", "path",
	"getEnv", "unsafeGetAttrPos", "split", "compareVersions", "splitVersion", "parseDrvName",
	"currentTime", "toJSON", "ceil", "floor", "bitAnd", "bitOr", "bitXor", "getContext"}

func (ev *evaluator) builtinSet() *attrs {
	a := newAttrs()
	add := func(name string, arity int, fn func(ev *evaluator, args []*thunk) *value) {
		a.set(name, ready(fnValue(name, arity, fn)), site{})
	}
	for _, name := range unsupported {
		add(name, 1, func(ev *evaluator, args []*thunk) *value {
			if a := ev.force(args[0]); a.kind == kUnknown && a.ext == "" {
				return a // say what the argument lacks: a file not in the revision, …
			}
			return unknown("computed by builtins.%s", name)
		})
	}
	a.set("currentSystem", ready(unknown("builtins.currentSystem is impure")), site{})
	a.set("nixVersion", ready(str("2.8.0")), site{})
	a.set("langVersion", ready(intValue(6)), site{})
	a.set("storeDir", ready(str("/nix/store")), site{})
	add("import", 1, biImport)
	add("scopedImport", 2, func(ev *evaluator, args []*thunk) *value { return biImport(ev, args[1:]) })
	add("readDir", 1, biReadDir)
	add("pathExists", 1, func(ev *evaluator, args []*thunk) *value {
		p, bad := ev.repoArg(ev.force(args[0]))
		if bad != nil {
			return bad
		}
		return boolValue(kindOf(ev.fs, p) != "")
	})
	add("readFile", 1, func(ev *evaluator, args []*thunk) *value {
		p, bad := ev.repoArg(ev.force(args[0]))
		if bad != nil {
			return bad
		}
		data, err := ev.fs.ReadFile(p)
		if err != nil {
			return unknown("readFile %s: %s", display(p), notInRevision(err))
		}
		return str(string(data))
	})
	add("fromJSON", 1, func(ev *evaluator, args []*thunk) *value {
		s := ev.force(args[0])
		if s.kind != kString {
			return typeErr("fromJSON", s)
		}
		var x any
		if err := json.Unmarshal([]byte(s.s), &x); err != nil {
			return unknown("fromJSON: %v", err)
		}
		return fromGo(x)
	})
	add("toString", 1, func(ev *evaluator, args []*thunk) *value {
		s, bad := ev.coerce(ev.force(args[0]), true)
		if bad != nil {
			return bad
		}
		return str(s)
	})
	add("baseNameOf", 1, func(ev *evaluator, args []*thunk) *value {
		v := ev.force(args[0])
		if v.kind == kPath {
			return str(path.Base("/" + v.s))
		}
		s, bad := ev.coerce(v, false)
		if bad != nil {
			return bad
		}
		return str(path.Base(s))
	})
	add("dirOf", 1, func(ev *evaluator, args []*thunk) *value {
		v := ev.force(args[0])
		if v.kind == kPath {
			if v.s == "" {
				return v
			}
			return pathValue(strings.TrimSuffix(path.Dir(v.s), "."))
		}
		s, bad := ev.coerce(v, false)
		if bad != nil {
			return bad
		}
		return str(path.Dir(s))
	})
	add("throw", 1, func(ev *evaluator, args []*thunk) *value { return thrown(ev, args[0], "throw") })
	add("abort", 1, func(ev *evaluator, args []*thunk) *value { return thrown(ev, args[0], "abort") })
	add("trace", 2, func(ev *evaluator, args []*thunk) *value { return ev.force(args[1]) })
	add("addErrorContext", 2, func(ev *evaluator, args []*thunk) *value { return ev.force(args[1]) })
	add("seq", 2, func(ev *evaluator, args []*thunk) *value { ev.force(args[0]); return ev.force(args[1]) })
	add("deepSeq", 2, func(ev *evaluator, args []*thunk) *value { return ev.force(args[1]) })
	add("unsafeDiscardStringContext", 1, func(ev *evaluator, args []*thunk) *value { return ev.force(args[0]) })
	add("tryEval", 1, func(ev *evaluator, args []*thunk) *value {
		v := ev.force(args[0])
		if v.kind == kUnknown {
			return v
		}
		r := newAttrs()
		r.set("success", ready(vTrue), site{})
		r.set("value", ready(v), site{})
		return attrsValue(r)
	})
	add("placeholder", 1, func(*evaluator, []*thunk) *value { return unknown("computed by builtins.placeholder") })
	for name, want := range map[string]kind{"isAttrs": kAttrs, "isList": kList, "isString": kString, "isPath": kPath,
		"isBool": kBool, "isInt": kInt, "isFloat": kFloat, "isNull": kNull} {
		add(name, 1, func(ev *evaluator, args []*thunk) *value {
			v := ev.force(args[0])
			if v.kind == kUnknown {
				// What a flake input holds is a module, a package, a
				// function or a set: never a list, string or number.
				if v.ext != "" && want != kAttrs && want != kPath {
					return vFalse
				}
				return v
			}
			return boolValue(v.kind == want || (want == kAttrs && v.kind == kHost))
		})
	}
	add("isFunction", 1, func(ev *evaluator, args []*thunk) *value {
		v := ev.force(args[0])
		if v.kind == kUnknown {
			return v
		}
		return boolValue(v.kind == kLambda || v.kind == kBuiltin)
	})
	add("typeOf", 1, func(ev *evaluator, args []*thunk) *value {
		v := ev.force(args[0])
		if v.kind == kUnknown {
			return v
		}
		return str(v.typeName())
	})
	ev.listBuiltins(add)
	ev.attrBuiltins(add)
	ev.stringBuiltins(add)
	a.set("builtins", lazy(func() *value { return ev.builtin }), site{})
	return a
}

func notInRevision(err error) string {
	if isNotExist(err) {
		return "not in the revision"
	}
	return err.Error()
}

func thrown(ev *evaluator, msg *thunk, what string) *value {
	s, bad := ev.coerce(ev.force(msg), true)
	if bad != nil {
		return unknown("%s", what)
	}
	return unknown("%s: %s", what, s)
}

func typeErr(fn string, v *value) *value {
	if v.kind == kUnknown {
		return v
	}
	return unknown("%s: unexpected %s", fn, v.typeName())
}

// repoArg is a path argument: a path value, or a string made from one.
func (ev *evaluator) repoArg(v *value) (string, *value) {
	switch v.kind {
	case kPath:
		return v.s, nil
	case kString:
		if p, ok := fromMarker(v.s); ok {
			return p, nil
		}
		return "", unknown("path %q is outside the repository", v.s)
	case kAttrs:
		s, bad := ev.coerce(v, false)
		if bad != nil {
			return "", bad
		}
		return ev.repoArg(str(s))
	case kUnknown:
		return "", v
	}
	return "", typeErr("path", v)
}

func biImport(ev *evaluator, args []*thunk) *value {
	v := ev.force(args[0])
	if v.kind == kUnknown {
		if v.ext != "" {
			return unknown("imports %s", v.ext)
		}
		return v
	}
	p, bad := ev.repoArg(v)
	if bad != nil {
		return bad
	}
	return ev.importPath(p)
}

func biReadDir(ev *evaluator, args []*thunk) *value {
	p, bad := ev.repoArg(ev.force(args[0]))
	if bad != nil {
		return bad
	}
	es, err := ev.fs.ReadDir(p)
	if err != nil {
		return unknown("readDir %s: %s", display(p), notInRevision(err))
	}
	a := newAttrs()
	for _, e := range es {
		a.set(e.Name, ready(str(e.Type)), site{})
	}
	return attrsValue(a)
}

func fromGo(x any) *value {
	switch x := x.(type) {
	case nil:
		return vNull
	case bool:
		return boolValue(x)
	case float64:
		if x == float64(int64(x)) {
			return intValue(int64(x))
		}
		return &value{kind: kFloat, f: x}
	case string:
		return str(x)
	case []any:
		ts := make([]*thunk, len(x))
		for i, e := range x {
			ts[i] = ready(fromGo(e))
		}
		return listValue(ts)
	case map[string]any:
		a := newAttrs()
		for k, e := range x {
			a.set(k, ready(fromGo(e)), site{})
		}
		return attrsValue(a)
	}
	return unknown("fromJSON: unexpected value")
}

// forceList forces a list argument.
func (ev *evaluator) forceList(fn string, t *thunk) ([]*thunk, *value) {
	v := ev.force(t)
	if v.kind != kList {
		return nil, typeErr(fn, v)
	}
	return v.list, nil
}

func (ev *evaluator) forceAttrs(fn string, t *thunk) (*attrs, *value) {
	v := ev.force(t)
	if v.kind != kAttrs {
		return nil, typeErr(fn, v)
	}
	if v.attrs.open != nil {
		return nil, v.attrs.open
	}
	return v.attrs, nil
}

func (ev *evaluator) forceString(fn string, t *thunk) (string, *value) {
	v := ev.force(t)
	if v.kind != kString {
		return "", typeErr(fn, v)
	}
	return v.s, nil
}

func (ev *evaluator) forceBool(fn string, v *value) (bool, *value) {
	if v.kind != kBool {
		return false, typeErr(fn, v)
	}
	return v.b, nil
}

func (ev *evaluator) call2(f *value, a, b *thunk) *value {
	return ev.apply(ev.apply(f, a), b)
}

func (ev *evaluator) listBuiltins(add func(string, int, func(*evaluator, []*thunk) *value)) {
	add("map", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("map", args[1])
		if bad != nil {
			return bad
		}
		out := make([]*thunk, len(l))
		for i, el := range l {
			el := el
			out[i] = lazy(func() *value { return ev.apply(ev.force(args[0]), el) })
		}
		return listValue(out)
	})
	add("filter", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("filter", args[1])
		if bad != nil {
			return bad
		}
		var out []*thunk
		for _, el := range l {
			keep, bad := ev.forceBool("filter", ev.apply(ev.force(args[0]), el))
			if bad != nil {
				return bad
			}
			if keep {
				out = append(out, el)
			}
		}
		return listValue(out)
	})
	add("length", 1, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("length", args[0])
		if bad != nil {
			return bad
		}
		return intValue(int64(len(l)))
	})
	add("elem", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("elem", args[1])
		if bad != nil {
			return bad
		}
		x := ev.force(args[0])
		for _, el := range l {
			eq, ok := ev.equal(x, ev.force(el))
			if !ok {
				return unknown("elem cannot be decided")
			}
			if eq {
				return vTrue
			}
		}
		return vFalse
	})
	add("elemAt", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("elemAt", args[0])
		if bad != nil {
			return bad
		}
		n := ev.force(args[1])
		if n.kind != kInt || n.i < 0 || int(n.i) >= len(l) {
			return typeErr("elemAt", n)
		}
		return ev.force(l[n.i])
	})
	add("head", 1, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("head", args[0])
		if bad != nil {
			return bad
		}
		if len(l) == 0 {
			return unknown("head of an empty list")
		}
		return ev.force(l[0])
	})
	add("tail", 1, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("tail", args[0])
		if bad != nil {
			return bad
		}
		if len(l) == 0 {
			return unknown("tail of an empty list")
		}
		return listValue(l[1:])
	})
	add("concatLists", 1, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("concatLists", args[0])
		if bad != nil {
			return bad
		}
		var out []*thunk
		for _, el := range l {
			inner, bad := ev.forceList("concatLists", el)
			if bad != nil {
				return bad
			}
			if len(out)+len(inner) > maxList {
				return unknown("list too long")
			}
			out = append(out, inner...)
		}
		return listValue(out)
	})
	add("concatMap", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("concatMap", args[1])
		if bad != nil {
			return bad
		}
		var out []*thunk
		for _, el := range l {
			r := ev.apply(ev.force(args[0]), el)
			if r.kind != kList {
				return typeErr("concatMap", r)
			}
			if len(out)+len(r.list) > maxList {
				return unknown("list too long")
			}
			out = append(out, r.list...)
		}
		return listValue(out)
	})
	add("foldl'", 3, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("foldl'", args[2])
		if bad != nil {
			return bad
		}
		acc := args[1]
		f := ev.force(args[0])
		for _, el := range l {
			acc = ready(ev.call2(f, acc, el))
			if acc.val.kind == kUnknown {
				return acc.val
			}
		}
		return ev.force(acc)
	})
	add("genList", 2, func(ev *evaluator, args []*thunk) *value {
		n := ev.force(args[1])
		if n.kind != kInt || n.i < 0 || n.i > maxList {
			return typeErr("genList", n)
		}
		out := make([]*thunk, n.i)
		for i := range out {
			i := i
			out[i] = lazy(func() *value { return ev.apply(ev.force(args[0]), ready(intValue(int64(i)))) })
		}
		return listValue(out)
	})
	for _, name := range []string{"any", "all"} {
		add(name, 2, func(ev *evaluator, args []*thunk) *value {
			l, bad := ev.forceList(name, args[1])
			if bad != nil {
				return bad
			}
			want := name == "any"
			for _, el := range l {
				b, bad := ev.forceBool(name, ev.apply(ev.force(args[0]), el))
				if bad != nil {
					return bad
				}
				if b == want {
					return boolValue(want)
				}
			}
			return boolValue(!want)
		})
	}
	add("sort", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("sort", args[1])
		if bad != nil {
			return bad
		}
		out := append([]*thunk(nil), l...)
		var failed *value
		sort.SliceStable(out, func(i, j int) bool {
			b, bad := ev.forceBool("sort", ev.call2(ev.force(args[0]), out[i], out[j]))
			if bad != nil && failed == nil {
				failed = bad
			}
			return b
		})
		if failed != nil {
			return failed
		}
		return listValue(out)
	})
	add("partition", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("partition", args[1])
		if bad != nil {
			return bad
		}
		var right, wrong []*thunk
		for _, el := range l {
			b, bad := ev.forceBool("partition", ev.apply(ev.force(args[0]), el))
			if bad != nil {
				return bad
			}
			if b {
				right = append(right, el)
			} else {
				wrong = append(wrong, el)
			}
		}
		a := newAttrs()
		a.set("right", ready(listValue(right)), site{})
		a.set("wrong", ready(listValue(wrong)), site{})
		return attrsValue(a)
	})
}

func (ev *evaluator) attrBuiltins(add func(string, int, func(*evaluator, []*thunk) *value)) {
	add("attrNames", 1, func(ev *evaluator, args []*thunk) *value {
		a, bad := ev.forceAttrs("attrNames", args[0])
		if bad != nil {
			return bad
		}
		if len(a.dynamic) > 0 {
			return unknown("attribute names: %s", a.dynamic[0])
		}
		out := make([]*thunk, 0, len(a.keys))
		for _, k := range a.names() {
			out = append(out, ready(str(k)))
		}
		return listValue(out)
	})
	add("attrValues", 1, func(ev *evaluator, args []*thunk) *value {
		a, bad := ev.forceAttrs("attrValues", args[0])
		if bad != nil {
			return bad
		}
		if len(a.dynamic) > 0 {
			return unknown("attribute names: %s", a.dynamic[0])
		}
		out := make([]*thunk, 0, len(a.keys))
		for _, k := range a.names() {
			t, _ := a.get(k)
			out = append(out, t)
		}
		return listValue(out)
	})
	add("hasAttr", 2, func(ev *evaluator, args []*thunk) *value {
		name, bad := ev.forceString("hasAttr", args[0])
		if bad != nil {
			return bad
		}
		v := ev.force(args[1])
		if v.kind != kAttrs {
			return typeErr("hasAttr", v)
		}
		if _, ok := v.attrs.get(name); ok {
			return vTrue
		}
		if v.attrs.open != nil {
			return v.attrs.open
		}
		return vFalse
	})
	add("getAttr", 2, func(ev *evaluator, args []*thunk) *value {
		name, bad := ev.forceString("getAttr", args[0])
		if bad != nil {
			return bad
		}
		v := ev.force(args[1])
		switch v.kind {
		case kAttrs:
			if t, ok := v.attrs.get(name); ok {
				return ev.force(t)
			}
			if v.attrs.open != nil {
				return ev.missing(v.attrs, name)
			}
			return unknown("attribute %q missing", name)
		case kUnknown:
			return ev.selectUnknown(v, name)
		}
		return typeErr("getAttr", v)
	})
	add("removeAttrs", 2, func(ev *evaluator, args []*thunk) *value {
		v := ev.force(args[0])
		if v.kind != kAttrs {
			return typeErr("removeAttrs", v)
		}
		l, bad := ev.forceList("removeAttrs", args[1])
		if bad != nil {
			return bad
		}
		drop := map[string]bool{}
		for _, el := range l {
			s, bad := ev.forceString("removeAttrs", el)
			if bad != nil {
				return bad
			}
			drop[s] = true
		}
		out := newAttrs()
		for _, k := range v.attrs.names() {
			if !drop[k] {
				t, _ := v.attrs.get(k)
				out.set(k, t, v.attrs.at[k])
			}
		}
		out.open, out.dynamic = v.attrs.open, v.attrs.dynamic
		return attrsValue(out)
	})
	add("listToAttrs", 1, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("listToAttrs", args[0])
		if bad != nil {
			return bad
		}
		out := newAttrs()
		for _, el := range l {
			nv, bad := ev.forceAttrs("listToAttrs", el)
			if bad != nil {
				return bad
			}
			nt, ok := nv.get("name")
			if !ok {
				return unknown("listToAttrs: element without name")
			}
			name, bad := ev.forceString("listToAttrs", nt)
			if bad != nil {
				out.dynamic = append(out.dynamic, "listToAttrs name: "+bad.s)
				continue
			}
			if _, seen := out.get(name); seen {
				continue // the first definition wins
			}
			vt, ok := nv.get("value")
			if !ok {
				return unknown("listToAttrs: element without value")
			}
			out.set(name, vt, nv.at["name"])
		}
		return attrsValue(out)
	})
	add("mapAttrs", 2, func(ev *evaluator, args []*thunk) *value {
		v := ev.force(args[1])
		if v.kind != kAttrs {
			return typeErr("mapAttrs", v)
		}
		out := newAttrs()
		for _, k := range v.attrs.names() {
			k := k
			t, _ := v.attrs.get(k)
			out.set(k, lazy(func() *value { return ev.call2(ev.force(args[0]), ready(str(k)), t) }), v.attrs.at[k])
		}
		out.open, out.dynamic = v.attrs.open, v.attrs.dynamic
		return attrsValue(out)
	})
	add("intersectAttrs", 2, func(ev *evaluator, args []*thunk) *value {
		a, bad := ev.forceAttrs("intersectAttrs", args[0])
		if bad != nil {
			return bad
		}
		b, bad := ev.forceAttrs("intersectAttrs", args[1])
		if bad != nil {
			return bad
		}
		out := newAttrs()
		for _, k := range b.names() {
			if _, ok := a.get(k); ok {
				t, _ := b.get(k)
				out.set(k, t, b.at[k])
			}
		}
		return attrsValue(out)
	})
	add("functionArgs", 1, func(ev *evaluator, args []*thunk) *value {
		f := ev.force(args[0])
		out := newAttrs()
		if f.kind == kLambda && f.lam.Formals != nil {
			for _, fm := range f.lam.Formals.List {
				out.set(fm.Name.Name, ready(boolValue(fm.Default != nil)), site{})
			}
		}
		return attrsValue(out)
	})
	add("catAttrs", 2, func(ev *evaluator, args []*thunk) *value {
		name, bad := ev.forceString("catAttrs", args[0])
		if bad != nil {
			return bad
		}
		l, bad := ev.forceList("catAttrs", args[1])
		if bad != nil {
			return bad
		}
		var out []*thunk
		for _, el := range l {
			a, bad := ev.forceAttrs("catAttrs", el)
			if bad != nil {
				return bad
			}
			if t, ok := a.get(name); ok {
				out = append(out, t)
			}
		}
		return listValue(out)
	})
	add("zipAttrsWith", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("zipAttrsWith", args[1])
		if bad != nil {
			return bad
		}
		vals := map[string][]*thunk{}
		var order []string
		for _, el := range l {
			a, bad := ev.forceAttrs("zipAttrsWith", el)
			if bad != nil {
				return bad
			}
			for _, k := range a.names() {
				t, _ := a.get(k)
				if _, ok := vals[k]; !ok {
					order = append(order, k)
				}
				vals[k] = append(vals[k], t)
			}
		}
		out := newAttrs()
		for _, k := range order {
			k, vs := k, vals[k]
			out.set(k, lazy(func() *value { return ev.call2(ev.force(args[0]), ready(str(k)), ready(listValue(vs))) }), site{})
		}
		return attrsValue(out)
	})
	add("groupBy", 2, func(ev *evaluator, args []*thunk) *value {
		l, bad := ev.forceList("groupBy", args[1])
		if bad != nil {
			return bad
		}
		groups := map[string][]*thunk{}
		for _, el := range l {
			k := ev.apply(ev.force(args[0]), el)
			if k.kind != kString {
				return typeErr("groupBy", k)
			}
			groups[k.s] = append(groups[k.s], el)
		}
		out := newAttrs()
		for k, vs := range groups {
			out.set(k, ready(listValue(vs)), site{})
		}
		return attrsValue(out)
	})
}

func (ev *evaluator) stringBuiltins(add func(string, int, func(*evaluator, []*thunk) *value)) {
	add("stringLength", 1, func(ev *evaluator, args []*thunk) *value {
		s, bad := ev.coerce(ev.force(args[0]), false)
		if bad != nil {
			return bad
		}
		return intValue(int64(len(s)))
	})
	add("substring", 3, func(ev *evaluator, args []*thunk) *value {
		start, n := ev.force(args[0]), ev.force(args[1])
		s, bad := ev.coerce(ev.force(args[2]), false)
		if bad != nil {
			return bad
		}
		if start.kind != kInt || n.kind != kInt || start.i < 0 {
			return unknown("substring: bad arguments")
		}
		if int(start.i) >= len(s) {
			return str("")
		}
		end := len(s)
		if n.i >= 0 && int(start.i+n.i) < end {
			end = int(start.i + n.i)
		}
		return str(s[start.i:end])
	})
	add("concatStringsSep", 2, func(ev *evaluator, args []*thunk) *value {
		sep, bad := ev.forceString("concatStringsSep", args[0])
		if bad != nil {
			return bad
		}
		l, bad := ev.forceList("concatStringsSep", args[1])
		if bad != nil {
			return bad
		}
		parts := make([]string, len(l))
		for i, el := range l {
			s, bad := ev.coerce(ev.force(el), false)
			if bad != nil {
				return bad
			}
			parts[i] = s
		}
		return str(strings.Join(parts, sep))
	})
	add("replaceStrings", 3, func(ev *evaluator, args []*thunk) *value {
		from, bad := ev.stringList("replaceStrings", args[0])
		if bad != nil {
			return bad
		}
		to, bad := ev.stringList("replaceStrings", args[1])
		if bad != nil {
			return bad
		}
		s, bad := ev.forceString("replaceStrings", args[2])
		if bad != nil {
			return bad
		}
		if len(from) != len(to) {
			return unknown("replaceStrings: lists of different lengths")
		}
		var pairs []string
		for i := range from {
			pairs = append(pairs, from[i], to[i])
		}
		return str(strings.NewReplacer(pairs...).Replace(s))
	})
	add("match", 2, func(ev *evaluator, args []*thunk) *value {
		re, bad := ev.forceString("match", args[0])
		if bad != nil {
			return bad
		}
		s, bad := ev.forceString("match", args[1])
		if bad != nil {
			return bad
		}
		rx, err := regexp.Compile("^(?:" + re + ")$")
		if err != nil {
			return unknown("match: %v", err)
		}
		m := rx.FindStringSubmatch(s)
		if m == nil {
			return vNull
		}
		out := make([]*thunk, 0, len(m)-1)
		for _, g := range m[1:] {
			out = append(out, ready(str(g)))
		}
		return listValue(out)
	})
	add("lessThan", 2, func(ev *evaluator, args []*thunk) *value {
		return arith(ltToken, ev.force(args[0]), ev.force(args[1]))
	})
	for name, op := range map[string]rune{"add": '+', "sub": '-', "mul": '*', "div": '/'} {
		add(name, 2, func(ev *evaluator, args []*thunk) *value {
			l, r := ev.force(args[0]), ev.force(args[1])
			if op == '+' {
				return ev.add(l, r)
			}
			return arith(opToken[op], l, r)
		})
	}
}

func (ev *evaluator) stringList(fn string, t *thunk) ([]string, *value) {
	l, bad := ev.forceList(fn, t)
	if bad != nil {
		return nil, bad
	}
	out := make([]string, len(l))
	for i, el := range l {
		s, bad := ev.forceString(fn, el)
		if bad != nil {
			return nil, bad
		}
		out[i] = s
	}
	return out, nil
}

// String renders a value briefly, for messages and tests.
func (v *value) String() string {
	switch v.kind {
	case kUnknown:
		return "<unknown: " + v.s + ">"
	case kString:
		return fmt.Sprintf("%q", v.s)
	case kPath:
		return "./" + v.s
	case kInt:
		return fmt.Sprint(v.i)
	case kBool:
		return fmt.Sprint(v.b)
	case kNull:
		return "null"
	}
	return "<" + v.typeName() + ">"
}

var (
	ltToken = token.LSS
	opToken = map[rune]token.Token{'-': token.SUB, '*': token.MUL, '/': token.QUO}
)
