package parser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/nixgen"
)

// constValue evaluates a string literal whose interpolations are constant
// strings, from the cooked values in the tree.
func constValue(x ast.Expr) (string, bool) {
	if id, ok := unparen(x).(*ast.Ident); ok && id.Name == "x" {
		return "X", true // bound by the let that writeLiterals adds
	}
	str, ok := unparen(x).(*ast.String)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, part := range str.Parts {
		switch p := part.(type) {
		case *ast.Text:
			b.WriteString(p.Value)
		case *ast.Interp:
			v, ok := constValue(p.X)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// nixEvalStrings evaluates files holding string literals with
// `nix-instantiate --eval --strict --json`, many per process; a failing
// batch is bisected. Values of files Nix rejects are nil.
func nixEvalStrings(ctx context.Context, nix string, files []string) ([]*string, error) {
	out := make([]*string, len(files))
	eval := func(batch []string) ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		args := append([]string{"--store", "dummy://", "--eval", "--strict", "--json"}, batch...)
		stdout, err := exec.CommandContext(ctx, nix, args...).Output()
		if err != nil {
			return nil, err
		}
		var values []string
		dec := json.NewDecoder(bytes.NewReader(stdout))
		for {
			var v string
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				return values, nil
			} else if err != nil {
				return nil, fmt.Errorf("decode nix output: %w", err)
			}
			values = append(values, v)
		}
	}
	// A failing batch is bisected: failures are rare, so this costs a
	// few extra processes instead of one per file.
	var run func(lo, hi int) error
	run = func(lo, hi int) error {
		values, err := eval(files[lo:hi])
		var exit *exec.ExitError
		switch {
		case err == nil && len(values) == hi-lo:
			for i := range values {
				out[lo+i] = &values[i]
			}
			return nil
		case err != nil && !errors.As(err, &exit):
			return err
		case hi-lo == 1:
			return nil // Nix rejected this file
		}
		mid := (lo + hi) / 2
		if err := run(lo, mid); err != nil {
			return err
		}
		return run(mid, hi)
	}
	for start := 0; start < len(files); start += oracleBatchSize {
		if err := run(start, min(start+oracleBatchSize, len(files))); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TestOracleCookedStrings checks the lexer's hardest part against Nix's
// evaluator: escapes, ”-escapes, $$ and ${ rules, and indentation
// stripping of generated string literals must give exactly the string Nix
// computes.
func TestOracleCookedStrings(t *testing.T) {
	g := nixgen.New(4242)
	files := writeLiterals(t, t.TempDir(), 600, g)
	nix := testreqNix(t)
	values, err := nixEvalStrings(t.Context(), nix, files)
	if err != nil {
		t.Fatalf("nix eval: %v", err)
	}
	compared, mismatches := 0, 0
	for i, name := range files {
		src := readFile(t, name)
		f, perr := ParseFile(name, src)
		if perr != nil {
			if values[i] != nil {
				t.Errorf("nix evaluated %q, we rejected it: %v", src, perr)
			}
			continue
		}
		// A literal can end early ("$${" is a whole string) and leave an
		// application of strings, which parses but does not evaluate.
		got, ok := constValue(f.Expr.(*ast.Let).Body)
		if !ok {
			continue
		}
		if values[i] == nil {
			t.Errorf("nix could not evaluate %q, we read it as the string %q", src, got)
			continue
		}
		compared++
		if got != *values[i] {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("cooked value differs for %q\n   nix: %q\n  ours: %q", src, *values[i], got)
			}
		}
	}
	t.Logf("compared %d cooked strings, %d differ", compared, mismatches)
	if compared < 400 {
		t.Errorf("only %d of %d literals compared", compared, len(files))
	}
}

func writeLiterals(t *testing.T, dir string, n int, g *nixgen.Generator) []string {
	t.Helper()
	files := make([]string, n)
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("s%05d.nix", i))
		if err := os.WriteFile(files[i], []byte(`let x = "X"; in `+g.StringLiteral().Source()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}
