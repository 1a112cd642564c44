package eval

import (
	"path"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

// path resolves a path literal against the file it is written in. Without
// Files (or outside a file) a path is a scalar, as nothing reads it.
func (ev *Evaluator) path(x *ast.Path, sc *Env) Value {
	dir, ok := sc.dir()
	if ev.files == nil || !ok {
		return Value{Kind: Scalar}
	}
	var b strings.Builder
	for _, p := range x.Parts {
		switch p := p.(type) {
		case *ast.Text:
			b.WriteString(p.Value)
		case *ast.Interp:
			v, ok := ev.StringOf(p.X, sc)
			if !ok || v.Cond {
				return NewUnknown(x, "path "+Render(x)+" is not a constant")
			}
			b.WriteString(v.Str)
		}
	}
	lit := b.String()
	if !strings.HasPrefix(lit, "./") && !strings.HasPrefix(lit, "../") {
		return NewUnknown(x, "path "+Render(x)+" is outside the files read")
	}
	p := path.Join(dir, lit)
	if p == ".." || strings.HasPrefix(p, "../") {
		return NewUnknown(x, "path "+Render(x)+" is outside the files read")
	}
	return Value{Kind: Path, Str: p}
}

// pathArg is the path a builtin is applied to; ok false when it is not a
// path the evaluator resolved.
func (ev *Evaluator) pathArg(arg *Thunk) (string, bool) {
	if ev.files == nil {
		return "", false
	}
	vs := ev.Force(arg)
	if len(vs) != 1 || vs[0].Kind != Path || vs[0].Cond {
		return "", false
	}
	return vs[0].Str, true
}

// importFile is import PATH: the file's value, evaluated once per
// evaluator family. A directory imports its default.nix.
func (ev *Evaluator) importFile(call ast.Expr, arg *Thunk) ([]Value, bool) {
	p, ok := ev.pathArg(arg)
	if !ok {
		return nil, false
	}
	if _, err := ev.files.ReadDir(p); err == nil {
		p = path.Join(p, "default.nix")
	}
	st := ev.imports[p]
	switch {
	case st != nil && st.active:
		return []Value{NewUnknown(call, "import of "+p+" imports itself")}, true
	case st != nil:
		return st.vals, true
	}
	st = &importState{active: true}
	ev.imports[p] = st
	defer func() { st.active = false }()
	src, err := ev.files.ReadFile(p)
	if err != nil {
		st.vals = []Value{NewUnknown(call, "import of "+p+": "+err.Error())}
		return st.vals, true
	}
	f, err := parser.ParseFile(p, src)
	if err != nil {
		st.vals = []Value{NewUnknown(call, "import of "+p+": "+err.Error())}
		return st.vals, true
	}
	st.vals = ev.File(&Source{Path: p, AST: f})
	return st.vals, true
}

// readDir is builtins.readDir PATH: a set of entry names to their types.
func (ev *Evaluator) readDir(call ast.Expr, arg *Thunk) ([]Value, bool) {
	p, ok := ev.pathArg(arg)
	if !ok {
		return nil, false
	}
	entries, err := ev.files.ReadDir(p)
	if err != nil {
		return []Value{NewUnknown(call, "readDir of "+p+": "+err.Error())}, true
	}
	set := Value{Kind: Set}
	for _, e := range entries {
		set.Entries = append(set.Entries, Entry{Key: e.Name, Pos: call.Pos(),
			Val: Computed([]Value{{Kind: String, Str: e.Type}})})
	}
	return []Value{set}, true
}
