package gitrev

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/testreq"
	"github.com/go-git/go-git/v5/plumbing"
)

// gitObject is one object as `git cat-file --batch` prints it.
type gitObject struct {
	hash Hash
	typ  string
	data []byte
}

// gitAllObjects returns every object of the repository whose git
// directory is gitDir, read by `git cat-file --batch-all-objects --batch`.
func gitAllObjects(t *testing.T, gitDir string) []gitObject {
	t.Helper()
	git := testreq.Command(t, "git", "git")
	cmd := exec.Command(git, "--git-dir", gitDir, "cat-file", "--batch-all-objects", "--batch")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(out)
	var objs []gitObject
	for {
		line, err := rd.ReadString('\n')
		if err == io.EOF && line == "" {
			break
		}
		if err != nil {
			t.Fatalf("cat-file: %v", err)
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("cat-file header %q", line)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatalf("cat-file header %q", line)
		}
		o := gitObject{hash: Hash(plumbing.NewHash(f[0])), typ: f[1], data: make([]byte, size+1)}
		if _, err := io.ReadFull(rd, o.data); err != nil {
			t.Fatalf("cat-file %s: %v", f[0], err)
		}
		o.data = o.data[:size]
		objs = append(objs, o)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cat-file: %v: %s", err, stderr.String())
	}
	return objs
}

// packStats describes the packs of a packSet: objects by the type their
// entry is stored as, the longest delta chain, large offsets used.
type packStats struct {
	objects, refDeltas, ofsDeltas, maxDepth, largeOffsets int
}

func statsOf(t *testing.T, s *packSet) packStats {
	t.Helper()
	var st packStats
	for _, p := range s.packs {
		st.objects += p.idx.n
		st.largeOffsets += len(p.idx.large) / 8
		for i := range p.idx.n {
			off, err := p.idx.offset(i)
			if err != nil {
				t.Fatal(err)
			}
			pp, depth := p, 0
			for {
				h, err := pp.header(off)
				if err != nil {
					t.Fatal(err)
				}
				if depth == 0 {
					switch h.typ {
					case plumbing.REFDeltaObject:
						st.refDeltas++
					case plumbing.OFSDeltaObject:
						st.ofsDeltas++
					}
				}
				if h.typ == plumbing.OFSDeltaObject {
					off = h.baseOff
				} else if h.typ == plumbing.REFDeltaObject {
					var ok bool
					if pp, off, ok, err = s.find(h.base); !ok || err != nil {
						t.Fatalf("base %s of a REF_DELTA not in the packs (%v)", h.base, err)
					}
				} else {
					break
				}
				depth++
			}
			st.maxDepth = max(st.maxDepth, depth)
		}
	}
	return st
}

