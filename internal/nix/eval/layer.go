package eval

import "github.com/driftcheck/driftcheck/internal/nix/ast"

// Layer is what a caller adds on top of the language: functions known by
// name (a library such as nixpkgs' lib), what names bound nowhere and
// opaque values stand for, and annotations on values. Every method must
// accept nil annotations. A nil Layer is plain Nix.
type Layer interface {
	// Arity is the number of arguments the layer's function name takes;
	// ok is false when the layer does not provide it.
	Arity(name string) (n int, ok bool)
	// Call applies the layer's function name to exactly its arity of
	// arguments; ok false leaves the call to the evaluator's builtins.
	Call(ev *Evaluator, call ast.Expr, name string, args []*Thunk) (vs []Value, ok bool)
	// Free is what a name bound nowhere (lexically or by a with-scope
	// that could be read) stands for.
	Free(name string) (Value, bool)
	// Member is name selected from a namespace (a Builtin with Name "").
	Member(name string) Value
	// Select is name selected from an Unknown value (v.name).
	Select(ev *Evaluator, v Value, name string) []Value
	// FromWith is name looked up in a with-scope whose value is Unknown;
	// ok false when the scope does not provide it.
	FromWith(ev *Evaluator, scope Value, name string) (vs []Value, ok bool)
	// Forced sees every forced result before the evaluator returns it.
	Forced(ev *Evaluator, vs []Value) []Value
	// Enclose is the annotation of a value seen through an enclosing
	// value annotated parent.
	Enclose(child, parent any) any
	// Join is the annotation of a value built from a part (a string from
	// its interpolations).
	Join(whole, part any) any
	// Cause is the annotation saying why some of vs are not constant.
	Cause(vs []Value) any
	// Constant reports whether a value annotated m may decide a
	// condition (if, ==, &&).
	Constant(m any) bool
}

// Files gives the evaluator the files that imports and builtins.readDir
// ask for. Paths are slash-separated and relative to the root the caller
// chose (a repository at a revision); the evaluator never asks for a path
// outside it.
type Files interface {
	ReadFile(path string) ([]byte, error)
	// ReadDir lists a directory; an error when path is not one.
	ReadDir(path string) ([]DirEntry, error)
}

// DirEntry is one entry of a directory, as builtins.readDir reports it.
type DirEntry struct {
	Name string
	Type string // "regular", "directory", "symlink" or "unknown"
}
