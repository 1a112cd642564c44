// Package provenance reads which git revision a NixOS host says it was
// built from (system.configurationRevision, as nixos-version reports it)
// and relates it to the revision a check compares against.
package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// DefaultPath is where NixOS installs nixos-version for the running system.
const DefaultPath = "/run/current-system/sw/bin/nixos-version"

// timeout bounds one nixos-version run: it is a shell script that prints
// a constant, so anything slow is a fault. A check (and the prune's drift
// gate) waits for it, so it must never wait longer.
const timeout = 5 * time.Second

// maxOutput bounds what is kept of its output: a few hundred bytes are
// expected.
const maxOutput = 64 << 10

// Host is what nixos-version reported.
type Host struct {
	Available    bool   // false: no nixos-version at the path (not NixOS, or not this host)
	Revision     string // configurationRevision; "" when the key is missing or null
	NixosVersion string
}

// Read runs "<path> --json". A missing executable is not an error: it
// yields Host{Available: false}.
func Read(ctx context.Context, path string) (Host, error) {
	if path == "" {
		path = DefaultPath
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Host{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stdout, stderr := &cappedBuffer{max: maxOutput}, &cappedBuffer{max: maxOutput}
	cmd := exec.CommandContext(ctx, path, "--json")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	killGroupOnCancel(cmd)
	if err := cmd.Run(); err != nil {
		switch {
		case ctx.Err() != nil:
			return Host{}, fmt.Errorf("run %s --json: killed, no answer in time: %w", path, ctx.Err())
		case stdout.full:
			return Host{}, fmt.Errorf("run %s --json: %w", path, stdout.errFull())
		}
		return Host{}, fmt.Errorf("run %s --json: %w: %s", path, err, firstLine(stderr.String()))
	}
	return parse(stdout.Bytes(), path)
}

// killGroupOnCancel runs cmd in a process group of its own and kills the
// whole group when the context ends: a script that started a child (which
// inherits the output pipes) would otherwise keep Wait, and the check,
// waiting after the script itself was killed. WaitDelay bounds the wait
// for pipes held by a process that left the group.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
}

// cappedBuffer keeps at most max bytes and fails the write beyond. (It
// must not embed bytes.Buffer: io.Copy would use its ReadFrom, unbounded.)
type cappedBuffer struct {
	buf  bytes.Buffer
	max  int
	full bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		b.full = true
		return 0, b.errFull()
	}
	return b.buf.Write(p)
}

func (b *cappedBuffer) errFull() error { return fmt.Errorf("more than %d bytes of output", b.max) }

func (b *cappedBuffer) Bytes() []byte  { return b.buf.Bytes() }
func (b *cappedBuffer) String() string { return b.buf.String() }

func parse(out []byte, path string) (Host, error) {
	var v struct {
		NixosVersion          string  `json:"nixosVersion"`
		ConfigurationRevision *string `json:"configurationRevision"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return Host{}, fmt.Errorf("parse %s --json output: %w", path, err)
	}
	h := Host{Available: true, NixosVersion: v.NixosVersion}
	if v.ConfigurationRevision != nil {
		h.Revision = strings.TrimSpace(*v.ConfigurationRevision)
	}
	return h, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// IsDirty reports a revision that records an uncommitted tree: missing,
// "dirty", or "<rev>-dirty" (flakes' self.dirtyRev).
func IsDirty(revision string) bool {
	return revision == "" || revision == "dirty" || strings.HasSuffix(revision, "-dirty")
}

// isCommitID accepts full or abbreviated hexadecimal commit ids only, so
// that a branch or tag name the host happens to report is never resolved.
func isCommitID(s string) bool {
	if len(s) < 4 || len(s) > 64 {
		return false
	}
	return strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// Compare relates the host's revision to rev, a commit of repo.
func Compare(ctx context.Context, host Host, repo *gitrev.Repo, rev *gitrev.Revision) (unitdiff.ProvenanceStatus, error) {
	if IsDirty(host.Revision) {
		return unitdiff.ProvenanceDirty, nil
	}
	if !isCommitID(host.Revision) {
		return unitdiff.ProvenanceUnknown, nil
	}
	hostRev, err := repo.LookupCommit(ctx, host.Revision)
	if errors.Is(err, gitrev.ErrUnknownRevision) || errors.Is(err, gitrev.ErrAmbiguousRevision) {
		return unitdiff.ProvenanceUnknown, nil
	}
	if err != nil {
		return "", fmt.Errorf("look up the host's revision %s: %w", host.Revision, err)
	}
	if hostRev.SHA == rev.SHA {
		return unitdiff.ProvenanceEqual, nil
	}
	older, err := repo.IsAncestor(ctx, hostRev.SHA, rev.SHA)
	if err != nil {
		return "", fmt.Errorf("is %s an ancestor of %s: %w", host.Revision, rev.SHA, err)
	}
	if older {
		return unitdiff.ProvenanceOlder, nil
	}
	return unitdiff.ProvenanceDiverged, nil
}
