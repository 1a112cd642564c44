package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/nixgen"
)

// writePrograms writes n programs from gen into dir and returns their paths.
func writePrograms(t testing.TB, dir string, n int, gen func() nixgen.Program) []string {
	t.Helper()
	files := make([]string, n)
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("p%05d.nix", i))
		if err := os.WriteFile(files[i], []byte(gen().Source()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestOracleGenerated(t *testing.T) {
	const seed, n = 20261123, 1500
	tests := []struct {
		name        string
		gen         func(*nixgen.Generator) nixgen.Program
		minAccepted float64 // fraction Nix must accept, so the test keeps its teeth
		minRejected float64
	}{
		{"valid", (*nixgen.Generator).Valid, 0.6, 0},
		{"invalid", (*nixgen.Generator).Invalid, 0, 0.4},
		{"modules", (*nixgen.Generator).Module, 0.9, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := nixgen.New(seed)
			files := writePrograms(t, t.TempDir(), n, func() nixgen.Program { return tt.gen(g) })
			accepted, rejected := differential(t, files)
			if got := float64(accepted) / n; got < tt.minAccepted {
				t.Errorf("nix accepted only %.0f%% of the programs; generator drifted", got*100)
			}
			if got := float64(rejected) / n; got < tt.minRejected {
				t.Errorf("nix rejected only %.0f%% of the programs; mutations too weak", got*100)
			}
		})
	}
}
