package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/nixeval"
)

// declaredOptions say where the declared side comes from: the static
// reader, an evaluation with Nix, or both (docs/eval.md). The units,
// check, snapshot and prune commands share them.
type declaredOptions struct {
	Declared string
	// host is --host: the [hosts] work defines it for every command that
	// reads the declared side; whichever defines it first owns it and the
	// other reads its value, so both can land in any order.
	host          *pflag.Flag
	EvalTimeout   time.Duration
	EvalMemoryMiB int64
	CurrentSystem string // check and prune only
}

func (o *declaredOptions) addFlags(fs *pflag.FlagSet, identity bool) {
	fs.StringVar(&o.Declared, "declared", drift.DeclaredStatic, "where the declared units come from: static (read the modules, no Nix), eval (evaluate the host's configuration with Nix) or both (eval decides; disagreements are listed)")
	if fs.Lookup("host") == nil {
		fs.String("host", "", "the flake's nixosConfigurations host (--declared eval or both; default: this machine's hostname)")
	}
	o.host = fs.Lookup("host")
	fs.DurationVar(&o.EvalTimeout, "eval-timeout", nixeval.DefaultTimeout, "with --declared eval or both: bound on the evaluation; Nix is killed after it")
	fs.Int64Var(&o.EvalMemoryMiB, "eval-memory", nixeval.DefaultMemoryLimit>>20, "with --declared eval or both: address-space ceiling of the Nix process, MiB")
	if identity {
		fs.StringVar(&o.CurrentSystem, "current-system", "", "with --declared eval or both: the link to the system the host runs, compared with the revision's toplevel (default "+drift.DefaultCurrentSystem+", read only when checking this host's system bus)")
	}
}

func (o declaredOptions) validate() error {
	if err := drift.ValidateDeclared(o.Declared); err != nil {
		return err
	}
	if o.EvalTimeout <= 0 {
		return fmt.Errorf("--eval-timeout %s: want a positive duration", o.EvalTimeout)
	}
	if o.EvalMemoryMiB < 64 {
		return fmt.Errorf("--eval-memory %d: want at least 64 (MiB)", o.EvalMemoryMiB)
	}
	return nil
}

// apply sets the declared-side fields of drift options.
func (o declaredOptions) apply(opts *drift.Options) {
	opts.Declared = o.Declared
	opts.Eval = drift.EvalOptions{
		Host:          o.hostName(),
		Timeout:       o.EvalTimeout,
		MemoryLimit:   o.EvalMemoryMiB << 20,
		CurrentSystem: o.CurrentSystem,
	}
}

func (o declaredOptions) hostName() string {
	if o.host == nil {
		return ""
	}
	return o.host.Value.String()
}

// evaluates reports whether Nix runs for the declared side.
func (o declaredOptions) evaluates() bool {
	return o.Declared == drift.DeclaredEval || o.Declared == drift.DeclaredBoth
}

// declaredFailure maps an error of the declared side to its exit code: an
// evaluation that failed for the host is incomplete (3), anything else
// (no Nix, nothing to evaluate, no such host, no repository) cannot run (2).
func declaredFailure(command string, err error) error {
	err = fmt.Errorf("%s: %w", command, err)
	var e *drift.EvalError
	if errors.As(err, &e) && !e.CannotStart {
		return &exitError{Code: exitIncomplete, Err: err}
	}
	return cannotRun(err)
}
