package declared

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// merge builds a Unit from its sites: position of the first site in path
// order, conditional only when every site is, properties from the sites of
// the best priority (lists joined, as NixOS joins list options).
func merge(k unitKey, acc *unitAcc) Unit {
	sites := acc.sites
	sort.SliceStable(sites, func(i, j int) bool {
		a, b := sites[i], sites[j]
		if a.fileIndex != b.fileIndex {
			return a.fileIndex < b.fileIndex
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.col < b.col
	})
	u := Unit{Name: k.name, Type: acc.typ, Scope: k.scope, User: k.user, File: sites[0].File, Line: sites[0].Line,
		Conditional: true, ImpliedBy: sites[0].ImpliedBy}
	var named, elsewhere []string
	declaring := -1 // the first explicit site that declares the unit
	for i, s := range sites {
		if s.ImpliedBy != "" {
			s.Role = RoleDeclares // NixOS derives the unit here
		}
		u.Sites = append(u.Sites, s.Site)
		u.Definitions = append(u.Definitions, Definition{File: s.File, Line: s.Line, Role: s.Role})
		u.Conditional = u.Conditional && s.Conditional
		named = union(named, s.NameDefaults)
		elsewhere = union(elsewhere, s.DecidedElsewhere)
		if s.ImpliedBy == "" && s.Role == RoleDeclares && declaring < 0 {
			declaring = i
		}
	}
	switch {
	case declaring >= 0:
		// Point at the declaration, not at an override, startAt or an option.
		u.ImpliedBy, u.File, u.Line = "", sites[declaring].File, sites[declaring].Line
	case u.ImpliedBy == "" && anyRole(sites, RoleOverrides) && !anyRole(sites, RoleDeclares):
		u.Notes = append(u.Notes, "only overridden in the repository: the module that defines the unit is outside it (a NixOS service module or a flake input)")
	}
	for _, opt := range named {
		u.Notes = append(u.Notes, "name from option default "+opt)
	}
	if len(elsewhere) > 0 {
		u.Notes = append(u.Notes, "kept, conditional: its condition is decided by another file's setting at "+
			strings.Join(elsewhere, ", ")+", and every file is read, not one host's (--host reads a host's files only)")
	}
	u.Properties = mergeProperties(u.Sites)
	return u
}

// winners are the sites whose setting of a property takes effect, as far
// as static reading can tell. An unconditional setting hides every setting
// of worse priority; conditional settings of better or equal priority stay,
// and when they disagree with the rest the property is not known (ok is
// false). Unconditional settings that disagree at one priority are a
// conflict (see Conflicts): they all stay, and the first one wins scalars.
func winners(sites []Site, prop string) (out []Site, ok bool) {
	cutoff := math.MaxInt
	for _, s := range sites {
		if set, has := s.Settings[prop]; has && !set.Conditional {
			cutoff = min(cutoff, set.Priority)
		}
	}
	best, uncertain := math.MaxInt, false
	for _, s := range sites {
		if set, has := s.Settings[prop]; has && set.Priority <= cutoff {
			out = append(out, s)
			best = min(best, set.Priority)
			uncertain = uncertain || set.Conditional
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	if uncertain {
		for _, s := range out[1:] {
			if propertyText(s.Properties, prop) != propertyText(out[0].Properties, prop) {
				return nil, false
			}
		}
		return out, true
	}
	var atBest []Site
	for _, s := range out {
		if s.Settings[prop].Priority == best {
			atBest = append(atBest, s)
		}
	}
	return atBest, true
}

func mergeProperties(sites []Site) Properties {
	var p Properties
	if w, ok := winners(sites, propOnCalendar); ok {
		for _, s := range w {
			p.OnCalendar = appendNew(p.OnCalendar, s.Properties.OnCalendar)
		}
	}
	if w, ok := winners(sites, propWantedBy); ok {
		for _, s := range w {
			p.WantedBy = appendNew(p.WantedBy, s.Properties.WantedBy)
		}
	}
	if w, ok := winners(sites, propEnable); ok {
		p.Enable = w[0].Properties.Enable
	}
	if w, ok := winners(sites, propPersistent); ok {
		p.Persistent = w[0].Properties.Persistent
	}
	if w, ok := winners(sites, propType); ok {
		p.Type = w[0].Properties.Type
	}
	if w, ok := winners(sites, propDescription); ok {
		p.Description = w[0].Properties.Description
	}
	if w, ok := winners(sites, propUnit); ok {
		p.Unit = w[0].Properties.Unit
	}
	return p
}

// appendNew appends the elements of add not yet in list. An explicit empty
// list stays distinct from an unset one.
func appendNew(list, add []string) []string {
	if list == nil {
		list = []string{}
	}
	for _, s := range add {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// Unit returns the unit with the given full name ("docker-prune.timer"). A
// name declared both as a system and a user unit yields the system unit.
func (r Result) Unit(name string) (Unit, bool) {
	for _, u := range r.Units {
		if u.Name == name {
			return u, true
		}
	}
	return Unit{}, false
}

// Conflict is a property that two sites of one unit set to different values
// at the same priority, both unconditionally: NixOS either refuses the
// configuration or silently combines the two (lists), and the intent is
// unclear either way.
type Conflict struct {
	Unit     string
	Property string   // JSON name: "OnCalendar", "Type", …
	Sites    []Site   // the disagreeing sites, in path order
	Values   []string // each site's value, as text
}

func (c Conflict) String() string {
	var parts []string
	for i, s := range c.Sites {
		parts = append(parts, fmt.Sprintf("%s:%d sets %s", s.File, s.Line, c.Values[i]))
	}
	return fmt.Sprintf("%s: %s set differently: %s", c.Unit, c.Property, strings.Join(parts, "; "))
}

// Conflicts lists the properties of u that its sites set in conflicting
// ways. Definitions under mkIf (or another condition) and definitions of
// different priority (mkDefault, mkForce, mkOverride) are not conflicts:
// the module system resolves them.
func Conflicts(u Unit) []Conflict {
	var out []Conflict
	for _, prop := range []string{propOnCalendar, propType, propDescription, propUnit, propEnable, propPersistent} {
		byPriority := map[int][]Site{}
		var prios []int
		for _, s := range u.Sites {
			set, ok := s.Settings[prop]
			if !ok || set.Conditional {
				continue
			}
			if _, seen := byPriority[set.Priority]; !seen {
				prios = append(prios, set.Priority)
			}
			byPriority[set.Priority] = append(byPriority[set.Priority], s)
		}
		sort.Ints(prios)
		for _, prio := range prios {
			if c, ok := conflictAmong(u.Name, prop, byPriority[prio]); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

func conflictAmong(unit, prop string, sites []Site) (Conflict, bool) {
	c := Conflict{Unit: unit, Property: prop}
	distinct := map[string]bool{}
	for _, s := range sites {
		v := propertyText(s.Properties, prop)
		distinct[v] = true
		c.Sites = append(c.Sites, s)
		c.Values = append(c.Values, v)
	}
	return c, len(distinct) > 1
}

// propertyText renders one property for messages and comparison.
func propertyText(p Properties, prop string) string {
	switch prop {
	case propOnCalendar:
		return fmt.Sprintf("%q", p.OnCalendar)
	case propWantedBy:
		return fmt.Sprintf("%q", p.WantedBy)
	case propType:
		return fmt.Sprintf("%q", p.Type)
	case propDescription:
		return fmt.Sprintf("%q", p.Description)
	case propUnit:
		return fmt.Sprintf("%q", p.Unit)
	case propEnable:
		return boolText(p.Enable)
	case propPersistent:
		return boolText(p.Persistent)
	}
	return ""
}

func boolText(b *bool) string {
	if b == nil {
		return "unset"
	}
	return fmt.Sprint(*b)
}

func anyRole(sites []siteAcc, role string) bool {
	for _, s := range sites {
		if s.Role == role || (role == RoleDeclares && s.ImpliedBy != "") {
			return true
		}
	}
	return false
}
