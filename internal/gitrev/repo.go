// Package gitrev reads a git repository at a revision, in pure Go (go-git),
// never through the work tree: resolving revisions, listing and reading the
// files that match globs, walking the history of those files, and comparing
// the revision with a work tree or a deployed copy of the sources.
package gitrev

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// MaxFileSize bounds the blobs that Files reads; a larger file is reported
// as a per-file problem instead of being loaded into memory.
const MaxFileSize = 16 << 20

var (
	// ErrNotRepository means the directory is not inside a git repository.
	ErrNotRepository = errors.New("not a git repository")
	// ErrUnknownRevision means the revision names no commit.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrUnsupportedRevision means revision syntax driftcheck does not
	// accept (rev:path, rev^{type}, reflog entries, ranges).
	ErrUnsupportedRevision = errors.New("unsupported revision")
	// ErrAmbiguousRevision means a short sha matches several commits.
	ErrAmbiguousRevision = errors.New("ambiguous revision")
)

// Repo is an open repository. It is not safe for concurrent use.
type Repo struct {
	git   *git.Repository
	store *filesystem.Storage // nil unless the storage keeps descriptors
	// packs reads objects from the mapped pack files; nil when the
	// storage is not go-git's file system storage.
	packs    *packSet
	workTree string // absolute root of the work tree; "" for a bare repository
	// shallow holds the boundary commits of a shallow clone: their
	// parents are not in the repository.
	shallow map[plumbing.Hash]bool
	// lists caches the matching entries of subtrees, per set of globs.
	lists map[string]subtreeCache
	// MaxFileSize bounds the blobs Files reads; Open sets it to MaxFileSize.
	MaxFileSize int64
}

// Open opens the repository that contains dir: a work tree or any of its
// subdirectories (like git rev-parse --show-toplevel), or a bare repository.
func Open(dir string) (*Repo, error) {
	return open(dir, true)
}

// open is Open; mapPacks false leaves every object read to go-git (the
// benchmarks' comparison).
func open(dir string, mapPacks bool) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	dir = abs // messages name the directory unambiguously
	// Like git, a directory that is itself a git directory (a bare
	// repository) wins over a work tree found further up.
	opts := &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true}
	if isGitDir(abs) {
		opts = &git.PlainOpenOptions{}
	}
	r, err := git.PlainOpenWithOptions(abs, opts)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	repo := &Repo{git: r, MaxFileSize: MaxFileSize}
	wt, err := r.Worktree()
	var wtFS billy.Filesystem
	switch {
	case errors.Is(err, git.ErrIsBareRepository):
	case err != nil:
		return nil, fmt.Errorf("open work tree of %s: %w", dir, err)
	default:
		repo.workTree = wt.Filesystem.Root()
		wtFS = wt.Filesystem
	}
	// Reopen the same git directory with storage that keeps pack files
	// open: go-git otherwise reopens (and re-resolves the path of) the
	// pack for every object it reads.
	if st, ok := r.Storer.(*filesystem.Storage); ok {
		repo.store = filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(),
			filesystem.Options{KeepDescriptors: true, LargeObjectThreshold: MaxFileSize})
		var storage storage.Storer = repo.store
		if mapPacks {
			if repo.packs, err = openRepoPacks(st.Filesystem()); err != nil {
				return nil, fmt.Errorf("open packs of %s: %w", dir, err)
			}
		}
		if repo.packs != nil {
			storage = newPackedStorage(repo.store, repo.packs)
		}
		if repo.git, err = git.Open(storage, wtFS); err != nil {
			return nil, fmt.Errorf("open repository %s: %w", dir, err)
		}
	}
	boundary, err := repo.git.Storer.Shallow()
	if err != nil {
		return nil, fmt.Errorf("read shallow boundary of %s: %w", dir, err)
	}
	repo.shallow = make(map[plumbing.Hash]bool, len(boundary))
	for _, h := range boundary {
		repo.shallow[h] = true
	}
	return repo, nil
}

