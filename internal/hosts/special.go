package hosts

import (
	_ "embed"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

//go:embed lib.nix
var libSource []byte

// libPath names the lib prelude in positions; it is not a repository file.
const libPath = "<driftcheck lib>"

// loadLib evaluates lib.nix: nixpkgs' lib as far as host definitions and
// imports use it. Names it does not define are unknown, named.
func (ev *evaluator) loadLib() *value {
	f, err := parser.ParseFile(libPath, libSource)
	if err != nil {
		panic("lib.nix does not parse: " + err.Error()) // a build defect, caught by every test
	}
	src := newSource(libPath, libSource, f)
	args := newAttrs()
	args.set("builtins", ready(ev.builtin), site{})
	args.set("special", ready(attrsValue(ev.specialSet())), site{})
	lib := ev.apply(ev.eval(f.Expr, nil, src), ready(attrsValue(args)))
	if lib.kind != kAttrs {
		panic("lib.nix does not evaluate to a set: " + lib.String())
	}
	lib.attrs.open = unknown("a lib function driftcheck does not evaluate")
	return lib
}

func (ev *evaluator) specialSet() *attrs {
	a := newAttrs()
	add := func(name string, arity int, fn func(ev *evaluator, args []*thunk) *value) {
		a.set(name, ready(fnValue(name, arity, fn)), site{})
	}
	add("nixosSystem", 1, func(_ *evaluator, args []*thunk) *value {
		return &value{kind: kHost, host: &hostDef{args: args[0]}}
	})
	add("mkFlake", 2, func(ev *evaluator, args []*thunk) *value { return ev.flakeParts(args[0], args[1]) })
	add("load", 1, func(ev *evaluator, args []*thunk) *value { return ev.haumeaLoad(args[0]) })
	add("makeHive", 1, func(ev *evaluator, args []*thunk) *value { return ev.force(args[0]) })
	add("clan", 1, func(ev *evaluator, args []*thunk) *value { return ev.clanOutputs([]*value{ev.force(args[0])}) })
	add("buildClan", 1, func(ev *evaluator, args []*thunk) *value { return ev.clanOutputs([]*value{ev.force(args[0])}) })
	add("splitString", 2, func(ev *evaluator, args []*thunk) *value {
		sep, bad := ev.forceString("splitString", args[0])
		if bad != nil {
			return bad
		}
		s, bad := ev.forceString("splitString", args[1])
		if bad != nil {
			return bad
		}
		var out []*thunk
		for _, p := range strings.Split(s, sep) {
			out = append(out, ready(str(p)))
		}
		return listValue(out)
	})
	for name, fn := range map[string]func(string) string{"toLower": strings.ToLower, "toUpper": strings.ToUpper} {
		add(name, 1, func(ev *evaluator, args []*thunk) *value {
			s, bad := ev.forceString(name, args[0])
			if bad != nil {
				return bad
			}
			return str(fn(s))
		})
	}
	add("hasInfix", 2, func(ev *evaluator, args []*thunk) *value {
		in, bad := ev.forceString("hasInfix", args[0])
		if bad != nil {
			return bad
		}
		s, bad := ev.coerce(ev.force(args[1]), false)
		if bad != nil {
			return bad
		}
		return boolValue(strings.Contains(s, in))
	})
	return a
}

// haumeaLoad is haumea's lib.load { src; inputs; }: one attribute per
// file or directory of src (files without ".nix", entries starting with
// "_" hidden), each file imported and, when a function, called with the
// inputs.
func (ev *evaluator) haumeaLoad(arg *thunk) *value {
	a, bad := ev.forceAttrs("haumea load", arg)
	if bad != nil {
		return bad
	}
	srcT, ok := a.get("src")
	if !ok {
		return unknown("haumea load without src")
	}
	inputs, ok := a.get("inputs")
	if !ok {
		inputs = ready(attrsValue(newAttrs()))
	}
	dir, bad := ev.repoArg(ev.force(srcT))
	if bad != nil {
		return bad
	}
	return ev.haumeaDir(dir, inputs)
}

func (ev *evaluator) haumeaDir(dir string, inputs *thunk) *value {
	es, err := ev.fs.ReadDir(dir)
	if err != nil {
		return unknown("haumea load %s: %s", display(dir), notInRevision(err))
	}
	out := newAttrs()
	for _, e := range es {
		if strings.HasPrefix(e.Name, "_") {
			continue
		}
		p := dir + "/" + e.Name
		if dir == "" {
			p = e.Name
		}
		switch {
		case e.Type == "directory":
			out.set(e.Name, lazy(func() *value { return ev.haumeaDir(p, inputs) }), site{})
		case strings.HasSuffix(e.Name, ".nix"):
			out.set(strings.TrimSuffix(e.Name, ".nix"), lazy(func() *value {
				v := ev.importPath(p)
				if v.kind == kLambda {
					return ev.apply(v, lazy(func() *value { return ev.haumeaArgs(inputs) }))
				}
				return v
			}), site{})
		}
	}
	return attrsValue(out)
}

// haumeaArgs are the inputs with haumea's self, super and root, which
// this evaluator does not compute.
func (ev *evaluator) haumeaArgs(inputs *thunk) *value {
	extra := newAttrs()
	for _, n := range []string{"self", "super", "root"} {
		extra.set(n, ready(unknown("haumea's %s", n)), site{})
	}
	return update(ev.force(inputs), attrsValue(extra))
}
