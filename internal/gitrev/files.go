package gitrev

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Per-file problems. Files reports them in File.Problem, wrapped with
// detail, and carries on with the other files.
var (
	ErrTooLarge    = errors.New("file too large")
	ErrBinary      = errors.New("binary file (contains a NUL byte)")
	ErrInvalidUTF8 = errors.New("not valid UTF-8")
	ErrSymlink     = errors.New("symbolic link, not followed")
)

// Hash is a git object name (SHA-1).
type Hash [20]byte

// String is the hash in hex.
func (h Hash) String() string { return plumbing.Hash(h).String() }

// IsZero reports the zero hash, which names no object.
func (h Hash) IsZero() bool { return h == Hash{} }

// Entry is a file of a revision's tree.
type Entry struct {
	Path string // slash path relative to the repository root
	Hash Hash   // the blob's hash
	mode filemode.FileMode
}

// File is a file of a revision with its content. When Problem is set, Data
// is nil and the file could not be used; the problem is specific to this
// file (too large, binary, invalid UTF-8, a symbolic link).
type File struct {
	Path string
	// Hash is the blob's hash: two files with the same Hash have the same
	// content, in this revision or any other (callers cache work on a
	// file by it). It is set whether or not there is a Problem.
	Hash    Hash
	Data    []byte
	Problem error
}

// List returns the files of the revision's tree that match globs, sorted by
// path. Directories that cannot hold a match are not read; submodules are
// skipped.
func (v *Revision) List(ctx context.Context, globs Globs) ([]Entry, error) {
	return v.list(ctx, globs, v.repo.listCache(globs))
}

// subtreeCache remembers the matching entries under a directory by the
// directory's tree hash. Walking history, most commits leave the module
// directories untouched, so their subtrees are listed once, and reading a
// revision that History listed does not walk its subtrees again.
type subtreeCache map[subtreeKey][]Entry

// listCache is the repository's subtree cache for globs. Trees are named
// by their content, so an entry never goes stale; the cache lives as long
// as the Repo.
func (r *Repo) listCache(globs Globs) subtreeCache {
	if r.lists == nil {
		r.lists = map[string]subtreeCache{}
	}
	key := strings.Join(globs.raw, "\x00")
	c, ok := r.lists[key]
	if !ok {
		c = subtreeCache{}
		r.lists[key] = c
	}
	return c
}

type subtreeKey struct {
	hash plumbing.Hash
	dir  string
}

func (v *Revision) list(ctx context.Context, globs Globs, cache subtreeCache) ([]Entry, error) {
	tree, err := v.commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", v.SHA, err)
	}
	var entries []Entry
	if err := v.repo.walkTree(ctx, tree, "", globs, cache, &entries); err != nil {
		return nil, fmt.Errorf("list files of %s: %w", v.SHA, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries, nil
}

func (r *Repo) walkTree(ctx context.Context, tree *object.Tree, dir string, globs Globs, cache subtreeCache, out *[]Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range tree.Entries {
		p := path.Join(dir, e.Name)
		switch e.Mode {
		case filemode.Dir:
			if !globs.MayMatchUnder(p) {
				continue
			}
			key := subtreeKey{e.Hash, p}
			if cached, ok := cache[key]; ok {
				*out = append(*out, cached...)
				continue
			}
			sub, err := r.git.TreeObject(e.Hash)
			if err != nil {
				return fmt.Errorf("read tree %s: %w", p, err)
			}
			start := len(*out)
			if err := r.walkTree(ctx, sub, p, globs, cache, out); err != nil {
				return err
			}
			if cache != nil {
				cache[key] = append([]Entry(nil), (*out)[start:]...)
			}
		case filemode.Regular, filemode.Executable, filemode.Deprecated, filemode.Symlink:
			if !globs.Match(p) {
				continue
			}
			*out = append(*out, Entry{Path: p, Hash: Hash(e.Hash), mode: e.Mode})
		}
	}
	return nil
}

// Files lists the files matching globs (see List) and reads them.
// Problems with single files are reported per file; the error is for
// failures that make the whole answer unreliable, such as a corrupt object.
func (v *Revision) Files(ctx context.Context, globs Globs) ([]File, error) {
	entries, err := v.List(ctx, globs)
	if err != nil {
		return nil, err
	}
	files := make([]File, 0, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := v.Read(e)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func (r *Repo) readEntry(e Entry) (File, error) {
	f := File{Path: e.Path, Hash: e.Hash}
	if r.packs != nil {
		typ, data, size, err := r.packs.readObject(e.Hash, r.MaxFileSize)
		switch {
		case err == nil && typ != plumbing.BlobObject:
			return f, fmt.Errorf("read blob %s: it is a %s", e.Hash, typ)
		case err == nil:
			if f.Problem = contentProblem(e.mode, data); f.Problem == nil {
				f.Data = data
			}
			return f, nil
		case errors.Is(err, errObjectTooLarge):
			f.Problem = fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, r.MaxFileSize)
			return f, nil
		case !errors.Is(err, errNotInPacks):
			return f, fmt.Errorf("read blob %s: %w", e.Hash, err)
		}
	}
	obj, err := r.git.Storer.EncodedObject(plumbing.BlobObject, plumbing.Hash(e.Hash))
	if err != nil {
		return f, fmt.Errorf("read blob %s: %w", e.Hash, err)
	}
	size := obj.Size()
	if size > r.MaxFileSize {
		f.Problem = fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, r.MaxFileSize)
		return f, nil
	}
	rd, err := obj.Reader()
	if err != nil {
		return f, fmt.Errorf("open blob %s: %w", e.Hash, err)
	}
	defer rd.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(rd, data); err != nil {
		return f, fmt.Errorf("read blob %s: %d bytes expected: %w (corrupt object?)", e.Hash, size, err)
	}
	f.Problem = contentProblem(e.mode, data)
	if f.Problem == nil {
		f.Data = data
	}
	return f, nil
}

func contentProblem(mode filemode.FileMode, data []byte) error {
	switch {
	case mode == filemode.Symlink:
		return fmt.Errorf("%w (points to %q)", ErrSymlink, data)
	case bytes.IndexByte(data, 0) >= 0:
		return ErrBinary
	case !utf8.Valid(data):
		return ErrInvalidUTF8
	}
	return nil
}

// Read reads one entry that List returned, with the same per-file
// problems as Files. Reading is not safe for concurrent use: read from
// one goroutine and hand the files to others.
func (v *Revision) Read(e Entry) (File, error) {
	f, err := v.repo.readEntry(e)
	if err != nil {
		return f, fmt.Errorf("read %s at %s: %w", e.Path, v.SHA, err)
	}
	return f, nil
}

// IsSymlink reports whether the entry is a symbolic link.
func (e Entry) IsSymlink() bool { return e.mode == filemode.Symlink }
