package reconcile

import (
	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// unitKindAttrs maps the attribute under systemd to the unit type it
// declares, as NixOS's systemd module does.
var unitKindAttrs = map[string]string{
	"services": "service", "timers": "timer", "sockets": "socket", "paths": "path",
	"targets": "target", "slices": "slice",
}

// nameSite is one attribute-path segment that names a system unit:
// the "docker-prune" of systemd.services.docker-prune = …, wherever it
// sits (nested sets, let bindings, mkIf, mkMerge, a quoted name).
type nameSite struct {
	File string
	Unit string   // full unit name, "docker-prune.service"
	Node ast.Expr // the segment: *ast.Ident, *ast.String or *ast.Interp
	// Inherit is set when the name is an inherit (systemd.services = {
	// inherit foo; }): there is no segment to rewrite.
	Inherit bool
	// Bound is the string a ${var} segment takes its name from (let
	// var = "name"; …), BoundIn the let that binds it.
	Bound   *ast.String
	BoundIn *ast.Let
	Var     string
	// Rest are the segments after the name in the same binding
	// (systemd.services.x.description = …: [description]); Value is
	// the binding's value.
	Rest  []string
	Value ast.Expr
}

// findNameSites lists every segment in the file that names a system unit.
// It reads syntax only: a set reached through a let binding, a function
// argument or a list element is read as a module fragment of its own, so
// fragments merged by mkMerge or // are found wherever they are written.
func findNameSites(file string, root ast.Expr) []nameSite {
	w := &siteWalker{file: file}
	w.expr(root, nil, nil)
	return w.sites
}

type siteWalker struct {
	file  string
	sites []nameSite
}

// scope maps let-bound names to their values, for names written as
// ${name} with name bound to a string literal.
type scope struct {
	parent *scope
	let    *ast.Let
	vars   map[string]ast.Expr
}

func (s *scope) lookup(name string) (ast.Expr, *ast.Let, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.vars[name]; ok {
			return v, s.let, true
		}
	}
	return nil, nil, false
}

// transparent are the module-system functions whose last argument is
// merged at the place of the call.
var transparent = map[string]bool{
	"mkIf": true, "mkDefault": true, "mkForce": true, "mkOverride": true, "optionalAttrs": true,
	"mkBefore": true, "mkAfter": true, "mkOrder": true, "mkMerge": true,
}

// expr walks e, which sits at the attribute path prefix (nil: a fresh
// root, read as a module).
func (w *siteWalker) expr(e ast.Expr, prefix []string, sc *scope) {
	switch x := e.(type) {
	case nil:
	case *ast.AttrSet:
		for _, b := range x.Bindings {
			w.binding(b, prefix, sc)
		}
	case *ast.Paren:
		w.expr(x.X, prefix, sc)
	case *ast.Let:
		inner := &scope{parent: sc, let: x, vars: map[string]ast.Expr{}}
		for _, b := range x.Bindings {
			if a, ok := b.(*ast.Attr); ok && len(a.Path) == 1 {
				if id, ok := a.Path[0].(*ast.Ident); ok {
					inner.vars[id.Name] = a.Value
				}
			}
		}
		for _, b := range x.Bindings {
			w.rootsIn(b, inner)
		}
		w.expr(x.Body, prefix, inner)
	case *ast.With:
		w.expr(x.Scope, nil, sc)
		w.expr(x.Body, prefix, sc)
	case *ast.Assert:
		w.expr(x.Cond, nil, sc)
		w.expr(x.Body, prefix, sc)
	case *ast.If:
		w.expr(x.Cond, nil, sc)
		w.expr(x.Then, prefix, sc)
		w.expr(x.Else, prefix, sc)
	case *ast.Lambda:
		if x.Formals != nil {
			w.rootsIn(x.Formals, sc)
		}
		w.expr(x.Body, prefix, sc)
	case *ast.Binary:
		if x.Op == token.UPDATE {
			w.expr(x.X, prefix, sc)
			w.expr(x.Y, prefix, sc)
			return
		}
		w.expr(x.X, nil, sc)
		w.expr(x.Y, nil, sc)
	case *ast.Call:
		w.call(x, prefix, sc)
	default:
		w.rootsIn(e, sc)
	}
}

// call passes the prefix through mkIf, mkMerge and their relatives; the
// arguments of any other function are read as fresh roots.
func (w *siteWalker) call(x *ast.Call, prefix []string, sc *scope) {
	w.expr(x.Fun, nil, sc)
	name := ast.FuncName(x.Fun)
	for i, arg := range x.Args {
		last := i == len(x.Args)-1
		switch {
		case last && name == "mkMerge":
			if l, ok := ast.Unparen(arg).(*ast.List); ok {
				for _, el := range l.Elems {
					w.expr(el, prefix, sc)
				}
				continue
			}
			w.expr(arg, prefix, sc)
		case last && transparent[name]:
			w.expr(arg, prefix, sc)
		default:
			w.expr(arg, nil, sc)
		}
	}
}

