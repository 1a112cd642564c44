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
		// The "with" scope makes free variables legal, so Nix's scope check
		// does not reject programs (and split batches) for them.
		src := "with {}; " + gen().Source()
		if err := os.WriteFile(files[i], []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestOracleGenerated(t *testing.T) {
	const seed = 20261123
	tests := []struct {
		name        string
		n           int
		tight       float64
		gen         func(*nixgen.Generator) nixgen.Program
		minAccepted float64 // fraction Nix must accept, so the test keeps its teeth
		minRejected float64
	}{
		{"valid", 600, 0, (*nixgen.Generator).Valid, 0.7, 0},
		{"invalid", 200, 0, (*nixgen.Generator).Invalid, 0, 0.4},
		{"modules", 200, 0, (*nixgen.Generator).Module, 0.9, 0},
		{"tight", 150, 0.15, (*nixgen.Generator).Valid, 0.2, 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := nixgen.New(seed)
			g.Tight = tt.tight
			files := writePrograms(t, t.TempDir(), tt.n, func() nixgen.Program { return tt.gen(g) })
			accepted, rejected := differential(t, files)
			if got := float64(accepted) / float64(tt.n); got < tt.minAccepted {
				t.Errorf("nix accepted only %.0f%% of the programs; generator drifted", got*100)
			}
			if got := float64(rejected) / float64(tt.n); got < tt.minRejected {
				t.Errorf("nix rejected only %.0f%% of the programs; mutations too weak", got*100)
			}
		})
	}
}
