package lint

import (
	"fmt"
	"path"
	"strings"

	"github.com/driftcheck/driftcheck/internal/repoconfig"
)

// ConfigFile is the repository file, read at the revision, that configures
// lint: {"lint": {"ignore_docs": ["docs/history/**"], "known_units": ["foo.service"]}}.
// Its schema, shared with check, is internal/repoconfig's.
const ConfigFile = repoconfig.File

// Config tunes the documentation check.
type Config struct {
	// IgnoreDocs are path globs ("**" spans directories) of Markdown files
	// the documentation check skips.
	IgnoreDocs []string `json:"ignore_docs,omitempty"`
	// KnownUnits may be named in documentation without being declared,
	// e.g. units another repository deploys to the same host.
	KnownUnits []string `json:"known_units,omitempty"`
}

// ParseConfig reads the "lint" section of a .driftcheck.json file.
func ParseConfig(data []byte) (Config, error) {
	file, err := repoconfig.Parse(data)
	if err != nil {
		return Config{}, err
	}
	return lintSection(file)
}

func lintSection(file repoconfig.Config) (Config, error) {
	for _, g := range file.Lint.IgnoreDocs {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			return Config{}, fmt.Errorf("parse %s: lint.ignore_docs: bad glob %q: %w", ConfigFile, g, err)
		}
	}
	return Config{IgnoreDocs: file.Lint.IgnoreDocs, KnownUnits: file.Lint.KnownUnits}, nil
}

func (c Config) ignoresDoc(p string) bool {
	for _, g := range c.IgnoreDocs {
		if MatchGlob(g, p) {
			return true
		}
	}
	return false
}

// MatchGlob reports whether the slash-separated path p matches pattern, in
// which "**" as a whole segment matches any number of segments and other
// segments follow path.Match.
func MatchGlob(pattern, p string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegments(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], segs[0]); err != nil || !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}
