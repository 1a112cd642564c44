package hosts

import (
	"path"
	"sort"
)

// hostDef is a host as its definition gives it: what nixosSystem was
// called with, or the entry modules a framework (colmena, clan) or a
// convention assigns.
type hostDef struct {
	args        *thunk   // nixosSystem's argument; nil when modules is set
	modules     []*thunk // entry modules when not built by nixosSystem
	specialArgs *thunk
	moduleArgs  map[string]*thunk // further module arguments (colmena's name)
	external    []string          // modules known to come from outside (clan services)
	how         string
	problems    []Problem
}

// definitions lists the definitions a module-system value holds, through
// mkMerge, mkIf (when its condition is known to hold), mkDefault and
// friends.
func (ev *evaluator) definitions(v *value) []*value {
	if v.kind != kAttrs {
		return []*value{v}
	}
	tt, ok := v.attrs.get("_type")
	if !ok {
		return []*value{v}
	}
	t := ev.force(tt)
	get := func(name string) *value {
		x, ok := v.attrs.get(name)
		if !ok {
			return unknown("%s without %s", t.s, name)
		}
		return ev.force(x)
	}
	switch t.s {
	case "merge":
		l := get("contents")
		if l.kind != kList {
			return []*value{l}
		}
		var out []*value
		for _, el := range l.list {
			out = append(out, ev.definitions(ev.force(el))...)
		}
		return out
	case "if":
		c := get("condition")
		if c.kind == kBool && !c.b {
			return nil
		}
		if c.kind != kBool {
			return []*value{unknown("mkIf condition: %s", c.s)}
		}
		return ev.definitions(get("content"))
	case "override", "order":
		return ev.definitions(get("content"))
	}
	return []*value{v}
}

// option collects the definitions of one option path in module bodies
// (a full module's config counts as well).
func (ev *evaluator) option(body *value, p ...string) []*value {
	var out []*value
	for _, d := range ev.definitions(body) {
		if d.kind != kAttrs {
			continue
		}
		roots := []*value{d}
		if c, ok := d.attrs.get("config"); ok {
			roots = append(roots, ev.definitions(ev.force(c))...)
		}
		cur := roots
		for _, name := range p {
			var next []*value
			for _, c := range cur {
				if c.kind != kAttrs {
					continue
				}
				if t, ok := c.attrs.get(name); ok {
					next = append(next, ev.definitions(ev.force(t))...)
				}
			}
			cur = next
		}
		out = append(out, cur...)
	}
	return out
}

// mergeAll merges set definitions as the module system merges attrsOf and
// submodules: recursively.
func (ev *evaluator) mergeAll(defs []*value) *value {
	out := attrsValue(newAttrs())
	for _, d := range defs {
		if d.kind == kAttrs {
			out = ev.mergeValues(out, d)
		}
	}
	return out
}

// flakeParts is flake-parts' mkFlake: the flake's outputs are the merged
// flake definitions of the flake-parts modules (and, with clan-core's
// flake module, the clan's machines).
func (ev *evaluator) flakeParts(fpArgs, module *thunk) *value {
	args := newAttrs()
	var inputs *thunk
	if fa := ev.force(fpArgs); fa.kind == kAttrs {
		inputs, _ = fa.attrs.get("inputs")
	}
	if inputs == nil {
		inputs = ready(unknown("flake-parts' inputs"))
	}
	args.set("inputs", inputs, site{})
	args.set("self", lazy(func() *value {
		in := ev.force(inputs)
		if in.kind == kAttrs {
			if s, ok := in.attrs.get("self"); ok {
				return ev.force(s)
			}
		}
		return unknown("flake-parts' self")
	}), site{})
	args.set("lib", ready(ev.lib), site{})
	args.open = unknown("a flake-parts module argument")
	var flakeDefs, clanDefs []*value
	w := newWalker(ev, attrsValue(args))
	w.visit = func(body *value) {
		flakeDefs = append(flakeDefs, ev.option(body, "flake")...)
		clanDefs = append(clanDefs, ev.option(body, "clan")...)
	}
	w.module(module, "")
	out := ev.mergeAll(flakeDefs)
	if c, ok := out.attrs.get("clan"); ok {
		clanDefs = append(clanDefs, ev.definitions(ev.force(c))...)
	}
	if len(clanDefs) > 0 {
		clan := ev.clanOutputs(clanDefs)
		out = ev.mergeValues(out, clan)
	}
	out.attrs.dynamic = append(out.attrs.dynamic, problemsText(w.unfollowed)...)
	return out
}

func problemsText(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, "flake-parts module "+p.String())
	}
	return out
}

