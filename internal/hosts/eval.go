package hosts

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Limits that keep evaluation finite on any input.
const (
	maxSteps = 20_000_000
	maxDepth = 3000
	maxList  = 1 << 20
)

// pathMarker stands for the repository root inside strings ("${self}/x",
// toString ./x): Nix would copy the tree to the store and use its store
// path; here the marker keeps such strings importable.
const pathMarker = "/@repo"

// evaluator evaluates Nix expressions read from one revision's tree.
type evaluator struct {
	fs      FS
	sources map[string]*source
	errs    map[string]error // files that could not be read or parsed
	imports map[string]*thunk
	steps   int
	depth   int
	exhaust bool // the step budget ran out: results are incomplete
	lib     *value
	builtin *value
	// flakeArgs are the flake's inputs and self, for hosts found by
	// convention, whose specialArgs cannot be read.
	flakeArgs *value
	// loaded records every file read, in order, for reports.
	loaded []string
}

func newEvaluator(fsys FS) *evaluator {
	ev := &evaluator{fs: fsys, sources: map[string]*source{}, errs: map[string]error{}, imports: map[string]*thunk{}}
	ev.builtin = attrsValue(ev.builtinSet())
	ev.lib = ev.loadLib()
	return ev
}

func (ev *evaluator) force(t *thunk) *value {
	switch t.state {
	case 2:
		return t.val
	case 1:
		return unknown("infinite recursion")
	}
	t.state = 1
	var v *value
	if t.fn != nil {
		v = t.fn()
	} else {
		v = ev.eval(t.expr, t.env, t.src)
	}
	t.val, t.state, t.fn = v, 2, nil
	return v
}

// source parses a file of the revision once.
func (ev *evaluator) source(p string) (*source, error) {
	if s, ok := ev.sources[p]; ok {
		return s, nil
	}
	if err, ok := ev.errs[p]; ok {
		return nil, err
	}
	data, err := ev.fs.ReadFile(p)
	if err != nil {
		ev.errs[p] = err
		return nil, err
	}
	f, err := parser.ParseFile(p, data)
	if err != nil {
		err = fmt.Errorf("%s does not parse: %w", p, err)
		ev.errs[p] = err
		return nil, err
	}
	s := newSource(p, data, f)
	ev.sources[p] = s
	ev.loaded = append(ev.loaded, p)
	return s, nil
}

// importPath is import of a path of the repository: a directory means its
// default.nix.
func (ev *evaluator) importPath(p string) *value {
	file, why := ev.moduleFile(p)
	if why != "" {
		return unknown("import %s: %s", display(p), why)
	}
	if t, ok := ev.imports[file]; ok {
		return ev.force(t)
	}
	s, err := ev.source(file)
	if err != nil {
		return unknown("import %s: %v", display(file), err)
	}
	t := &thunk{expr: s.file.Expr, src: s}
	ev.imports[file] = t
	return ev.force(t)
}

// moduleFile is the file that importing p reads: p itself, or p's
// default.nix when p is a directory.
func (ev *evaluator) moduleFile(p string) (string, string) {
	switch kindOf(ev.fs, p) {
	case "directory":
		f := path.Join(p, "default.nix")
		if kindOf(ev.fs, f) == "" {
			return "", "directory without default.nix"
		}
		return f, ""
	case "":
		return "", "not in the revision"
	case "symlink":
		return "", "a symbolic link, not followed"
	}
	return p, ""
}

// display names a repository path for messages.
func display(p string) string {
	if p == "" {
		return "./."
	}
	return p
}

