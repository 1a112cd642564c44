package declared

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

// nixNormalise returns Nix's own desugared print of each source
// (nix-instantiate --parse): attribute paths nested and sorted, inherit
// expanded, interpolation turned into +, comments and layout gone. ok[i]
// is false for a source Nix rejects (e.g. "undefined variable" in a
// fragment). One batched call, falling back to one call per file, since a
// batch stops at the first rejected file.
func nixNormalise(t *testing.T, nixInstantiate string, srcs []string) (out []string, ok []bool) {
	t.Helper()
	dir := t.TempDir()
	paths := make([]string, len(srcs))
	for i, src := range srcs {
		paths[i] = filepath.Join(dir, fmt.Sprintf("f%04d.nix", i))
		if err := os.WriteFile(paths[i], []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, ok = make([]string, len(paths)), make([]bool, len(paths))
	for start := 0; start < len(paths); {
		lines, err := parseWithNix(nixInstantiate, paths[start:])
		if len(lines) > len(paths)-start {
			t.Fatalf("nix-instantiate --parse printed %d lines for %d files", len(lines), len(paths)-start)
		}
		for i, l := range lines {
			out[start+i], ok[start+i] = l, true
		}
		start += len(lines)
		if err != nil {
			start++ // the batch stopped at this rejected file
		}
	}
	return out, ok
}

// parseWithNix returns one line per file Nix printed; on a rejected file
// it stops there and returns the lines before it with the error.
func parseWithNix(nixInstantiate string, paths []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--store", "dummy://", "--parse"}, paths...)
	out, err := exec.CommandContext(ctx, nixInstantiate, args...).Output()
	text := strings.TrimSuffix(string(out), "\n")
	if text == "" {
		return nil, err
	}
	return strings.Split(text, "\n"), err
}

// TestMetamorphicNixNormalised: every table case, rewritten by Nix into its
// desugared form, must declare the same units (name, type, scope,
// conditional, implied_by, properties) and as many unresolved items. Lines
// are not compared: the normalised form is one line.
func TestMetamorphicNixNormalised(t *testing.T) {
	nixInstantiate := testreq.Command(t, "nix-instantiate", "nix-bin")
	cases := allExtractCases()
	var srcs []string
	for _, tc := range cases {
		srcs = append(srcs, tc.files...)
	}
	all, accepted := nixNormalise(t, nixInstantiate, srcs)
	compared, next := 0, 0
	for _, tc := range cases {
		first := next
		next += len(tc.files)
		if slices.Contains(accepted[first:next], false) {
			t.Logf("%s: not accepted by nix-instantiate --parse, case skipped", tc.name)
			continue
		}
		normalised := all[first:next]
		compared++
		t.Run(tc.name, func(t *testing.T) {
			want := Extract(parseFiles(t, tc.files...))
			got := Extract(parseFiles(t, normalised...))
			ignore := cmpopts.IgnoreFields(Unit{}, "Sites", "Line", "Definitions")
			if diff := cmp.Diff(want.Units, got.Units, ignore); diff != "" {
				t.Errorf("units, original (-) vs normalised (+):\n%s\nnormalised:\n%s", diff, strings.Join(normalised, "\n"))
			}
			if len(want.Unresolved) != len(got.Unresolved) {
				t.Errorf("unresolved: original %+v, normalised %+v", want.Unresolved, got.Unresolved)
			}
		})
	}
	if compared < len(cases)*3/4 {
		t.Errorf("only %d of %d cases were accepted by nix-instantiate --parse", compared, len(cases))
	}
}
