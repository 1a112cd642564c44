package declared

import (
	"fmt"
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
	u := Unit{Name: k.name, Type: acc.typ, Scope: k.scope, File: sites[0].File, Line: sites[0].Line,
		Conditional: true, ImpliedBy: sites[0].ImpliedBy}
	for _, s := range sites {
		u.Sites = append(u.Sites, s.Site)
		u.Conditional = u.Conditional && s.Conditional
		if s.ImpliedBy == "" && u.ImpliedBy != "" {
			// Declared explicitly: point there, not at startAt or an option.
			u.ImpliedBy, u.File, u.Line = "", s.File, s.Line
		}
	}
	u.Properties = mergeProperties(u.Sites)
	return u
}

// winners are the sites that set a property at the best priority.
func winners(sites []Site, prop string) []Site {
	best := 0
	for _, s := range sites {
		if set, ok := s.Settings[prop]; ok && (best == 0 || set.Priority < best) {
			best = set.Priority
		}
	}
	var out []Site
	for _, s := range sites {
		if set, ok := s.Settings[prop]; ok && set.Priority == best {
			out = append(out, s)
		}
	}
	return out
}

func mergeProperties(sites []Site) Properties {
	var p Properties
	for _, s := range winners(sites, propOnCalendar) {
		p.OnCalendar = appendNew(p.OnCalendar, s.Properties.OnCalendar)
	}
	for _, s := range winners(sites, propWantedBy) {
		p.WantedBy = appendNew(p.WantedBy, s.Properties.WantedBy)
	}
	if w := winners(sites, propEnable); len(w) > 0 {
		p.Enable = w[0].Properties.Enable
	}
	if w := winners(sites, propPersistent); len(w) > 0 {
		p.Persistent = w[0].Properties.Persistent
	}
	if w := winners(sites, propType); len(w) > 0 {
		p.Type = w[0].Properties.Type
	}
	if w := winners(sites, propDescription); len(w) > 0 {
		p.Description = w[0].Properties.Description
	}
	if w := winners(sites, propUnit); len(w) > 0 {
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
