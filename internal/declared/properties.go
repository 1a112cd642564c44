package declared

import (
	"github.com/driftcheck/driftcheck/internal/nix/eval"
	"sort"

	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Property names, as in the JSON of Properties and the keys of
// Site.Settings.
const (
	propOnCalendar  = "OnCalendar"
	propWantedBy    = "WantedBy"
	propEnable      = "Enable"
	propPersistent  = "Persistent"
	propType        = "Type"
	propDescription = "Description"
	propUnit        = "Unit"
)

// located is a value with the position of the attribute that defines it.
type located struct {
	v   eval.Value
	pos token.Pos
}

// propertyReader reads the statically known properties of one definition
// of a unit into its site.
type propertyReader struct {
	ev    *eval.Evaluator
	site  *siteAcc
	lines *token.File // of the site's file
}

func (r *propertyReader) read(defs []eval.Value) {
	p := &r.site.Properties
	if s, set, ok := r.pick(defs, "description"); ok && s.v.Kind == eval.String {
		p.Description = s.v.Str
		r.record(propDescription, set)
	}
	if s, set, ok := r.pick(defs, "enable"); ok && s.v.Kind == eval.Bool {
		b := s.v.Boolean
		p.Enable = &b
		r.record(propEnable, set)
	}
	if s, set, ok := r.pick(defs, "wantedBy"); ok {
		if l, known := r.ev.StringsOf([]eval.Value{unconditional(s.v)}); known {
			p.WantedBy = l
			r.record(propWantedBy, set)
		}
	}
	if s, set, ok := r.pick(defs, "serviceConfig", "Type"); ok && s.v.Kind == eval.String {
		p.Type = s.v.Str
		r.record(propType, set)
	}
	if s, set, ok := r.pick(defs, "timerConfig", "OnCalendar"); ok {
		if l, known := r.ev.StringsOf([]eval.Value{unconditional(s.v)}); known {
			p.OnCalendar = l
			r.record(propOnCalendar, set)
		}
	}
	if s, set, ok := r.pick(defs, "timerConfig", "Persistent"); ok && s.v.Kind == eval.Bool {
		b := s.v.Boolean
		p.Persistent = &b
		r.record(propPersistent, set)
	}
	if s, set, ok := r.pick(defs, "timerConfig", "Unit"); ok && s.v.Kind == eval.String {
		p.Unit = s.v.Str
		r.record(propUnit, set)
	}
}

func unconditional(v eval.Value) eval.Value {
	v.Cond = false
	return v
}

func (r *propertyReader) record(name string, set Setting) {
	if r.site.Settings == nil {
		r.site.Settings = map[string]Setting{}
	}
	r.site.Settings[name] = set
}

// pick finds the definition of a property path that wins inside one
// definition of a unit: the lowest priority, then the first written. A
// value under a condition of its own is not known statically: not picked.
func (r *propertyReader) pick(defs []eval.Value, path ...string) (located, Setting, bool) {
	cands := r.lookup(defs, path)
	if len(cands) == 0 {
		return located{}, Setting{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return priority(cands[i].v) < priority(cands[j].v) })
	best := cands[0]
	if best.v.Cond {
		return located{}, Setting{}, false
	}
	return best, Setting{Line: r.lines.Line(best.pos), Priority: priority(best.v), Conditional: r.site.Conditional}, true
}

// lookup finds every definition of path under the set parts of vs, with the
// position of the attribute naming the last path element.
func (r *propertyReader) lookup(vs []eval.Value, path []string) []located {
	var out []located
	for _, v := range vs {
		if v.Kind != eval.Set {
			continue
		}
		for _, e := range v.Entries {
			if e.Dynamic || e.Key != path[0] {
				continue
			}
			vals := r.ev.EntryValues([]eval.Entry{e}, v)
			if len(path) > 1 {
				out = append(out, r.lookup(vals, path[1:])...)
				continue
			}
			for _, val := range vals {
				out = append(out, located{v: val, pos: e.Pos})
			}
		}
	}
	return out
}