// rootsIn walks the children of n as fresh roots.
func (w *siteWalker) rootsIn(n ast.Node, sc *scope) {
	ast.Inspect(n, func(c ast.Node) bool {
		if c == n {
			return true
		}
		if e, ok := c.(ast.Expr); ok {
			w.expr(e, nil, sc)
			return false
		}
		return true
	})
}

func (w *siteWalker) binding(b ast.Binding, prefix []string, sc *scope) {
	switch a := b.(type) {
	case *ast.Inherit:
		if kind, ok := unitLevel(prefix); ok && a.From == nil {
			for _, n := range a.Names {
				if name, ok := w.segmentName(n, sc); ok {
					w.sites = append(w.sites, nameSite{File: w.file, Unit: name + "." + kind, Node: n, Inherit: true})
				}
			}
		}
		if a.From != nil {
			w.expr(a.From, nil, sc)
		}
	case *ast.Attr:
		w.attr(a, prefix, sc)
	}
}

func (w *siteWalker) attr(a *ast.Attr, prefix []string, sc *scope) {
	full := append([]string(nil), prefix...)
	known := true
	for i, seg := range a.Path {
		if !known {
			break
		}
		if kind, ok := unitLevel(full); ok {
			name, ok := w.segmentName(seg, sc)
			if !ok {
				known = false
				break
			}
			site := nameSite{
				File: w.file, Unit: name + "." + kind, Node: seg,
				Rest: staticNames(a.Path[i+1:]), Value: a.Value,
			}
			site.Bound, site.BoundIn, site.Var = boundString(seg, sc)
			w.sites = append(w.sites, site)
			full = append(full, name)
			continue
		}
		name, ok := w.segmentName(seg, sc)
		if !ok {
			known = false
			break
		}
		full = append(full, name)
	}
	if !known {
		w.expr(a.Value, nil, sc)
		return
	}
	w.expr(a.Value, full, sc)
}

// unitLevel reports whether the next segment after path names a system
// unit: path is systemd.<kind> (or config.systemd.<kind>).
func unitLevel(path []string) (kind string, ok bool) {
	if len(path) > 0 && path[0] == "config" {
		path = path[1:]
	}
	if len(path) != 2 || path[0] != "systemd" {
		return "", false
	}
	kind, ok = unitKindAttrs[path[1]]
	return kind, ok
}

// segmentName is the static name of an attribute-path segment: an
// identifier, a string without interpolation, or ${x} with x let-bound to
// such a string.
func (w *siteWalker) segmentName(seg ast.Expr, sc *scope) (string, bool) {
	switch s := seg.(type) {
	case *ast.Ident:
		return s.Name, true
	case *ast.String:
		return literalString(s)
	case *ast.Interp:
		if str, _, _ := boundString(s, sc); str != nil {
			return literalString(str)
		}
	}
	return "", false
}

// boundString is the let-bound string literal a ${var} segment reads.
func boundString(seg ast.Expr, sc *scope) (*ast.String, *ast.Let, string) {
	in, ok := seg.(*ast.Interp)
	if !ok {
		return nil, nil, ""
	}
	id, ok := in.X.(*ast.Ident)
	if !ok {
		return nil, nil, ""
	}
	v, let, ok := sc.lookup(id.Name)
	if !ok {
		return nil, nil, ""
	}
	str, ok := ast.Unparen(v).(*ast.String)
	if !ok {
		return nil, nil, ""
	}
	if _, ok := literalString(str); !ok {
		return nil, nil, ""
	}
	return str, let, id.Name
}

// references counts the identifiers named name in n (the binding's own
// name included).
func references(n ast.Node, name string) int {
	count := 0
	ast.Inspect(n, func(c ast.Node) bool {
		if id, ok := c.(*ast.Ident); ok && id.Name == name {
			count++
		}
		return true
	})
	return count
}

func staticNames(path []ast.Expr) []string {
	out := make([]string, 0, len(path))
	for _, seg := range path {
		switch s := seg.(type) {
		case *ast.Ident:
			out = append(out, s.Name)
		case *ast.String:
			name, ok := literalString(s)
			if !ok {
				return nil
			}
			out = append(out, name)
		default:
			return nil
		}
	}
	return out
}

// literalString is the value of a string without interpolation.
func literalString(s *ast.String) (string, bool) {
	var out string
	for _, p := range s.Parts {
		t, ok := p.(*ast.Text)
		if !ok {
			return "", false
		}
		out += t.Value
	}
	return out, true
}
