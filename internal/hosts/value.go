package hosts

import (
	"fmt"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// kind is the type of a value as the evaluator knows it.
type kind uint8

const (
	kUnknown kind = iota // not computable here; why says what it depends on
	kNull
	kBool
	kInt
	kFloat
	kString
	kPath // a path inside the repository
	kList
	kAttrs
	kLambda
	kBuiltin
	kHost // what nixosSystem returns: a host definition
)

// value is a Nix value in weak head normal form. Unlike the partial
// evaluator of internal/declared, this one is exact: it computes what Nix
// computes, or an unknown value that says why it cannot. Discovery and the
// import closure need that exactness (paths, imports, readDir, laziness);
// they never see module-system conditions, which NixOS forbids in imports.
type value struct {
	kind kind
	b    bool
	i    int64
	f    float64
	// s is the string's content, the path relative to the repository
	// root ("" is the root), or an unknown value's reason.
	s string
	// ext names an unknown value that comes from outside the repository:
	// a flake input ("inputs.sops-nix.nixosModules.sops"), a module
	// argument ("modulesPath/installer/scan/not-detected.nix").
	ext   string
	list  []*thunk
	attrs *attrs
	lam   *ast.Lambda
	env   *env
	src   *source // kLambda: the file it is written in
	bi    *builtin
	host  *hostDef
}

func unknown(format string, args ...any) *value {
	return &value{kind: kUnknown, s: fmt.Sprintf(format, args...)}
}

func external(label string) *value {
	return &value{kind: kUnknown, ext: label, s: label + " is outside the repository"}
}

var (
	vNull  = &value{kind: kNull}
	vTrue  = &value{kind: kBool, b: true}
	vFalse = &value{kind: kBool}
)

func boolValue(b bool) *value {
	if b {
		return vTrue
	}
	return vFalse
}

func str(s string) *value       { return &value{kind: kString, s: s} }
func intValue(i int64) *value   { return &value{kind: kInt, i: i} }
func pathValue(p string) *value { return &value{kind: kPath, s: p} }
func listValue(ts []*thunk) *value {
	return &value{kind: kList, list: ts}
}

// typeName is builtins.typeOf.
func (v *value) typeName() string {
	switch v.kind {
	case kNull:
		return "null"
	case kBool:
		return "bool"
	case kInt:
		return "int"
	case kFloat:
		return "float"
	case kString:
		return "string"
	case kPath:
		return "path"
	case kList:
		return "list"
	case kAttrs, kHost:
		return "set"
	case kLambda, kBuiltin:
		return "lambda"
	}
	return "unknown"
}

// thunk is a delayed expression, evaluated at most once.
type thunk struct {
	expr  ast.Expr
	env   *env
	src   *source
	val   *value
	state uint8 // 0 not forced, 1 being forced, 2 done
	// fn computes the value when there is no expression (builtins build
	// lazy results this way).
	fn func() *value
}

func ready(v *value) *thunk { return &thunk{val: v, state: 2} }

func lazy(fn func() *value) *thunk { return &thunk{fn: fn} }

// attrs is an attribute set. open, when set, says that the set may hold
// more attributes than listed: a missing name is unknown, not missing
// (inputs // { … } where inputs cannot be read).
type attrs struct {
	m    map[string]*thunk
	keys []string // sorted lazily by names()
	// at is where each attribute is defined, for reports.
	at     map[string]site
	open   *value
	sorted bool
	// dynamic holds the reasons of ${…} keys that could not be computed.
	dynamic []string
	// lit is the set literal that made the set, in src; nil for sets
	// computed by functions.
	lit *ast.AttrSet
	src *source
}

func newAttrs() *attrs { return &attrs{m: map[string]*thunk{}, at: map[string]site{}} }

func (a *attrs) set(name string, t *thunk, at site) {
	if _, ok := a.m[name]; !ok {
		a.keys = append(a.keys, name)
		a.sorted = false
	}
	a.m[name] = t
	if at.src != nil {
		a.at[name] = at
	}
}

func (a *attrs) get(name string) (*thunk, bool) {
	t, ok := a.m[name]
	return t, ok
}

// names are the attribute names, sorted as Nix sorts them.
func (a *attrs) names() []string {
	if !a.sorted {
		sort.Strings(a.keys)
		a.sorted = true
	}
	return a.keys
}

func attrsValue(a *attrs) *value { return &value{kind: kAttrs, attrs: a} }

// site is a position in a source file.
type site struct {
	src    *source
	offset int
}

// String is file:line.
func (s site) String() string {
	if s.src == nil {
		return "?"
	}
	return fmt.Sprintf("%s:%d", s.src.path, s.src.line(s.offset))
}

// env is a lexical scope; with-scopes are searched after every lexical
// binding, innermost first, as Nix does.
type env struct {
	parent *env
	vars   map[string]*thunk
	with   *thunk
}

func (e *env) lookup(name string) (*thunk, bool) {
	for s := e; s != nil; s = s.parent {
		if t, ok := s.vars[name]; ok {
			return t, true
		}
	}
	return nil, false
}

// source is one parsed file of the revision.
type source struct {
	path  string // relative to the repository root
	file  *ast.File
	lines []int // offsets of line starts
}

func (s *source) line(offset int) int {
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > offset })
	return i
}

func newSource(p string, data []byte, f *ast.File) *source {
	lines := []int{0}
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &source{path: p, file: f, lines: lines}
}

// dir is the directory of the source file, relative to the root.
func (s *source) dir() string {
	if i := strings.LastIndexByte(s.path, '/'); i >= 0 {
		return s.path[:i]
	}
	return ""
}
