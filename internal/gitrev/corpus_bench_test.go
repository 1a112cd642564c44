package gitrev

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/benchtest"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// corpusRepos returns the corpus repositories (packed, as unpack.sh leaves
// them) and a loose copy of each (every object unpacked into
// objects/xx/…, as a host's own repository that never ran gc mostly is).
func corpusRepos(b *testing.B) (packed, loose []string) {
	b.Helper()
	root := testreq.Corpus(b)
	des, err := os.ReadDir(root)
	if err != nil {
		b.Fatal(err)
	}
	tmp := b.TempDir()
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		dir := filepath.Join(root, de.Name())
		packed = append(packed, dir)
		loose = append(loose, looseCopy(b, dir, filepath.Join(tmp, de.Name())))
	}
	return packed, loose
}

// looseCopy makes a bare copy of the repository at src whose objects are
// all loose: git init, then git unpack-objects of src's packs.
func looseCopy(b testing.TB, src, dest string) string {
	b.Helper()
	git := testreq.Command(b, "git", "git")
	run := func(stdin io.Reader, dir string, args ...string) {
		cmd := exec.Command(git, args...)
		cmd.Dir, cmd.Stdin = dir, stdin
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run(nil, "", "init", "-q", "--bare", dest)
	packs, _ := filepath.Glob(filepath.Join(src, ".git", "objects", "pack", "*.pack"))
	for _, p := range packs {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		run(f, dest, "unpack-objects", "-q")
		f.Close()
	}
	head, err := exec.Command(git, "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		b.Fatal(err)
	}
	run(nil, dest, "update-ref", "HEAD", strings.TrimSpace(string(head)))
	if m, _ := filepath.Glob(filepath.Join(dest, "objects", "pack", "*.pack")); len(m) != 0 {
		b.Fatalf("%s: loose copy holds packs", dest)
	}
	return dest
}

// gitReadFloor is the baseline: `git ls-tree -r HEAD`, keep the entries
// matching globs, then `git cat-file --batch` of those blobs, reading all
// of its output. It returns the number of files and bytes read.
func gitReadFloor(b *testing.B, git, dir string, globs Globs) (files, size int) {
	out, err := exec.Command(git, "-C", dir, "ls-tree", "-r", "HEAD").Output()
	if err != nil {
		b.Fatal(err)
	}
	var want bytes.Buffer
	for line := range strings.Lines(string(out)) {
		meta, p, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		f := strings.Fields(meta)
		if len(f) == 3 && f[1] == "blob" && globs.Match(p) {
			want.WriteString(f[2])
			want.WriteByte('\n')
			files++
		}
	}
	cmd := exec.Command(git, "-C", dir, "cat-file", "--batch")
	cmd.Stdin = &want
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	rd := bufio.NewReader(stdout)
	for range files {
		hdr, err := rd.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(hdr)
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			b.Fatalf("cat-file header %q", hdr)
		}
		if _, err := rd.Discard(n + 1); err != nil {
			b.Fatal(err)
		}
		size += n
	}
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return files, size
}

// BenchmarkReadCorpus reads the .nix files at HEAD of the six corpus
// repositories (1,208 files), packed and loose, with Revision.Files,
// against the read floor of the git binary (gitReadFloor) in the same run.
func BenchmarkReadCorpus(b *testing.B) {
	packed, loose := corpusRepos(b)
	git := testreq.Command(b, "git", "git")
	globs, _ := ParseGlobs([]string{"**/*.nix"})
	ctx := context.Background()
	for _, set := range []struct {
		name  string
		repos []string
	}{{"packed", packed}, {"loose", loose}} {
		wantFiles, wantBytes := 0, 0
		for _, dir := range set.repos {
			n, s := gitReadFloor(b, git, dir, globs)
			wantFiles += n
			wantBytes += s
		}
		readAll := func(b *testing.B, mapPacks bool) {
			files, size := 0, 0
			for _, dir := range set.repos {
				r, err := open(dir, mapPacks)
				if err != nil {
					b.Fatal(err)
				}
				v, err := r.Resolve(ctx, "HEAD")
				if err != nil {
					b.Fatal(err)
				}
				fs, err := v.Files(ctx, globs)
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range fs {
					size += len(f.Data)
				}
				files += len(fs)
				r.Close()
			}
			if files != wantFiles || size != wantBytes {
				b.Fatalf("read %d files, %d bytes; git read %d, %d", files, size, wantFiles, wantBytes)
			}
		}
		b.Run(set.name+"/gitrev", func(b *testing.B) {
			b.SetBytes(int64(wantBytes))
			for b.Loop() {
				readAll(b, true)
			}
		})
		// The same without the mapped packs: every object through
		// go-git's storage, as before the pack reader.
		b.Run(set.name+"/gitrev-go-git-storage", func(b *testing.B) {
			b.SetBytes(int64(wantBytes))
			for b.Loop() {
				readAll(b, false)
			}
		})
		// Both back to back in every iteration, so load from elsewhere
		// hits both alike: the ratio is the figure to read.
		b.Run(set.name+"/interleaved", func(b *testing.B) {
			mean := benchtest.Interleave(b, func() { readAll(b, true) }, func() { readAll(b, false) })
			b.ReportMetric(benchtest.Milliseconds(mean[0]), "ms-packs/op")
			b.ReportMetric(benchtest.Milliseconds(mean[1]), "ms-go-git/op")
			b.ReportMetric(benchtest.Ratio(mean[0], mean[1]), "packs/go-git")
		})
		b.Run(set.name+"/baseline=git-ls-tree+cat-file-batch", func(b *testing.B) {
			b.SetBytes(int64(wantBytes))
			for b.Loop() {
				for _, dir := range set.repos {
					gitReadFloor(b, git, dir, globs)
				}
			}
		})
	}
}
