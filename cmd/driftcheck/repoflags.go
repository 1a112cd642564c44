package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/modules"
)

// repoOptions are the flags that say where the declared side lives. The
// units, check, lint and prune commands share them.
type repoOptions struct {
	Repo    string
	Rev     string
	Modules []string
}

func (o *repoOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Repo, "repo", ".", "git repository: a work tree, any directory inside it, or a bare repository")
	fs.StringVar(&o.Rev, "rev", "HEAD", "revision to read: branch, tag, remote-tracking ref (origin/main) or sha")
	fs.StringArrayVar(&o.Modules, "modules", []string{gitrev.DefaultModuleGlob},
		"glob of module files, relative to the repository root (** spans directories); repeatable")
}

// validate rejects what would silently mean something else: an empty
// --repo or --rev is not "." or HEAD, it is a mistake (an unset variable
// in a script, say).
func (o *repoOptions) validate() error {
	if o.Repo == "" {
		return errors.New(`--repo: empty path (give a directory; "." is the default)`)
	}
	if strings.TrimSpace(o.Rev) == "" {
		return errors.New("--rev: empty revision (give a branch, tag or commit; HEAD is the default)")
	}
	_, err := o.globs()
	return err
}

// globs validates --modules.
func (o *repoOptions) globs() (gitrev.Globs, error) {
	g, err := gitrev.ParseGlobs(o.Modules)
	if err != nil {
		return gitrev.Globs{}, fmt.Errorf("--modules: %w", err)
	}
	return g, nil
}

// load reads, parses and extracts the modules at the revision. Every error
// it returns means the command cannot run (exit 2).
func (o *repoOptions) load(ctx context.Context) (*modules.Loaded, error) {
	if err := o.validate(); err != nil {
		return nil, cannotRun(err)
	}
	l, err := modules.Load(ctx, modules.Options{Repo: o.Repo, Rev: o.Rev, Globs: o.Modules})
	if errors.Is(err, modules.ErrNoFiles) {
		return nil, cannotRun(fmt.Errorf("%w (see --modules)", err))
	}
	if err != nil {
		return nil, cannotRun(err)
	}
	return l, nil
}
