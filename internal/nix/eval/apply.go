package eval

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// builtinArity are the builtins the evaluator computes itself.
var builtinArity = map[string]int{"toString": 1, "map": 2, "listToAttrs": 1, "mapAttrs": 2, "import": 1}

// arity is the number of arguments a named function takes: the
// evaluator's builtins, then the layer's functions.
func (ev *Evaluator) arity(name string) (int, bool) {
	if n, ok := builtinArity[name]; ok {
		return n, true
	}
	if name == "readDir" && ev.files != nil {
		return 1, true
	}
	if ev.layer != nil {
		return ev.layer.Arity(name)
	}
	return 0, false
}

// Apply applies each of fns (one, or the result is unknown) to args.
func (ev *Evaluator) Apply(call ast.Expr, fns []Value, args []*Thunk) []Value {
	if len(args) == 0 {
		return fns
	}
	if len(fns) != 1 {
		return []Value{NewUnknown(call, "computed by "+funcName(call))}
	}
	f := fns[0]
	switch f.Kind {
	case Lambda:
		res := ev.Eval(f.Fn.Body, ev.bindParams(f.Fn, f.Closure, args[0]))
		if f.Cond {
			res = MarkConditional(res)
		}
		return ev.Apply(call, res, args[1:])
	case Builtin:
		arity, known := ev.arity(f.Name)
		if f.Name == "" || !known {
			return []Value{NewUnknown(call, "computed by "+funcName(call))}
		}
		all := append(append([]*Thunk(nil), f.Args...), args...)
		if len(all) < arity {
			return []Value{{Kind: Builtin, Name: f.Name, Args: all}}
		}
		return ev.Apply(call, ev.callNamed(call, f.Name, all[:arity]), all[arity:])
	case Unknown:
		return []Value{NewUnknown(call, "computed by "+funcName(call))}
	}
	return []Value{NewUnknown(call, "applies a value that is not a function")}
}

// bindParams binds a lambda's parameter(s) to an argument.
func (ev *Evaluator) bindParams(l *ast.Lambda, closure *Env, arg *Thunk) *Env {
	sc := NewEnv(closure)
	if l.Param != nil {
		sc.Bind(l.Param.Name, Entry{Key: l.Param.Name, KeyNode: l.Param, Pos: l.Param.Pos(), Env: sc, Val: arg})
	}
	if l.Formals == nil {
		return sc
	}
	argVals := ev.Force(arg)
	for _, f := range l.Formals.List {
		name := f.Name.Name
		var t *Thunk
		vs, found := ev.SelectKey(argVals, name)
		switch {
		case found:
			t = Computed(vs)
		case f.Default != nil:
			t = Delay(f.Default, sc)
		default:
			t = Computed([]Value{NewUnknown(f.Name, "depends on "+name)})
		}
		sc.Bind(name, Entry{Key: name, KeyNode: f.Name, Pos: f.Name.Pos(), Env: sc, Val: t})
	}
	return sc
}

// callNamed applies a named function to exactly its arity of arguments:
// the layer's first, then the builtins.
func (ev *Evaluator) callNamed(call ast.Expr, name string, args []*Thunk) []Value {
	if ev.layer != nil {
		if vs, ok := ev.layer.Call(ev, call, name, args); ok {
			return vs
		}
	}
	switch name {
	case "toString":
		return ev.toString(args[0])
	case "listToAttrs":
		return ev.listToAttrs(call, args[0])
	case "mapAttrs":
		return ev.mapAttrs(call, args[0], args[1])
	case "map":
		return ev.mapList(call, args[0], args[1])
	case "import":
		if vs, ok := ev.importFile(call, args[0]); ok {
			return vs
		}
	case "readDir":
		if vs, ok := ev.readDir(call, args[0]); ok {
			return vs
		}
	}
	return []Value{NewUnknown(call, "computed by "+name+TemplateOf(call))}
}

func (ev *Evaluator) toString(arg *Thunk) []Value {
	vs := ev.Force(arg)
	var meta any
	if len(vs) == 1 && ev.layer != nil {
		meta = ev.layer.Join(nil, vs[0].Meta)
	}
	if len(vs) == 1 && vs[0].Kind == Int && !vs[0].Cond {
		return []Value{{Kind: String, Str: strconv.FormatInt(vs[0].Integer, 10), Meta: meta}}
	}
	if s, ok := ev.StringsOf(vs); ok && len(s) == 1 {
		return []Value{{Kind: String, Str: s[0], Meta: meta}}
	}
	return []Value{{Kind: Scalar}}
}

// Attr is an attribute of a fully known set.
type Attr struct {
	Name string
	Pos  token.Pos
	Val  *Thunk
}