// Close releases the pack files the repository keeps open or mapped. A
// Repo that is never closed holds them until it is garbage collected.
func (r *Repo) Close() error {
	if r.store == nil {
		return nil
	}
	var errs []error
	if r.packs != nil {
		errs = append(errs, r.packs.close())
	}
	return errors.Join(append(errs, r.store.Close())...)
}

// openRepoPacks maps the packs of the objects directory of the git
// directory fs (the common directory of a linked work tree).
func openRepoPacks(fs billy.Filesystem) (*packSet, error) {
	objects, err := fs.Chroot("objects")
	if err != nil {
		return nil, err
	}
	return openPacks(objects.Root())
}

// isGitDir reports a directory laid out as a git directory: HEAD, objects
// and refs, as git's own discovery checks.
func isGitDir(dir string) bool {
	for _, name := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// WorkTree returns the root of the work tree, or "" for a bare repository.
func (r *Repo) WorkTree() string { return r.workTree }

// Revision is one commit of the repository.
type Revision struct {
	repo   *Repo
	commit *object.Commit
	// SHA is the full commit hash in hex.
	SHA string
	// Time is the committer date.
	Time time.Time
	// Summary is the first line of the commit message.
	Summary string
	// ShallowBoundary is set for a commit whose parents a shallow clone
	// left out: history cannot be read past it.
	ShallowBoundary bool
}

func (r *Repo) revision(c *object.Commit) *Revision {
	summary, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return &Revision{repo: r, commit: c, SHA: c.Hash.String(), Time: c.Committer.When, Summary: summary,
		ShallowBoundary: r.shallow[c.Hash]}
}

// Resolve finds the commit that rev names: HEAD, a branch, a tag (an
// annotated tag is followed to its commit), a remote-tracking ref such as
// origin/main, a full or short sha (at least 4 hex digits), or any of these
// with ~N / ^N suffixes; other syntax is an ErrUnsupportedRevision. A name
// that is both a ref and a sha prefix resolves to the ref, as git does. A
// short sha shared by several commits is an ErrAmbiguousRevision that
// lists them.
func (r *Repo) Resolve(ctx context.Context, rev string) (*Revision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rev == "" {
		return nil, fmt.Errorf("%w: empty name", ErrUnknownRevision)
	}
	h, err := r.resolveHash(rev)
	if err != nil {
		return nil, err
	}
	c, err := r.git.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s (from %q): %w", h, rev, err)
	}
	return r.revision(c), nil
}

func (r *Repo) resolveHash(rev string) (plumbing.Hash, error) {
	base, steps, err := parseRevision(rev)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	h, err := r.resolveName(base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for _, st := range steps {
		if h, err = r.walkParents(h, st); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%w %q: %w", ErrUnknownRevision, rev, err)
		}
	}
	return h, nil
}

// resolveName resolves a revision without suffixes: a full sha, a ref, or
// a short sha.
func (r *Repo) resolveName(name string) (plumbing.Hash, error) {
	if len(name) == 2*len(plumbing.ZeroHash) && isHex(name) {
		// A full sha wins over a ref of the same name, as in git.
		return r.resolvePrefix(name)
	}
	if h, ok, err := r.resolveRef(name); ok || err != nil {
		return h, err
	}
	if isHex(name) && len(name) >= 4 {
		return r.resolvePrefix(name)
	}
	if name == "HEAD" {
		return plumbing.ZeroHash, fmt.Errorf("%w %q (the repository has no commits yet)", ErrUnknownRevision, name)
	}
	return plumbing.ZeroHash, fmt.Errorf("%w %q", ErrUnknownRevision, name)
}

// parentStep is one ~N (N first parents) or ^N (the Nth parent; ^0 is
// the commit itself) suffix.
type parentStep struct {
	tilde bool
	n     int
}

