// Package incident is the bundled example repository: the docker-prune /
// ci-docker-prune incident as a git repository in two commits, the host
// state to seed a systemd sandbox with, and a recorded snapshot of that host
// for machines that cannot boot a sandbox.
//
//	rev1/  the commit before the incident: docker-prune.{service,timer}
//	rev2/  the reconciling commit: ci-docker-prune.{service,timer}
//	host/  the units the host runs (units.json lists them), snapshot.json
package incident

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed all:rev1 all:rev2 host
var files embed.FS

// Tags name the two commits in the built repository.
const (
	TagIncident   = "incident"   // rev 1: git declares docker-prune, the host runs ci-docker-prune
	TagReconciled = "reconciled" // rev 2: git declares what the host runs
)

// Repo is a built example repository.
type Repo struct {
	Dir        string
	Incident   string // commit hash of rev 1
	Reconciled string // commit hash of rev 2
}

// BuildRepo creates the example repository in dir (which must be empty or
// absent) with the git binary at gitPath: rev 1, then rev 2, each tagged.
// Author, committer and dates are fixed, so the hashes are the same on
// every machine.
func BuildRepo(ctx context.Context, gitPath, dir string) (*Repo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create example repository: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("create example repository: %w", err)
	}
	if len(entries) > 0 {
		return nil, fmt.Errorf("create example repository: %s is not empty", dir)
	}
	g := gitRunner{path: gitPath, dir: dir}
	if _, err := g.run(ctx, "", "init", "-q", "-b", "main"); err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir}
	commits := []struct {
		tree, tag, message, date string
		hash                     *string
	}{
		{"rev1", TagIncident, "Declare the daily Docker prune", "2026-03-02T09:00:00Z", &r.Incident},
		{"rev2", TagReconciled, "Rename the prune to ci-docker-prune, as the host runs it", "2026-03-09T09:00:00Z", &r.Reconciled},
	}
	for _, c := range commits {
		if _, err := g.run(ctx, "", "rm", "-r", "-q", "--ignore-unmatch", "."); err != nil {
			return nil, err
		}
		if err := writeTree(c.tree, dir); err != nil {
			return nil, err
		}
		if _, err := g.run(ctx, "", "add", "-A"); err != nil {
			return nil, err
		}
		if _, err := g.run(ctx, c.date, "commit", "-q", "-m", c.message); err != nil {
			return nil, err
		}
		if _, err := g.run(ctx, c.date, "tag", c.tag); err != nil {
			return nil, err
		}
		hash, err := g.run(ctx, "", "rev-parse", "HEAD")
		if err != nil {
			return nil, err
		}
		*c.hash = hash
	}
	return r, nil
}

// writeTree copies one embedded revision into the work tree.
func writeTree(root, dir string) error {
	return fs.WalkDir(files, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		target := filepath.Join(dir, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return fmt.Errorf("write example file: %w", err)
		}
		return nil
	})
}

type gitRunner struct{ path, dir string }

// run runs git with no user or system configuration and a fixed identity.
func (g gitRunner) run(ctx context.Context, date string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.path, args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+g.dir,
		"GIT_AUTHOR_NAME=Example Admin", "GIT_AUTHOR_EMAIL=admin@ci-host.example",
		"GIT_COMMITTER_NAME=Example Admin", "GIT_COMMITTER_EMAIL=admin@ci-host.example",
	)
	if date != "" {
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// HostUnit is one unit file the example host runs.
type HostUnit struct {
	Name     string
	Content  string
	WantedBy []string
}

// HostUnits returns the units of the example host, as listed in
// host/units.json: store-linked as on NixOS, the timer wanted by
// timers.target, the stock docker-prune.service linked but wanted by nothing.
func HostUnits() ([]HostUnit, error) {
	data, err := files.ReadFile("host/units.json")
	if err != nil {
		return nil, err
	}
	var list struct {
		Units []struct {
			Name     string   `json:"name"`
			File     string   `json:"file"`
			WantedBy []string `json:"wanted_by"`
		} `json:"units"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("parse host/units.json: %w", err)
	}
	units := make([]HostUnit, 0, len(list.Units))
	for _, u := range list.Units {
		content, err := files.ReadFile("host/" + u.File)
		if err != nil {
			return nil, fmt.Errorf("host unit %s: %w", u.Name, err)
		}
		units = append(units, HostUnit{Name: u.Name, Content: string(content), WantedBy: u.WantedBy})
	}
	return units, nil
}

// Snapshot returns the recorded snapshot of the example host
// (driftcheck.snapshot/v1), for `driftcheck check --live FILE`.
func Snapshot() ([]byte, error) {
	return files.ReadFile("host/snapshot.json")
}
