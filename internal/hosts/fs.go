package hosts

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/eval"
)

// FS is a revision's tree as host discovery reads it: the file seam of
// the Nix evaluators (internal/nix/eval.Files), slash paths relative to
// the repository root, "" being the root itself. The core of this package
// does no I/O of its own; callers pass an FS over git objects (see
// internal/hosts/revfs) or, in tests, a MapFS. ReadFile and ReadDir return
// fs.ErrNotExist for what is not there.
type FS = eval.Files

// DirEntry is one entry of a directory, typed as builtins.readDir types
// it.
type DirEntry = eval.DirEntry

// MapFS is an FS held in memory: file path → content. Directories are
// implied by the paths.
type MapFS map[string]string

// ReadFile implements FS.
func (m MapFS) ReadFile(name string) ([]byte, error) {
	if s, ok := m[name]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
}

// ReadDir implements FS.
func (m MapFS) ReadDir(name string) ([]DirEntry, error) {
	return dirEntries(name, func(yield func(string)) {
		for p := range m {
			yield(p)
		}
	})
}

// dirEntries lists the entries of dir among a set of file paths.
func dirEntries(dir string, paths func(yield func(string))) ([]DirEntry, error) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	seen := map[string]string{}
	paths(func(p string) {
		if !strings.HasPrefix(p, prefix) {
			return
		}
		rest := p[len(prefix):]
		if rest == "" {
			return
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seen[rest[:i]] = "directory"
			return
		}
		seen[rest] = "regular"
	})
	if len(seen) == 0 && dir != "" {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	out := make([]DirEntry, 0, len(seen))
	for n, t := range seen {
		out = append(out, DirEntry{Name: n, Type: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// TreeFS is an FS over a listing of a tree's files (paths and their types)
// and a function reading one file. revfs builds one over a git revision.
type TreeFS struct {
	Files map[string]string // path → "regular" or "symlink"
	Read  func(name string) ([]byte, error)
}

// ReadFile implements FS.
func (t TreeFS) ReadFile(name string) ([]byte, error) {
	if _, ok := t.Files[name]; !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return t.Read(name)
}

// ReadDir implements FS.
func (t TreeFS) ReadDir(name string) ([]DirEntry, error) {
	out, err := dirEntries(name, func(yield func(string)) {
		for p := range t.Files {
			yield(p)
		}
	})
	for i := range out {
		if t.Files[path.Join(name, out[i].Name)] == "symlink" {
			out[i].Type = "symlink"
		}
	}
	return out, err
}

// kindOf says whether p is a file, a directory or nothing in fsys.
func kindOf(fsys FS, p string) string {
	if p == "" {
		return "directory"
	}
	if _, err := fsys.ReadDir(p); err == nil {
		return "directory"
	}
	dir, base := path.Split(p)
	es, err := fsys.ReadDir(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return ""
	}
	for _, e := range es {
		if e.Name == base {
			return e.Type
		}
	}
	return ""
}

var errNotExist = fs.ErrNotExist

func isNotExist(err error) bool { return errors.Is(err, errNotExist) }