func (ev *evaluator) eval(e ast.Expr, sc *env, src *source) *value {
	ev.steps++
	if ev.steps > maxSteps {
		ev.exhaust = true
		return unknown("evaluation budget exhausted")
	}
	if ev.depth >= maxDepth {
		ev.exhaust = true
		return unknown("evaluation too deep")
	}
	ev.depth++
	defer func() { ev.depth-- }()

	switch x := e.(type) {
	case nil:
		return unknown("missing expression")
	case *ast.Paren:
		return ev.eval(x.X, sc, src)
	case *ast.Int:
		return intValue(x.Value)
	case *ast.Float:
		return &value{kind: kFloat, f: x.Value}
	case *ast.String:
		return ev.stringExpr(x, sc, src)
	case *ast.Path:
		return ev.pathExpr(x, sc, src)
	case *ast.SearchPath:
		return external("<" + x.Value + ">")
	case *ast.URI:
		return str(x.Value)
	case *ast.Ident:
		return ev.variable(x, sc, src)
	case *ast.List:
		ts := make([]*thunk, len(x.Elems))
		for i, el := range x.Elems {
			ts[i] = &thunk{expr: el, env: sc, src: src}
		}
		return listValue(ts)
	case *ast.AttrSet:
		return ev.attrSet(x, sc, src)
	case *ast.Let:
		return ev.eval(x.Body, ev.letScope(x.Bindings, sc, src), src)
	case *ast.LegacyLet:
		inner := ev.letScope(x.Bindings, sc, src)
		if t, ok := inner.vars["body"]; ok {
			return ev.force(t)
		}
		return unknown("let without body")
	case *ast.With:
		return ev.eval(x.Body, &env{parent: sc, with: &thunk{expr: x.Scope, env: sc, src: src}}, src)
	case *ast.Assert:
		if c := ev.eval(x.Cond, sc, src); c.kind == kBool && !c.b {
			return unknown("assertion failed at %s", site{src, x.Pos().Offset()})
		}
		return ev.eval(x.Body, sc, src)
	case *ast.If:
		c := ev.eval(x.Cond, sc, src)
		switch c.kind {
		case kBool:
			if c.b {
				return ev.eval(x.Then, sc, src)
			}
			return ev.eval(x.Else, sc, src)
		case kUnknown:
			return unknown("condition at %s: %s", site{src, x.Pos().Offset()}, c.s)
		}
		return unknown("condition at %s is a %s", site{src, x.Pos().Offset()}, c.typeName())
	case *ast.Lambda:
		return &value{kind: kLambda, lam: x, env: sc, src: src}
	case *ast.Call:
		f := ev.eval(x.Fun, sc, src)
		for _, a := range x.Args {
			f = ev.apply(f, &thunk{expr: a, env: sc, src: src})
		}
		return f
	case *ast.Select:
		return ev.selectExpr(x, sc, src)
	case *ast.HasAttr:
		return ev.hasAttr(x, sc, src)
	case *ast.Unary:
		v := ev.eval(x.X, sc, src)
		switch {
		case v.kind == kUnknown:
			return v
		case x.Op == token.NOT && v.kind == kBool:
			return boolValue(!v.b)
		case x.Op == token.SUB && v.kind == kInt:
			return intValue(-v.i)
		case x.Op == token.SUB && v.kind == kFloat:
			return &value{kind: kFloat, f: -v.f}
		}
		return unknown("bad operand of %s", x.Op)
	case *ast.Binary:
		return ev.binary(x, sc, src)
	}
	return unknown("unsupported expression")
}

