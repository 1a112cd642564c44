// Package hosts finds the hosts a repository defines and the import
// closure of each, statically: the flake's nixosConfigurations (written
// out, built by helpers, generated over lists or directories), colmena
// hives, clan machines, flake-parts, a root configuration.nix, or entry
// files given by the user. It evaluates the Nix that defines hosts and
// imports with its own small evaluator over the revision's tree (FS) and
// never runs Nix; what it cannot compute it reports with the reason,
// never guesses. Modules from flake inputs are listed as external.
package hosts

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Host is one host of a repository.
type Host struct {
	Name string `json:"name"`
	// Attribute is the flake output that builds the host
	// ("nixosConfigurations.atlas"), "" when it is not a flake attribute
	// (a root configuration.nix, --entry).
	Attribute string `json:"attribute,omitempty"`
	// Found says how the host was found: "nixosConfigurations",
	// "colmena", "clan machine", "configuration.nix", "entry",
	// "directory convention".
	Found []string `json:"found"`
	// Definition is where the host is defined (file:line), when known.
	Definition string `json:"definition,omitempty"`
	// Entries are the host's entry modules: repository files, external
	// modules, inline modules ("inline flake.nix:12").
	Entries []string `json:"entries"`
	// Files is the import closure: every module file of the repository
	// that the host's configuration reads, sorted.
	Files []string `json:"files"`
	// External lists the modules from outside the repository (flake
	// inputs, nixpkgs' modulesPath, clan services): not followed, not a
	// failure.
	External []string `json:"external"`
	// Inline lists modules written inside another expression (file:line);
	// their imports are followed, their own settings are not read.
	Inline []string `json:"inline,omitempty"`
	// Unfollowed is what could not be followed, and why: the closure may
	// miss files.
	Unfollowed []Problem `json:"unfollowed"`
}

// Complete reports whether the closure was followed everywhere.
func (h *Host) Complete() bool { return len(h.Unfollowed) == 0 }

// EntryFiles are the entry modules that are files of the repository.
func (h *Host) EntryFiles() []string {
	var out []string
	for _, e := range h.Entries {
		if !strings.Contains(e, " ") && !strings.HasPrefix(e, "inputs.") {
			out = append(out, e)
		}
	}
	return out
}

// Inventory is what a revision says about its hosts.
type Inventory struct {
	// Source is where the hosts were read: "flake.nix",
	// "configuration.nix", "entry", or "" when the repository defines no
	// host (a module library).
	Source string `json:"source"`
	Hosts  []Host `json:"hosts"`
	// Problems are parts of the host list that could not be read.
	Problems []Problem `json:"problems"`
	// Incomplete is set when evaluation ran out of budget.
	Incomplete bool `json:"incomplete,omitempty"`
}

// Names lists the hosts' names.
func (inv *Inventory) Names() []string {
	out := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		out[i] = h.Name
	}
	return out
}

// Host returns the host of that name.
func (inv *Inventory) Host(name string) (*Host, bool) {
	for i := range inv.Hosts {
		if inv.Hosts[i].Name == name {
			return &inv.Hosts[i], true
		}
	}
	return nil, false
}

// Options say what to read besides the conventions.
type Options struct {
	// Entries, when set, are the entry modules of the one host to read
	// (--entry), named EntryHost (default "entry").
	Entries   []string
	EntryHost string
	// NamesOnly finds the hosts without following their imports: Files,
	// Entries and External stay empty. Choosing a host needs no more.
	NamesOnly bool
}

// Discover finds the hosts of the tree and follows each host's imports.
func Discover(fsys FS, o Options) (inv *Inventory) {
	ev := newEvaluator(fsys)
	inv = &Inventory{Hosts: []Host{}, Problems: []Problem{}}
	defer func() {
		// The evaluator is meant to handle any tree; should it not, the
		// report says so rather than the command dying.
		if r := recover(); r != nil {
			inv.Problems = append(inv.Problems, Problem{Reason: fmt.Sprintf("internal error reading the hosts: %v", r)})
		}
	}()
	defs := map[string]*found{}
	switch {
	case len(o.Entries) > 0:
		inv.Source = "entry"
		name := o.EntryHost
		if name == "" {
			name = "entry"
		}
		h := &hostDef{how: "entry"}
		for _, e := range o.Entries {
			h.modules = append(h.modules, ready(ev.repoPath(strings.TrimPrefix(e, "./"), e)))
		}
		defs[name] = &found{def: h, how: []string{"entry"}}
	case kindOf(fsys, "flake.nix") == "regular":
		inv.Source = "flake.nix"
		ev.flakeHosts(inv, defs)
	case kindOf(fsys, "configuration.nix") == "regular":
		inv.Source = "configuration.nix"
		defs[ev.configurationName()] = &found{def: &hostDef{modules: []*thunk{ready(pathValue("configuration.nix"))}},
			how: []string{"configuration.nix"}}
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if o.NamesOnly {
			inv.Hosts = append(inv.Hosts, ev.hostHeader(n, defs[n]))
			continue
		}
		inv.Hosts = append(inv.Hosts, ev.host(n, defs[n]))
	}
	inv.Incomplete = ev.exhaust
	return inv
}