// assertPacksMatchGit reads every object of the repository through the
// pack reader and compares type and content with git's, byte for byte.
// Every object must come from the packs.
func assertPacksMatchGit(t *testing.T, gitDir string) packStats {
	t.Helper()
	s, err := openPacks(filepath.Join(gitDir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	st := statsOf(t, s)
	objs := gitAllObjects(t, gitDir)
	if len(objs) != st.objects || st.objects == 0 {
		t.Fatalf("git lists %d objects, the packs' indexes %d", len(objs), st.objects)
	}
	for _, o := range objs {
		typ, data, size, err := s.read(o.hash, 1<<30)
		if err != nil {
			t.Fatalf("%s: %v", o.hash, err)
		}
		if typ.String() != o.typ || size != int64(len(o.data)) || !bytes.Equal(data, o.data) {
			t.Fatalf("%s: read %s of %d bytes, git has %s of %d bytes (content equal: %v)",
				o.hash, typ, len(data), o.typ, len(o.data), bytes.Equal(data, o.data))
		}
	}
	// Twice: the second pass reads bases from the cache.
	for _, o := range objs {
		if _, data, _, err := s.read(o.hash, 1<<30); err != nil || !bytes.Equal(data, o.data) {
			t.Fatalf("%s, second read: %v, content equal %v", o.hash, err, bytes.Equal(data, o.data))
		}
	}
	return st
}

// TestPackReaderMatchesGitOnCorpus compares every object of every corpus
// repository as the pack reader reads it with `git cat-file --batch`.
func TestPackReaderMatchesGitOnCorpus(t *testing.T) {
	root := testreq.Corpus(t)
	des, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		t.Run(de.Name(), func(t *testing.T) {
			st := assertPacksMatchGit(t, filepath.Join(root, de.Name(), ".git"))
			t.Logf("%d objects, %d OFS_DELTA, %d REF_DELTA, chains up to %d", st.objects, st.ofsDeltas, st.refDeltas, st.maxDepth)
		})
		n++
	}
	if n != 6 {
		t.Fatalf("%d corpus repositories, want 6", n)
	}
}

// historyRepo makes a repository with a long history of small edits to
// a few files, among them one over 64 KiB (delta copies above 0x10000
// bytes), so that a repack makes long delta chains.
func historyRepo(t testing.TB, commits int) *gittest.Repo {
	t.Helper()
	r := gittest.New(t)
	var stream bytes.Buffer
	// Version c of a file is version c-1 with one more line edited, as
	// a real file evolves: each version is a small delta of the last.
	lines := func(n, version int, word string) string {
		edited := map[int]int{}
		for v := 1; v <= version; v++ {
			edited[(v*37)%n] = v
		}
		var b strings.Builder
		for i := range n {
			if v, ok := edited[i]; ok {
				fmt.Fprintf(&b, "  # line %d edited in version %d\n", i, v)
			}
			fmt.Fprintf(&b, "  systemd.services.%s-%d.enable = %v;\n", word, i, i%5 == 0)
		}
		return b.String()
	}
	for c := range commits {
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\ncommitter Test <test@example.org> %d +0000\n", c+1, 1700000000+c)
		msg := fmt.Sprintf("edit %d", c)
		fmt.Fprintf(&stream, "data %d\n%s\n", len(msg), msg)
		if c > 0 {
			fmt.Fprintf(&stream, "from :%d\n", c)
		}
		files := map[string]string{
			"hosts/a/default.nix": "{\n" + lines(40, c, "a") + "}\n",
			"modules/big.nix":     "{\n" + lines(3000, c/3, "big") + "}\n",
		}
		if c%4 == 0 {
			files[fmt.Sprintf("modules/m%d.nix", c%16)] = "{\n" + lines(60, c, "m") + "}\n"
		}
		for _, p := range []string{"hosts/a/default.nix", "modules/big.nix", fmt.Sprintf("modules/m%d.nix", c%16)} {
			if data, ok := files[p]; ok {
				fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", p, len(data), data)
			}
		}
	}
	r.GitInput(stream.String(), "fast-import", "--quiet")
	r.Git("reset", "-q", "--hard", "main")
	return r
}

// TestPackReaderDeltaChains reads repacks of a long history with git's
// own reader as the oracle: OFS_DELTA chains of 50, REF_DELTA chains
// (repack.useDeltaBaseOffset=false), and a version 2 index that puts
// every offset in the large-offset table.
func TestPackReaderDeltaChains(t *testing.T) {
	r := historyRepo(t, 150)
	gitDir := filepath.Join(r.Dir, ".git")
	t.Run("ofs-delta depth 50", func(t *testing.T) {
		r.Git("repack", "-adfq", "--depth=50", "--window=50")
		st := assertPacksMatchGit(t, gitDir)
		if st.ofsDeltas == 0 || st.refDeltas != 0 || st.maxDepth < 40 {
			t.Fatalf("want OFS_DELTA chains near 50: %+v", st)
		}
	})
	t.Run("ref-delta", func(t *testing.T) {
		r.Git("-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--depth=50", "--window=50")
		st := assertPacksMatchGit(t, gitDir)
		if st.refDeltas == 0 || st.ofsDeltas != 0 || st.maxDepth < 40 {
			t.Fatalf("want REF_DELTA chains near 50: %+v", st)
		}
	})
	t.Run("large offsets", func(t *testing.T) {
		r.Git("repack", "-adfq", "--depth=50", "--window=50")
		pack := onePack(t, gitDir)
		idx := strings.TrimSuffix(pack, ".pack") + ".idx"
		// Offsets above 12 (all but the first object's) go to the
		// 64-bit table; git refuses an index where all of them do.
		r.Git("index-pack", "--index-version=2,12", "-o", idx+".new", pack)
		if err := os.Rename(idx+".new", idx); err != nil {
			t.Fatal(err)
		}
		st := assertPacksMatchGit(t, gitDir)
		if st.largeOffsets != st.objects-1 {
			t.Fatalf("want every offset in the large table: %+v", st)
		}
	})
	t.Run("deep chain", func(t *testing.T) {
		r.Git("repack", "-adfq", "--depth=4095", "--window=250")
		st := assertPacksMatchGit(t, gitDir)
		if st.maxDepth < 100 {
			t.Fatalf("want chains over 100: %+v", st)
		}
		t.Logf("%+v", st)
	})
}

func onePack(t testing.TB, gitDir string) string {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(gitDir, "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("want one pack, have %v", packs)
	}
	return packs[0]
}

// TestFilesFromPacksAndLoose reads revisions of a repository whose
// objects are partly packed and partly loose through Files; each file
// must be git's.
func TestFilesFromPacksAndLoose(t *testing.T) {
	r := historyRepo(t, 30)
	r.Git("repack", "-adfq", "--depth=50")
	r.Commit("loose on top", map[string]string{"hosts/a/default.nix": "{ }\n", "modules/new.nix": "{ x = 1; }\n"})
	repo, err := Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if got := len(repo.packs.packs); got != 1 {
		t.Fatalf("%d packs mapped, want 1", got)
	}
	for _, rev := range []string{"HEAD", "HEAD~1", "HEAD~7", "HEAD~29"} {
		v, files := nixFilesAt(t, repo, rev)
		if len(files) < 2 {
			t.Fatalf("%s: %d files", rev, len(files))
		}
		for _, f := range files {
			want := r.Git("show", v.SHA+":"+f.Path)
			if f.Problem != nil || strings.TrimSpace(string(f.Data)) != want {
				t.Fatalf("%s:%s differs from git (problem %v)", rev, f.Path, f.Problem)
			}
		}
	}
}

// nixFilesAt reads the .nix files of a revision.
func nixFilesAt(t *testing.T, repo *Repo, rev string) (*Revision, []File) {
	t.Helper()
	v, err := repo.Resolve(context.Background(), rev)
	if err != nil {
		t.Fatal(err)
	}
	files, err := v.Files(context.Background(), mustGlobs(t, "**/*.nix"))
	if err != nil {
		t.Fatal(err)
	}
	return v, files
}

// TestPackIndexVersion1Skipped: a version 1 index (git before 1.5.2) is
// not mapped; such a pack is left to go-git.
func TestPackIndexVersion1Skipped(t *testing.T) {
	r := historyRepo(t, 3)
	r.Git("repack", "-adfq")
	gitDir := filepath.Join(r.Dir, ".git")
	pack := onePack(t, gitDir)
	idx := strings.TrimSuffix(pack, ".pack") + ".idx"
	r.Git("index-pack", "--index-version=1", "-o", idx+".new", pack)
	if err := os.Rename(idx+".new", idx); err != nil {
		t.Fatal(err)
	}
	s, err := openPacks(filepath.Join(gitDir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if len(s.packs) != 0 {
		t.Fatalf("%d packs mapped, want none", len(s.packs))
	}
}

// TestFilesPackedTooLarge: a blob over the limit is reported, not
// loaded, whether it is stored whole or as a delta.
func TestFilesPackedTooLarge(t *testing.T) {
	r := historyRepo(t, 10)
	r.Git("repack", "-adfq", "--depth=50")
	repo, err := Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	repo.MaxFileSize = 10_000 // hosts/a/default.nix fits, modules/big.nix does not
	for _, rev := range []string{"HEAD", "HEAD~9"} {
		_, files := nixFilesAt(t, repo, rev)
		for _, f := range files {
			tooLarge := errors.Is(f.Problem, ErrTooLarge)
			if want := f.Path == "modules/big.nix"; tooLarge != want || tooLarge && f.Data != nil {
				t.Fatalf("%s:%s: problem %v, %d bytes", rev, f.Path, f.Problem, len(f.Data))
			}
		}
	}
}

// TestPackReaderAfterClose: reads after Close go to go-git rather than
// to unmapped memory.
func TestPackReaderAfterClose(t *testing.T) {
	r := historyRepo(t, 5)
	r.Git("repack", "-adfq")
	repo, err := Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := repo.Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := v.List(context.Background(), mustGlobs(t, "**/*.nix"))
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := repo.packs.read(entries[0].Hash, MaxFileSize); !errors.Is(err, errNotInPacks) {
		t.Fatalf("read after close: %v, want errNotInPacks", err)
	}
}

// FuzzPackReader feeds corrupt indexes and packs to the decoders: every
// object the index names is read (with a 1 MiB limit), and a few names it
// does not hold. Errors are expected, panics and hangs are not. The
// pack's checksum is not checked here, so that mutations reach the
// object decoding.
func FuzzPackReader(f *testing.F) {
	for _, refDeltas := range []string{"true", "false"} {
		r := historyRepo(f, 4)
		r.Git("-c", "repack.useDeltaBaseOffset="+refDeltas, "repack", "-adfq", "--depth=10")
		pack := onePack(f, filepath.Join(r.Dir, ".git"))
		packData, err := os.ReadFile(pack)
		if err != nil {
			f.Fatal(err)
		}
		idxData, err := os.ReadFile(strings.TrimSuffix(pack, ".pack") + ".idx")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(idxData, packData)
	}
	f.Fuzz(func(t *testing.T, idxData, packData []byte) {
		idx, err := parsePackIndex(idxData)
		if err != nil {
			return
		}
		p := &packFile{path: "fuzz.pack", idx: idx, data: packData}
		if p.check() != nil {
			return
		}
		s := &packSet{packs: []*packFile{p}}
		for i := range min(idx.n, 100) {
			var h Hash
			copy(h[:], idx.names[20*i:])
			typ, data, size, err := s.read(h, 1<<20)
			if err == nil && (int64(len(data)) != size || typ < plumbing.CommitObject || typ > plumbing.TagObject) {
				t.Fatalf("%s: %s of %d bytes, size %d", h, typ, len(data), size)
			}
			h[19] ^= 0xff
			s.read(h, 1<<20)
		}
	})
}

// TestLooseReaderMatchesGitOnCorpus compares every object of loose
// copies of the corpus repositories (git unpack-objects of their packs),
// read from the loose object files, with `git cat-file --batch`.
func TestLooseReaderMatchesGitOnCorpus(t *testing.T) {
	root := testreq.Corpus(t)
	des, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		t.Run(de.Name(), func(t *testing.T) {
			dir := looseCopy(t, filepath.Join(root, de.Name()), filepath.Join(t.TempDir(), "loose"))
			s, err := openPacks(filepath.Join(dir, "objects"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			objs := gitAllObjects(t, dir)
			if len(s.packs) != 0 || len(objs) < 20 {
				t.Fatalf("%d packs, %d objects", len(s.packs), len(objs))
			}
			for _, o := range objs {
				typ, data, _, err := s.readObject(o.hash, 1<<30)
				if err != nil {
					t.Fatalf("%s: %v", o.hash, err)
				}
				if typ.String() != o.typ || !bytes.Equal(data, o.data) {
					t.Fatalf("%s: read %s of %d bytes, git has %s of %d bytes", o.hash, typ, len(data), o.typ, len(o.data))
				}
			}
			if _, data, size, err := s.readObject(objs[0].hash, 0); !errors.Is(err, errObjectTooLarge) || data != nil || size != int64(len(objs[0].data)) && len(objs[0].data) > 0 {
				t.Fatalf("over the limit: %d bytes, size %d, %v", len(data), size, err)
			}
		})
	}
}

// FuzzLooseObject feeds corrupt loose object files to the decoder:
// errors, never a panic or an allocation beyond the limit.
func FuzzLooseObject(f *testing.F) {
	for _, obj := range []string{"blob 5\x00hello", "tree 0\x00", "commit 3\x00abc", "blob 2\x00abc", "blob x\x00", "tag 1"} {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write([]byte(obj))
		w.Close()
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, comp []byte) {
		s := &packSet{}
		typ, data, size, err := s.inflateLoose(comp, 1<<20)
		if err == nil && (int64(len(data)) != size || typ < plumbing.CommitObject || typ > plumbing.TagObject) {
			t.Fatalf("%s of %d bytes, size %d", typ, len(data), size)
		}
	})
}