func (ev *evaluator) variable(x *ast.Ident, sc *env, src *source) *value {
	if t, ok := sc.lookup(x.Name); ok {
		return ev.force(t)
	}
	switch x.Name {
	case "true":
		return vTrue
	case "false":
		return vFalse
	case "null":
		return vNull
	case "builtins":
		return ev.builtin
	case "__curPos":
		a := newAttrs()
		a.set("file", ready(str(pathMarker+"/"+src.path)), site{})
		a.set("line", ready(intValue(int64(src.line(x.Pos().Offset())))), site{})
		a.set("column", ready(intValue(1)), site{})
		return attrsValue(a)
	}
	for s := sc; s != nil; s = s.parent {
		if s.with == nil {
			continue
		}
		w := ev.force(s.with)
		switch w.kind {
		case kAttrs:
			if t, ok := w.attrs.get(x.Name); ok {
				return ev.force(t)
			}
			if w.attrs.open != nil {
				return ev.missing(w.attrs, x.Name)
			}
		case kUnknown:
			return ev.selectUnknown(w, x.Name)
		}
	}
	if t, ok := globalBuiltins[x.Name]; ok {
		bt, _ := ev.builtin.attrs.get(t)
		return ev.force(bt)
	}
	return unknown("undefined variable %s at %s", x.Name, site{src, x.Pos().Offset()})
}

// globalBuiltins are the builtins Nix binds at the top level too.
var globalBuiltins = map[string]string{
	"import": "import", "map": "map", "toString": "toString", "baseNameOf": "baseNameOf",
	"dirOf": "dirOf", "isNull": "isNull", "removeAttrs": "removeAttrs", "throw": "throw",
	"abort": "abort", "derivation": "derivation", "fetchTarball": "fetchTarball",
	"scopedImport": "scopedImport", "placeholder": "placeholder",
}

// missing is a name absent from an open set: unknown, named after what
// the set could not read.
func (ev *evaluator) missing(a *attrs, name string) *value {
	if a.open.ext == "" {
		return unknown("%s: %s", name, a.open.s)
	}
	return ev.selectUnknown(a.open, name)
}

func (ev *evaluator) selectUnknown(u *value, name string) *value {
	if u.ext != "" {
		return external(u.ext + "." + name)
	}
	return u
}

// keyName computes an attribute name written in a path: a, "a", ${e}.
// ok is false when it cannot; null (skip) is reported as skip.
func (ev *evaluator) keyName(n ast.Expr, sc *env, src *source) (name string, skip bool, bad *value) {
	switch n := n.(type) {
	case *ast.Ident:
		return n.Name, false, nil
	case *ast.String:
		v := ev.stringExpr(n, sc, src)
		if v.kind != kString {
			return "", false, v
		}
		return v.s, false, nil
	case *ast.Interp:
		v := ev.eval(n.X, sc, src)
		switch v.kind {
		case kString:
			return v.s, false, nil
		case kNull:
			return "", true, nil
		case kUnknown:
			return "", false, v
		}
		return "", false, unknown("attribute name at %s is a %s", site{src, n.Pos().Offset()}, v.typeName())
	}
	return "", false, unknown("unsupported attribute name")
}

func (ev *evaluator) selectExpr(x *ast.Select, sc *env, src *source) *value {
	cur := ev.eval(x.X, sc, src)
	for _, p := range x.Path {
		name, _, bad := ev.keyName(p, sc, src)
		if bad != nil {
			return bad
		}
		switch cur.kind {
		case kAttrs:
			t, ok := cur.attrs.get(name)
			if ok {
				cur = ev.force(t)
				continue
			}
			if cur.attrs.open != nil {
				cur = ev.missing(cur.attrs, name)
				continue
			}
			if x.Default != nil {
				return ev.eval(x.Default, sc, src)
			}
			return unknown("attribute %q missing at %s", name, site{src, p.Pos().Offset()})
		case kHost:
			return unknown("%s of a NixOS configuration is known to Nix evaluation only", name)
		case kUnknown:
			cur = ev.selectUnknown(cur, name)
			continue
		default:
			if x.Default != nil {
				return ev.eval(x.Default, sc, src)
			}
			return unknown("selects %q from a %s at %s", name, cur.typeName(), site{src, p.Pos().Offset()})
		}
	}
	return cur
}

