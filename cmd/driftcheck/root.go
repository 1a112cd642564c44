package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/driftcheck/driftcheck/internal/termsafe"
)

// Exit codes shared by every command. Each command documents which it uses;
// docs/exit-codes.md holds the full table.
const (
	exitOK         = 0
	exitFindings   = 1 // drift, findings, parse errors, or a blocked prune
	exitCannotRun  = 2 // bad flag, not a repository, bus or daemon unreachable
	exitIncomplete = 3 // nothing wrong found in what could be read, but not everything could be read
	exitPressure   = 4 // prune: still at or above the threshold afterwards
)

// streams are the process's standard files, injected so commands are testable.
type streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// exitError ends a command with a documented exit code. Err, when set, is
// printed as one line on stderr; a nil Err means the command already wrote
// its report and only the code remains.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// cannotRun wraps err as an exit-2 failure.
func cannotRun(err error) error { return &exitError{Code: exitCannotRun, Err: err} }

// withCode ends the command with code after its report was written.
func withCode(code int) error {
	if code == exitOK {
		return nil
	}
	return &exitError{Code: code}
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "driftcheck",
		Short: "Check that a NixOS host runs exactly the systemd units its git revision declares",
		Long: `driftcheck reads the NixOS modules committed at a git revision, extracts every
systemd unit they declare, and compares them with the units the host runs.
It also runs a Docker prune that only acts while git and host agree.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cannotRun(fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath()))
	})
	root.AddCommand(
		newUnitsCmd(s),
		newCheckCmd(s),
		newSnapshotCmd(s),
		newPruneCmd(s),
		newLintCmd(s),
		newHostsCmd(s),
		newReconcileCmd(s),
	)
	return root
}

// run executes the command line and returns the process exit code. Every
// failure becomes one line on stderr; nothing panics out of here.
func run(ctx context.Context, args []string, s streams) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(s.Err, "driftcheck: internal error: %s\n", termsafe.String(fmt.Sprint(r)))
			code = exitCannotRun
		}
	}()
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			printError(s.Err, ee.Err)
		}
		return ee.Code
	}
	// cobra's own errors: unknown command, missing or extra arguments.
	printError(s.Err, err)
	return exitCannotRun
}

func printError(w io.Writer, err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(w, "driftcheck: %s\n", termsafe.String(msg))
}
