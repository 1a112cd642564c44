package nix_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/examples/incident"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// fakeToplevel writes the part of a NixOS toplevel the pre-switch check
// reads: etc/systemd/system with unit symlinks into a store directory.
func fakeToplevel(t *testing.T, units ...string) string {
	t.Helper()
	top := t.TempDir()
	unitDir := filepath.Join(top, "etc", "systemd", "system")
	store := filepath.Join(top, "store")
	for _, d := range []string{filepath.Join(unitDir, "timers.target.wants"), store} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range units {
		target := filepath.Join(store, "unit-"+u)
		if err := os.WriteFile(target, []byte("[Unit]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(unitDir, u)); err != nil {
			t.Fatal(err)
		}
	}
	return top
}

// TestPreSwitchCheck runs nix/pre-switch-check.sh, as system.preSwitchChecks
// runs it, with the real driftcheck binary against the example repository.
func TestPreSwitchCheck(t *testing.T) {
	bash := testreq.Command(t, "bash", "bash")
	testreq.Command(t, "jq", "jq")
	gitPath := testreq.Command(t, "git", "git")
	goBin := testreq.Command(t, "go", "golang-go")
	root := repoRoot(t)
	binDir := t.TempDir()
	command(t, 5*time.Minute, root, goBin, "build", "-o", filepath.Join(binDir, "driftcheck"), "./cmd/driftcheck")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	repo, err := incident.BuildRepo(ctx, gitPath, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hostUnits := []string{"ci-docker-prune.service", "ci-docker-prune.timer", "docker-prune.service", "sshd.service"}

	tests := []struct {
		name     string
		toplevel string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{
			name:     "generation matches the reconciled revision",
			toplevel: fakeToplevel(t, hostUnits...),
			args:     []string{"--scope", "ci-*", "--", "--repo", repo.Dir, "--rev", incident.TagReconciled},
		},
		{
			name:     "the incident: built from a copy that renamed the prune",
			toplevel: fakeToplevel(t, hostUnits...),
			args:     []string{"--scope", "ci-*", "--", "--repo", repo.Dir, "--rev", incident.TagIncident},
			wantCode: 1,
			wantErr: []string{
				"declared at the revision but not in the new generation: docker-prune.timer",
				"in the new generation but not declared at the revision: ci-docker-prune.service",
				"in the new generation but not declared at the revision: ci-docker-prune.timer",
				"NIXOS_NO_CHECK=1",
			},
		},
		{
			name:     "without --scope only declared units are required",
			toplevel: fakeToplevel(t, "docker-prune.service", "docker-prune.timer", "ci-extra.service"),
			args:     []string{"--", "--repo", repo.Dir, "--rev", incident.TagIncident},
		},
		{
			name:     "not a toplevel",
			toplevel: t.TempDir(),
			args:     []string{"--", "--repo", repo.Dir},
			wantCode: 1,
			wantErr:  []string{"a NixOS toplevel?"},
		},
		{
			name:     "the declared side cannot be read",
			toplevel: fakeToplevel(t, hostUnits...),
			args:     []string{"--", "--repo", repo.Dir, "--rev", "no-such-rev"},
			wantCode: 1,
			wantErr:  []string{"unknown revision", "'driftcheck units' failed"},
		},
		{
			name:     "usage",
			toplevel: fakeToplevel(t),
			args:     []string{"--scope"},
			wantCode: 2,
			wantErr:  []string{"usage:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, append([]string{filepath.Join(root, "nix", "pre-switch-check.sh"), tt.toplevel}, tt.args...)...)
			cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}