func (ev *evaluator) hasAttr(x *ast.HasAttr, sc *env, src *source) *value {
	cur := ev.eval(x.X, sc, src)
	for i, p := range x.Path {
		name, _, bad := ev.keyName(p, sc, src)
		if bad != nil {
			return bad
		}
		switch cur.kind {
		case kUnknown:
			return cur
		case kAttrs:
			t, ok := cur.attrs.get(name)
			if !ok {
				if cur.attrs.open != nil {
					return ev.missing(cur.attrs, name)
				}
				return vFalse
			}
			if i == len(x.Path)-1 {
				return vTrue
			}
			cur = ev.force(t)
		default:
			return vFalse
		}
	}
	return vTrue
}

// coerce turns a value into a string as interpolation does; toString
// (all) also accepts numbers, booleans, null and lists.
func (ev *evaluator) coerce(v *value, all bool) (string, *value) {
	switch v.kind {
	case kString:
		return v.s, nil
	case kPath:
		return pathMarker + slashed(v.s), nil
	case kUnknown:
		return "", v
	case kAttrs:
		if t, ok := v.attrs.get("__toString"); ok {
			return ev.coerce(ev.apply(ev.force(t), ready(v)), all)
		}
		if t, ok := v.attrs.get("outPath"); ok {
			return ev.coerce(ev.force(t), all)
		}
		if v.attrs.open != nil {
			return "", ev.missing(v.attrs, "outPath")
		}
	}
	if all {
		switch v.kind {
		case kInt:
			return strconv.FormatInt(v.i, 10), nil
		case kFloat:
			return strconv.FormatFloat(v.f, 'f', -1, 64), nil
		case kBool:
			if v.b {
				return "1", nil
			}
			return "", nil
		case kNull:
			return "", nil
		case kList:
			parts := make([]string, 0, len(v.list))
			for _, t := range v.list {
				s, bad := ev.coerce(ev.force(t), true)
				if bad != nil {
					return "", bad
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, " "), nil
		}
	}
	return "", unknown("cannot turn a %s into a string", v.typeName())
}

func slashed(p string) string {
	if p == "" {
		return ""
	}
	return "/" + p
}

func (ev *evaluator) stringExpr(x *ast.String, sc *env, src *source) *value {
	var b strings.Builder
	ext := ""
	for i, p := range x.Parts {
		switch p := p.(type) {
		case *ast.Text:
			b.WriteString(p.Value)
		case *ast.Interp:
			v := ev.eval(p.X, sc, src)
			s, bad := ev.coerce(v, false)
			if bad != nil {
				// "${inputs.nixpkgs}/nixos/…" names a file of an input.
				if i == 0 && bad.ext != "" {
					ext = bad.ext
					continue
				}
				return bad
			}
			b.WriteString(s)
		}
	}
	if ext != "" {
		return external(ext + b.String())
	}
	return str(b.String())
}

func (ev *evaluator) pathExpr(x *ast.Path, sc *env, src *source) *value {
	var b strings.Builder
	for _, p := range x.Parts {
		switch p := p.(type) {
		case *ast.Text:
			b.WriteString(p.Value)
		case *ast.Interp:
			s, bad := ev.coerce(ev.eval(p.X, sc, src), false)
			if bad != nil {
				return bad
			}
			b.WriteString(s)
		}
	}
	p := b.String()
	switch {
	case strings.HasPrefix(p, "/"):
		return unknown("absolute path %s is outside the repository", p)
	case strings.HasPrefix(p, "~"):
		return unknown("path %s is outside the repository", p)
	}
	return ev.repoPath(path.Join(src.dir(), p), p)
}

// repoPath is a path value for a cleaned path relative to the root, or
// unknown when it leaves the repository.
func (ev *evaluator) repoPath(clean, written string) *value {
	clean = path.Clean(clean)
	if clean == "." {
		clean = ""
	}
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return unknown("path %s leaves the repository", written)
	}
	return pathValue(clean)
}

