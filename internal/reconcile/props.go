package reconcile

import (
	"encoding/json"
	"slices"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

func parseFile(path string, src []byte) (*ast.File, error) {
	return parser.ParseFile(path, src)
}

// propSite is one place that sets a unit's property.
type propSite struct {
	File        string
	Value       ast.Expr
	Conditional bool // under mkIf or optionalAttrs: the host may differ on purpose
}

// propertySites finds where the unit's sites set the property at path
// (relative to the unit: [timerConfig OnCalendar]).
func propertySites(sites []nameSite, path []string) []propSite {
	var out []propSite
	for _, s := range sites {
		if s.Inherit || s.Rest == nil { // a computed path after the name
			continue
		}
		rest := s.Rest
		switch {
		case slices.Equal(rest, path):
			out = append(out, propSite{File: s.File, Value: s.Value})
		case len(rest) < len(path) && slices.Equal(rest, path[:len(rest)]):
			collectProperty(s.File, s.Value, path[len(rest):], false, &out)
		}
	}
	return out
}

// collectProperty searches a unit's value for the remaining path,
// through nested sets, //, and mkIf-like wrappers.
func collectProperty(file string, e ast.Expr, path []string, cond bool, out *[]propSite) {
	switch x := ast.Unparen(e).(type) {
	case *ast.AttrSet:
		for _, b := range x.Bindings {
			a, ok := b.(*ast.Attr)
			if !ok {
				continue
			}
			names := staticNames(a.Path)
			switch {
			case names == nil:
			case slices.Equal(names, path):
				*out = append(*out, propSite{File: file, Value: a.Value, Conditional: cond})
			case len(names) < len(path) && slices.Equal(names, path[:len(names)]):
				collectProperty(file, a.Value, path[len(names):], cond, out)
			}
		}
	case *ast.Binary:
		collectProperty(file, x.X, path, cond, out)
		collectProperty(file, x.Y, path, cond, out)
	case *ast.Let:
		collectProperty(file, x.Body, path, cond, out)
	case *ast.Call:
		name := ast.FuncName(x.Fun)
		if len(x.Args) == 0 || !transparent[name] {
			return
		}
		last := x.Args[len(x.Args)-1]
		c := cond || name == "mkIf" || name == "optionalAttrs"
		if l, ok := ast.Unparen(last).(*ast.List); ok && name == "mkMerge" {
			for _, el := range l.Elems {
				collectProperty(file, el, path, c, out)
			}
			return
		}
		collectProperty(file, last, path, c, out)
	}
}

// isLiteral reports a value written as a literal: a string without
// interpolation, true or false, or a list of such strings.
func isLiteral(e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.String:
		_, ok := literalString(x)
		return ok
	case *ast.Ident:
		return x.Name == "true" || x.Name == "false"
	case *ast.List:
		for _, el := range x.Elems {
			s, ok := ast.Unparen(el).(*ast.String)
			if !ok {
				return false
			}
			if _, ok := literalString(s); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// hostValue is the finding's host value in Nix syntax.
func hostValue(f unitdiff.Finding) (string, bool) {
	raw := f.HostValue
	if len(raw) == 0 {
		return "", false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	return nixValue(v)
}
