package eval

import (
	"fmt"
	"slices"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Limits that keep the evaluator finite on any input, including
// self-referential lets (let x = x; in x) and runaway recursion.
const (
	MaxDepth = 200
	MaxSteps = 200000
	// Doubling by ++ or + (l1 = l0 ++ l0; l2 = l1 ++ l1; …) would otherwise
	// exhaust memory in a few lines.
	MaxListLen   = 10000
	MaxStringLen = 1 << 20
)

// Evaluator evaluates expressions partially. It is not safe for concurrent
// use; evaluators made by WithLayer share its budget and imports.
type Evaluator struct {
	*Budget
	layer   Layer
	files   Files
	imports map[string]*importState
}

// Budget is the work an evaluation may cost, shared by the evaluators that
// work for one caller (see WithLayer), so that everything they do is
// bounded together.
type Budget struct {
	depth int
	Steps int
	Hit   bool // a limit was reached: results are incomplete
}

// Step counts one unit of work outside the evaluator (a caller walking
// values); false when the budget is spent, which sets Hit.
func (b *Budget) Step() bool {
	b.Steps++
	if b.Steps > MaxSteps {
		b.Hit = true
		return false
	}
	return true
}

// Mark is how much of a budget was spent, and how deep the evaluation
// was, at one point: a caller that replays work done from that point
// (Resume) gets exactly what the original evaluation got, limits
// included.
type Mark struct{ Steps, Depth int }

// Mark returns the budget's current point.
func (b *Budget) Mark() Mark { return Mark{Steps: b.Steps, Depth: b.depth} }

// Resume puts the budget back at m, with no limit reached.
func (b *Budget) Resume(m Mark) { b.Steps, b.depth, b.Hit = m.Steps, m.Depth, false }

type importState struct {
	vals   []Value
	active bool
}

// New is an evaluator with its own budget. layer and files may be nil.
func New(layer Layer, files Files) *Evaluator {
	return &Evaluator{Budget: &Budget{}, layer: layer, files: files, imports: map[string]*importState{}}
}

// WithLayer is an evaluator on the same budget and imports with another
// layer (a mode of the same caller).
func (ev *Evaluator) WithLayer(l Layer) *Evaluator {
	return &Evaluator{Budget: ev.Budget, layer: l, files: ev.files, imports: ev.imports}
}

// Layer is the evaluator's layer, nil for plain Nix.
func (ev *Evaluator) Layer() Layer { return ev.layer }

// File evaluates a file's expression in its own top scope.
func (ev *Evaluator) File(src *Source) []Value {
	if src.AST == nil || src.AST.Expr == nil {
		return []Value{NewUnknown(nil, "missing expression")}
	}
	return ev.Eval(src.AST.Expr, FileEnv(src))
}

// Force evaluates a thunk, once.
func (ev *Evaluator) Force(t *Thunk) []Value {
	if !t.done {
		t.fixed, t.done = ev.Eval(t.Expr, t.Env), true
	}
	if ev.layer != nil {
		return ev.layer.Forced(ev, t.fixed)
	}
	return t.fixed
}

// Eval evaluates e in scope sc (nil: an empty top scope).
func (ev *Evaluator) Eval(e ast.Expr, sc *Env) []Value {
	ev.Steps++
	if ev.depth >= MaxDepth || ev.Steps > MaxSteps {
		ev.Hit = true
		return []Value{NewUnknown(e, "expression too deep to read statically")}
	}
	ev.depth++
	defer func() { ev.depth-- }()

	switch x := e.(type) {
	case nil:
		return []Value{NewUnknown(nil, "missing expression")}
	case *ast.Paren:
		return ev.Eval(x.X, sc)
	case *ast.AttrSet:
		return []Value{ev.attrSet(x, sc)}
	case *ast.Let:
		return ev.Eval(x.Body, ev.bind(x.Bindings, sc))
	case *ast.LegacyLet:
		inner := ev.bind(x.Bindings, sc)
		if es, ok := inner.names["body"]; ok {
			return ev.EntryValues(es, Value{})
		}
		return []Value{NewUnknown(x, "let without body")}
	case *ast.With:
		return ev.Eval(x.Body, withEnv(sc, Delay(x.Scope, sc)))
	case *ast.Assert:
		return ev.Eval(x.Body, sc)
	case *ast.If:
		return ev.ifThenElse(x, sc)
	case *ast.Ident:
		return ev.variable(x, sc)
	case *ast.Select:
		return ev.selectExpr(x, sc)
	case *ast.String:
		return []Value{ev.stringExpr(x, sc)}
	case *ast.Int:
		return []Value{{Kind: Int, Integer: x.Value}}
	case *ast.List:
		l := Value{Kind: List}
		for _, el := range x.Elems {
			l.Elems = append(l.Elems, Delay(el, sc))
		}
		return []Value{l}
	case *ast.Lambda:
		return []Value{{Kind: Lambda, Fn: x, Closure: sc}}
	case *ast.Call:
		fn := ev.Eval(x.Fun, sc)
		args := make([]*Thunk, len(x.Args))
		for i, a := range x.Args {
			args[i] = Delay(a, sc)
		}
		return ev.Apply(x, fn, args)
	case *ast.Binary:
		return ev.binary(x, sc)
	case *ast.Unary:
		if x.Op == token.NOT {
			if b, ok := ev.BoolOf(x.X, sc); ok {
				return []Value{{Kind: Bool, Boolean: !b}}
			}
			return []Value{NewUnknown(x, "condition "+Render(x))}
		}
		return []Value{{Kind: Scalar}}
	case *ast.HasAttr:
		return []Value{NewUnknown(x, "condition "+Render(x))}
	case *ast.Path:
		return []Value{ev.path(x, sc)}
	case *ast.Float, *ast.SearchPath, *ast.URI:
		return []Value{{Kind: Scalar}}
	default:
		return []Value{NewUnknown(e, "unsupported expression")}
	}
}

// Enclose returns v as seen through an enclosing value: conditions add up
// and the layer combines the annotations.
func (ev *Evaluator) Enclose(v, parent Value) Value {
	v.Cond = v.Cond || parent.Cond
	v.Vanish = v.Vanish || parent.Vanish
	if ev.layer != nil {
		v.Meta = ev.layer.Enclose(v.Meta, parent.Meta)
	}
	return v
}

// EncloseAll is Enclose over vs.
func (ev *Evaluator) EncloseAll(vs []Value, parent Value) []Value {
	out := make([]Value, len(vs))
	for i, v := range vs {
		out[i] = ev.Enclose(v, parent)
	}
	return out
}

// joined adds what v is built from to v: a string made of parts is as
// conditional as its parts.
func (ev *Evaluator) joined(v, part Value) Value {
	v.Cond = v.Cond || part.Cond
	v.Vanish = v.Vanish || part.Vanish
	if ev.layer != nil {
		v.Meta = ev.layer.Join(v.Meta, part.Meta)
	}
	return v
}

func (ev *Evaluator) cause(vs []Value) any {
	if ev.layer == nil {
		return nil
	}
	return ev.layer.Cause(vs)
}

// attrSet builds a set value. Keys are resolved now (a ${…} key that is not
// constant stays a dynamic entry); values stay lazy.
func (ev *Evaluator) attrSet(x *ast.AttrSet, sc *Env) Value {
	if !x.RecPos.IsValid() {
		return Value{Kind: Set, Entries: ev.entries(x.Bindings, sc, sc)}
	}
	return Value{Kind: Set, Entries: ev.entries(x.Bindings, sc, NewEnv(sc))}
}

// bind returns the scope of a let block: recursive, like rec sets.
func (ev *Evaluator) bind(bindings []ast.Binding, sc *Env) *Env {
	inner := NewEnv(sc)
	ev.entries(bindings, sc, inner)
	return inner
}

// entries turns bindings into entries. outer is the scope of plain inherit,
// inner the scope of values and keys; when they differ (rec sets and lets)
// the static names are bound in inner first, so that ${…} keys can use them.
func (ev *Evaluator) entries(bindings []ast.Binding, outer, inner *Env) []Entry {
	var out []Entry
	pending := false
	for _, b := range bindings {
		switch b := b.(type) {
		case *ast.Attr:
			if len(b.Path) == 0 {
				continue
			}
			e := Entry{KeyNode: b.Path[0], Pos: b.Path[0].Pos(), Rest: b.Path[1:], Env: inner,
				Val: Delay(b.Value, inner)}
			if name, ok := StaticName(b.Path[0]); ok {
				e.Key = name
			} else {
				e.Dynamic, pending = true, true
			}
			out = append(out, e)
		case *ast.Inherit:
			for _, n := range b.Names {
				name, ok := StaticName(n)
				if !ok {
					continue // Nix rejects ${…} in inherit; the parser reports it
				}
				var val *Thunk
				if b.From != nil {
					sel := &ast.Select{X: b.From, Path: []ast.Expr{n}, EndP: n.End()}
					val = Delay(sel, inner)
				} else {
					val = Delay(&ast.Ident{NamePos: n.Pos(), Name: name, EndP: n.End()}, outer)
				}
				out = append(out, Entry{Key: name, KeyNode: n, Pos: n.Pos(), Env: inner, Val: val})
			}
		}
	}
	if inner != outer {
		for _, e := range out {
			if !e.Dynamic {
				inner.Bind(e.Key, e)
			}
		}
	}
	if !pending {
		return out
	}
	named := make([]Entry, 0, len(out))
	for _, e := range out {
		if e.Dynamic {
			named = append(named, ev.named(e, inner)...)
			continue
		}
		named = append(named, e)
	}
	return named
}

// StaticName is the name of an attribute-path element written without
// interpolation.
func StaticName(n ast.Expr) (string, bool) {
	switch n := n.(type) {
	case *ast.Ident:
		return n.Name, true
	case *ast.String:
		var b strings.Builder
		for _, p := range n.Parts {
			t, ok := p.(*ast.Text)
			if !ok {
				return "", false
			}
			b.WriteString(t.Value)
		}
		return b.String(), true
	}
	return "", false
}

// maxKeyNames bounds the names one ${…} key may stand for.
const maxKeyNames = 8

// keyName is one name an attribute-path element can take.
type keyName struct {
	name string
	cond bool // the element may take another name, or none
	meta any  // the layer's annotation of the values giving the name
}

// keyNames resolves one attribute-path element to the constant names it
// can take: one, or several when it reads a value that has several
// possibilities. When there is none, why is the layer's cause.
func (ev *Evaluator) keyNames(n ast.Expr, sc *Env) (names []keyName, why any) {
	var vs []Value
	switch n := n.(type) {
	case *ast.Ident:
		return []keyName{{name: n.Name}}, nil
	case *ast.String:
		if len(n.Parts) == 1 {
			if ip, ok := n.Parts[0].(*ast.Interp); ok {
				vs = ev.Eval(ip.X, sc) // "${x}" is x, with all its possible values
				break
			}
		}
		vs = []Value{ev.stringExpr(n, sc)}
	case *ast.Interp:
		vs = ev.Eval(n.X, sc)
	default:
		return nil, nil
	}
	if len(vs) == 0 || len(vs) > maxKeyNames {
		return nil, ev.cause(vs)
	}
	for _, v := range vs {
		if v.Kind != String {
			return nil, ev.cause(vs)
		}
		i := slices.IndexFunc(names, func(k keyName) bool { return k.name == v.Str })
		if i < 0 {
			names = append(names, keyName{name: v.Str, cond: true})
			i = len(names) - 1
		}
		// if-then-else alone names the attribute either way; a value that
		// may vanish may leave it unnamed.
		names[i].cond = names[i].cond && v.Vanish
		if ev.layer != nil {
			names[i].meta = ev.layer.Join(names[i].meta, v.Meta)
		}
	}
	if len(names) > 1 {
		for i := range names {
			names[i].cond = true
		}
	}
	return names, nil
}

// named resolves the ${…} key of e: one entry per name it can take, or e
// itself, dynamic, when it has no constant name.
func (ev *Evaluator) named(e Entry, sc *Env) []Entry {
	names, why := ev.keyNames(e.KeyNode, sc)
	if len(names) == 0 {
		e.Key, e.Dynamic, e.Why = "", true, why
		return []Entry{e}
	}
	out := make([]Entry, len(names))
	for i, n := range names {
		c := e
		c.Key, c.Dynamic = n.name, false
		c.Cond = e.Cond || n.cond
		if ev.layer != nil {
			c.Meta = ev.layer.Join(e.Meta, n.meta)
		}
		out[i] = c
	}
	return out
}

// attrName resolves one attribute-path element to a single, certain
// constant name, for selections (a.${b}).
func (ev *Evaluator) attrName(n ast.Expr, sc *Env) (name string, dynamic bool) {
	names, _ := ev.keyNames(n, sc)
	if len(names) != 1 || names[0].cond {
		return "", true
	}
	return names[0].name, false
}

// EntryValues forces the definitions of one attribute (several when written
// as a.b = …; a.c = …;) as seen through their set, parent.
func (ev *Evaluator) EntryValues(es []Entry, parent Value) []Value {
	var out []Value
	var nested []Entry
	for _, e := range es {
		if len(e.Rest) == 0 {
			vs := ev.EncloseAll(ev.Force(e.Val), parent)
			if e.Cond {
				vs = MarkVanishing(vs) // the attribute may have another name
			}
			out = append(out, vs...)
			continue
		}
		nested = append(nested, ev.shift(e)...)
	}
	if len(nested) > 0 {
		out = append(out, ev.Enclose(Value{Kind: Set, Entries: nested}, parent))
	}
	return out
}

// shift turns a.b.c = v (key a) into b.c = v, the entry of the inner set
// (several when b is a ${…} with several possible names).
func (ev *Evaluator) shift(e Entry) []Entry {
	n := Entry{KeyNode: e.Rest[0], Pos: e.Rest[0].Pos(), Rest: e.Rest[1:], Env: e.Env, Val: e.Val,
		Cond: e.Cond, Meta: e.Meta}
	if name, ok := StaticName(e.Rest[0]); ok {
		n.Key = name
		return []Entry{n}
	}
	return ev.named(n, e.Env)
}

func (ev *Evaluator) ifThenElse(x *ast.If, sc *Env) []Value {
	if b, ok := ev.BoolOf(x.Cond, sc); ok {
		if b {
			return ev.Eval(x.Then, sc)
		}
		return ev.Eval(x.Else, sc)
	}
	out := MarkConditional(ev.Eval(x.Then, sc))
	return append(out, MarkConditional(ev.Eval(x.Else, sc))...)
}

// variable looks a name up as Nix does: lexical bindings first (the
// builtins true, false, null, … are lexical too), then with-scopes
// innermost first, then the layer.
func (ev *Evaluator) variable(x *ast.Ident, sc *Env) []Value {
	if es, ok := sc.Lookup(x.Name); ok {
		return ev.EntryValues(es, Value{})
	}
	switch x.Name {
	case "true", "false":
		return []Value{{Kind: Bool, Boolean: x.Name == "true"}}
	case "null":
		return []Value{{Kind: Null}}
	case "builtins":
		return []Value{{Kind: Builtin}}
	case "import", "toString", "map", "removeAttrs", "throw", "abort":
		return []Value{{Kind: Builtin, Name: x.Name}}
	}
	for s := sc; s != nil; s = s.parent {
		if s.with == nil {
			continue
		}
		for _, w := range ev.Force(s.with) {
			switch w.Kind {
			case Set:
				if vs, found := ev.SelectKey([]Value{w}, x.Name); found {
					return vs
				}
			case Builtin:
				if w.Name == "" {
					return []Value{ev.member(x.Name)}
				}
			case Unknown:
				if ev.layer != nil {
					if vs, ok := ev.layer.FromWith(ev, w, x.Name); ok {
						return vs
					}
				}
			}
		}
	}
	if ev.layer != nil {
		if v, ok := ev.layer.Free(x.Name); ok {
			return []Value{v}
		}
	}
	return []Value{NewUnknown(x, "depends on "+x.Name)}
}

// member is NAME selected from a namespace (builtins.NAME).
func (ev *Evaluator) member(name string) Value {
	if ev.layer != nil {
		return ev.layer.Member(name)
	}
	return Value{Kind: Builtin, Name: name}
}

func (ev *Evaluator) selectExpr(x *ast.Select, sc *Env) []Value {
	cur := ev.Eval(x.X, sc)
	for _, p := range x.Path {
		name, dynamic := ev.attrName(p, sc)
		if dynamic {
			return []Value{NewUnknown(x, "depends on "+Render(x))}
		}
		next, found := ev.SelectKey(cur, name)
		if !found {
			if x.Default != nil {
				return ev.Eval(x.Default, sc)
			}
			return []Value{NewUnknown(x, "depends on "+Render(x))}
		}
		cur = next
	}
	for i, v := range cur {
		if v.Kind != Unknown {
			continue
		}
		// Name the whole path (cfg.unitName), not just its root (cfg).
		if strings.HasPrefix(v.Why, "depends on ") {
			cur[i].At, cur[i].Why = x, "depends on "+Render(x)
		}
		if cur[i].At == nil {
			cur[i].At = x
		}
	}
	return cur
}

// SelectKey is v.name over every part of vs. found is false when no part
// can have the attribute; unknown parts make the result unknown.
func (ev *Evaluator) SelectKey(vs []Value, name string) ([]Value, bool) {
	var out []Value
	found := false
	for _, v := range vs {
		switch v.Kind {
		case Set:
			var es []Entry
			for _, e := range v.Entries {
				if !e.Dynamic && e.Key == name {
					es = append(es, e)
				}
			}
			if len(es) > 0 {
				found = true
				out = append(out, ev.EntryValues(es, v)...)
			}
		case Builtin:
			if v.Name == "" {
				found = true
				out = append(out, ev.member(name))
			}
		case Unknown:
			found = true
			if ev.layer != nil {
				out = append(out, ev.layer.Select(ev, v, name)...)
			} else {
				out = append(out, v)
			}
		}
	}
	return out, found
}

func (ev *Evaluator) binary(x *ast.Binary, sc *Env) []Value {
	switch x.Op {
	case token.UPDATE:
		return override(ev.Eval(x.X, sc), ev.Eval(x.Y, sc))
	case token.ADD:
		l, lok := ev.StringOf(x.X, sc)
		r, rok := ev.StringOf(x.Y, sc)
		if lok && rok && len(l.Str)+len(r.Str) <= MaxStringLen {
			return []Value{ev.joined(ev.joined(Value{Kind: String, Str: l.Str + r.Str}, l), r)}
		}
		u := NewUnknown(x, "not a constant: "+Render(x))
		u.Meta = ev.cause([]Value{l, r})
		return []Value{u}
	case token.CONCAT:
		var out Value
		out.Kind = List
		for _, side := range []ast.Expr{x.X, x.Y} {
			vs := ev.Eval(side, sc)
			if len(vs) != 1 || vs[0].Kind != List {
				return []Value{NewUnknown(x, "not a constant list: "+Render(x))}
			}
			if len(out.Elems)+len(vs[0].Elems) > MaxListLen {
				return []Value{NewUnknown(x, "list too long to read statically")}
			}
			out.Elems = append(out.Elems, vs[0].Elems...)
			out.Cond = out.Cond || vs[0].Cond
		}
		return []Value{out}
	case token.LAND, token.LOR, token.IMPL, token.EQL, token.NEQ:
		if b, ok := ev.BoolOf(x, sc); ok {
			return []Value{{Kind: Bool, Boolean: b}}
		}
		return []Value{NewUnknown(x, "condition "+Render(x))}
	}
	return []Value{{Kind: Scalar}}
}

// override is left // right: right's attributes hide left's, except where
// right only might define them (under a condition) or cannot be read.
func override(left, right []Value) []Value {
	hidden := map[string]bool{}
	for _, r := range right {
		if r.Kind != Set || r.Cond {
			continue
		}
		for _, e := range r.Entries {
			if !e.Dynamic {
				hidden[e.Key] = true
			}
		}
	}
	var out []Value
	for _, l := range left {
		if l.Kind == Set && len(hidden) > 0 {
			kept := l
			kept.Entries = nil
			for _, e := range l.Entries {
				if e.Dynamic || !hidden[e.Key] {
					kept.Entries = append(kept.Entries, e)
				}
			}
			l = kept
		}
		out = append(out, l)
	}
	return append(out, right...)
}

// BoolOf evaluates a condition when it is a constant.
func (ev *Evaluator) BoolOf(e ast.Expr, sc *Env) (bool, bool) {
	if b, ok := e.(*ast.Binary); ok {
		switch b.Op {
		case token.LAND, token.LOR, token.IMPL:
			l, lok := ev.BoolOf(b.X, sc)
			r, rok := ev.BoolOf(b.Y, sc)
			switch {
			case b.Op == token.LAND && ((lok && !l) || (rok && !r)):
				return false, true
			case b.Op == token.LOR && ((lok && l) || (rok && r)):
				return true, true
			case !lok || !rok:
				return false, false
			case b.Op == token.LAND:
				return l && r, true
			case b.Op == token.LOR:
				return l || r, true
			default:
				return !l || r, true
			}
		case token.EQL, token.NEQ:
			l, lok := ev.constString(b.X, sc)
			r, rok := ev.constString(b.Y, sc)
			if !lok || !rok {
				return false, false
			}
			return (l == r) == (b.Op == token.EQL), true
		}
	}
	return ev.Decided(ev.Eval(e, sc))
}

// BoolOfThunk is BoolOf on a thunk, evaluating its expression when it has
// not been forced yet.
func (ev *Evaluator) BoolOfThunk(t *Thunk) (bool, bool) {
	if !t.done && t.Expr != nil {
		return ev.BoolOf(t.Expr, t.Env)
	}
	return ev.Decided(ev.Force(t))
}

// constant reports whether the layer lets v decide a condition.
func (ev *Evaluator) constant(v Value) bool {
	return ev.layer == nil || ev.layer.Constant(v.Meta)
}

// Decided reads a condition's value: one unconditional boolean that the
// layer takes as constant.
func (ev *Evaluator) Decided(vs []Value) (bool, bool) {
	if len(vs) == 1 && vs[0].Kind == Bool && !vs[0].Cond && ev.constant(vs[0]) {
		return vs[0].Boolean, true
	}
	return false, false
}

// constString evaluates e to a constant string for a condition (==, !=).
func (ev *Evaluator) constString(e ast.Expr, sc *Env) (string, bool) {
	v, ok := ev.StringOf(e, sc)
	if !ok || v.Cond || !ev.constant(v) {
		return "", false
	}
	return v.Str, true
}

// StringOf evaluates e to a string known statically, possibly under a
// condition (v says which). When it is not one, v is Unknown and its Meta
// is the layer's cause.
func (ev *Evaluator) StringOf(e ast.Expr, sc *Env) (v Value, ok bool) {
	vs := ev.Eval(e, sc)
	if len(vs) == 1 && vs[0].Kind == String {
		return vs[0], true
	}
	return Value{Kind: Unknown, Meta: ev.cause(vs)}, false
}

func (ev *Evaluator) stringExpr(x *ast.String, sc *Env) Value {
	var b strings.Builder
	out := Value{Kind: String}
	for _, p := range x.Parts {
		switch p := p.(type) {
		case *ast.Text:
			b.WriteString(p.Value)
		case *ast.Interp:
			v, ok := ev.StringOf(p.X, sc)
			if !ok {
				u := NewUnknown(x, fmt.Sprintf("%s is not a constant", Render(x)))
				u.Meta = v.Meta
				return u
			}
			b.WriteString(v.Str)
			out = ev.joined(out, v)
		}
		if b.Len() > MaxStringLen {
			return NewUnknown(x, "string too long to read statically")
		}
	}
	out.Str = b.String()
	return out
}

// StringsOf reads a constant string or list of constant strings. A
// condition on the value makes it not constant.
func (ev *Evaluator) StringsOf(vs []Value) ([]string, bool) {
	if len(vs) != 1 || vs[0].Cond {
		return nil, false
	}
	switch v := vs[0]; v.Kind {
	case String:
		return []string{v.Str}, true
	case List:
		out := []string{}
		for _, t := range v.Elems {
			s := ev.Force(t)
			if len(s) != 1 || s[0].Kind != String || s[0].Cond {
				return nil, false
			}
			out = append(out, s[0].Str)
		}
		return out, true
	}
	return nil, false
}
