package gitrev

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// DefaultModuleGlob selects the NixOS module files when no glob is given.
const DefaultModuleGlob = "nix/**/*.nix"

// Globs is a set of slash-separated path patterns, relative to the
// repository root. A path matches when any pattern matches it. Within a
// segment the syntax is path.Match's; a segment that is exactly "**"
// matches any number of directories, including none, so "nix/**/*.nix"
// matches both nix/a.nix and nix/hosts/web/a.nix.
type Globs struct {
	raw      []string
	segments [][]string
}

// ParseGlobs validates patterns. Absolute patterns, empty patterns, and
// patterns with "." or ".." segments are rejected: paths in a git tree
// have none of them, so such a pattern could never match.
func ParseGlobs(patterns []string) (Globs, error) {
	if len(patterns) == 0 {
		return Globs{}, errors.New("no glob given")
	}
	g := Globs{}
	for _, p := range patterns {
		segs, err := parseGlob(p)
		if err != nil {
			return Globs{}, fmt.Errorf("bad glob %q: %w", p, err)
		}
		g.raw = append(g.raw, p)
		g.segments = append(g.segments, segs)
	}
	return g, nil
}

func parseGlob(p string) ([]string, error) {
	p = strings.TrimPrefix(p, "./")
	switch {
	case p == "":
		return nil, errors.New("empty pattern")
	case strings.HasPrefix(p, "/"):
		return nil, errors.New("must be relative to the repository root")
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch s {
		case "":
			return nil, errors.New("empty path segment")
		case ".", "..":
			return nil, fmt.Errorf("%q segment not allowed", s)
		case "**":
			continue
		}
		if strings.Contains(s, "**") {
			return nil, errors.New(`"**" must be a whole path segment`)
		}
		if _, err := path.Match(s, ""); err != nil {
			return nil, err
		}
	}
	return segs, nil
}

// String lists the patterns as given, for messages.
func (g Globs) String() string { return strings.Join(g.raw, ", ") }

// Patterns returns the patterns as given.
func (g Globs) Patterns() []string { return append([]string(nil), g.raw...) }

// Match reports whether the slash path p (relative to the root) matches.
func (g Globs) Match(p string) bool {
	parts := strings.Split(p, "/")
	for _, segs := range g.segments {
		if states := advance(segs, parts); states[len(segs)] {
			return true
		}
	}
	return false
}

// MayMatchUnder reports whether some path inside directory dir could
// match, so that walks can skip directories that cannot.
func (g Globs) MayMatchUnder(dir string) bool {
	var parts []string
	if dir != "" {
		parts = strings.Split(dir, "/")
	}
	for _, segs := range g.segments {
		states := advance(segs, parts)
		for i := 0; i < len(segs); i++ {
			if states[i] {
				return true
			}
		}
	}
	return false
}

// advance runs the pattern as a nondeterministic automaton over parts:
// state i means "segments before i are matched". The result marks the
// states reachable after consuming every part. A "**" state can consume a
// part and stay, or be skipped without consuming one.
func advance(segs, parts []string) []bool {
	states := make([]bool, len(segs)+1)
	states[0] = true
	closeOverDoubleStar(segs, states)
	for _, part := range parts {
		next := make([]bool, len(segs)+1)
		for i, on := range states[:len(segs)] {
			if !on {
				continue
			}
			if segs[i] == "**" {
				next[i] = true
			} else if ok, _ := path.Match(segs[i], part); ok {
				next[i+1] = true
			}
		}
		closeOverDoubleStar(segs, next)
		states = next
	}
	return states
}

func closeOverDoubleStar(segs []string, states []bool) {
	for i := range segs {
		if states[i] && segs[i] == "**" {
			states[i+1] = true
		}
	}
}
