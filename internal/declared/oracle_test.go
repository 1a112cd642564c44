package declared

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

// oracleDir holds fixture modules, a stub lib and oracle.nix, which
// evaluates a fixture with real Nix and lists its unit attribute names.
const oracleDir = "testdata/oracle"

// oracleNames is oracle.nix's answer: attribute names per namespace.
type oracleNames struct {
	Services     []string `json:"services"`
	Timers       []string `json:"timers"`
	Sockets      []string `json:"sockets"`
	UserServices []string `json:"userServices"`
	UserTimers   []string `json:"userTimers"`
}

func oracleFixtures(t testing.TB) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(oracleDir, "*.nix"))
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []string
	for _, f := range all {
		if base := filepath.Base(f); base != "oracle.nix" && base != "stub-lib.nix" {
			fixtures = append(fixtures, f)
		}
	}
	if len(fixtures) == 0 {
		t.Fatalf("no fixtures in %s", oracleDir)
	}
	return fixtures
}

// evalOracle runs nix-instantiate on one fixture.
func evalOracle(t testing.TB, nixInstantiate, fixture string) oracleNames {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	abs, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, nixInstantiate, "--store", "dummy://", "--eval", "--strict", "--json",
		filepath.Join(oracleDir, "oracle.nix"), "--arg", "file", abs)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("nix-instantiate on %s: %v\n%s", fixture, err, stderr)
	}
	var names oracleNames
	if err := json.Unmarshal(out, &names); err != nil {
		t.Fatalf("nix-instantiate on %s: decode %q: %v", fixture, out, err)
	}
	return names
}

// explicitNames lists what the extractor found for one namespace, counting
// only units some site declares explicitly (startAt timers and option
// implications are not attributes of systemd.*).
func explicitNames(res Result, typ string, scope Scope) []string {
	names := []string{}
	for _, u := range res.Units {
		if u.Type != typ || u.Scope != scope {
			continue
		}
		for _, s := range u.Sites {
			if s.ImpliedBy == "" {
				names = append(names, strings.TrimSuffix(u.Name, "."+typ))
				break
			}
		}
	}
	sort.Strings(names)
	return names
}

// TestOracleUnitNames checks the extractor's unit names against Nix itself
// evaluating the same fixtures with a stub lib.
func TestOracleUnitNames(t *testing.T) {
	nixInstantiate := testreq.Command(t, "nix-instantiate", "nix-bin")
	for _, fixture := range oracleFixtures(t) {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			src, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatal(err)
			}
			res := Extract(parseFiles(t, string(src)))
			want := evalOracle(t, nixInstantiate, fixture)
			got := oracleNames{
				Services:     explicitNames(res, "service", ScopeSystem),
				Timers:       explicitNames(res, "timer", ScopeSystem),
				Sockets:      explicitNames(res, "socket", ScopeSystem),
				UserServices: explicitNames(res, "service", ScopeUser),
				UserTimers:   explicitNames(res, "timer", ScopeUser),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("unit names, nix (-) vs extractor (+):\n%s", diff)
			}
			if len(res.Unresolved) != 0 {
				t.Errorf("fixture should resolve fully, got unresolved %+v", res.Unresolved)
			}
		})
	}
}

// BenchmarkExtract measures the extractor on the oracle fixtures; its
// baseline, BenchmarkExtractBaselineNixInstantiate, asks Nix for the same
// names, one process per fixture as a script would.
func BenchmarkExtract(b *testing.B) {
	var srcs []string
	for _, f := range oracleFixtures(b) {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, string(src))
	}
	b.Run("parse+extract", func(b *testing.B) {
		for b.Loop() {
			for _, src := range srcs {
				Extract(parseFiles(b, src))
			}
		}
	})
	files := parseFiles(b, srcs...)
	b.Run("extract", func(b *testing.B) {
		for b.Loop() {
			Extract(files)
		}
	})
}

func BenchmarkExtractBaselineNixInstantiate(b *testing.B) {
	nixInstantiate := testreq.Command(b, "nix-instantiate", "nix-bin")
	fixtures := oracleFixtures(b)
	for b.Loop() {
		for _, f := range fixtures {
			evalOracle(b, nixInstantiate, f)
		}
	}
	b.ReportMetric(float64(len(fixtures)), "files/op")
}
