package main

import (
	"strings"
	"testing"
)

// Issue 8: --rev ” and --repo ” were taken as HEAD and "." silently. An
// empty value is a mistake (an unset variable in a script): every command
// that takes them rejects it with exit 2 and one line naming the flag,
// before reading anything.
func TestEmptyRepoAndRevAreRejected(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"units", "check", "lint", "prune", "snapshot"} {
		for _, flag := range []string{"--repo", "--rev"} {
			t.Run(command+" "+flag, func(t *testing.T) {
				args := []string{command, flag, ""}
				if command == "prune" {
					args = append(args, "--state-dir", t.TempDir(), "--dry-run")
				}
				code, stdout, stderr := runCLI(t, args...)
				if code != exitCannotRun || !strings.Contains(stderr, flag+": empty") || strings.Count(stderr, "\n") != 1 {
					t.Errorf("exit %d, stderr %q; want 2 and one line naming %s", code, stderr, flag)
				}
				if stdout != "" {
					t.Errorf("stdout %q, want nothing", stdout)
				}
			})
		}
	}
}
