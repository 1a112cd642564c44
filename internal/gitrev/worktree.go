package gitrev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
)

// Dirty says how the work tree differs from a revision, for the files
// matching the globs only. Paths are slash paths relative to the root.
type Dirty struct {
	// NoWorkTree is set for a bare repository: there is nothing to compare.
	NoWorkTree bool
	Modified   []string // in both, different content
	Deleted    []string // in the revision, not in the work tree
	Untracked  []string // in the work tree, not in the revision (ignored or not)
}

// Clean reports whether the work tree matches the revision.
func (d Dirty) Clean() bool {
	return len(d.Modified) == 0 && len(d.Deleted) == 0 && len(d.Untracked) == 0
}

// Dirty compares the work tree with the revision, for the files matching
// globs only; unlike go-git's Status it never reads the rest of the tree.
// Contents are compared by hashing the work-tree file as a git blob, so
// neither the index nor stat caches are involved. The file mode (the
// executable bit) is not compared. A file that is not in the revision is
// untracked whether or not .gitignore ignores it: a build from the work
// tree reads an ignored module file all the same, so the host may run what
// only that file declares.
func (r *Repo) Dirty(ctx context.Context, v *Revision, globs Globs) (Dirty, error) {
	if r.workTree == "" {
		return Dirty{NoWorkTree: true}, nil
	}
	d, err := v.compareDir(ctx, r.workTree, globs)
	if err != nil {
		return Dirty{}, fmt.Errorf("compare work tree with %s: %w", v.SHA, err)
	}
	return Dirty{Modified: d.Differing, Deleted: d.Missing, Untracked: d.Extra}, nil
}

// SourceDiff says how a directory of sources differs from a revision.
type SourceDiff struct {
	Differing []string // in both, different content
	Missing   []string // in the revision, not in the directory
	Extra     []string // in the directory, not in the revision
}

// Same reports whether the directory holds exactly the revision's files.
func (d SourceDiff) Same() bool {
	return len(d.Differing) == 0 && len(d.Missing) == 0 && len(d.Extra) == 0
}

// CompareDir compares the files matching globs under dir (the copy a host
// was built from; it need not be a git repository) with the revision.
// Contents are compared through their git blob hashes (SHA-1 with
// collision detection), which is a byte comparison without reading the
// revision's blobs. Nothing is ignored except .git directories.
func (v *Revision) CompareDir(ctx context.Context, dir string, globs Globs) (SourceDiff, error) {
	if fi, err := os.Stat(dir); err != nil {
		return SourceDiff{}, fmt.Errorf("source directory: %w", err)
	} else if !fi.IsDir() {
		return SourceDiff{}, fmt.Errorf("source directory %s: not a directory", dir)
	}
	d, err := v.compareDir(ctx, dir, globs)
	if err != nil {
		return SourceDiff{}, fmt.Errorf("compare %s with %s: %w", dir, v.SHA, err)
	}
	return d, nil
}

func (v *Revision) compareDir(ctx context.Context, dir string, globs Globs) (SourceDiff, error) {
	entries, err := v.List(ctx, globs)
	if err != nil {
		return SourceDiff{}, err
	}
	var d SourceDiff
	inRev := make(map[string]bool, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return SourceDiff{}, err
		}
		inRev[e.Path] = true
		h, found, err := hashFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		switch {
		case err != nil:
			return SourceDiff{}, err
		case !found:
			d.Missing = append(d.Missing, e.Path)
		case Hash(h) != e.Hash:
			d.Differing = append(d.Differing, e.Path)
		}
	}
	w := dirWalker{root: dir, globs: globs, inRev: inRev}
	if err := w.walk(ctx, ""); err != nil {
		return SourceDiff{}, err
	}
	d.Extra = w.extra
	sort.Strings(d.Extra)
	return d, nil
}

// hashFile hashes the file at p as a git blob. A symbolic link hashes as
// its target, as git stores it. found is false when p does not exist or is
// a directory.
func hashFile(p string) (h plumbing.Hash, found bool, err error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return plumbing.ZeroHash, false, nil
	}
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("stat %s: %w", p, err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("read link %s: %w", p, err)
		}
		return plumbing.ComputeHash(plumbing.BlobObject, []byte(filepath.ToSlash(target))), true, nil
	case !fi.Mode().IsRegular():
		return plumbing.ZeroHash, false, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("open %s: %w", p, err)
	}
	defer f.Close()
	hasher := plumbing.NewHasher(plumbing.BlobObject, fi.Size())
	n, err := io.Copy(hasher, f)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("read %s: %w", p, err)
	}
	if n != fi.Size() {
		return plumbing.ZeroHash, false, fmt.Errorf("read %s: size changed while reading", p)
	}
	return hasher.Sum(), true, nil
}

// dirWalker finds files matching the globs that the revision lacks.
type dirWalker struct {
	root  string
	globs Globs
	inRev map[string]bool
	extra []string
}

func (w *dirWalker) walk(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	osDir := filepath.Join(w.root, filepath.FromSlash(dir))
	des, err := os.ReadDir(osDir)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", osDir, err)
	}
	for _, de := range des {
		p := path.Join(dir, de.Name())
		switch {
		case de.IsDir():
			if de.Name() == ".git" || !w.globs.MayMatchUnder(p) {
				continue
			}
			if err := w.walk(ctx, p); err != nil {
				return err
			}
		case de.Type().IsRegular() || de.Type()&fs.ModeSymlink != 0:
			if !w.inRev[p] && w.globs.Match(p) {
				w.extra = append(w.extra, p)
			}
		}
	}
	return nil
}
