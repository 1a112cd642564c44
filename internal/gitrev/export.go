package gitrev

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Export writes every file of the revision's tree into dir, which must
// exist and be empty: regular files with their executable bit, symbolic
// links as links. It is how a revision is handed to a tool that reads
// files (nix-instantiate) without ever touching the work tree. Submodules
// are skipped, as in List.
func (v *Revision) Export(ctx context.Context, dir string) error {
	all, err := ParseGlobs([]string{"**"})
	if err != nil {
		return err
	}
	entries, err := v.List(ctx, all)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := v.repo.exportEntry(e, dir); err != nil {
			return fmt.Errorf("export %s at %s: %w", e.Path, v.SHA, err)
		}
	}
	return nil
}

func (r *Repo) exportEntry(e Entry, dir string) error {
	// Tree paths never hold "." or ".." segments (git refuses them), but
	// a crafted repository could: never write outside dir.
	if strings.HasPrefix(e.Path, "/") || strings.Contains("/"+e.Path+"/", "/../") {
		return fmt.Errorf("unsafe path %q", e.Path)
	}
	dest := filepath.Join(dir, filepath.FromSlash(e.Path))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	blob, err := r.git.BlobObject(plumbing.Hash(e.Hash))
	if err != nil {
		return fmt.Errorf("read blob %s: %w", e.Hash, err)
	}
	rd, err := blob.Reader()
	if err != nil {
		return fmt.Errorf("open blob %s: %w", e.Hash, err)
	}
	defer rd.Close()
	if e.mode == filemode.Symlink {
		target, err := io.ReadAll(io.LimitReader(rd, 4096))
		if err != nil {
			return err
		}
		return os.Symlink(string(target), dest)
	}
	perm := os.FileMode(0o644)
	if e.mode == filemode.Executable {
		perm = 0o755
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rd); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
