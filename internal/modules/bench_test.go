package modules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// nixBatch is how many files one nix-instantiate --parse process gets in
// the baseline, as in the parser's benchmark.
const nixBatch = 200

// corpusGlob reads every Nix file of a corpus repository, as
// `driftcheck units --modules '**/*.nix'` does.
const corpusGlob = "**/*.nix"

// corpusRepoDirs returns the work trees of the six corpus repositories.
func corpusRepoDirs(b *testing.B) []string {
	b.Helper()
	root := testreq.Corpus(b)
	des, err := os.ReadDir(root)
	if err != nil {
		b.Fatal(err)
	}
	var dirs []string
	for _, de := range des {
		if de.IsDir() {
			dirs = append(dirs, filepath.Join(root, de.Name()))
		}
	}
	if len(dirs) != 6 {
		b.Fatalf("corpus at %s holds %d repositories, want 6", root, len(dirs))
	}
	return dirs
}

// nixParseBatches runs nix-instantiate --parse over files, nixBatch per
// process, and returns the files it accepts: a batch that fails is split
// to find the files Nix 2.8 rejects (newer syntax), which the timed
// baseline then leaves out.
func nixParseBatches(ctx context.Context, nix string, files []string) (accepted []string, err error) {
	for start := 0; start < len(files); start += nixBatch {
		batch := files[start:min(start+nixBatch, len(files))]
		if nixParse(ctx, nix, batch) == nil {
			accepted = append(accepted, batch...)
			continue
		}
		for _, f := range batch {
			if nixParse(ctx, nix, []string{f}) == nil {
				accepted = append(accepted, f)
			}
		}
	}
	return accepted, nil
}

