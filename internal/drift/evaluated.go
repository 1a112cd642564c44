package drift

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/modules"
	"github.com/driftcheck/driftcheck/internal/nixeval"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// Where the declared side comes from (--declared).
const (
	DeclaredStatic = "static" // the static reader: no Nix needed, approximate
	DeclaredEval   = "eval"   // Nix evaluates the host's configuration: exact
	DeclaredBoth   = "both"   // both; eval decides, disagreements are fidelity notes
)

// DefaultCurrentSystem is the running system's store path link on NixOS.
const DefaultCurrentSystem = "/run/current-system"

// ValidateDeclared rejects an unknown --declared mode.
func ValidateDeclared(mode string) error {
	switch mode {
	case "", DeclaredStatic, DeclaredEval, DeclaredBoth:
		return nil
	}
	return fmt.Errorf("--declared %q: want static, eval or both", mode)
}

// EvalOptions say how to evaluate when Options.Declared is eval or both.
type EvalOptions struct {
	Host        string        // nixosConfigurations attribute of a flake; "" = this machine's hostname
	Timeout     time.Duration // 0 = nixeval.DefaultTimeout
	MemoryLimit int64         // bytes; 0 = nixeval.DefaultMemoryLimit
	// CurrentSystem is the link to the system the host runs; "" =
	// DefaultCurrentSystem, read only when the live side is this host's
	// system bus.
	CurrentSystem string
	Env           []string // Nix's environment; nil = this process's
}

// Toplevel is the system's identity: the store path the revision builds
// and the one the host runs.
type Toplevel struct {
	Revision string `json:"revision"` // system.build.toplevel at the revision; "" when it did not evaluate
	Host     string `json:"host"`     // what CurrentSystem links to; "" when not read
	// CurrentSystem is the link that was read.
	CurrentSystem string `json:"current_system"`
	// Match: the host runs exactly what the revision builds.
	Match bool   `json:"match"`
	Error string `json:"error,omitempty"` // why the revision's toplevel did not evaluate
}

// EvalError is an evaluation that could not answer; CannotStart says
// whether it could not even begin (exit 2) or failed for the host (exit 3).
type EvalError = nixeval.Error

// DeclaredReport is the declared side alone, as `driftcheck units` shows it.
type DeclaredReport struct {
	Rev      string
	Mode     string // static, eval or both
	Source   string // what was evaluated ("nixosConfigurations.web"); "" when static
	Result   declared.Result
	Toplevel *Toplevel
	Fidelity []unitdiff.Fidelity
	Notes    []string
}

