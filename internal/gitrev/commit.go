package gitrev

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// This file is gitrev's only write path: reconcile --apply. It adds
// objects (blobs, trees, one commit) and creates one new branch ref. It
// never touches the work tree, the index, HEAD or an existing ref.

// ErrBranchExists means the branch a commit was to be written on exists.
var ErrBranchExists = errors.New("branch exists")

// Change is one file of a new commit: its new content, or its deletion.
type Change struct {
	Path   string // slash path relative to the repository root
	Data   []byte
	Delete bool
}

// Signature is the author and committer of a new commit.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Identity is user.name and user.email from the repository's and the
// user's git configuration, or "" when unset.
func (r *Repo) Identity() (name, email string) {
	for _, scope := range []config.Scope{config.LocalScope, config.GlobalScope} {
		cfg, err := r.git.ConfigScoped(scope)
		if err != nil {
			continue
		}
		if name == "" {
			name = cfg.User.Name
		}
		if email == "" {
			email = cfg.User.Email
		}
	}
	return name, email
}

// BranchExists reports whether refs/heads/<branch> exists.
func (r *Repo) BranchExists(branch string) (bool, error) {
	_, err := r.git.Storer.Reference(plumbing.NewBranchReferenceName(branch))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("read branch %s: %w", branch, err)
	}
}

// CommitOnNewBranch writes one commit whose only parent is parent, with
// the parent's tree changed by changes, and creates branch pointing at
// it. It refuses (ErrBranchExists) when the branch exists. It returns the
// new commit's hash.
func (r *Repo) CommitOnNewBranch(ctx context.Context, parent *Revision, branch string, changes []Change, message string, sig Signature) (string, error) {
	ref := plumbing.NewBranchReferenceName(branch)
	if err := ref.Validate(); err != nil || strings.TrimSpace(branch) == "" {
		return "", fmt.Errorf("branch name %q is not valid", branch)
	}
	if exists, err := r.BranchExists(branch); err != nil {
		return "", err
	} else if exists {
		return "", fmt.Errorf("%w: %s (reconcile never moves an existing branch; pass --branch NAME)", ErrBranchExists, branch)
	}
	byPath := map[string]Change{}
	for _, c := range changes {
		p := path.Clean(c.Path)
		if p == "." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
			return "", fmt.Errorf("change %q: not a path inside the repository", c.Path)
		}
		byPath[p] = c
	}
	root, err := parent.commit.Tree()
	if err != nil {
		return "", fmt.Errorf("read tree of %s: %w", parent.SHA, err)
	}
	treeHash, _, err := r.rewriteTree(ctx, root, byPath)
	if err != nil {
		return "", err
	}
	sign := object.Signature{Name: sig.Name, Email: sig.Email, When: sig.When}
	commit := &object.Commit{
		Author: sign, Committer: sign, Message: message,
		TreeHash: treeHash, ParentHashes: []plumbing.Hash{parent.commit.Hash},
	}
	hash, err := r.writeObject(commit.Encode)
	if err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	// Checked again just before writing: the ref must still be new.
	if exists, err := r.BranchExists(branch); err != nil {
		return "", err
	} else if exists {
		return "", fmt.Errorf("%w: %s", ErrBranchExists, branch)
	}
	if err := r.git.Storer.SetReference(plumbing.NewHashReference(ref, hash)); err != nil {
		return "", fmt.Errorf("create branch %s: %w", branch, err)
	}
	return hash.String(), nil
}

// rewriteTree writes the tree with changes (paths relative to it)
// applied. empty is set when nothing is left in it.
func (r *Repo) rewriteTree(ctx context.Context, tree *object.Tree, changes map[string]Change) (hash plumbing.Hash, empty bool, err error) {
	if err := ctx.Err(); err != nil {
		return plumbing.ZeroHash, false, err
	}
	files := map[string]Change{}
	dirs := map[string]map[string]Change{}
	for p, c := range changes {
		if first, rest, nested := strings.Cut(p, "/"); nested {
			if dirs[first] == nil {
				dirs[first] = map[string]Change{}
			}
			dirs[first][rest] = c
		} else {
			files[p] = c
		}
	}
	var entries []object.TreeEntry
	seen := map[string]bool{}
	for _, e := range treeEntries(tree) {
		seen[e.Name] = true
		if c, ok := files[e.Name]; ok {
			if c.Delete {
				continue
			}
			mode := e.Mode
			if mode != filemode.Executable {
				mode = filemode.Regular
			}
			h, err := r.blob(c.Data)
			if err != nil {
				return plumbing.ZeroHash, false, err
			}
			entries = append(entries, object.TreeEntry{Name: e.Name, Mode: mode, Hash: h})
			continue
		}
		if sub, ok := dirs[e.Name]; ok && e.Mode == filemode.Dir {
			subtree, err := r.git.TreeObject(e.Hash)
			if err != nil {
				return plumbing.ZeroHash, false, fmt.Errorf("read tree %s: %w", e.Name, err)
			}
			h, empty, err := r.rewriteTree(ctx, subtree, sub)
			if err != nil {
				return plumbing.ZeroHash, false, err
			}
			if !empty {
				entries = append(entries, object.TreeEntry{Name: e.Name, Mode: filemode.Dir, Hash: h})
			}
			continue
		}
		if _, ok := dirs[e.Name]; ok {
			return plumbing.ZeroHash, false, fmt.Errorf("%s is a file, not a directory", e.Name)
		}
		entries = append(entries, e)
	}
	for name, c := range files {
		if seen[name] || c.Delete {
			continue
		}
		h, err := r.blob(c.Data)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
	}
	for name, sub := range dirs {
		if seen[name] {
			continue
		}
		h, empty, err := r.rewriteTree(ctx, &object.Tree{}, sub)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if !empty {
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, true, nil
	}
	// Git orders entries by name, a directory as if its name ended in "/".
	sortKey := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return sortKey(entries[i]) < sortKey(entries[j]) })
	out := &object.Tree{Entries: entries}
	h, err := r.writeObject(out.Encode)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("write tree: %w", err)
	}
	return h, false, nil
}

func treeEntries(t *object.Tree) []object.TreeEntry {
	if t == nil {
		return nil
	}
	return t.Entries
}

func (r *Repo) blob(data []byte) (plumbing.Hash, error) {
	h, err := r.writeObject(func(o plumbing.EncodedObject) error {
		o.SetType(plumbing.BlobObject)
		o.SetSize(int64(len(data)))
		w, err := o.Writer()
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return h, nil
}

// writeObject encodes one object into the object database.
func (r *Repo) writeObject(encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
	o := r.git.Storer.NewEncodedObject()
	if err := encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.git.Storer.SetEncodedObject(o)
}
