package hosts

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dirFS reads a directory on disk (a corpus repository's work tree,
// identical to its HEAD) as an FS, skipping .git.
func dirFS(root string) MapFS {
	m := MapFS{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			data, _ := os.ReadFile(p)
			m[filepath.ToSlash(rel)] = string(data)
		}
		return nil
	})
	return m
}

func trimRoot(s string) string { return strings.TrimPrefix(s, "./") }