// Declared reads the revision's declared units as opts.Declared says,
// without a host to compare with. Errors are as for Check; an evaluation
// that fails is an *EvalError.
func Declared(ctx context.Context, opts Options) (*DeclaredReport, error) {
	c, err := newChecker(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer c.repo.Close()
	res, err := c.declaredSide(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range c.evaluation.Findings(c.rev.SHA) {
		// What did not evaluate, or (both) why the static answer stands.
		res.Unresolved = append(res.Unresolved, declared.Unresolved{Unit: f.Unit, File: f.DeclaredAt, Reason: f.Detail})
	}
	return &DeclaredReport{Rev: c.rev.SHA, Mode: c.opts.Declared, Source: c.source, Result: res,
		Toplevel: c.toplevel, Fidelity: c.fidelity, Notes: c.notes}, nil
}

// declaredSide reads the revision's units as Options.Declared says.
func (c *checker) declaredSide(ctx context.Context) (declared.Result, error) {
	switch c.opts.Declared {
	case DeclaredEval, DeclaredBoth:
	default:
		return c.declared(ctx, c.rev)
	}
	static, staticErr := c.declared(ctx, c.rev)
	if c.opts.Declared == DeclaredBoth && staticErr != nil && !errors.Is(staticErr, modules.ErrNoFiles) {
		return declared.Result{}, staticErr
	}
	res, err := c.evaluate(ctx)
	if err != nil {
		var e *EvalError
		if c.opts.Declared == DeclaredBoth && errors.As(err, &e) && !e.CannotStart {
			// Both: the static answer stands, but it is not the exact one
			// that was asked for, so the check cannot be in sync.
			c.evaluation.Failed = e.Error()
			return static, nil
		}
		return declared.Result{}, err
	}
	if staticErr == nil {
		locate(res.Declared.Units, static.Units)
	}
	c.evalUnresolved(&res.Declared)
	if c.opts.Declared == DeclaredBoth {
		if staticErr != nil {
			c.note("fidelity: the static reader read no module file (%v)", staticErr)
		}
		c.fidelity = unitdiff.CompareFidelity(static, res.Declared)
	}
	return res.Declared, nil
}

// evalUnresolved keeps the properties that did not evaluate apart:
// unlike the static reader's unresolved declarations, they are errors in
// the configuration, with another fix (unitdiff.Evaluation.Findings).
func (c *checker) evalUnresolved(res *declared.Result) {
	where := map[string]declared.Unit{}
	for _, u := range res.Units {
		where[u.Name] = u
	}
	for _, u := range res.Unresolved {
		d := where[u.Unit]
		c.evaluation.Unresolved = append(c.evaluation.Unresolved, declared.Unresolved{Unit: u.Unit, File: d.File, Line: d.Line, Reason: u.Reason})
	}
	res.Unresolved = nil
}

// evaluate runs Nix once per check; the toplevel comes with the units.
func (c *checker) evaluate(ctx context.Context) (*nixeval.Result, error) {
	repoDir := c.repo.WorkTree()
	if repoDir == "" {
		repoDir = c.opts.RepoDir
	}
	e := c.opts.Eval
	e.Host = c.evalHost()
	res, err := nixeval.Evaluate(ctx, nixeval.Options{
		RepoDir: repoDir, Rev: c.rev, Host: e.Host, Toplevel: true,
		Timeout: e.Timeout, MemoryLimit: e.MemoryLimit, Env: e.Env,
	})
	if err != nil {
		return nil, fmt.Errorf("evaluate %s at %s: %w", describeHost(e.Host), unitdiff.ShortRev(c.rev.SHA), err)
	}
	c.note("declared: evaluated %s with Nix in %s", res.Source, res.Duration.Round(time.Millisecond))
	c.source = res.Source
	c.toplevel = &Toplevel{Revision: res.Toplevel}
	if res.ToplevelErr != nil {
		c.toplevel.Error = res.ToplevelErr.Error()
	}
	return res, nil
}

// evalHost is the host to evaluate: --host; else the host the static side
// selected (the repository's only host, or the one named like this
// machine); else this machine's hostname, as nixos-rebuild --flake does.
func (c *checker) evalHost() string {
	switch {
	case c.opts.Eval.Host != "":
		return c.opts.Eval.Host
	case c.opts.Host != "":
		return c.opts.Host
	case c.host != nil && c.host.Name != "":
		return c.host.Name
	case c.opts.Hostname != "":
		return c.opts.Hostname
	}
	name, _ := os.Hostname()
	return name
}

func describeHost(host string) string {
	if host == "" {
		return "the configuration"
	}
	return "host " + host
}

// locate gives evaluated units the static reader's file:line where it
// found the same unit, so that findings point at the declaration.
func locate(evaluated, static []declared.Unit) {
	at := map[string]declared.Unit{}
	for _, u := range static {
		at[string(u.Scope)+"/"+u.Name] = u
	}
	for i, u := range evaluated {
		if s, ok := at[string(u.Scope)+"/"+u.Name]; ok && s.File != "" {
			evaluated[i].File, evaluated[i].Line = s.File, s.Line
		}
	}
}

// identity relates the revision's toplevel to the host's current system.
// It is read only when the system belongs to the host being checked: the
// local system bus, or an explicit --current-system.
func (c *checker) identity() unitdiff.Toplevel {
	t := c.toplevel
	if t == nil {
		return unitdiff.Toplevel{}
	}
	path := c.opts.Eval.CurrentSystem
	if path == "" {
		if c.opts.LiveFile != "" || c.opts.BusAddress != "" {
			c.note("toplevel: not compared (the live side is not this host's system bus; pass --current-system)")
			return unitdiff.Toplevel{Error: t.Error, Revision: t.Revision}
		}
		path = DefaultCurrentSystem
	}
	t.CurrentSystem = path
	target, err := os.Readlink(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.note("toplevel: not compared (no %s: not a NixOS host)", path)
		return unitdiff.Toplevel{Error: t.Error, Revision: t.Revision}
	case err != nil:
		return unitdiff.Toplevel{Error: t.Error, Revision: t.Revision, Unread: fmt.Sprintf("could not read the host's system %s: %v", path, err)}
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(path), target)
	}
	t.Host = target
	t.Match = t.Revision != "" && t.Revision == t.Host
	return unitdiff.Toplevel{Revision: t.Revision, Host: t.Host, Error: t.Error, Compared: true}
}