// clanOutputs is what clan-core makes of a clan definition: one NixOS
// configuration per machine of the inventory and per directory under
// machines/, with the files clan loads by convention and the modules the
// inventory's importer instances assign by machine name or tag.
func (ev *evaluator) clanOutputs(defs []*value) *value {
	clan := ev.mergeAll(defs)
	get := func(v *value, names ...string) *value {
		for _, n := range names {
			if v.kind != kAttrs {
				return unknown("clan %s", n)
			}
			t, ok := v.attrs.get(n)
			if !ok {
				return attrsValue(newAttrs())
			}
			v = ev.force(t)
		}
		return v
	}
	dir := ""
	if d := get(clan, "directory"); d.kind == kPath {
		dir = d.s
	}
	machineDir := path.Join(dir, "machines")
	machines := map[string][]string{} // name → tags
	inv := get(clan, "inventory", "machines")
	if inv.kind == kAttrs {
		for _, n := range inv.attrs.names() {
			machines[n] = ev.tags(get(inv, n, "tags"))
		}
	}
	if es, err := ev.fs.ReadDir(machineDir); err == nil {
		for _, e := range es {
			if _, ok := machines[e.Name]; !ok && e.Type == "directory" {
				machines[e.Name] = nil
			}
		}
	}
	specialArgs, _ := clan.attrs.get("specialArgs")
	perMachine := get(clan, "machines")
	instances := get(clan, "inventory", "instances")
	out := newAttrs()
	names := make([]string, 0, len(machines))
	for n := range machines {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		h := &hostDef{how: "clan machine", specialArgs: specialArgs}
		for _, f := range []string{"configuration.nix", "hardware-configuration.nix", "disko.nix"} {
			p := path.Join(machineDir, name, f)
			if kindOf(ev.fs, p) != "" {
				h.modules = append(h.modules, ready(pathValue(p)))
			}
		}
		if perMachine.kind == kAttrs {
			if t, ok := perMachine.attrs.get(name); ok {
				h.modules = append(h.modules, t)
			}
		}
		tags := append([]string{"all", "nixos"}, machines[name]...)
		ev.clanRoles(h, name, tags, instances)
		out.set(name, ready(&value{kind: kHost, host: h}), site{})
	}
	res := newAttrs()
	res.set("nixosConfigurations", ready(attrsValue(out)), site{})
	return attrsValue(res)
}

// tags reads a tags value: a list of names or a set whose names are tags.
func (ev *evaluator) tags(v *value) []string {
	var out []string
	switch v.kind {
	case kList:
		for _, t := range v.list {
			if s := ev.force(t); s.kind == kString {
				out = append(out, s.s)
			}
		}
	case kAttrs:
		out = append(out, v.attrs.names()...)
	}
	return out
}

// clanRoles assigns the roles of the inventory's instances to a machine:
// an importer instance adds its extraModules; any other service comes
// from clan-core (outside the repository).
func (ev *evaluator) clanRoles(h *hostDef, name string, tags []string, instances *value) {
	if instances.kind != kAttrs {
		if instances.kind == kUnknown {
			h.problems = append(h.problems, Problem{Reason: "clan inventory instances cannot be read: " + instances.s})
		}
		return
	}
	for _, inst := range instances.attrs.names() {
		it, _ := instances.attrs.get(inst)
		iv := ev.force(it)
		if iv.kind != kAttrs {
			continue
		}
		service := inst
		if m, ok := iv.attrs.get("module"); ok {
			if mv := ev.force(m); mv.kind == kAttrs {
				if n, ok := mv.attrs.get("name"); ok {
					if nv := ev.force(n); nv.kind == kString {
						service = nv.s
					}
				}
			}
		}
		rt, ok := iv.attrs.get("roles")
		if !ok {
			continue
		}
		roles := ev.force(rt)
		if roles.kind != kAttrs {
			continue
		}
		for _, role := range roles.attrs.names() {
			t, _ := roles.attrs.get(role)
			r := ev.force(t)
			if r.kind != kAttrs || !ev.roleMatches(r, name, tags) {
				continue
			}
			if service != "importer" {
				h.external = append(h.external, "clan service "+service+" (instance "+inst+", role "+role+")")
				continue
			}
			if em, ok := r.attrs.get("extraModules"); ok {
				l := ev.force(em)
				if l.kind == kList {
					h.modules = append(h.modules, l.list...)
				} else {
					h.problems = append(h.problems, Problem{At: thunkSite(em), Reason: "extraModules cannot be read: " + l.s})
				}
			}
		}
	}
}

func (ev *evaluator) roleMatches(r *value, name string, tags []string) bool {
	if m, ok := r.attrs.get("machines"); ok {
		for _, n := range ev.tags(ev.force(m)) {
			if n == name {
				return true
			}
		}
	}
	if t, ok := r.attrs.get("tags"); ok {
		for _, want := range ev.tags(ev.force(t)) {
			for _, have := range tags {
				if want == have {
					return true
				}
			}
		}
	}
	return false
}
