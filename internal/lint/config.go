package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// ConfigFile is the repository file, read at the revision, that configures
// lint: {"lint": {"ignore_docs": ["docs/history/**"], "known_units": ["foo.service"]}}.
// Other top-level keys belong to other commands and are ignored here.
const ConfigFile = ".driftcheck.json"

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
	var file struct {
		Lint Config `json:"lint"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&file); err != nil {
		return Config{}, fmt.Errorf("parse %s: %w", ConfigFile, err)
	}
	for _, g := range file.Lint.IgnoreDocs {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			return Config{}, fmt.Errorf("parse %s: lint.ignore_docs: bad glob %q: %w", ConfigFile, g, err)
		}
	}
	return file.Lint, nil
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