// fromMarker turns a string made from a repository path back into the
// path.
func fromMarker(s string) (string, bool) {
	if s == pathMarker {
		return "", true
	}
	if strings.HasPrefix(s, pathMarker+"/") {
		return path.Clean(s[len(pathMarker)+1:]), true
	}
	return "", false
}

// letScope binds a let block (recursive).
func (ev *evaluator) letScope(bindings []ast.Binding, sc *env, src *source) *env {
	inner := &env{parent: sc, vars: map[string]*thunk{}}
	a := ev.bindings(bindings, sc, inner, src)
	for k, t := range a.m {
		inner.vars[k] = t
	}
	return inner
}

func (ev *evaluator) attrSet(x *ast.AttrSet, sc *env, src *source) *value {
	inner := sc
	if x.RecPos.IsValid() {
		inner = &env{parent: sc, vars: map[string]*thunk{}}
	}
	a := ev.bindings(x.Bindings, sc, inner, src)
	a.lit, a.src = x, src
	return attrsValue(a)
}

// def is one definition of an attribute path.
type def struct {
	path []ast.Expr
	val  *thunk
	at   site
}

// bindings builds the set that bindings define. outer is the scope of
// plain inherit, inner that of values and keys; for rec sets and lets the
// static names are bound in inner before any ${…} key is computed.
func (ev *evaluator) bindings(bs []ast.Binding, outer, inner *env, src *source) *attrs {
	var static, dynamic []def
	for _, b := range bs {
		switch b := b.(type) {
		case *ast.Attr:
			if len(b.Path) == 0 {
				continue
			}
			d := def{path: b.Path, val: &thunk{expr: b.Value, env: inner, src: src}, at: site{src, b.Pos().Offset()}}
			if _, ok := b.Path[0].(*ast.Ident); ok || isStaticString(b.Path[0]) {
				static = append(static, d)
			} else {
				dynamic = append(dynamic, d)
			}
		case *ast.Inherit:
			for _, n := range b.Names {
				name, _, bad := ev.keyName(n, inner, src)
				if bad != nil {
					continue
				}
				var t *thunk
				if b.From != nil {
					sel := &ast.Select{X: b.From, Path: []ast.Expr{n}, EndP: n.End()}
					t = &thunk{expr: sel, env: inner, src: src}
				} else {
					t = &thunk{expr: &ast.Ident{NamePos: n.Pos(), Name: name, EndP: n.End()}, env: outer, src: src}
				}
				static = append(static, def{path: []ast.Expr{&ast.Ident{NamePos: n.Pos(), Name: name, EndP: n.End()}}, val: t, at: site{src, n.Pos().Offset()}})
			}
		}
	}
	a := ev.build(static, inner, src)
	if inner != outer && inner.vars != nil {
		for k, t := range a.m {
			inner.vars[k] = t
		}
	}
	if len(dynamic) > 0 {
		d := ev.build(dynamic, inner, src)
		for _, k := range d.names() {
			t, _ := d.get(k)
			if old, ok := a.get(k); ok {
				a.set(k, ev.mergeThunks(old, t), d.at[k])
				continue
			}
			a.set(k, t, d.at[k])
		}
		a.dynamic = append(a.dynamic, d.dynamic...)
	}
	return a
}

func isStaticString(e ast.Expr) bool {
	s, ok := e.(*ast.String)
	if !ok {
		return false
	}
	for _, p := range s.Parts {
		if _, ok := p.(*ast.Text); !ok {
			return false
		}
	}
	return true
}

// build groups definitions by their first name: a.b = 1; a.c = 2; is one
// attribute a holding a set.
func (ev *evaluator) build(defs []def, sc *env, src *source) *attrs {
	a := newAttrs()
	groups := map[string][]def{}
	var order []string
	for _, d := range defs {
		name, skip, bad := ev.keyName(d.path[0], sc, src)
		if skip {
			continue
		}
		if bad != nil {
			a.dynamic = append(a.dynamic, fmt.Sprintf("attribute name at %s: %s", d.at, bad.s))
			continue
		}
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], d)
	}
	for _, name := range order {
		g := groups[name]
		if len(g) == 1 && len(g[0].path) == 1 {
			a.set(name, g[0].val, g[0].at)
			continue
		}
		a.set(name, lazy(func() *value { return ev.nested(g, sc, src) }), g[0].at)
	}
	return a
}