func nixParse(ctx context.Context, nix string, files []string) error {
	cmd := exec.CommandContext(ctx, nix, append([]string{"--store", "dummy://", "--parse"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || len(out) == 0 {
		return &exec.ExitError{Stderr: stderr.Bytes()}
	}
	return nil
}

// BenchmarkUnitsCorpus is `driftcheck units --modules '**/*.nix'` on
// each of the six corpus repositories (1,208 files, packed git
// repositories): open, resolve HEAD, read, parse and extract; in process,
// and as the CLI (one process per repository, JSON output). The baseline,
// in the same run, is `nix-instantiate --store dummy:// --parse` over the
// same files from the work trees, 200 files per process (a syntax tree
// only: no unit names, no git). Target: ≥ 10× faster than the baseline.
func BenchmarkUnitsCorpus(b *testing.B) {
	dirs := corpusRepoDirs(b)
	ctx := context.Background()
	var paths []string
	wantFiles := 0
	for _, dir := range dirs {
		l, err := Load(ctx, where(b, dir, corpusGlob))
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range l.Files {
			if strings.HasSuffix(f.Path, ".nix") {
				paths = append(paths, filepath.Join(dir, filepath.FromSlash(f.Path)))
			}
		}
		wantFiles += len(l.Files)
		l.Repo.Close()
	}
	loadAll := func(b *testing.B) {
		for _, dir := range dirs {
			l, err := Load(ctx, where(b, dir, corpusGlob))
			if err != nil {
				b.Fatal(err)
			}
			l.Repo.Close()
		}
	}
	filesPerSecond := func(b *testing.B) {
		b.ReportMetric(float64(wantFiles)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	}
	b.Run("driftcheck", func(b *testing.B) {
		for b.Loop() {
			loadAll(b)
		}
		filesPerSecond(b)
	})
	b.Run("driftcheck/GOMAXPROCS=1", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		for b.Loop() {
			loadAll(b)
		}
		filesPerSecond(b)
	})
	// Where a units run goes, phase by phase, in the same run: reading
	// (open, resolve, list, read the blobs), parsing those bytes from
	// memory (with the import scan), and extracting the parsed trees. The
	// phases add up to about the whole; the whole also follows imports.
	b.Run("phase/read", func(b *testing.B) {
		for b.Loop() {
			readCorpus(b, dirs)
		}
	})
	inMemory := readCorpus(b, dirs)
	b.Run("phase/parse", func(b *testing.B) {
		for b.Loop() {
			for _, files := range inMemory {
				parseAll(files, nil)
			}
		}
	})
	parsed := make([][]parsedFile, len(inMemory))
	for i, files := range inMemory {
		parsed[i] = parseAll(files, nil)
	}
	b.Run("phase/extract", func(b *testing.B) {
		for b.Loop() {
			for _, files := range parsed {
				(*ParseCache)(nil).extractParsed(files, true)
			}
		}
	})
	nix := testreq.Command(b, "nix-instantiate", "nix-bin")
	accepted, _ := nixParseBatches(ctx, nix, paths)
	b.Logf("nix-instantiate accepts %d of %d files", len(accepted), len(paths))
	nixAll := func(b *testing.B) {
		for start := 0; start < len(accepted); start += nixBatch {
			if err := nixParse(ctx, nix, accepted[start:min(start+nixBatch, len(accepted))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("baseline=nix-instantiate-parse-200-per-process", func(b *testing.B) {
		for b.Loop() {
			nixAll(b)
		}
	})
	// Both sides back to back in every iteration, so that load from
	// elsewhere on the machine hits both alike; baseline/driftcheck is the
	// speed-up (target ≥ 10).
	b.Run("interleaved", func(b *testing.B) {
		var ours, theirs, oursCPU, theirsCPU time.Duration
		for b.Loop() {
			start, cpu := time.Now(), cpuTime(syscall.RUSAGE_SELF)
			loadAll(b)
			ours += time.Since(start)
			oursCPU += cpuTime(syscall.RUSAGE_SELF) - cpu
			start, cpu = time.Now(), cpuTime(syscall.RUSAGE_CHILDREN)
			nixAll(b)
			theirs += time.Since(start)
			theirsCPU += cpuTime(syscall.RUSAGE_CHILDREN) - cpu
		}
		reportInterleaved(b, ours, theirs, oursCPU, theirsCPU)
	})

	// The same as users run it: one `driftcheck units` process per
	// repository, from a binary built here.
	bin := buildDriftcheck(b)
	cliAll := func(b *testing.B) {
		for _, dir := range dirs {
			cmd := exec.CommandContext(ctx, bin, "units", "--repo", dir, "--modules", corpusGlob, "--format", "json")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			// Exit 3 (incomplete: unresolved declarations) is a normal
			// result on real repositories; 2 is not.
			if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() == 2) || len(out) == 0 {
				b.Fatalf("driftcheck units --repo %s: %v: %s", dir, err, stderr.String())
			}
		}
	}
	// The floor of the CLI route: six processes of this binary that do
	// nothing but start and print the version.
	b.Run("cli/floor=driftcheck-version-6-processes", func(b *testing.B) {
		for b.Loop() {
			for range dirs {
				if out, err := exec.CommandContext(ctx, bin, "--version").Output(); err != nil || len(out) == 0 {
					b.Fatalf("driftcheck --version: %v", err)
				}
			}
		}
	})
	b.Run("cli/driftcheck-units-per-repository", func(b *testing.B) {
		for b.Loop() {
			cliAll(b)
		}
		filesPerSecond(b)
	})
	b.Run("cli/interleaved", func(b *testing.B) {
		var ours, theirs, oursCPU, theirsCPU time.Duration
		for b.Loop() {
			start, cpu := time.Now(), cpuTime(syscall.RUSAGE_CHILDREN)
			cliAll(b)
			ours += time.Since(start)
			oursCPU += cpuTime(syscall.RUSAGE_CHILDREN) - cpu
			start, cpu = time.Now(), cpuTime(syscall.RUSAGE_CHILDREN)
			nixAll(b)
			theirs += time.Since(start)
			theirsCPU += cpuTime(syscall.RUSAGE_CHILDREN) - cpu
		}
		reportInterleaved(b, ours, theirs, oursCPU, theirsCPU)
	})
}

// readCorpus reads the module files of HEAD of every repository, as
// units does before parsing.
func readCorpus(b *testing.B, dirs []string) [][]gitrev.File {
	b.Helper()
	ctx := context.Background()
	out := make([][]gitrev.File, 0, len(dirs))
	for _, dir := range dirs {
		o := where(b, dir, corpusGlob)
		repo, v, err := o.open(ctx)
		if err != nil {
			b.Fatal(err)
		}
		entries, err := v.List(ctx, o.Globs)
		if err != nil {
			b.Fatal(err)
		}
		files := make([]gitrev.File, len(entries))
		for i, e := range entries {
			if files[i], err = v.Read(e); err != nil {
				b.Fatal(err)
			}
		}
		repo.Close()
		out = append(out, files)
	}
	return out
}

// reportInterleaved reports wall and CPU time per operation of both sides
// and the speed-ups, wall (baseline/driftcheck, the target's ratio) and
// CPU (what the machine spends, less sensitive to load from elsewhere).
func reportInterleaved(b *testing.B, ours, theirs, oursCPU, theirsCPU time.Duration) {
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(perOp(ours), "driftcheck-ms/op")
	b.ReportMetric(perOp(theirs), "nix-ms/op")
	b.ReportMetric(float64(theirs)/float64(ours), "speedup")
	b.ReportMetric(perOp(oursCPU), "driftcheck-cpu-ms/op")
	b.ReportMetric(perOp(theirsCPU), "nix-cpu-ms/op")
	b.ReportMetric(float64(theirsCPU)/float64(oursCPU), "cpu-speedup")
}

// cpuTime is the user plus system time of this process (RUSAGE_SELF) or
// of its waited-for children (RUSAGE_CHILDREN).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildDriftcheck builds cmd/driftcheck into a temporary directory.
func buildDriftcheck(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "driftcheck")
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("go not on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/driftcheck/driftcheck/cmd/driftcheck").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// BenchmarkHistoryWalk is the stale search of a check on a real
// repository: the largest corpus repository (wimpysworld, 366 .nix
// files), cloned, plus 20 commits that each edit one module file. The
// walk (open, resolve, read HEAD through a fresh cache as the check does,
// list the 20 earlier revisions that touched modules, read and extract
// each) is measured against one `units` of HEAD in the same run; target:
// the walk ≤ 2× one units.
func BenchmarkHistoryWalk(b *testing.B) {
	var src string
	for _, dir := range corpusRepoDirs(b) {
		if strings.HasSuffix(dir, "wimpysworld__nix-config") {
			src = dir
		}
	}
	if src == "" {
		b.Fatal("wimpysworld__nix-config not in the corpus")
	}
	g := gittest.New(b)
	g.Git("fetch", "-q", src, "main")
	g.Git("reset", "-q", "--hard", "FETCH_HEAD")
	l, err := Load(context.Background(), where(b, g.Dir, corpusGlob))
	if err != nil {
		b.Fatal(err)
	}
	var modules []string
	for _, f := range l.Files {
		if f.Problem == nil && strings.Contains(string(f.Data), "systemd.") {
			modules = append(modules, f.Path)
		}
	}
	l.Repo.Close()
	if len(modules) == 0 {
		b.Fatal("no module declares systemd units")
	}
	for c := range 20 {
		p := modules[c%len(modules)]
		data, err := os.ReadFile(filepath.Join(g.Dir, filepath.FromSlash(p)))
		if err != nil {
			b.Fatal(err)
		}
		g.Commit(fmt.Sprintf("edit %d", c), map[string]string{p: string(data) + fmt.Sprintf("# edit %d\n", c)})
	}
	ctx := context.Background()
	opts := where(b, g.Dir, corpusGlob)
	units := func(b *testing.B) {
		l, err := Load(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		l.Repo.Close()
	}
	walk := func(b *testing.B) {
		repo, err := gitrev.Open(g.Dir)
		if err != nil {
			b.Fatal(err)
		}
		defer repo.Close()
		head, err := repo.Resolve(ctx, "HEAD")
		if err != nil {
			b.Fatal(err)
		}
		globs := opts.Globs
		cache := NewParseCache()
		if _, _, err := cache.Read(ctx, head, globs); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		revs, err := repo.History(ctx, head, globs, 21)
		if err != nil || len(revs) != 21 {
			b.Fatalf("%d revisions, %v", len(revs), err)
		}
		extracted, reused := cache.ExtractStats()
		res, err := cache.ReadHistory(ctx, revs[1:], globs)
		if err != nil || len(res) != 20 {
			b.Fatalf("%d results, %v", len(res), err)
		}
		e, r := cache.ExtractStats()
		b.ReportMetric(float64(e-extracted)/20, "files-extracted/rev")
		b.ReportMetric(float64(r-reused)/20, "files-reused/rev")
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "walk-only-ms")
	}
	b.Run("units", func(b *testing.B) {
		for b.Loop() {
			units(b)
		}
	})
	b.Run("check-declared-side=units+history-20", func(b *testing.B) {
		for b.Loop() {
			walk(b)
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		var one, hist, oneCPU, histCPU time.Duration
		for b.Loop() {
			start, cpu := time.Now(), cpuTime(syscall.RUSAGE_SELF)
			units(b)
			one += time.Since(start)
			oneCPU += cpuTime(syscall.RUSAGE_SELF) - cpu
			start, cpu = time.Now(), cpuTime(syscall.RUSAGE_SELF)
			walk(b)
			hist += time.Since(start)
			histCPU += cpuTime(syscall.RUSAGE_SELF) - cpu
		}
		b.ReportMetric(float64(one.Microseconds())/1000/float64(b.N), "units-ms/op")
		b.ReportMetric(float64(hist.Microseconds())/1000/float64(b.N), "units+walk-ms/op")
		b.ReportMetric(float64(hist-one)/float64(one), "walk/units")
		// CPU time (getrusage, every thread of the process) is less
		// sensitive to load from elsewhere than wall time.
		b.ReportMetric(float64(histCPU-oneCPU)/float64(oneCPU), "walk/units-cpu")
	})
}
