//go:build !unix

package gitrev

import (
	"errors"
	"io/fs"
	"os"
)

// mapFile is not implemented off Unix: packed objects are read by go-git.
func mapFile(path string) ([]byte, error) {
	return nil, errors.New("no memory mapping on this system")
}

func unmapFile([]byte) error { return nil }

// readFileInto reads a whole file; a missing one, or one larger than
// max, is errNotInPacks.
func readFileInto(path string, buf []byte, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotInPacks
	}
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, errNotInPacks
	}
	return os.ReadFile(path)
}
