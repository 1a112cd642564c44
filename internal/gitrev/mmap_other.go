//go:build !unix

package gitrev

import "errors"

// mapFile is not implemented off Unix: every object is read by go-git.
func mapFile(path string) ([]byte, error) {
	return nil, errors.New("no memory mapping on this system")
}

func unmapFile([]byte) error { return nil }