// found is a host definition with how it was found.
type found struct {
	def       *hostDef
	how       []string
	attribute string
	at        site
	unread    *value // the definition cannot be read
}

// configurationName is the host name a root configuration.nix sets, when
// it writes networking.hostName out; "default" otherwise.
func (ev *evaluator) configurationName() string {
	v := ev.importPath("configuration.nix")
	if v.kind == kLambda {
		v = ev.apply(v, ready(ev.moduleArgs(nil, nil)))
	}
	for _, d := range ev.option(v, "networking", "hostName") {
		if d.kind == kString && d.s != "" {
			return d.s
		}
	}
	return "default"
}

// flakeHosts evaluates flake.nix's outputs with stand-ins for its inputs
// and reads nixosConfigurations and colmena.
func (ev *evaluator) flakeHosts(inv *Inventory, defs map[string]*found) {
	flake := ev.importPath("flake.nix")
	if flake.kind != kAttrs {
		inv.Problems = append(inv.Problems, Problem{At: "flake.nix", Reason: "cannot be read: " + flake.s})
		return
	}
	outputsT, ok := flake.attrs.get("outputs")
	if !ok {
		inv.Problems = append(inv.Problems, Problem{At: "flake.nix", Reason: "no outputs"})
		return
	}
	inputs := newAttrs()
	for _, n := range ev.inputNames(flake, ev.force(outputsT)) {
		inputs.set(n, ready(inputValue(ev, n)), site{})
	}
	var outputs *value
	self := lazy(func() *value {
		extra := newAttrs()
		extra.set("outPath", ready(pathValue("")), site{})
		extra.set("inputs", ready(attrsValue(inputs)), site{})
		extra.set("outputs", ready(outputs), site{})
		extra.set("_type", ready(str("flake")), site{})
		return update(outputs, attrsValue(extra))
	})
	inputs.set("self", self, site{})
	conv := newAttrs()
	conv.set("inputs", ready(attrsValue(inputs)), site{})
	conv.set("self", self, site{})
	conv.set("outputs", self, site{})
	ev.flakeArgs = attrsValue(conv)
	outputs = ev.apply(ev.force(outputsT), ready(attrsValue(inputs)))
	if outputs.kind != kAttrs {
		inv.Problems = append(inv.Problems, Problem{At: thunkSite(outputsT), Reason: "outputs cannot be read: " + outputs.s})
		ev.conventionHosts(inv, defs)
		return
	}
	for _, d := range outputs.attrs.dynamic {
		inv.Problems = append(inv.Problems, Problem{Reason: d})
	}
	ev.configurations(inv, defs, outputs)
	ev.colmena(inv, defs, outputs)
}

