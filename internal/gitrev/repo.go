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
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// MaxFileSize bounds the blobs that Files reads; a larger file is reported
// as a per-file problem instead of being loaded into memory.
const MaxFileSize = 16 << 20

var (
	// ErrNotRepository means the directory is not inside a git repository.
	ErrNotRepository = errors.New("not a git repository")
	// ErrUnknownRevision means the revision names no commit.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrAmbiguousRevision means a short sha matches several commits.
	ErrAmbiguousRevision = errors.New("ambiguous revision")
)

// Repo is an open repository.
type Repo struct {
	git      *git.Repository
	workTree string // absolute root of the work tree; "" for a bare repository
	// MaxFileSize bounds the blobs Files reads; Open sets it to MaxFileSize.
	MaxFileSize int64
}

// Open opens the repository that contains dir: a work tree or any of its
// subdirectories (like git rev-parse --show-toplevel), or a bare repository.
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	dir = abs // messages name the directory unambiguously
	r, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		// Detection looks for a .git entry; a bare repository has none
		// and is the directory itself.
		r, err = git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{})
	}
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	repo := &Repo{git: r, MaxFileSize: MaxFileSize}
	wt, err := r.Worktree()
	switch {
	case errors.Is(err, git.ErrIsBareRepository):
	case err != nil:
		return nil, fmt.Errorf("open work tree of %s: %w", dir, err)
	default:
		repo.workTree = wt.Filesystem.Root()
	}
	return repo, nil
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
}

func (r *Repo) revision(c *object.Commit) *Revision {
	summary, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return &Revision{repo: r, commit: c, SHA: c.Hash.String(), Time: c.Committer.When, Summary: summary}
}

// Resolve finds the commit that rev names: HEAD, a branch, a tag (an
// annotated tag is followed to its commit), a remote-tracking ref such as
// origin/main, a full or short sha (at least 4 hex digits), or any of these
// with ~N / ^N suffixes. A name that is both a ref and a sha prefix resolves
// to the ref, as git does. A short sha shared by several commits is an
// ErrAmbiguousRevision that lists them.
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
	if len(rev) == 2*len(plumbing.ZeroHash) && isHex(rev) {
		// A full sha wins over a ref of the same name, as in git.
		return r.resolvePrefix(rev)
	}
	if isPlainName(rev) {
		if h, ok, err := r.resolveRef(rev); ok || err != nil {
			return h, err
		}
		if isHex(rev) && len(rev) >= 4 {
			return r.resolvePrefix(rev)
		}
		if rev == "HEAD" {
			return plumbing.ZeroHash, fmt.Errorf("%w %q (the repository has no commits yet)", ErrUnknownRevision, rev)
		}
		return plumbing.ZeroHash, fmt.Errorf("%w %q", ErrUnknownRevision, rev)
	}
	// Suffixes (~, ^, @{...}) are left to go-git's revision parser.
	h, err := r.git.ResolveRevision(plumbing.Revision(rev))
	switch {
	case err == nil:
		return *h, nil
	case errors.Is(err, plumbing.ErrReferenceNotFound), errors.Is(err, plumbing.ErrObjectNotFound),
		errors.Is(err, io.EOF), // ~N or ^N past the root commit
		isRevisionSyntaxError(err):
		return plumbing.ZeroHash, fmt.Errorf("%w %q", ErrUnknownRevision, rev)
	default:
		return plumbing.ZeroHash, fmt.Errorf("resolve %q: %w", rev, err)
	}
}

func isRevisionSyntaxError(err error) bool {
	// go-git's revision parser returns unexported error types; its messages
	// are stable enough to classify them as "not a revision".
	return strings.Contains(err.Error(), "revision")
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

// isPlainName reports a revision without ~, ^, @{ or : operators.
func isPlainName(rev string) bool {
	return !strings.ContainsAny(rev, "~^:") && !strings.Contains(rev, "@{")
}
