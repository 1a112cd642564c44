package nixeval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// reasonFailed is the reason of a Nix process that ran and failed; callers
// refine it when Nix's message says more (explainFlake).
const reasonFailed = "evaluation failed"

// Output bounds: a real NixOS host's units are a few hundred kilobytes of
// JSON; Nix's messages are short. More is a fault, not an answer.
const (
	maxStdout = 64 << 20
	maxStderr = 64 << 10
)

// memoryScript sets the address-space ceiling and becomes Nix. The shell's
// ulimit is setrlimit(RLIMIT_AS) on itself, inherited across exec, so
// the ceiling is in place before Nix allocates anything.
const memoryScript = `ulimit -v "$1" || exit 125; shift; exec "$@"`

// runner runs one Nix executable within the bounds of an evaluation.
type runner struct {
	path    string
	env     []string
	memory  int64 // bytes of address space
	timeout time.Duration
}

// run runs the executable with args and returns its stdout. The process
// runs in its own process group, killed whole when ctx ends; its memory is
// capped. Failures are *Error.
func (r runner) run(ctx context.Context, args []string) ([]byte, error) {
	kib := strconv.FormatInt(r.memory/1024, 10)
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", memoryScript, "sh", kib, r.path}, args...)...)
	cmd.Env = r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The whole group: Nix may have started helpers (git for git+file).
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	stdout := &capped{max: maxStdout}
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, &Error{Reason: fmt.Sprintf("evaluation timed out after %s (--eval-timeout) and was killed", r.timeout)}
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err == nil && stdout.over:
		return nil, &Error{Reason: fmt.Sprintf("Nix's answer exceeds %d MiB", maxStdout>>20)}
	case err == nil:
		return stdout.Bytes(), nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return nil, &Error{CannotStart: true, Reason: fmt.Sprintf("run %s", r.path), Nix: oneLine(err.Error())}
	}
	msg := nixMessage(stderr.String())
	if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return nil, &Error{Reason: fmt.Sprintf("evaluation was killed (%s)", status.Signal()), Nix: msg, killed: true}
	}
	if exit.ExitCode() == 125 {
		return nil, &Error{CannotStart: true, Reason: fmt.Sprintf("could not set the memory ceiling of %d MiB on Nix", r.memory>>20), Nix: msg}
	}
	if strings.Contains(msg, "out of memory") {
		return nil, &Error{Reason: fmt.Sprintf("evaluation ran out of memory (ceiling %d MiB, --eval-memory)", r.memory>>20), Nix: msg}
	}
	return nil, &Error{Reason: reasonFailed, Nix: msg}
}

func isKilled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.killed
}

// nixMessage is Nix's stderr as one line: its warnings (nixbld group, dirty
// tree, the collector's) and the --show-trace hint dropped, the rest joined with "; ".
func nixMessage(stderr string) string {
	var parts []string
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "warning:"), strings.HasPrefix(line, "GC Warning:"), strings.HasPrefix(line, "(use '--show-trace'"):
			continue
		}
		parts = append(parts, strings.TrimPrefix(line, "error: "))
	}
	return oneLine(strings.Join(parts, "; "))
}

// oneLine bounds a message to one line of reasonable length. Control
// characters are escaped where it is printed (termsafe).
func oneLine(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", "; ").Replace(s)
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

// capped is a buffer that keeps at most max bytes and remembers whether
// there was more.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.Len()
	if len(p) > room {
		c.over = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
