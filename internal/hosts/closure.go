package hosts

import (
	"fmt"
	"sort"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// Problem is something that could not be followed, and why.
type Problem struct {
	At     string `json:"at,omitempty"` // file:line where it is written, when known
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.At == "" {
		return p.Reason
	}
	return p.At + ": " + p.Reason
}

// maxModules bounds the modules one walk visits.
const maxModules = 20000

// walker follows imports from a list of modules as the module system
// does: a path is imported (a directory means its default.nix), a
// function is called with the module arguments, a set is a module body
// whose imports are followed in turn. Modules from outside the repository
// (flake inputs, modulesPath) are listed, not followed.
type walker struct {
	ev   *evaluator
	args *value // the module arguments
	// visit is called with every module body (a set), for callers that
	// collect definitions (flake-parts, clan).
	visit func(body *value)

	files      []string
	seen       map[string]bool
	external   []string
	extSeen    map[string]bool
	unfollowed []Problem
	inline     []string
	modules    int
}

func newWalker(ev *evaluator, args *value) *walker {
	return &walker{ev: ev, args: args, seen: map[string]bool{}, extSeen: map[string]bool{}}
}

// thunkSite is where a thunk's expression is written.
func thunkSite(t *thunk) string {
	if t.expr == nil || t.src == nil || t.src.path == libPath {
		return ""
	}
	return site{t.src, t.expr.Pos().Offset()}.String()
}

func (w *walker) fail(at, format string, args ...any) {
	w.unfollowed = append(w.unfollowed, Problem{At: at, Reason: fmt.Sprintf(format, args...)})
}

// module follows one element of a module list; at is where the list is,
// for elements computed by functions.
func (w *walker) module(t *thunk, at string) {
	w.modules++
	if w.modules > maxModules {
		if w.modules == maxModules+1 {
			w.fail("", "more than %d modules: not followed further", maxModules)
		}
		return
	}
	if s := thunkSite(t); s != "" {
		at = s
	}
	w.value(w.ev.force(t), at)
}

func (w *walker) value(v *value, at string) {
	switch v.kind {
	case kPath:
		w.file(v.s, at)
	case kString:
		if p, ok := fromMarker(v.s); ok {
			w.file(p, at)
			return
		}
		w.fail(at, "module %q is not a path of the repository", v.s)
	case kUnknown:
		if v.ext != "" {
			if !w.extSeen[v.ext] {
				w.extSeen[v.ext] = true
				w.external = append(w.external, v.ext)
			}
			return
		}
		w.fail(at, "%s", v.s)
	case kLambda:
		w.body(w.ev.apply(v, ready(w.args)), w.origin(v), at)
	case kAttrs:
		if _, ok := v.attrs.get("__functor"); ok {
			w.body(w.ev.apply(v, ready(w.args)), "", at)
			return
		}
		w.body(v, w.origin(v), at)
	default:
		w.fail(at, "a %s is not a module", v.typeName())
	}
}

// file imports one module file of the repository.
func (w *walker) file(p, at string) {
	file, why := w.ev.moduleFile(p)
	if why != "" {
		w.fail(at, "import %s: %s", display(p), why)
		return
	}
	if w.seen[file] {
		return
	}
	w.seen[file] = true
	w.files = append(w.files, file)
	v := w.ev.importPath(file)
	switch v.kind {
	case kLambda:
		w.body(w.ev.apply(v, ready(w.args)), file, file)
	case kUnknown:
		w.fail(file, "%s", v.s)
	default:
		w.value(v, file)
	}
}

// origin is the file whose module a function or set is: the file's
// whole expression (or the body of its top-level function). A module
// written inside another expression is inline and has no file of its own.
func (w *walker) origin(v *value) string {
	var src *source
	var node ast.Node
	switch v.kind {
	case kLambda:
		src, node = v.src, v.lam
	case kAttrs:
		if v.attrs.lit == nil {
			return ""
		}
		src, node = v.attrs.src, v.attrs.lit
	}
	if src == nil || src.path == libPath {
		return ""
	}
	if isFileModule(src.file.Expr, node) {
		return src.path
	}
	return ""
}

func isFileModule(root ast.Expr, node ast.Node) bool {
	for {
		switch r := root.(type) {
		case *ast.Paren:
			root = r.X
			continue
		}
		break
	}
	if ast.Node(root) == node {
		return true
	}
	if l, ok := root.(*ast.Lambda); ok {
		body := l.Body
		for {
			switch b := body.(type) {
			case *ast.Paren:
				body = b.X
				continue
			case *ast.Let:
				body = b.Body
				continue
			case *ast.With:
				body = b.Body
				continue
			}
			break
		}
		return ast.Node(body) == node
	}
	return false
}

// body reads one module body: its imports, and whatever visit collects.
func (w *walker) body(v *value, origin, at string) {
	if origin != "" && !w.seen[origin] {
		// A module imported as a value (nixosModules.x = import ./x).
		w.seen[origin] = true
		w.files = append(w.files, origin)
	}
	if origin == "" && v.kind == kAttrs && v.attrs.src != nil && v.attrs.src.path != libPath && v.attrs.lit != nil {
		w.inline = append(w.inline, site{v.attrs.src, v.attrs.lit.Pos().Offset()}.String())
	}
	switch v.kind {
	case kUnknown:
		if v.ext != "" {
			w.value(v, at)
			return
		}
		w.fail(at, "module cannot be read: %s", v.s)
		return
	case kAttrs:
	default:
		w.fail(at, "module is a %s, not a set", v.typeName())
		return
	}
	if w.visit != nil {
		w.visit(v)
	}
	if v.attrs.open != nil {
		if _, ok := v.attrs.get("imports"); !ok {
			w.fail(at, "module cannot be read: %s", v.attrs.open.s)
			return
		}
	}
	t, ok := v.attrs.get("imports")
	if !ok {
		return
	}
	l := w.ev.force(t)
	if where := thunkSite(t); where != "" {
		at = where
	}
	switch l.kind {
	case kList:
		for _, el := range l.list {
			w.module(el, at)
		}
	case kUnknown:
		w.fail(at, "imports cannot be read: %s", l.s)
	default:
		w.fail(at, "imports is a %s, not a list", l.typeName())
	}
}

func (w *walker) sorted() {
	sort.Strings(w.files)
	sort.Strings(w.external)
	sort.Strings(w.inline)
}