// nested is the set that several definitions of one attribute make.
func (ev *evaluator) nested(g []def, sc *env, src *source) *value {
	var sub []def
	var whole []*thunk
	for _, d := range g {
		if len(d.path) == 1 {
			whole = append(whole, d.val)
			continue
		}
		sub = append(sub, def{path: d.path[1:], val: d.val, at: d.at})
	}
	out := attrsValue(ev.build(sub, sc, src))
	for _, t := range whole {
		out = ev.mergeValues(ev.force(t), out)
	}
	return out
}

// mergeThunks merges two definitions of one attribute lazily.
func (ev *evaluator) mergeThunks(a, b *thunk) *thunk {
	return lazy(func() *value { return ev.mergeValues(ev.force(a), ev.force(b)) })
}

// mergeValues merges two sets recursively (the module system's merge of
// attribute sets, and Nix's merge of a = { … }; a.b = …;).
func (ev *evaluator) mergeValues(a, b *value) *value {
	if a.kind == kUnknown {
		return a
	}
	if b.kind == kUnknown {
		return b
	}
	if a.kind != kAttrs || b.kind != kAttrs {
		return unknown("attribute defined twice")
	}
	out := newAttrs()
	for _, k := range a.attrs.names() {
		t, _ := a.attrs.get(k)
		out.set(k, t, a.attrs.at[k])
	}
	for _, k := range b.attrs.names() {
		t, _ := b.attrs.get(k)
		if old, ok := out.get(k); ok {
			out.set(k, ev.mergeThunks(old, t), out.at[k])
			continue
		}
		out.set(k, t, b.attrs.at[k])
	}
	out.dynamic = append(append(out.dynamic, a.attrs.dynamic...), b.attrs.dynamic...)
	if a.attrs.open != nil {
		out.open = a.attrs.open
	} else {
		out.open = b.attrs.open
	}
	return attrsValue(out)
}

// apply calls f with one argument.
func (ev *evaluator) apply(f *value, arg *thunk) *value {
	switch f.kind {
	case kLambda:
		return ev.call(f, arg)
	case kBuiltin:
		args := append(append([]*thunk(nil), f.bi.args...), arg)
		if len(args) < f.bi.arity {
			return &value{kind: kBuiltin, bi: &builtin{name: f.bi.name, arity: f.bi.arity, fn: f.bi.fn, args: args}}
		}
		return f.bi.fn(ev, args)
	case kAttrs:
		if t, ok := f.attrs.get("__functor"); ok {
			return ev.apply(ev.apply(ev.force(t), ready(f)), arg)
		}
		if f.attrs.open != nil {
			return unknown("calls a set that cannot be read: %s", f.attrs.open.s)
		}
	case kUnknown:
		if f.ext != "" {
			return unknown("computed by %s", f.ext)
		}
		return f
	}
	return unknown("calls a %s", f.typeName())
}

func (ev *evaluator) call(f *value, arg *thunk) *value {
	l := f.lam
	sc := &env{parent: f.env, vars: map[string]*thunk{}}
	if l.Param != nil {
		sc.vars[l.Param.Name] = arg
	}
	if l.Formals != nil {
		a := ev.force(arg)
		for _, fm := range l.Formals.List {
			name := fm.Name.Name
			var t *thunk
			switch a.kind {
			case kAttrs:
				if at, ok := a.attrs.get(name); ok {
					t = at
				} else if a.attrs.open != nil && fm.Default == nil {
					t = ready(ev.missing(a.attrs, name))
				} else if fm.Default != nil {
					t = &thunk{expr: fm.Default, env: sc, src: f.src}
				} else {
					t = ready(unknown("argument %s not given", name))
				}
			case kUnknown:
				t = ready(ev.selectUnknown(a, name))
			default:
				t = ready(unknown("function expecting a set called with a %s", a.typeName()))
			}
			sc.vars[name] = t
		}
	}
	return ev.eval(l.Body, sc, f.src)
}

