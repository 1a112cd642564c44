package provenance

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/testreq"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// fakeNixosVersion writes an executable shell script standing in for the
// host's nixos-version: the real process boundary, with chosen output.
func fakeNixosVersion(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nixos-version")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRead(t *testing.T) {
	testreq.Command(t, "sh", "dash")
	tests := []struct {
		name    string
		script  string
		want    Host
		wantErr string
	}{
		{
			name:   "revision",
			script: `[ "$1" = --json ] || exit 9; echo '{"nixosVersion":"25.11.20260101.abcdef","nixpkgsRevision":"abc","configurationRevision":"0123456789abcdef0123456789abcdef01234567"}'`,
			want:   Host{Available: true, NixosVersion: "25.11.20260101.abcdef", Revision: "0123456789abcdef0123456789abcdef01234567"},
		},
		{
			name:   "no revision key",
			script: `echo '{"nixosVersion":"25.11"}'`,
			want:   Host{Available: true, NixosVersion: "25.11"},
		},
		{
			name:   "null revision",
			script: `echo '{"nixosVersion":"25.11","configurationRevision":null}'`,
			want:   Host{Available: true, NixosVersion: "25.11"},
		},
		{
			name:    "fails",
			script:  `echo "nixos-version: unknown option --json" >&2; exit 1`,
			wantErr: "unknown option --json",
		},
		{
			name:    "not JSON",
			script:  `echo 25.11`,
			wantErr: "parse",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(context.Background(), fakeNixosVersion(t, tc.script))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Read = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadAbsentToolIsNotAnError(t *testing.T) {
	got, err := Read(context.Background(), filepath.Join(t.TempDir(), "nixos-version"))
	if err != nil || got.Available {
		t.Fatalf("Read of a missing tool = %+v, %v; want not available, no error", got, err)
	}
}

func TestReadTimesOut(t *testing.T) {
	testreq.Command(t, "sh", "dash")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Read(ctx, fakeNixosVersion(t, "exec sleep 30"))
	if err == nil {
		t.Fatal("Read of a hanging tool succeeded")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Read took %v; the context should have stopped it", time.Since(start))
	}
}

// Issue 8.5: a nixos-version whose child keeps the output pipe open hung
// the check (and the prune's drift gate) forever: killing the script left
// the child, and Wait waited for the pipe. The whole process group is
// killed at the deadline.
func TestReadKillsAHangingToolAndItsChildren(t *testing.T) {
	testreq.Command(t, "sh", "dash")
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	tool := fakeNixosVersion(t, "sleep 600 &\necho $! > "+pidFile+"\nwait")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Read(ctx, tool)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("Read error = %v, want a kill at the deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read still waits for the tool's child 10s after its deadline")
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(data))
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the tool's child %s still runs after Read returned", pid)
		}
	}
}

// alive reports a process that exists and is not a zombie.
func alive(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func TestReadBoundsTheOutput(t *testing.T) {
	testreq.Command(t, "sh", "dash")
	_, err := Read(context.Background(), fakeNixosVersion(t, "yes '{}' | head -c 1000000"))
	if err == nil || !strings.Contains(err.Error(), "bytes of output") {
		t.Fatalf("Read of 1 MB of output = %v, want an error naming the bound", err)
	}
}

// gitRepo makes a real repository with a chain of commits on main and one
// commit on a side branch; it returns the directory and the commit ids.
func gitRepo(t *testing.T) (dir string, main []string, side string) {
	t.Helper()
	gitBin := testreq.Command(t, "git", "git")
	dir = t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	for i := 0; i < 3; i++ {
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte{byte('a' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", "f")
		git("commit", "-q", "-m", "c")
		main = append(main, git("rev-parse", "HEAD"))
	}
	git("checkout", "-q", "-b", "side", main[0])
	if err := os.WriteFile(filepath.Join(dir, "g"), []byte("side"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "g")
	git("commit", "-q", "-m", "side")
	side = git("rev-parse", "HEAD")
	git("checkout", "-q", "main")
	git("branch", "ffffffff", main[1]) // a ref named like a commit id
	return dir, main, side
}

func TestCompare(t *testing.T) {
	dir, main, side := gitRepo(t)
	ctx := context.Background()
	repo, err := gitrev.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := repo.Resolve(ctx, main[1])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		host string
		want unitdiff.ProvenanceStatus
	}{
		{"equal", main[1], unitdiff.ProvenanceEqual},
		{"equal abbreviated", main[1][:10], unitdiff.ProvenanceEqual},
		{"older", main[0], unitdiff.ProvenanceOlder},
		{"newer", main[2], unitdiff.ProvenanceDiverged},
		{"other branch", side, unitdiff.ProvenanceDiverged},
		{"not in the repository", "ffffffffffffffffffffffffffffffffffffffff", unitdiff.ProvenanceUnknown},
		{"branch name is not a commit id", "main", unitdiff.ProvenanceUnknown},
		{"a branch named like a sha is not read", "ffffffff", unitdiff.ProvenanceUnknown},
		{"dirty rev", main[1] + "-dirty", unitdiff.ProvenanceDirty},
		{"dirty", "dirty", unitdiff.ProvenanceDirty},
		{"missing", "", unitdiff.ProvenanceDirty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compare(ctx, Host{Available: true, Revision: tc.host}, repo, rev)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Compare(%q) = %s, want %s", tc.host, got, tc.want)
			}
		})
	}
}
