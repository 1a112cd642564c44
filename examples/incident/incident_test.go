package incident

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

func TestBuildRepo(t *testing.T) {
	gitPath := testreq.Command(t, "git", "git")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	r, err := BuildRepo(ctx, gitPath, dir)
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		out, err := exec.Command(gitPath, append([]string{"-C", dir}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := git("rev-parse", TagIncident); got != r.Incident {
		t.Errorf("tag %s = %s, want %s", TagIncident, got, r.Incident)
	}
	if got := git("rev-parse", TagReconciled+"^"); got != r.Incident {
		t.Errorf("%s^ = %s, want rev 1 %s", TagReconciled, got, r.Incident)
	}
	tests := []struct {
		rev   string
		files []string
	}{
		{TagIncident, []string{".driftcheck.json", "README.md", "nix/modules/docker-prune.nix"}},
		{TagReconciled, []string{".driftcheck.json", "README.md", "nix/modules/ci-docker-prune.nix"}},
	}
	for _, tt := range tests {
		got := strings.Split(git("ls-tree", "-r", "--name-only", tt.rev), "\n")
		if !slices.Equal(got, tt.files) {
			t.Errorf("files at %s = %q, want %q", tt.rev, got, tt.files)
		}
	}
	if status := git("status", "--porcelain"); status != "" {
		t.Errorf("work tree not clean after building:\n%s", status)
	}

	// Fixed identity and dates: the same hashes on every machine.
	again, err := BuildRepo(ctx, gitPath, filepath.Join(t.TempDir(), "again"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Incident != r.Incident || again.Reconciled != r.Reconciled {
		t.Errorf("second build has hashes %s %s, first %s %s", again.Incident, again.Reconciled, r.Incident, r.Reconciled)
	}
}

func TestBuildRepoRefusesExistingRepository(t *testing.T) {
	gitPath := testreq.Command(t, "git", "git")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := BuildRepo(context.Background(), gitPath, dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("BuildRepo into a non-empty directory: err = %v, want a 'not empty' error", err)
	}
}

func TestHostUnits(t *testing.T) {
	units, err := HostUnits()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range units {
		names = append(names, u.Name)
		if !strings.Contains(u.Content, "[Unit]") {
			t.Errorf("%s: not a unit file", u.Name)
		}
	}
	want := []string{"ci-docker-prune.service", "ci-docker-prune.timer", "docker-prune.service"}
	if !slices.Equal(names, want) {
		t.Errorf("host units %q, want %q", names, want)
	}
	if !slices.Equal(units[1].WantedBy, []string{"timers.target"}) || units[2].WantedBy != nil {
		t.Errorf("wants: timer %v (want timers.target), stock docker-prune %v (want none: linked)", units[1].WantedBy, units[2].WantedBy)
	}
}

// TestSnapshot checks the recorded snapshot decodes under the current
// schema and shows the incident's host: ci-docker-prune running, the stock
// docker-prune.service linked.
func TestSnapshot(t *testing.T) {
	data, err := Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := live.ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("recorded snapshot is stale; re-record it with `go run ./cmd/driftcheck-demo -record-snapshot examples/incident/host/snapshot.json` as root: %v", err)
	}
	states := map[string]string{}
	for _, u := range snap.Units {
		states[u.Name] = u.LoadState + "/" + u.ActiveState + "/" + u.UnitFileState
		if u.StorePath != "" && !strings.HasPrefix(u.StorePath, "/nix/store/") {
			t.Errorf("%s: store path %q leaks the recording machine's sandbox directory", u.Name, u.StorePath)
		}
	}
	want := map[string]string{
		"ci-docker-prune.service": "loaded/inactive/linked",
		"ci-docker-prune.timer":   "loaded/active/enabled",
		"docker-prune.service":    "loaded/inactive/linked",
	}
	for name, st := range want {
		if states[name] != st {
			t.Errorf("%s: %q, want %q", name, states[name], st)
		}
	}
}