func (ev *evaluator) binary(x *ast.Binary, sc *env, src *source) *value {
	switch x.Op {
	case token.LAND, token.LOR, token.IMPL:
		return ev.logic(x, sc, src)
	}
	l := ev.eval(x.X, sc, src)
	r := ev.eval(x.Y, sc, src)
	switch x.Op {
	case token.UPDATE:
		return update(l, r)
	case token.CONCAT:
		if l.kind == kUnknown {
			return l
		}
		if r.kind == kUnknown {
			return r
		}
		if l.kind != kList || r.kind != kList {
			return unknown("++ of a %s and a %s at %s", l.typeName(), r.typeName(), site{src, x.OpPos.Offset()})
		}
		if len(l.list)+len(r.list) > maxList {
			return unknown("list too long")
		}
		return listValue(append(append([]*thunk(nil), l.list...), r.list...))
	case token.ADD:
		return ev.add(l, r)
	case token.EQL, token.NEQ:
		eq, ok := ev.equal(l, r)
		if !ok {
			return unknown("comparison at %s cannot be decided", site{src, x.OpPos.Offset()})
		}
		return boolValue(eq == (x.Op == token.EQL))
	case token.SUB, token.MUL, token.QUO, token.LSS, token.GTR, token.LEQ, token.GEQ:
		return arith(x.Op, l, r)
	}
	return unknown("unsupported operator %s", x.Op)
}

func (ev *evaluator) logic(x *ast.Binary, sc *env, src *source) *value {
	l := ev.eval(x.X, sc, src)
	if l.kind == kBool {
		switch {
		case x.Op == token.LAND && !l.b:
			return vFalse
		case x.Op == token.LOR && l.b:
			return vTrue
		case x.Op == token.IMPL && !l.b:
			return vTrue
		}
		return ev.eval(x.Y, sc, src)
	}
	r := ev.eval(x.Y, sc, src)
	if r.kind == kBool {
		switch {
		case x.Op == token.LAND && !r.b:
			return vFalse
		case x.Op != token.LAND && r.b:
			return vTrue
		}
	}
	if l.kind == kUnknown {
		return l
	}
	return unknown("%s of a %s", x.Op, l.typeName())
}

// update is l // r.
func update(l, r *value) *value {
	if r.kind == kUnknown {
		return r
	}
	if r.kind != kAttrs {
		return unknown("// with a %s", r.typeName())
	}
	out := newAttrs()
	switch l.kind {
	case kUnknown:
		out.open = l
	case kAttrs:
		for _, k := range l.attrs.names() {
			t, _ := l.attrs.get(k)
			out.set(k, t, l.attrs.at[k])
		}
		out.open = l.attrs.open
		out.dynamic = append(out.dynamic, l.attrs.dynamic...)
	default:
		return unknown("// with a %s", l.typeName())
	}
	for _, k := range r.attrs.names() {
		t, _ := r.attrs.get(k)
		out.set(k, t, r.attrs.at[k])
	}
	out.dynamic = append(out.dynamic, r.attrs.dynamic...)
	if r.attrs.open != nil {
		out.open = r.attrs.open
	}
	return attrsValue(out)
}

