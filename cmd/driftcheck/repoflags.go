package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/modules"
)

// repoOptions are the flags that say where the declared side lives. The
// units, check, lint and prune commands share them.
type repoOptions struct {
	Repo    string
	Rev     string
	Modules []string
	hostOptions
}

// hostOptions say which host of a many-host repository to read.
type hostOptions struct {
	Host     string
	Entries  []string
	AllFiles bool
}

// addHostFlags adds --host, --entry and --all-files; what is the default
// is the command's: the machine's hostname (check, snapshot, prune) or
// every file (units).
func (o *hostOptions) addHostFlags(fs *pflag.FlagSet, dflt string) {
	fs.StringVar(&o.Host, "host", "", "the host to read, as the repository names it (nixosConfigurations.<host>, a colmena node, a clan machine; see driftcheck hosts); default: "+dflt)
	fs.StringArrayVar(&o.Entries, "entry", nil, "entry module of the host to read, relative to the repository root (repeatable), for hosts the repository does not define in a form driftcheck reads")
	fs.BoolVar(&o.AllFiles, "all-files", false, "read every file matching --modules, even where the repository defines hosts (one file's settings then decide no other file's units)")
}

// validate rejects --all-files together with a host.
func (o *hostOptions) validate() error {
	if o.AllFiles && (o.Host != "" || len(o.Entries) > 0) {
		return errors.New("--all-files reads every file; it excludes --host and --entry")
	}
	return nil
}

// machineHostname is this machine's name, the default host of check,
// snapshot and prune, as nixos-rebuild and comin default to it.
func machineHostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
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
	_, err := o.parse()
	return err
}

// parse validates the flags, once, and returns --modules parsed: the
// libraries take the parsed globs and default nothing themselves.
func (o *repoOptions) parse() (gitrev.Globs, error) {
	if o.Repo == "" {
		return gitrev.Globs{}, errors.New(`--repo: empty path (give a directory; "." is the default)`)
	}
	if strings.TrimSpace(o.Rev) == "" {
		return gitrev.Globs{}, errors.New("--rev: empty revision (give a branch, tag or commit; HEAD is the default)")
	}
	g, err := gitrev.ParseGlobs(o.Modules)
	if err != nil {
		return gitrev.Globs{}, fmt.Errorf("--modules: %w", err)
	}
	return g, o.hostOptions.validate()
}

// declaredSide is the part of a check's options these flags set: where
// the declared side is read and which host. Commands add their own flags.
func (o *repoOptions) declaredSide() (drift.Options, error) {
	globs, err := o.parse()
	if err != nil {
		return drift.Options{}, err
	}
	return drift.Options{RepoDir: o.Repo, Rev: o.Rev, Globs: globs, Host: o.Host, Entries: o.Entries, AllFiles: o.AllFiles}, nil
}

// load reads, parses and extracts the modules at the revision. Every error
// it returns means the command cannot run (exit 2).
func (o *repoOptions) load(ctx context.Context) (*modules.Loaded, error) {
	globs, err := o.parse()
	if err != nil {
		return nil, cannotRun(err)
	}
	where := modules.Options{Repo: o.Repo, Rev: o.Rev, Globs: globs}
	if o.Host != "" || len(o.Entries) > 0 {
		l, err := modules.LoadHost(ctx, where, modules.HostSpec{Name: o.Host, Entries: o.Entries})
		if err == nil || !errors.Is(err, modules.ErrNoHostsAtAll) {
			if err != nil {
				return nil, cannotRun(err)
			}
			return l, nil
		}
		// --host on a repository without hosts: every file, as the
		// machine runs what all of them declare.
	}
	l, err := modules.Load(ctx, where)
	if err == nil && !o.AllFiles {
		inv, herr := modules.Hosts(ctx, l.Revision)
		if herr != nil {
			return nil, cannotRun(herr)
		}
		l.Hosts = inv.Names()
	}
	if errors.Is(err, modules.ErrNoFiles) {
		return nil, cannotRun(fmt.Errorf("%w (see --modules)", err))
	}
	if err != nil {
		return nil, cannotRun(err)
	}
	return l, nil
}