// inputNames are the flake's inputs: the names under inputs, and the
// names the outputs function takes.
func (ev *evaluator) inputNames(flake, outputs *value) []string {
	seen := map[string]bool{}
	var out []string
	addName := func(n string) {
		if n != "self" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if t, ok := flake.attrs.get("inputs"); ok {
		if in := ev.force(t); in.kind == kAttrs {
			for _, n := range in.attrs.names() {
				addName(n)
			}
		}
	}
	if outputs.kind == kLambda && outputs.lam.Formals != nil {
		for _, f := range outputs.lam.Formals.List {
			addName(f.Name.Name)
		}
	}
	return out
}

// inputValue stands for a flake input: its lib is nixpkgs' lib (with
// flake-parts', haumea's, colmena's and clan's functions), anything else
// it holds is outside the repository.
func inputValue(ev *evaluator, name string) *value {
	a := newAttrs()
	a.set("lib", ready(ev.lib), site{})
	a.set("outPath", ready(external("inputs."+name)), site{})
	a.open = external("inputs." + name)
	return attrsValue(a)
}

func (ev *evaluator) configurations(inv *Inventory, defs map[string]*found, outputs *value) {
	t, ok := outputs.attrs.get("nixosConfigurations")
	if !ok {
		return
	}
	confs := ev.force(t)
	if confs.kind != kAttrs {
		inv.Problems = append(inv.Problems, Problem{At: thunkSite(t), Reason: "nixosConfigurations cannot be read: " + confs.s})
		ev.conventionHosts(inv, defs)
		return
	}
	for _, d := range confs.attrs.dynamic {
		inv.Problems = append(inv.Problems, Problem{Reason: "nixosConfigurations: " + d})
	}
	if confs.attrs.open != nil {
		inv.Problems = append(inv.Problems, Problem{Reason: "nixosConfigurations may hold more hosts: " + confs.attrs.open.s})
	}
	for _, n := range confs.attrs.names() {
		ht, _ := confs.attrs.get(n)
		f := &found{how: []string{"nixosConfigurations"}, attribute: "nixosConfigurations." + n, at: confs.attrs.at[n]}
		v := ev.force(ht)
		if v.kind == kHost {
			f.def = v.host
			if v.host.how != "" {
				f.how = append(f.how, v.host.how)
			}
		} else {
			f.unread = v
		}
		defs[n] = f
	}
}

// colmena reads a colmena hive (colmena, or colmenaHive built by
// makeHive): one node per attribute besides meta and defaults.
func (ev *evaluator) colmena(inv *Inventory, defs map[string]*found, outputs *value) {
	for _, attr := range []string{"colmena", "colmenaHive"} {
		t, ok := outputs.attrs.get(attr)
		if !ok {
			continue
		}
		hive := ev.force(t)
		if hive.kind != kAttrs {
			inv.Problems = append(inv.Problems, Problem{At: thunkSite(t), Reason: attr + " cannot be read: " + hive.s})
			continue
		}
		meta := attrsValue(newAttrs())
		if m, ok := hive.attrs.get("meta"); ok {
			meta = ev.force(m)
		}
		defaults, hasDefaults := hive.attrs.get("defaults")
		for _, n := range hive.attrs.names() {
			if n == "meta" || n == "defaults" {
				continue
			}
			if f, ok := defs[n]; ok {
				f.how = append(f.how, attr)
				continue
			}
			node, _ := hive.attrs.get(n)
			h := &hostDef{how: attr, moduleArgs: map[string]*thunk{"name": ready(str(n))}}
			if hasDefaults {
				h.modules = append(h.modules, defaults)
			}
			h.modules = append(h.modules, node)
			n := n
			h.specialArgs = lazy(func() *value { return ev.colmenaArgs(meta, n) })
			defs[n] = &found{def: h, how: []string{attr}, attribute: attr + "." + n, at: hive.attrs.at[n]}
		}
	}
}

func (ev *evaluator) colmenaArgs(meta *value, node string) *value {
	out := attrsValue(newAttrs())
	if meta.kind != kAttrs {
		return out
	}
	if t, ok := meta.attrs.get("specialArgs"); ok {
		out = update(out, ev.force(t))
	}
	if t, ok := meta.attrs.get("nodeSpecialArgs"); ok {
		if per := ev.force(t); per.kind == kAttrs {
			if nt, ok := per.attrs.get(node); ok {
				out = update(out, ev.force(nt))
			}
		}
	}
	return out
}

// conventionDirs hold one directory per host in many repositories.
var conventionDirs = []string{"hosts", "nixos", "machines", "systems"}

// notHosts are directory names that hold shared modules, not hosts.
var notHosts = map[string]bool{"common": true, "shared": true, "modules": true, "profiles": true,
	"roles": true, "users": true, "mixins": true, "default": true}

// conventionHosts lists hosts by directory convention when the flake's
// host list cannot be computed (a registry file missing from the
// revision, for instance): hosts/<n>/, nixos/<n>/, … with a default.nix or
// configuration.nix. Each such host says that its definition was not read
// (the inventory's problems say why); its imports are read with the
// flake's inputs, outputs and self as specialArgs, the usual ones.
func (ev *evaluator) conventionHosts(inv *Inventory, defs map[string]*found) {
	for _, dir := range conventionDirs {
		es, err := ev.fs.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range es {
			if e.Type != "directory" || strings.HasPrefix(e.Name, "_") || strings.HasPrefix(e.Name, ".") || notHosts[e.Name] {
				continue
			}
			p := path.Join(dir, e.Name)
			entry := ""
			for _, f := range []string{"default.nix", "configuration.nix"} {
				if kindOf(ev.fs, path.Join(p, f)) == "regular" {
					entry = path.Join(p, f)
					break
				}
			}
			if entry == "" {
				continue
			}
			if _, ok := defs[e.Name]; ok {
				continue
			}
			h := &hostDef{modules: []*thunk{ready(pathValue(entry))}, specialArgs: ready(ev.flakeArgs),
				problems: []Problem{{Reason: "found by directory convention (" + p + "/) because the host list cannot be read: entry modules besides " + entry + " are unknown"}}}
			defs[e.Name] = &found{def: h, how: []string{"directory convention"}, attribute: "nixosConfigurations." + e.Name}
		}
	}
}

// moduleArgs are the arguments NixOS passes to modules: specialArgs,
// lib, and stand-ins for config, pkgs and the rest, which imports may
// not depend on anyway (NixOS refuses that as infinite recursion).
func (ev *evaluator) moduleArgs(special *value, extra map[string]*thunk) *value {
	a := newAttrs()
	a.set("lib", ready(ev.lib), site{})
	a.set("modulesPath", ready(external("modulesPath")), site{})
	for _, n := range []string{"config", "options", "pkgs", "utils"} {
		a.set(n, ready(unknown("module argument %s is known to the module system only", n)), site{})
	}
	for n, t := range extra {
		a.set(n, t, site{})
	}
	out := attrsValue(a)
	if special != nil {
		out = update(out, special)
	}
	if out.attrs.open == nil {
		out.attrs.open = unknown("a module argument that is not in specialArgs (set by _module.args or NixOS)")
	}
	return out
}

// hostHeader is what names a host and says where it is defined, without
// its closure.
func (ev *evaluator) hostHeader(name string, f *found) Host {
	h := Host{Name: name, Attribute: f.attribute, Found: f.how, Entries: []string{}, Files: []string{},
		External: []string{}, Unfollowed: []Problem{}}
	if f.at.src != nil {
		h.Definition = f.at.String()
	}
	return h
}

// host follows the imports of one host.
func (ev *evaluator) host(name string, f *found) Host {
	h := ev.hostHeader(name, f)
	if f.unread != nil {
		if f.unread.ext != "" {
			h.External = append(h.External, f.unread.ext)
		}
		h.Unfollowed = append(h.Unfollowed, Problem{At: h.Definition, Reason: "the host's definition cannot be read: " + f.unread.s})
		return h
	}
	d := f.def
	modules, special := d.modules, d.specialArgs
	var defProblems []Problem
	if d.args != nil {
		args := ev.force(d.args)
		if args.kind != kAttrs {
			h.Unfollowed = append(h.Unfollowed, Problem{At: h.Definition, Reason: "nixosSystem's argument cannot be read: " + args.s})
			return h
		}
		if t, ok := args.attrs.get("specialArgs"); ok {
			special = t
		}
		if t, ok := args.attrs.get("modules"); ok {
			l := ev.force(t)
			if l.kind != kList {
				defProblems = append(defProblems, Problem{At: thunkSite(t), Reason: "modules cannot be read: " + l.s})
			} else {
				modules = l.list
			}
		}
	}
	var sv *value
	if special != nil {
		sv = ev.force(special)
		if sv.kind != kAttrs {
			defProblems = append(defProblems, Problem{At: thunkSite(special), Reason: "specialArgs cannot be read: " + sv.s})
			sv = nil
		}
	}
	w := newWalker(ev, ev.moduleArgs(sv, d.moduleArgs))
	for _, m := range modules {
		h.Entries = append(h.Entries, ev.describeEntry(m))
		w.module(m, h.Definition)
	}
	for _, e := range d.external {
		if !w.extSeen[e] {
			w.extSeen[e] = true
			w.external = append(w.external, e)
		}
	}
	w.sorted()
	h.Files = append(h.Files, w.files...)
	h.External = append(h.External, w.external...)
	h.Inline = w.inline
	h.Unfollowed = append(append(append(h.Unfollowed, d.problems...), defProblems...), w.unfollowed...)
	return h
}

// describeEntry names an entry module for reports.
func (ev *evaluator) describeEntry(t *thunk) string {
	v := ev.force(t)
	switch v.kind {
	case kPath:
		if f, why := ev.moduleFile(v.s); why == "" {
			return f
		}
		return display(v.s)
	case kString:
		if p, ok := fromMarker(v.s); ok {
			if f, why := ev.moduleFile(p); why == "" {
				return f
			}
			return display(p)
		}
	case kUnknown:
		if v.ext != "" {
			return v.ext
		}
		return "unreadable " + thunkSite(t)
	case kLambda, kAttrs:
		w := &walker{}
		if o := w.origin(v); o != "" {
			return o
		}
		if s := thunkSite(t); s != "" {
			return "inline " + s
		}
		return "inline module"
	}
	return v.typeName() + " " + thunkSite(t)
}