// StaticAttrs lists the attributes of a set whose every key is known and
// that applies unconditionally.
func (ev *Evaluator) StaticAttrs(vs []Value) ([]Attr, bool) {
	var out []Attr
	index := map[string]int{}
	for _, v := range vs {
		if v.Kind != Set || v.Cond {
			return nil, false
		}
		for _, e := range v.Entries {
			if e.Dynamic {
				return nil, false
			}
			if _, seen := index[e.Key]; seen {
				continue
			}
			index[e.Key] = len(out)
			var same []Entry
			for _, o := range v.Entries {
				if !o.Dynamic && o.Key == e.Key {
					same = append(same, o)
				}
			}
			out = append(out, Attr{Name: e.Key, Pos: e.Pos, Val: Computed(ev.EntryValues(same, v))})
		}
	}
	return out, true
}

// NameValue reads a { name = …; value = …; } result.
func (ev *Evaluator) NameValue(vs []Value) (string, *Thunk, bool) {
	names, found := ev.SelectKey(vs, "name")
	if !found || len(names) != 1 || names[0].Kind != String || names[0].Cond {
		return "", nil, false
	}
	vals, found := ev.SelectKey(vs, "value")
	if !found {
		return "", nil, false
	}
	return names[0].Str, Computed(vals), true
}

func (ev *Evaluator) listToAttrs(call ast.Expr, list *Thunk) []Value {
	l := ev.Force(list)
	template := TemplateOf(call)
	if template == "" && len(l) == 1 && l[0].Kind == Unknown {
		// listToAttrs (map mkJob xs): the template is in mkJob, which the
		// failed map already found.
		if i := strings.Index(l[0].Why, " (template "); i >= 0 {
			template = l[0].Why[i:]
		}
	}
	fail := []Value{NewUnknown(call, "computed by listToAttrs"+template)}
	if len(l) != 1 || l[0].Kind != List || l[0].Cond {
		return fail
	}
	set := Value{Kind: Set}
	for _, t := range l[0].Elems {
		name, val, ok := ev.NameValue(ev.Force(t))
		if !ok {
			return fail
		}
		set.Entries = append(set.Entries, Entry{Key: name, Pos: PosOf(t, call), Val: val})
	}
	return []Value{set}
}

func (ev *Evaluator) mapAttrs(call ast.Expr, fn, set *Thunk) []Value {
	fns := ev.Force(fn)
	attrs, ok := ev.StaticAttrs(ev.Force(set))
	if !ok {
		return []Value{NewUnknown(call, "computed by mapAttrs"+TemplateIn(call, fns))}
	}
	out := Value{Kind: Set}
	for _, a := range attrs {
		res := ev.Apply(call, fns, []*Thunk{Computed([]Value{{Kind: String, Str: a.Name}}), a.Val})
		out.Entries = append(out.Entries, Entry{Key: a.Name, Pos: a.Pos, Val: Computed(res)})
	}
	return []Value{out}
}

// mapList is map f over a list written out, keeping each element's
// position for the attributes it may name.
func (ev *Evaluator) mapList(call ast.Expr, fn, list *Thunk) []Value {
	l := ev.Force(list)
	if len(l) != 1 || l[0].Kind != List {
		return []Value{NewUnknown(call, "computed by map"+TemplateIn(call, ev.Force(fn)))}
	}
	fns := ev.Force(fn)
	out := Value{Kind: List, Cond: l[0].Cond}
	for _, el := range l[0].Elems {
		res := ev.Apply(call, fns, []*Thunk{el})
		// Keep the element's expression for its position; its value is res.
		out.Elems = append(out.Elems, Evaluated(el.Expr, el.Env, res))
	}
	return []Value{out}
}

// PosOf is the position of a thunk's expression, else of fallback.
func PosOf(t *Thunk, fallback ast.Node) token.Pos {
	if t.Expr != nil {
		return t.Expr.Pos()
	}
	if fallback == nil {
		return token.NoPos
	}
	return fallback.Pos()
}

// funcName names the function of a call for messages.
func funcName(call ast.Expr) string {
	if c, ok := call.(*ast.Call); ok {
		return Render(c.Fun)
	}
	return Render(call)
}

// TemplateIn is TemplateOf, looking into the body of the function applied
// when the call does not show the template itself (mapAttrs' mkJob jobs).
func TemplateIn(call ast.Expr, fns []Value) string {
	if t := TemplateOf(call); t != "" {
		return t
	}
	if len(fns) == 1 && fns[0].Kind == Lambda {
		return TemplateOf(fns[0].Fn.Body)
	}
	return ""
}

// TemplateOf finds the name template of a generated attribute set, for
// messages: the name attribute of a { name = …; value = …; } (what
// listToAttrs reads), or the first argument of a call to a function named
// nameValuePair, which builds one: ` (template "job-${n}")`.
func TemplateOf(call ast.Expr) string {
	var found ast.Expr
	ast.Inspect(call, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.Call:
			if fn := Render(n.Fun); (fn == "nameValuePair" || fn == "lib.nameValuePair") && len(n.Args) > 0 {
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
	return fmt.Sprintf(" (template %s)", Render(found))
}
