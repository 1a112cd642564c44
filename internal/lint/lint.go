// Package lint runs the git-only checks of `driftcheck lint`: what a CI job
// can verify on push, without a host. It is pure: callers hand it what the
// extractor read at a revision and the documentation files of that revision.
package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
)

// Kind classifies a finding; each kind is one SARIF rule.
type Kind string

const (
	KindParseError    Kind = "parse-error"
	KindUnresolved    Kind = "unresolved"
	KindConflict      Kind = "conflicting-declaration"
	KindCollision     Kind = "nixos-collision"
	KindDocUndeclared Kind = "doc-undeclared-unit"
)

// Kinds lists every kind in the order reports describe them.
func Kinds() []Kind {
	return []Kind{KindParseError, KindUnresolved, KindConflict, KindCollision, KindDocUndeclared}
}

// Description says in one sentence what a kind of finding means.
func (k Kind) Description() string {
	switch k {
	case KindParseError:
		return "A Nix module file does not parse; its units are unknown."
	case KindUnresolved:
		return "A declaration the static reader could not resolve; the declared set is incomplete."
	case KindConflict:
		return "A unit is declared in several places with different values for the same setting."
	case KindCollision:
		return "A unit name collides with a unit NixOS defines itself, so both definitions merge."
	case KindDocUndeclared:
		return "Documentation names a unit that the revision does not declare."
	}
	return string(k)
}

// Finding is one problem at one place in the repository.
type Finding struct {
	Kind Kind   `json:"kind"`
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	Unit string `json:"unit,omitempty"`
	// Host is the host whose configuration has the problem, for the
	// checks that run per host.
	Host    string `json:"host,omitempty"`
	Message string `json:"message"`
}

// Doc is one documentation file read at the revision.
type Doc struct {
	Path    string
	Content []byte
}

// Input is everything one lint run looks at.
type Input struct {
	// Declared is every matched file, read so that one file's settings never
	// decide another's units.
	Declared declared.Result
	Docs     []Doc
	Config   Config
	// Hosts, when the repository defines hosts, are each host's own
	// reading (its import closure): conflicts and collisions are checked
	// per host, since two hosts may set one unit differently, and a
	// document under a host's directory is checked against that host.
	Hosts []Host
}

// Host is one host's declared side.
type Host struct {
	Name     string
	Dirs     []string // directories of the host's entry files
	Declared declared.Result
}

// Run returns every finding, ordered by file, line and kind.
func Run(in Input) []Finding {
	var fs []Finding
	fs = append(fs, parseErrors(in.Declared.Errors)...)
	fs = append(fs, unresolved(in.Declared.Unresolved)...)
	if len(in.Hosts) == 0 {
		fs = append(fs, conflicts(in.Declared.Units)...)
		fs = append(fs, collisions(in.Declared.Units)...)
	}
	for _, h := range in.Hosts {
		for _, f := range append(conflicts(h.Declared.Units), collisions(h.Declared.Units)...) {
			f.Host = h.Name
			fs = append(fs, f)
		}
	}
	fs = append(fs, docFindings(in.Docs, in.Declared.Units, in.Hosts, in.Config)...)
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Unit, b.Unit),
			strings.Compare(a.Host, b.Host),
		)
	})
	return fs
}

func parseErrors(errs []declared.ParseError) []Finding {
	fs := make([]Finding, 0, len(errs))
	for _, e := range errs {
		fs = append(fs, Finding{Kind: KindParseError, File: e.File, Line: e.Line, Col: e.Col,
			Message: "does not parse: " + e.Message})
	}
	return fs
}

func unresolved(us []declared.Unresolved) []Finding {
	fs := make([]Finding, 0, len(us))
	for _, u := range us {
		fs = append(fs, Finding{Kind: KindUnresolved, File: u.File, Line: u.Line,
			Message: "cannot resolve statically: " + u.Reason})
	}
	return fs
}

// conflicts reports settings that two sites of one unit set differently at
// the same priority, unconditionally (declared.Conflicts decides): NixOS
// refuses such a configuration or silently combines the values.
func conflicts(units []declared.Unit) []Finding {
	var fs []Finding
	for _, u := range units {
		for _, c := range declared.Conflicts(u) {
			if len(c.Sites) < 2 {
				continue
			}
			first, last := c.Sites[0], c.Sites[len(c.Sites)-1]
			fs = append(fs, Finding{Kind: KindConflict, File: last.File, Line: last.Line, Unit: u.Name,
				Message: fmt.Sprintf("%s: %s is %s here but %s at %s:%d",
					u.Name, c.Property, c.Values[len(c.Values)-1], c.Values[0], first.File, first.Line)})
		}
	}
	return fs
}

// nixosOwned are unit names NixOS modules define themselves, keyed by the
// option prefix whose implication the extractor reports (Unit.ImpliedBy).
// nixpkgs' docker module always defines docker-prune.service when Docker is
// enabled (and docker-prune.timer with autoPrune); a repository unit of the
// same name merges with it: the stock `docker system prune -f` runs first,
// or evaluation fails, depending on the nixpkgs version.
var nixosOwned = map[string]string{
	"docker-prune.service": "virtualisation.docker",
	"docker-prune.timer":   "virtualisation.docker",
}

func collisions(units []declared.Unit) []Finding {
	enabled := map[string]string{} // option prefix → the implying option seen
	for _, u := range units {
		for _, s := range u.Sites {
			for _, prefix := range nixosOwned {
				if strings.HasPrefix(s.ImpliedBy, prefix+".") {
					enabled[prefix] = s.ImpliedBy
				}
			}
		}
	}
	var fs []Finding
	for _, u := range units {
		prefix, owned := nixosOwned[u.Name]
		option, on := enabled[prefix]
		if !owned || !on {
			continue
		}
		site, explicit := explicitSite(u)
		if !explicit {
			continue
		}
		fs = append(fs, Finding{Kind: KindCollision, File: site.File, Line: site.Line, Unit: u.Name,
			Message: fmt.Sprintf("%s is also defined by NixOS while %s is set; the definitions merge "+
				"(the stock prune runs first, or evaluation fails): rename the unit, e.g. ci-%s",
				u.Name, option, u.Name)})
	}
	return fs
}

// explicitSite returns the first place the repository itself declares u,
// as opposed to a place where NixOS derives it from an option.
func explicitSite(u declared.Unit) (declared.Site, bool) {
	for _, s := range u.Sites {
		if s.ImpliedBy == "" {
			return s, true
		}
	}
	return declared.Site{}, false
}
