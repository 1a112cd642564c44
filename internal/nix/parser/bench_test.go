package parser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/nixgen"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

const benchCorpusFiles = 2000

// benchCorpus writes a deterministic corpus of generated NixOS modules and
// expressions that both parsers accept, and returns the paths and total size.
// Files Nix rejects (duplicate attributes, non-associative chains) are left
// out, because a rejected file would stop a nix-instantiate batch.
func benchCorpus(b *testing.B, dir string) ([]string, int64) {
	b.Helper()
	g := nixgen.New(42)
	var candidates []string
	for i := 0; len(candidates) < benchCorpusFiles*13/10; i++ {
		p := g.Valid()
		if i%2 == 0 {
			p = g.Module()
		}
		src := []byte("with {}; " + p.Source())
		if _, err := ParseFile("", src); err != nil {
			continue
		}
		name := filepath.Join(dir, fmt.Sprintf("m%05d.nix", i))
		if err := os.WriteFile(name, src, 0o644); err != nil {
			b.Fatal(err)
		}
		candidates = append(candidates, name)
	}
	if nix, err := execLookPath("nix-instantiate"); err == nil {
		verdicts, err := runOracle(context.Background(), nix, candidates)
		if err != nil {
			b.Fatalf("oracle: %v", err)
		}
		kept := candidates[:0]
		for i, v := range verdicts {
			if v.kind == nixAccepted {
				kept = append(kept, candidates[i])
			}
		}
		candidates = kept
	}
	if len(candidates) < benchCorpusFiles {
		b.Fatalf("corpus has %d files, want %d", len(candidates), benchCorpusFiles)
	}
	files := candidates[:benchCorpusFiles]
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		total += st.Size()
	}
	return files, total
}

// BenchmarkParseCorpus compares ParseFile (reading each file from disk) with
// the baseline `nix-instantiate --store dummy:// --parse`, run 200 files per
// process, over the same 2,000-file corpus.
func BenchmarkParseCorpus(b *testing.B) {
	files, total := benchCorpus(b, b.TempDir())
	b.Logf("corpus: %d files, %d bytes", len(files), total)
	report := func(b *testing.B) {
		b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	}
	b.Run("driftcheck", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, name := range files {
				src, err := os.ReadFile(name)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ParseFile(name, src); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
	// The same parse without the file system, to separate parsing from I/O.
	b.Run("driftcheck-in-memory", func(b *testing.B) {
		srcs := make([][]byte, len(files))
		for i, name := range files {
			srcs[i] = readFile(b, name)
		}
		b.SetBytes(total)
		for b.Loop() {
			for i, src := range srcs {
				if _, err := ParseFile(files[i], src); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
	b.Run("nix-instantiate", func(b *testing.B) {
		nix := testreq.Command(b, "nix-instantiate", "nix-bin")
		b.SetBytes(total)
		for b.Loop() {
			for start := 0; start < len(files); start += oracleBatchSize {
				batch := files[start:min(start+oracleBatchSize, len(files))]
				if _, stderr, err := nixParse(context.Background(), nix, batch); err != nil {
					b.Fatalf("nix-instantiate: %v: %s", err, stderr)
				}
			}
		}
		report(b)
	})
}
