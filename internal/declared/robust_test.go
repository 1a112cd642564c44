package declared

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

// robustnessInputs are every Nix source the repository has: the parser's
// fixtures (if present) and ours.
func robustnessInputs(t testing.TB) map[string][]byte {
	t.Helper()
	inputs := map[string][]byte{}
	for _, root := range []string{"../nix/parser/testdata", "testdata"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return filepath.SkipDir
				}
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".nix") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			inputs[path] = src
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	for _, tc := range allExtractCases() {
		for i, src := range tc.files {
			inputs[fmt.Sprintf("case %q file %d", tc.name, i)] = []byte(src)
		}
	}
	return inputs
}

// extractNoPanic extracts one source, parsed as far as the parser gets, and
// fails on a panic or on the extractor's internal-error report.
func extractNoPanic(t *testing.T, name string, src []byte) {
	t.Helper()
	f, _ := parser.ParseFile(name, src)
	if f == nil {
		return
	}
	res := Extract([]SourceFile{{Path: name, AST: f}})
	for _, u := range res.Unresolved {
		if strings.Contains(u.Reason, "internal error") {
			t.Errorf("%s: %s", name, u.Reason)
		}
	}
}

// TestExtractNeverPanics runs the extractor over every Nix source of the
// repository and of the table tests, over prefixes of each (what a
// truncated file parses to) and over copies with one byte deleted (most
// fail to parse; those that parse are new shapes).
func TestExtractNeverPanics(t *testing.T) {
	for name, src := range robustnessInputs(t) {
		extractNoPanic(t, name, src)
		step := max(1, len(src)/64)
		for n := 0; n < len(src); n += step {
			extractNoPanic(t, name, src[:n])
			mutant := append(append([]byte(nil), src[:n]...), src[n+1:]...)
			extractNoPanic(t, name, mutant)
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, src := range robustnessInputs(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			extractNoPanic(t, "fuzz.nix", src)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("extraction did not finish in 5s on %q", src)
		}
	})
}

// TestExtractBoundedOnHostileInput: inputs built to make a naive evaluator
// loop or exhaust memory finish quickly and report instead.
func TestExtractBoundedOnHostileInput(t *testing.T) {
	var doubling strings.Builder
	doubling.WriteString("let\n  l0 = [ \"x\" ]; s0 = \"x\";\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&doubling, "  l%d = l%d ++ l%d; s%d = s%d + s%d;\n", i, i-1, i-1, i, i-1, i-1)
	}
	doubling.WriteString("in {\n  systemd.services.a.startAt = l40;\n  systemd.services.${s40} = { };\n}\n")
	var options strings.Builder
	options.WriteString("{ config, lib, ... }:\n{\n  options.o.a0 = lib.mkOption { default = \"x\"; };\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&options, "  options.o.a%d = lib.mkOption { default = \"${config.o.a%d}${config.o.a%d}\"; };\n", i, i-1, i-1)
	}
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&options, "  options.o.c%d = lib.mkOption { default = config.o.c%d; };\n", i, i+1)
	}
	options.WriteString("  config.systemd.services.${config.o.a40} = { };\n  config.systemd.services.${config.o.c0} = { };\n}\n")
	inputs := map[string]string{
		"self reference":    `let x = x; in { systemd.services.${x} = { }; }`,
		"mutual recursion":  `let f = n: g n; g = n: f n; in { systemd.services = f 1; }`,
		"omega":             `let w = x: x x; in { systemd.services = w w; }`,
		"rec self":          `rec { systemd.services = systemd.services; }`,
		"doubling":          doubling.String(),
		"fixpoint via with": `with { a = 1; }; let y = with y; y; in { systemd.services = y; }`,
	}
	inputs["option defaults doubling and chained"] = options.String()
	for name, src := range inputs {
		t.Run(name, func(t *testing.T) {
			done := make(chan Result, 1)
			go func() { done <- Extract(parseFiles(t, src)) }()
			select {
			case res := <-done:
				if len(res.Unresolved) == 0 {
					t.Errorf("nothing reported as unresolved: %+v", res)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("extraction did not finish in 10s")
			}
		})
	}
}
