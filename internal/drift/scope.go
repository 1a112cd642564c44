package drift

import (
	"context"
	"fmt"
	"path"

	"github.com/driftcheck/driftcheck/internal/repoconfig"
)

// ConfigFile is the repository file, read at the revision, that sets the
// check's scope: {"scope": ["ci-*", "docker-*"]}; its schema, shared with
// lint, is internal/repoconfig's.
const ConfigFile = repoconfig.File

func matchUnit(glob, name string) (bool, error) { return path.Match(glob, name) }

// scope returns the live unit globs: --scope, else the config file at the
// revision, else none (only the declared names are in scope).
func (c *checker) scope(ctx context.Context) ([]string, error) {
	if len(c.opts.Scope) > 0 {
		return c.opts.Scope, nil
	}
	cfg, found, err := repoconfig.Read(ctx, c.rev)
	if err != nil {
		return nil, err
	}
	if !found {
		c.note("scope: the declared unit names only (no --scope, no %s at the revision)", ConfigFile)
		return nil, nil
	}
	scope, err := configScope(cfg)
	if err != nil {
		return nil, err
	}
	if len(scope) == 0 {
		c.note("scope: the declared unit names only (%s sets no scope)", ConfigFile)
	}
	return scope, nil
}

func configScope(cfg repoconfig.Config) ([]string, error) {
	if err := ValidateScope(cfg.Scope); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return cfg.Scope, nil
}

func parseScope(data []byte) ([]string, error) {
	cfg, err := repoconfig.Parse(data)
	if err != nil {
		return nil, err
	}
	return configScope(cfg)
}
