package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"

	"github.com/driftcheck/driftcheck/internal/gitrev"
)

// ConfigFile is the repository file, read at the revision, that sets the
// check's scope: {"scope": ["ci-*", "docker-*"]}. Other top-level keys
// belong to other commands (lint) and are ignored here.
const ConfigFile = ".driftcheck.json"

func matchUnit(glob, name string) (bool, error) { return path.Match(glob, name) }

// scope returns the live unit globs: --scope, else the config file at the
// revision, else none (only the declared names are in scope).
func (c *checker) scope(ctx context.Context) ([]string, error) {
	if len(c.opts.Scope) > 0 {
		return c.opts.Scope, nil
	}
	globs, err := gitrev.ParseGlobs([]string{ConfigFile})
	if err != nil {
		return nil, fmt.Errorf("config file glob: %w", err)
	}
	files, err := c.rev.Files(ctx, globs)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", ConfigFile, c.rev.SHA, err)
	}
	if len(files) == 0 {
		c.note("scope: the declared unit names only (no --scope, no %s at the revision)", ConfigFile)
		return nil, nil
	}
	f := files[0]
	if f.Problem != nil {
		return nil, fmt.Errorf("read %s at %s: %w", ConfigFile, c.rev.SHA, f.Problem)
	}
	scope, err := parseScope(f.Data)
	if err != nil {
		return nil, err
	}
	if len(scope) == 0 {
		c.note("scope: the declared unit names only (%s sets no scope)", ConfigFile)
	}
	return scope, nil
}

func parseScope(data []byte) ([]string, error) {
	var cfg struct {
		Scope []string `json:"scope"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&cfg); err != nil {
		return nil, fmt.Errorf("parse %s: %w", ConfigFile, err)
	}
	if err := ValidateScope(cfg.Scope); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return cfg.Scope, nil
}
