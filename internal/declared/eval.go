package declared

import (
	"fmt"
	"slices"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Limits that keep the partial evaluator finite on any input, including
// self-referential lets (let x = x; in x) and runaway recursion.
const (
	maxDepth = 200
	maxSteps = 200000
	// Doubling by ++ or + (l1 = l0 ++ l0; l2 = l1 ++ l1; …) would otherwise
	// exhaust memory in a few lines.
	maxListLen   = 10000
	maxStringLen = 1 << 20
)

// evaluator is a partial Nix evaluator: it computes what is statically known
// (constant strings, attribute sets written out, let/rec bindings, lambdas
// applied to known arguments, the module-system wrappers) and turns
// everything else into unknown values that carry the reason.
type evaluator struct {
	*budget
	// lazy defers mkIf conditions (value.when): set while collecting
	// option definitions, never while reading units.
	lazy bool
	opts *optionTable // nil: config is never read
}

// budget is the work one file may cost. Evaluators that read options for
// that file (lazy or not) share it, so option reads are bounded too.
type budget struct {
	depth int
	steps int
	hit   bool // a limit was reached: results are incomplete
}

func newEvaluator(opts *optionTable) *evaluator {
	return &evaluator{budget: &budget{}, opts: opts}
}

// mode is an evaluator on the same budget, lazy or not.
func (ev *evaluator) mode(lazy bool) *evaluator {
	return &evaluator{budget: ev.budget, lazy: lazy, opts: ev.opts}
}

func (ev *evaluator) force(t *thunk) []value {
	if !t.done {
		t.fixed, t.done = ev.eval(t.expr, t.env), true
	}
	if !ev.lazy && hasWhen(t.fixed) {
		// Computed by the lazy evaluator: its deferred conditions are
		// undecided conditions here.
		return settle(t.fixed)
	}
	return t.fixed
}

func hasWhen(vs []value) bool {
	for _, v := range vs {
		if len(v.when) > 0 {
			return true
		}
	}
	return false
}

// settle turns deferred conditions into undecided ones.
func settle(vs []value) []value {
	out := make([]value, len(vs))
	for i, v := range vs {
		if len(v.when) > 0 {
			v.cond, v.vanish, v.when = true, true, nil
		}
		out[i] = v
	}
	return out
}

func (ev *evaluator) eval(e ast.Expr, sc *env) []value {
	ev.steps++
	if ev.depth >= maxDepth || ev.steps > maxSteps {
		ev.hit = true
		return []value{unknown(e, "expression too deep to read statically")}
	}
	ev.depth++
	defer func() { ev.depth-- }()

	switch x := e.(type) {
	case nil:
		return []value{unknown(nil, "missing expression")}
	case *ast.Paren:
		return ev.eval(x.X, sc)
	case *ast.AttrSet:
		return []value{ev.attrSet(x, sc)}
	case *ast.Let:
		return ev.eval(x.Body, ev.bind(x.Bindings, sc))
	case *ast.LegacyLet:
		inner := ev.bind(x.Bindings, sc)
		if es, ok := inner.names["body"]; ok {
			return ev.entryValues(es, value{})
		}
		return []value{unknown(x, "let without body")}
	case *ast.With:
		return ev.eval(x.Body, &env{parent: sc, with: &thunk{expr: x.Scope, env: sc}})
	case *ast.Assert:
		return ev.eval(x.Body, sc)
	case *ast.If:
		return ev.ifThenElse(x, sc)
	case *ast.Ident:
		return ev.variable(x, sc)
	case *ast.Select:
		return ev.selectExpr(x, sc)
	case *ast.String:
		return []value{ev.stringExpr(x, sc)}
	case *ast.Int:
		return []value{{kind: kindInt, integer: x.Value}}
	case *ast.List:
		l := value{kind: kindList}
		for _, el := range x.Elems {
			l.list = append(l.list, &thunk{expr: el, env: sc})
		}
		return []value{l}
	case *ast.Lambda:
		return []value{{kind: kindLambda, lambda: x, env: sc}}
	case *ast.Call:
		fn := ev.eval(x.Fun, sc)
		args := make([]*thunk, len(x.Args))
		for i, a := range x.Args {
			args[i] = &thunk{expr: a, env: sc}
		}
		return ev.apply(x, fn, args)
	case *ast.Binary:
		return ev.binary(x, sc)
	case *ast.Unary:
		if x.Op == token.NOT {
			if b, ok := ev.boolOf(x.X, sc); ok {
				return []value{{kind: kindBool, boolean: !b}}
			}
			return []value{unknown(x, "condition "+render(x))}
		}
		return []value{{kind: kindScalar}}
	case *ast.HasAttr:
		return []value{unknown(x, "condition "+render(x))}
	case *ast.Float, *ast.Path, *ast.SearchPath, *ast.URI:
		return []value{{kind: kindScalar}}
	default:
		return []value{unknown(e, "unsupported expression")}
	}
}

// attrSet builds a set value. Keys are resolved now (a ${…} key that is not
// constant stays a dynamic entry); values stay lazy.
func (ev *evaluator) attrSet(x *ast.AttrSet, sc *env) value {
	if !x.RecPos.IsValid() {
		return value{kind: kindSet, entries: ev.entries(x.Bindings, sc, sc)}
	}
	inner := &env{parent: sc, names: map[string][]entry{}}
	return value{kind: kindSet, entries: ev.entries(x.Bindings, sc, inner)}
}

// bind returns the scope of a let block: recursive, like rec sets.
func (ev *evaluator) bind(bindings []ast.Binding, sc *env) *env {
	inner := &env{parent: sc, names: map[string][]entry{}}
	ev.entries(bindings, sc, inner)
	return inner
}

// entries turns bindings into entries. outer is the scope of plain inherit,
// inner the scope of values and keys; when they differ (rec sets and lets)
// the static names are bound in inner first, so that ${…} keys can use them.
func (ev *evaluator) entries(bindings []ast.Binding, outer, inner *env) []entry {
	var out []entry
	pending := false
	for _, b := range bindings {
		switch b := b.(type) {
		case *ast.Attr:
			if len(b.Path) == 0 {
				continue
			}
			e := entry{keyNode: b.Path[0], pos: b.Path[0].Pos(), rest: b.Path[1:], env: inner,
				val: &thunk{expr: b.Value, env: inner}}
			if name, ok := staticName(b.Path[0]); ok {
				e.key = name
			} else {
				e.dynamic, pending = true, true
			}
			out = append(out, e)
		case *ast.Inherit:
			for _, n := range b.Names {
				name, ok := staticName(n)
				if !ok {
					continue // Nix rejects ${…} in inherit; the parser reports it
				}
				var val *thunk
				if b.From != nil {
					sel := &ast.Select{X: b.From, Path: []ast.Expr{n}, EndP: n.End()}
					val = &thunk{expr: sel, env: inner}
				} else {
					val = &thunk{expr: &ast.Ident{NamePos: n.Pos(), Name: name, EndP: n.End()}, env: outer}
				}
				out = append(out, entry{key: name, keyNode: n, pos: n.Pos(), env: inner, val: val})
			}
		}
	}
	if inner != outer {
		for _, e := range out {
			if !e.dynamic {
				inner.names[e.key] = append(inner.names[e.key], e)
			}
		}
	}
	if !pending {
		return out
	}
	named := make([]entry, 0, len(out))
	for _, e := range out {
		if e.dynamic {
			named = append(named, ev.named(e, inner)...)
			continue
		}
		named = append(named, e)
	}
	return named
}

// staticName is the name of an attribute-path element written without
// interpolation.
func staticName(n ast.Expr) (string, bool) {
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
	name     string
	cond     bool     // the element may take another name, or none
	defaults []string // options whose default gave the name
}

// keyNames resolves one attribute-path element to the constant names it
// can take: one, or several when it reads an option that has several
// possible values (a definition under mkIf). When there is none, why
// names the option read responsible, if any.
func (ev *evaluator) keyNames(n ast.Expr, sc *env) (names []keyName, why *optWhy) {
	var vs []value
	switch n := n.(type) {
	case *ast.Ident:
		return []keyName{{name: n.Name}}, nil
	case *ast.String:
		if len(n.Parts) == 1 {
			if ip, ok := n.Parts[0].(*ast.Interp); ok {
				vs = ev.eval(ip.X, sc) // "${x}" is x, with all its possible values
				break
			}
		}
		vs = []value{ev.stringExpr(n, sc)}
	case *ast.Interp:
		vs = ev.eval(n.X, sc)
	default:
		return nil, nil
	}
	if len(vs) == 0 || len(vs) > maxKeyNames {
		return nil, optReason(vs)
	}
	for _, v := range vs {
		if v.kind != kindString {
			return nil, optReason(vs)
		}
		i := slices.IndexFunc(names, func(k keyName) bool { return k.name == v.str })
		if i < 0 {
			names = append(names, keyName{name: v.str, cond: true})
			i = len(names) - 1
		}
		// if-then-else alone names the attribute either way; a value that
		// may vanish (mkIf) may leave it unnamed.
		names[i].cond = names[i].cond && v.vanish
		names[i].defaults = union(names[i].defaults, v.defaults)
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
func (ev *evaluator) named(e entry, sc *env) []entry {
	names, why := ev.keyNames(e.keyNode, sc)
	if len(names) == 0 {
		e.key, e.dynamic, e.why = "", true, why
		return []entry{e}
	}
	out := make([]entry, len(names))
	for i, n := range names {
		c := e
		c.key, c.dynamic = n.name, false
		c.cond = e.cond || n.cond
		c.defaults = union(e.defaults, n.defaults)
		out[i] = c
	}
	return out
}

// attrName resolves one attribute-path element to a single, certain
// constant name, for selections (a.${b}).
func (ev *evaluator) attrName(n ast.Expr, sc *env) (name string, dynamic bool) {
	names, _ := ev.keyNames(n, sc)
	if len(names) != 1 || names[0].cond {
		return "", true
	}
	return names[0].name, false
}

// entryValues forces the definitions of one attribute (several when written
// as a.b = …; a.c = …;) under their parent value.
func (ev *evaluator) entryValues(es []entry, parent value) []value {
	var out []value
	var nested []entry
	for _, e := range es {
		if len(e.rest) == 0 {
			vs := underAll(ev.force(e.val), parent)
			if e.cond {
				vs = markVanishing(vs) // the attribute may have another name
			}
			out = append(out, vs...)
			continue
		}
		nested = append(nested, ev.shift(e)...)
	}
	if len(nested) > 0 {
		set := value{kind: kindSet, entries: nested}
		out = append(out, set.under(parent))
	}
	return out
}

// shift turns a.b.c = v (key a) into b.c = v, the entry of the inner set
// (several when b is a ${…} with several possible names).
func (ev *evaluator) shift(e entry) []entry {
	n := entry{keyNode: e.rest[0], pos: e.rest[0].Pos(), rest: e.rest[1:], env: e.env, val: e.val,
		cond: e.cond, defaults: e.defaults}
	if name, ok := staticName(e.rest[0]); ok {
		n.key = name
		return []entry{n}
	}
	return ev.named(n, e.env)
}

func (ev *evaluator) ifThenElse(x *ast.If, sc *env) []value {
	if b, ok := ev.boolOf(x.Cond, sc); ok {
		if b {
			return ev.eval(x.Then, sc)
		}
		return ev.eval(x.Else, sc)
	}
	out := markConditional(ev.eval(x.Then, sc))
	return append(out, markConditional(ev.eval(x.Else, sc))...)
}

// variable looks a name up as Nix does: lexical bindings first (the
// builtins true, false, null, … are lexical too), then with-scopes
// innermost first. A name still unbound is taken for a lib function when it
// has the name of one (with lib; where lib is not visible to the
// extractor), otherwise it is unknown.
func (ev *evaluator) variable(x *ast.Ident, sc *env) []value {
	if es, ok := sc.lookup(x.Name); ok {
		return ev.entryValues(es, value{})
	}
	switch x.Name {
	case "true", "false":
		return []value{{kind: kindBool, boolean: x.Name == "true"}}
	case "null":
		return []value{{kind: kindNull}}
	case "builtins":
		return []value{{kind: kindLib}}
	case "import", "toString", "map", "removeAttrs", "throw", "abort":
		return []value{{kind: kindLib, lib: x.Name}}
	}
	for s := sc; s != nil; s = s.parent {
		if s.with == nil {
			continue
		}
		for _, w := range ev.force(s.with) {
			switch w.kind {
			case kindSet:
				if vs, found := ev.selectKey([]value{w}, x.Name); found {
					return vs
				}
			case kindLib:
				if w.lib == "" {
					return []value{libValue(x.Name)}
				}
			case kindUnknown:
				// with cfg; … name …: an option (or a set of them) under cfg.
				if w.ref != nil && !w.ref.args && ev.opts.declares(append(slices.Clip(w.ref.path), x.Name)) {
					return ev.readConfig(w.ref, x.Name)
				}
			}
		}
	}
	if x.Name == "lib" {
		return []value{{kind: kindLib}}
	}
	if _, ok := libFuncs[x.Name]; ok {
		return []value{{kind: kindLib, lib: x.Name}}
	}
	return []value{unknown(x, "depends on "+x.Name)}
}

// libValue is lib.NAME: a sub-namespace or a function.
func libValue(name string) value {
	if libNamespaces[name] {
		return value{kind: kindLib}
	}
	return value{kind: kindLib, lib: name}
}

var libNamespaces = map[string]bool{
	"lib": true, "attrsets": true, "lists": true, "strings": true, "modules": true,
	"trivial": true, "options": true, "types": true, "builtins": true,
}

func (ev *evaluator) selectExpr(x *ast.Select, sc *env) []value {
	cur := ev.eval(x.X, sc)
	for _, p := range x.Path {
		name, dynamic := ev.attrName(p, sc)
		if dynamic {
			return []value{unknown(x, "depends on "+render(x))}
		}
		next, found := ev.selectKey(cur, name)
		if !found {
			if x.Default != nil {
				return ev.eval(x.Default, sc)
			}
			return []value{unknown(x, "depends on "+render(x))}
		}
		cur = next
	}
	for i, v := range cur {
		if v.kind != kindUnknown {
			continue
		}
		// Name the whole path (cfg.unitName), not just its root (cfg).
		if strings.HasPrefix(v.why, "depends on ") {
			cur[i].at, cur[i].why = x, "depends on "+render(x)
		}
		if cur[i].at == nil {
			cur[i].at = x
		}
	}
	return cur
}

// selectKey is v.name over every part of v. found is false when no part can
// have the attribute; unknown parts make the result unknown.
func (ev *evaluator) selectKey(vs []value, name string) ([]value, bool) {
	var out []value
	found := false
	for _, v := range vs {
		switch v.kind {
		case kindSet:
			var es []entry
			for _, e := range v.entries {
				if !e.dynamic && e.key == name {
					es = append(es, e)
				}
			}
			if len(es) > 0 {
				found = true
				out = append(out, ev.entryValues(es, v)...)
			}
		case kindLib:
			if v.lib == "" {
				found = true
				out = append(out, libValue(name))
			}
		case kindUnknown:
			found = true
			switch {
			case name == "lib":
				// pkgs.lib, or the lib of any module argument.
				out = append(out, value{kind: kindLib})
			case v.ref != nil:
				out = append(out, ev.readConfig(v.ref, name)...)
			default:
				out = append(out, v)
			}
		}
	}
	return out, found
}

func (ev *evaluator) binary(x *ast.Binary, sc *env) []value {
	switch x.Op {
	case token.UPDATE:
		return override(ev.eval(x.X, sc), ev.eval(x.Y, sc))
	case token.ADD:
		l, lok := ev.stringOf(x.X, sc)
		r, rok := ev.stringOf(x.Y, sc)
		if lok && rok && len(l.str)+len(r.str) <= maxStringLen {
			return []value{value{kind: kindString, str: l.str + r.str}.joined(l).joined(r)}
		}
		u := unknown(x, "not a constant: "+render(x))
		u.opt = optReason([]value{l, r})
		return []value{u}
	case token.CONCAT:
		var out value
		out.kind = kindList
		for _, side := range []ast.Expr{x.X, x.Y} {
			vs := ev.eval(side, sc)
			if len(vs) != 1 || vs[0].kind != kindList {
				return []value{unknown(x, "not a constant list: "+render(x))}
			}
			if len(out.list)+len(vs[0].list) > maxListLen {
				return []value{unknown(x, "list too long to read statically")}
			}
			out.list = append(out.list, vs[0].list...)
			out.cond = out.cond || vs[0].cond
		}
		return []value{out}
	case token.LAND, token.LOR, token.IMPL, token.EQL, token.NEQ:
		if b, ok := ev.boolOf(x, sc); ok {
			return []value{{kind: kindBool, boolean: b}}
		}
		return []value{unknown(x, "condition "+render(x))}
	}
	return []value{{kind: kindScalar}}
}

// override is left // right: right's attributes hide left's, except where
// right only might define them (under a condition) or cannot be read.
func override(left, right []value) []value {
	hidden := map[string]bool{}
	for _, r := range right {
		if r.kind != kindSet || r.cond {
			continue
		}
		for _, e := range r.entries {
			if !e.dynamic {
				hidden[e.key] = true
			}
		}
	}
	var out []value
	for _, l := range left {
		if l.kind == kindSet && len(hidden) > 0 {
			kept := l
			kept.entries = nil
			for _, e := range l.entries {
				if e.dynamic || !hidden[e.key] {
					kept.entries = append(kept.entries, e)
				}
			}
			l = kept
		}
		out = append(out, l)
	}
	return append(out, right...)
}

// boolOf evaluates a condition when it is a constant.
func (ev *evaluator) boolOf(e ast.Expr, sc *env) (bool, bool) {
	if b, ok := e.(*ast.Binary); ok {
		switch b.Op {
		case token.LAND, token.LOR, token.IMPL:
			l, lok := ev.boolOf(b.X, sc)
			r, rok := ev.boolOf(b.Y, sc)
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
	return decided(ev.eval(e, sc))
}

// decided reads a condition's value. A boolean from an option's default
// is not decided: a host may set the option outside the repository, so
// mkIf cfg.enable stays a condition although enable defaults to false.
func decided(vs []value) (bool, bool) {
	if len(vs) == 1 && vs[0].kind == kindBool && !vs[0].cond && len(vs[0].when) == 0 && vs[0].defaults == nil {
		return vs[0].boolean, true
	}
	return false, false
}

// constString evaluates e to a constant string for a condition (==, !=):
// like decided, a string from an option's default does not count.
func (ev *evaluator) constString(e ast.Expr, sc *env) (string, bool) {
	v, ok := ev.stringOf(e, sc)
	if !ok || v.cond || len(v.when) > 0 || v.defaults != nil {
		return "", false
	}
	return v.str, true
}

// stringOf evaluates e to a string known statically, possibly under a
// condition or from an option's default (v says which). When it is not
// one, v is unknown and its opt names the option read responsible, if any.
func (ev *evaluator) stringOf(e ast.Expr, sc *env) (v value, ok bool) {
	vs := ev.eval(e, sc)
	if len(vs) == 1 && vs[0].kind == kindString {
		return vs[0], true
	}
	return value{kind: kindUnknown, opt: optReason(vs)}, false
}

func (ev *evaluator) stringExpr(x *ast.String, sc *env) value {
	var b strings.Builder
	out := value{kind: kindString}
	for _, p := range x.Parts {
		switch p := p.(type) {
		case *ast.Text:
			b.WriteString(p.Value)
		case *ast.Interp:
			v, ok := ev.stringOf(p.X, sc)
			if !ok {
				u := unknown(x, fmt.Sprintf("%s is not a constant", render(x)))
				u.opt = v.opt
				return u
			}
			b.WriteString(v.str)
			out = out.joined(v)
		}
		if b.Len() > maxStringLen {
			return unknown(x, "string too long to read statically")
		}
	}
	out.str = b.String()
	return out
}

// stringsOf reads a constant string or list of constant strings (startAt,
// wantedBy, OnCalendar). A condition on the value makes it not constant.
func (ev *evaluator) stringsOf(vs []value) ([]string, bool) {
	if len(vs) != 1 || vs[0].cond {
		return nil, false
	}
	switch v := vs[0]; v.kind {
	case kindString:
		return []string{v.str}, true
	case kindList:
		out := []string{}
		for _, t := range v.list {
			s := ev.force(t)
			if len(s) != 1 || s[0].kind != kindString || s[0].cond {
				return nil, false
			}
			out = append(out, s[0].str)
		}
		return out, true
	}
	return nil, false
}
