package declared

import (
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
	if len(inputs) == 0 {
		t.Fatal("no Nix sources found")
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

// TestExtractNeverPanics runs the extractor over every Nix file of the
// repository and over every prefix of each (what a truncated or half-typed
// file parses to).
func TestExtractNeverPanics(t *testing.T) {
	for name, src := range robustnessInputs(t) {
		extractNoPanic(t, name, src)
		step := max(1, len(src)/64)
		for n := 0; n < len(src); n += step {
			extractNoPanic(t, name, src[:n])
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