func (ev *evaluator) add(l, r *value) *value {
	switch {
	case l.kind == kInt && r.kind == kInt:
		return intValue(l.i + r.i)
	case (l.kind == kInt || l.kind == kFloat) && (r.kind == kInt || r.kind == kFloat):
		return &value{kind: kFloat, f: num(l) + num(r)}
	case l.kind == kPath:
		s, bad := ev.coerce(r, false)
		if bad != nil {
			return bad
		}
		if p, ok := fromMarker(s); ok {
			s = "/" + p
		}
		joined := slashed(l.s) + s
		return ev.repoPath(strings.TrimPrefix(joined, "/"), joined)
	case l.kind == kUnknown && l.ext != "" && r.kind == kString:
		return external(l.ext + r.s)
	case l.kind == kUnknown:
		return l
	case l.kind == kString || l.kind == kAttrs:
		ls, bad := ev.coerce(l, false)
		if bad != nil {
			return bad
		}
		rs, bad := ev.coerce(r, false)
		if bad != nil {
			return bad
		}
		return str(ls + rs)
	}
	if r.kind == kUnknown {
		return r
	}
	return unknown("+ of a %s and a %s", l.typeName(), r.typeName())
}

func num(v *value) float64 {
	if v.kind == kInt {
		return float64(v.i)
	}
	return v.f
}

func arith(op token.Token, l, r *value) *value {
	if l.kind == kUnknown {
		return l
	}
	if r.kind == kUnknown {
		return r
	}
	if l.kind == kString && r.kind == kString {
		switch op {
		case token.LSS:
			return boolValue(l.s < r.s)
		case token.GTR:
			return boolValue(l.s > r.s)
		case token.LEQ:
			return boolValue(l.s <= r.s)
		case token.GEQ:
			return boolValue(l.s >= r.s)
		}
	}
	if (l.kind != kInt && l.kind != kFloat) || (r.kind != kInt && r.kind != kFloat) {
		return unknown("%s of a %s and a %s", op, l.typeName(), r.typeName())
	}
	if l.kind == kInt && r.kind == kInt {
		a, b := l.i, r.i
		switch op {
		case token.SUB:
			return intValue(a - b)
		case token.MUL:
			return intValue(a * b)
		case token.QUO:
			if b == 0 {
				return unknown("division by zero")
			}
			return intValue(a / b)
		}
	}
	a, b := num(l), num(r)
	switch op {
	case token.SUB:
		return &value{kind: kFloat, f: a - b}
	case token.MUL:
		return &value{kind: kFloat, f: a * b}
	case token.QUO:
		return &value{kind: kFloat, f: a / b}
	case token.LSS:
		return boolValue(a < b)
	case token.GTR:
		return boolValue(a > b)
	case token.LEQ:
		return boolValue(a <= b)
	case token.GEQ:
		return boolValue(a >= b)
	}
	return unknown("unsupported operator %s", op)
}

// equal is ==; ok is false when it cannot be decided.
func (ev *evaluator) equal(a, b *value) (eq, ok bool) {
	if a.kind == kUnknown || b.kind == kUnknown {
		return false, false
	}
	if (a.kind == kInt || a.kind == kFloat) && (b.kind == kInt || b.kind == kFloat) {
		return num(a) == num(b), true
	}
	if a.kind != b.kind {
		return false, true
	}
	switch a.kind {
	case kNull:
		return true, true
	case kBool:
		return a.b == b.b, true
	case kString, kPath:
		return a.s == b.s, true
	case kList:
		if len(a.list) != len(b.list) {
			return false, true
		}
		for i := range a.list {
			if eq, ok := ev.equal(ev.force(a.list[i]), ev.force(b.list[i])); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	case kAttrs:
		if a.attrs.open != nil || b.attrs.open != nil {
			return false, false
		}
		an, bn := a.attrs.names(), b.attrs.names()
		if len(an) != len(bn) {
			return false, true
		}
		for i, k := range an {
			if bn[i] != k {
				return false, true
			}
			ta, _ := a.attrs.get(k)
			tb, _ := b.attrs.get(k)
			if eq, ok := ev.equal(ev.force(ta), ev.force(tb)); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	}
	return false, false
}