// parseRevision splits NAME~N^M… into the name and its suffixes. Other
// git revision syntax (rev:path, rev^{type}, @{…} reflog entries, ranges)
// is refused rather than half-understood: go-git silently ignores some of
// it, which would check a different revision than the one asked for.
func parseRevision(rev string) (string, []parentStep, error) {
	if rev == "" {
		return "", nil, fmt.Errorf("%w: empty name", ErrUnknownRevision)
	}
	if strings.ContainsAny(rev, ":{} \t\n") || strings.Contains(rev, "..") || strings.Contains(rev, "@{") || rev == "@" || strings.HasPrefix(rev, "-") {
		return "", nil, fmt.Errorf("%w %q: use a branch, tag, remote-tracking ref or sha, optionally followed by ~N or ^N", ErrUnsupportedRevision, rev)
	}
	i := strings.IndexAny(rev, "~^")
	if i < 0 {
		return rev, nil, nil
	}
	base, rest := rev[:i], rev[i:]
	if base == "" {
		return "", nil, fmt.Errorf("%w %q: no name before %q", ErrUnsupportedRevision, rev, rest[:1])
	}
	var steps []parentStep
	for rest != "" {
		op := rest[0]
		rest = rest[1:]
		j := 0
		for j < len(rest) && '0' <= rest[j] && rest[j] <= '9' {
			j++
		}
		n := 1
		if j > 0 {
			v, err := strconv.Atoi(rest[:j])
			if err != nil || v > 1<<20 {
				return "", nil, fmt.Errorf("%w %q: bad number %q", ErrUnsupportedRevision, rev, rest[:j])
			}
			n = v
		}
		if j < len(rest) && rest[j] != '~' && rest[j] != '^' {
			return "", nil, fmt.Errorf("%w %q: unexpected %q", ErrUnsupportedRevision, rev, rest[j:])
		}
		steps = append(steps, parentStep{tilde: op == '~', n: n})
		rest = rest[j:]
	}
	return base, steps, nil
}

func (r *Repo) walkParents(h plumbing.Hash, st parentStep) (plumbing.Hash, error) {
	c, err := r.git.CommitObject(h)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", h, err)
	}
	if !st.tilde {
		if st.n == 0 {
			return h, nil
		}
		if st.n > len(c.ParentHashes) {
			return plumbing.ZeroHash, fmt.Errorf("commit %.12s has %d parents", h, len(c.ParentHashes))
		}
		if r.shallow[h] {
			return plumbing.ZeroHash, fmt.Errorf("the parents of %.12s are not in the repository (shallow clone: fetch more history)", h)
		}
		return c.ParentHashes[st.n-1], nil
	}
	for range st.n {
		if len(c.ParentHashes) == 0 {
			return plumbing.ZeroHash, fmt.Errorf("history of %.12s ends before %d generations", h, st.n)
		}
		if r.shallow[c.Hash] {
			return plumbing.ZeroHash, fmt.Errorf("history of %.12s is cut at %.12s (shallow clone: fetch more history)", h, c.Hash)
		}
		if c, err = r.git.CommitObject(c.ParentHashes[0]); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read parent commit: %w", err)
		}
	}
	return c.Hash, nil
}

// resolveRef expands name with git's rules (name, refs/name, refs/tags/name,
// refs/heads/name, refs/remotes/name, refs/remotes/name/HEAD) and peels tags.
func (r *Repo) resolveRef(name string) (plumbing.Hash, bool, error) {
	for _, rule := range plumbing.RefRevParseRules {
		full := fmt.Sprintf(rule, name)
		ref, err := storer.ResolveReference(r.git.Storer, plumbing.ReferenceName(full))
		if errors.Is(err, plumbing.ErrReferenceNotFound) || err != nil && !strings.HasPrefix(full, "refs/") {
			// Names outside refs/ other than HEAD and its kin are not
			// refs; go-git refuses to look them up.
			continue
		}
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("read ref %q: %w", name, err)
		}
		if ref.Hash().IsZero() {
			return plumbing.ZeroHash, false, fmt.Errorf("ref %q holds no valid object name (corrupt repository?)", name)
		}
		h, err := r.peel(ref.Hash())
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("ref %q: %w", name, err)
		}
		return h, true, nil
	}
	return plumbing.ZeroHash, false, nil
}

