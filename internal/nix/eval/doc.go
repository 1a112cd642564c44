// Package eval is a partial evaluator of the Nix language: it computes what
// is statically known about an expression (constant strings and numbers,
// attribute sets written out, let and rec bindings, with-scopes, lambdas
// applied to known arguments, a few builtins) and turns everything else into
// Unknown values that carry the reason. It knows the language only: no
// nixpkgs lib, no NixOS module system.
//
// A layer above the language plugs in through Layer: functions it knows by
// name (lib.mkIf), what an unbound name or an opaque value stands for, and
// annotations (Value.Meta) that it attaches to values and that the
// evaluator carries through nesting and string building. internal/declared
// is such a layer: it emulates the module system on top of this package.
//
// Files are read through Files, never from the disk directly: a caller that
// wants `import ./x.nix` and `builtins.readDir` followed supplies them (from
// a git revision, for instance); without Files, imports stay unknown.
//
// Evaluation is bounded (MaxDepth, MaxSteps, MaxListLen, MaxStringLen) so
// that any input, including self-referential lets, ends; Budget.Hit says a
// limit cut a result short.
package eval
