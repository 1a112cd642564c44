// Package nix_test checks the Nix packaging of driftcheck: every .nix file
// parses, nix/package.nix's vendorHash matches go.mod/go.sum, and the module
// declares the units driftcheck itself expects.
package nix_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

var update = flag.Bool("update", false, "rewrite nix/package.nix's vendorHash instead of failing")

// repoRoot is the module root: this package lives in nix/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from nix/: %v", err)
	}
	return root
}

func command(t *testing.T, timeout time.Duration, dir, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

var vendorHashLine = regexp.MustCompile(`(?m)^(\s*vendorHash\s*=\s*)"([^"]*)";`)

// TestVendorHash recomputes what buildGoModule hashes: the directory
// `go mod vendor` writes (vendor/, with vendor/modules.txt), serialised as
// a NAR and hashed with sha256. It fails when nix/package.nix is stale.
func TestVendorHash(t *testing.T) {
	root := repoRoot(t)
	goBin := testreq.Command(t, "go", "golang-go")
	vendor := filepath.Join(t.TempDir(), "vendor")
	command(t, 5*time.Minute, root, goBin, "mod", "vendor", "-o", vendor)

	got, err := narHashSRI(vendor)
	if err != nil {
		t.Fatal(err)
	}
	pkgFile := filepath.Join(root, "nix", "package.nix")
	src, err := os.ReadFile(pkgFile)
	if err != nil {
		t.Fatal(err)
	}
	m := vendorHashLine.FindSubmatch(src)
	if m == nil {
		t.Fatalf("%s has no vendorHash = \"…\"; line", pkgFile)
	}
	if want := string(m[2]); want != got {
		if *update {
			out := vendorHashLine.ReplaceAll(src, []byte(`${1}"`+got+`";`))
			if err := os.WriteFile(pkgFile, out, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("updated %s: vendorHash = %q", pkgFile, got)
			return
		}
		t.Fatalf("nix/package.nix is out of date with go.mod/go.sum:\n"+
			"  vendorHash = %q\n  computed     %q\n"+
			"update it with: go test ./nix -run TestVendorHash -update", want, got)
	}
}

// TestNARHashMatchesNix checks the NAR hashing against Nix itself on a tree
// with every node type and the padding edge cases.
func TestNARHashMatchesNix(t *testing.T) {
	nixBin := testreq.Command(t, "nix", "nix-bin")
	dir := filepath.Join(t.TempDir(), "tree")
	files := map[string]struct {
		content string
		mode    os.FileMode
	}{
		"empty":              {"", 0o644},
		"eight":              {"12345678", 0o644},
		"nine":               {"123456789", 0o644},
		"run.sh":             {"#!/bin/sh\necho hi\n", 0o755},
		"sub/modules.txt":    {"# example.org/m v1.0.0\n## explicit\n", 0o644},
		"sub/B/upper-first":  {"sorted before lower case", 0o644},
		"sub/a/deeper/x.go":  {"package x\n", 0o600},
		"sub/ä-utf8-name.go": {"package y\n", 0o644},
	}
	for name, f := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../eight", filepath.Join(dir, "sub", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(command(t, time.Minute, dir, nixBin,
		"--extra-experimental-features", "nix-command", "hash", "path", "--type", "sha256", dir)))
	got, err := narHashSRI(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("narHashSRI = %s, nix hash path = %s", got, want)
	}
}

// TestNixFilesParse parses every .nix file of the repository with Nix.
func TestNixFilesParse(t *testing.T) {
	nixInstantiate := testreq.Command(t, "nix-instantiate", "nix-bin")
	root := repoRoot(t)
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "vendor" || d.Name() == "testdata" && p != root) {
			return filepath.SkipDir // testdata may hold deliberately broken files
		}
		if !d.IsDir() && strings.HasSuffix(p, ".nix") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d .nix files, want at least flake.nix, nix/package.nix, nix/modules/driftcheck.nix", len(files))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		t.Run(rel, func(t *testing.T) {
			command(t, time.Minute, root, nixInstantiate, "--store", "dummy://", "--parse", f)
		})
	}
}

// vendorDir writes `go mod vendor` output once for the benchmarks.
func vendorDir(b *testing.B) string {
	b.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Skip("go not on PATH")
	}
	dir := filepath.Join(b.TempDir(), "vendor")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "mod", "vendor", "-o", dir)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go mod vendor: %v\n%s", err, out)
	}
	return dir
}

// BenchmarkNARHashVendor hashes the vendor directory with the Go NAR
// serialiser TestVendorHash uses; compare with
// BenchmarkNARHashVendorBaselineNix.
func BenchmarkNARHashVendor(b *testing.B) {
	dir := vendorDir(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := narHashSRI(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNARHashVendorBaselineNix is the baseline: `nix hash path` on the
// same directory (one process per hash).
func BenchmarkNARHashVendorBaselineNix(b *testing.B) {
	nixBin, err := exec.LookPath("nix")
	if err != nil {
		b.Skip("nix not on PATH")
	}
	dir := vendorDir(b)
	b.ResetTimer()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, nixBin, "--extra-experimental-features", "nix-command",
			"hash", "path", "--type", "sha256", dir).Output()
		cancel()
		if err != nil || !bytes.HasPrefix(out, []byte("sha256-")) {
			b.Fatalf("nix hash path: %v %s", err, out)
		}
	}
}