// peel follows annotated tags (possibly nested) down to a commit.
func (r *Repo) peel(h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 {
		obj, err := r.git.Storer.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read object %s: %w", h, err)
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			return h, nil
		case plumbing.TagObject:
			tag, err := object.DecodeTag(r.git.Storer, obj)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tag %s: %w", h, err)
			}
			h = tag.Target
		default:
			return plumbing.ZeroHash, fmt.Errorf("%s is a %s, not a commit", h, obj.Type())
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("tag chain at %s too long", h)
}

// resolvePrefix finds the commits whose sha starts with prefix. Tags are
// peeled; other objects (trees, blobs) are ignored, as git does when it
// expects a commit.
func (r *Repo) resolvePrefix(prefix string) (plumbing.Hash, error) {
	prefix = strings.ToLower(prefix)
	candidates, err := r.hashesWithPrefix(prefix)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("look up %q: %w", prefix, err)
	}
	commits := map[plumbing.Hash]bool{}
	for _, h := range candidates {
		c, err := r.peel(h)
		if err != nil {
			continue // a tree or blob, not a commit
		}
		commits[c] = true
	}
	switch len(commits) {
	case 0:
		return plumbing.ZeroHash, fmt.Errorf("%w %q", ErrUnknownRevision, prefix)
	case 1:
		for c := range commits {
			return c, nil
		}
	}
	var names []string
	for c := range commits {
		names = append(names, c.String())
	}
	sort.Strings(names)
	return plumbing.ZeroHash, fmt.Errorf("%w %q: matches %d commits (%s)", ErrAmbiguousRevision, prefix, len(names), strings.Join(names, ", "))
}

func (r *Repo) hashesWithPrefix(prefix string) ([]plumbing.Hash, error) {
	if len(prefix) == 2*len(plumbing.ZeroHash) {
		return []plumbing.Hash{plumbing.NewHash(prefix)}, nil
	}
	whole, err := hex.DecodeString(prefix[:len(prefix)&^1])
	if err != nil {
		return nil, err
	}
	type prefixLookup interface {
		HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
	}
	var found []plumbing.Hash
	if st, ok := r.git.Storer.(prefixLookup); ok {
		if found, err = st.HashesWithPrefix(whole); err != nil {
			return nil, err
		}
	} else {
		iter, err := r.git.Storer.IterEncodedObjects(plumbing.AnyObject)
		if err != nil {
			return nil, err
		}
		err = iter.ForEach(func(o plumbing.EncodedObject) error {
			if strings.HasPrefix(o.Hash().String(), prefix) {
				found = append(found, o.Hash())
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var hashes []plumbing.Hash
	for _, h := range found {
		if strings.HasPrefix(h.String(), prefix) {
			hashes = append(hashes, h)
		}
	}
	return hashes, nil
}

// LookupCommit finds the commit with a full or abbreviated (at least 4
// hex digits) sha. Unlike Resolve it never reads a ref, so a branch that
// happens to be named like a sha cannot stand in for a commit id a host
// reported. An id that names no commit is an ErrUnknownRevision; one that
// matches several, an ErrAmbiguousRevision.
func (r *Repo) LookupCommit(ctx context.Context, id string) (*Revision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(id) < 4 || len(id) > 2*len(plumbing.ZeroHash) || !isHex(id) {
		return nil, fmt.Errorf("%w %q: not a commit id", ErrUnknownRevision, id)
	}
	h, err := r.resolvePrefix(id)
	if err != nil {
		return nil, err
	}
	c, err := r.git.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return r.revision(c), nil
}

// HasCommit reports whether the repository holds the commit with the full
// hex sha; the host-provenance check uses it for a deployed revision.
func (r *Repo) HasCommit(sha string) (bool, error) {
	if len(sha) != 2*len(plumbing.ZeroHash) || !isHex(sha) {
		return false, fmt.Errorf("%q is not a full commit sha", sha)
	}
	_, err := r.git.CommitObject(plumbing.NewHash(sha))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, plumbing.ErrObjectNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("read commit %s: %w", sha, err)
	}
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
