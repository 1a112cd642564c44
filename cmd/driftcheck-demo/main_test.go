package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/sdsandbox"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// driftcheckBinary builds the real CLI the demo runs, once per test binary.
func driftcheckBinary(t *testing.T) string {
	t.Helper()
	goBin := testreq.Command(t, "go", "golang-go")
	testreq.Command(t, "git", "git")
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "driftcheck-demo-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "driftcheck")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, goBin, "build", "-o", binPath, "github.com/driftcheck/driftcheck/cmd/driftcheck").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func runDemo(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestDemoRecordedSnapshot(t *testing.T) {
	code, out := runDemo(t, "-driftcheck", driftcheckBinary(t), "-no-sandbox")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{
		"nixos-collision: docker-prune.service",
		"No systemd sandbox: -no-sandbox was given",
		"renamed  docker-prune.timer -> ci-docker-prune.timer",
		"in-sync: 0 findings",
		"Every step ended as expected.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	checkReconcileSection(t, out)
}

func TestDemoSandbox(t *testing.T) {
	sdsandbox.Require(t)
	code, out := runDemo(t, "-driftcheck", driftcheckBinary(t))
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{
		"systemd is PID",
		"renamed  docker-prune.timer -> ci-docker-prune.timer",
		"prune: blocked",
		"Every step ended as expected.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	checkReconcileSection(t, out)
}

func TestDemoBadFlag(t *testing.T) {
	if code, out := runDemo(t, "-no-such-flag"); code != 2 || !strings.Contains(out, "no-such-flag") {
		t.Errorf("exit %d, output %q; want exit 2 naming the flag", code, out)
	}
}

// checkReconcileSection: the demo ends with reconcile, the plan, the
// branch, and a check of the branch that is in sync.
func checkReconcileSection(t *testing.T, out string) {
	t.Helper()
	i := strings.Index(out, "== 5. Reconcile")
	if i < 0 {
		t.Fatalf("demo output has no reconcile section:\n%s", out)
	}
	section := out[i:]
	for _, want := range []string{
		"1. rename docker-prune.service to ci-docker-prune.service at every definition site",
		"+  systemd.timers.ci-docker-prune = {",
		"applied: branch driftcheck/reconcile-4ca2dde2916d",
		"$ driftcheck check --repo",
		"in-sync: 0 findings at ",
		"nixos-rebuild switch",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("reconcile section lacks %q:\n%s", want, section)
		}
	}
}
