package nix_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// narHashSRI returns the SRI sha256 of the NAR serialisation of path: the
// hash Nix computes for a fixed-output derivation with outputHashMode
// "recursive", which is what buildGoModule's vendorHash is.
func narHashSRI(path string) (string, error) {
	h := sha256.New()
	w := narWriter{h: h}
	w.str("nix-archive-1")
	if err := w.node(path); err != nil {
		return "", err
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// narWriter writes the NAR format (Dolstra's thesis, fig. 5.2): strings are
// a little-endian uint64 length, the bytes, and zero padding to 8 bytes;
// directory entries are sorted by name; only the executable bit of the
// mode is kept; times and owners are not.
type narWriter struct{ h hash.Hash }

func (w narWriter) str(s string) { w.bytes([]byte(s)) }

func (w narWriter) bytes(b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	w.h.Write(n[:])
	w.h.Write(b)
	w.h.Write(make([]byte, (8-len(b)%8)%8))
}

func (w narWriter) node(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("nar: %w", err)
	}
	w.str("(")
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return fmt.Errorf("nar: %w", err)
		}
		w.str("type")
		w.str("symlink")
		w.str("target")
		w.str(target)
	case fi.IsDir():
		w.str("type")
		w.str("directory")
		entries, err := os.ReadDir(path)
		if err != nil {
			return fmt.Errorf("nar: %w", err)
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		slices.Sort(names) // byte order, as Nix sorts
		for _, name := range names {
			w.str("entry")
			w.str("(")
			w.str("name")
			w.str(name)
			w.str("node")
			if err := w.node(filepath.Join(path, name)); err != nil {
				return err
			}
			w.str(")")
		}
	case fi.Mode().IsRegular():
		w.str("type")
		w.str("regular")
		if fi.Mode()&0o111 != 0 {
			w.str("executable")
			w.str("")
		}
		if err := w.contents(path, fi.Size()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("nar: %s: unsupported file type %s", path, fi.Mode().Type())
	}
	w.str(")")
	return nil
}

func (w narWriter) contents(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nar: %w", err)
	}
	defer f.Close()
	w.str("contents")
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(size))
	w.h.Write(n[:])
	if _, err := io.CopyN(w.h, f, size); err != nil {
		return fmt.Errorf("nar: read %s: %w", path, err)
	}
	w.h.Write(make([]byte, (8-size%8)%8))
	return nil
}
