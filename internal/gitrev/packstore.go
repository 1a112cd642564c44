package gitrev

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// packedStorage is go-git's storage of the repository with object reads
// served from the mapped packs first: commits and trees that go-git
// decodes (resolving, history, listing) come through here too. Every
// other method, and every object the packs do not serve, is go-git's.
type packedStorage struct {
	*filesystem.Storage
	packs *packSet
	// trees keeps the commits and trees read from the packs, as go-git's
	// storage does: walking history reads the same ones again (a check
	// lists revisions, then reads them), and a deltified tree costs its
	// whole chain.
	trees *cache.ObjectLRU
}

// treeCacheSize bounds packedStorage.trees.
const treeCacheSize = 32 * cache.MiByte

func newPackedStorage(st *filesystem.Storage, packs *packSet) *packedStorage {
	return &packedStorage{Storage: st, packs: packs, trees: cache.NewObjectLRU(treeCacheSize)}
}

// EncodedObject reads the object from the packs when they hold it,
// within MaxFileSize (go-git streams larger objects), and otherwise asks
// go-git. As go-git, it reports plumbing.ErrObjectNotFound for an object
// of another type than t.
func (s *packedStorage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, ok := s.trees.Get(h); ok {
		if t != plumbing.AnyObject && o.Type() != t {
			return nil, plumbing.ErrObjectNotFound
		}
		return o, nil
	}
	typ, data, _, err := s.packs.readObject(Hash(h), MaxFileSize)
	switch {
	case err == nil:
		if t != plumbing.AnyObject && typ != t {
			return nil, plumbing.ErrObjectNotFound
		}
		o := &packedObject{hash: h, typ: typ, data: data}
		if typ == plumbing.CommitObject || typ == plumbing.TreeObject {
			s.trees.Put(o) // read-only: sharing it is safe
		}
		return o, nil
	case errors.Is(err, errNotInPacks), errors.Is(err, errObjectTooLarge):
		return s.Storage.EncodedObject(t, h)
	default:
		return nil, err
	}
}

// packedObject is an object read from a pack, whole and read-only.
type packedObject struct {
	hash plumbing.Hash
	typ  plumbing.ObjectType
	data []byte
}

func (o *packedObject) Hash() plumbing.Hash         { return o.hash }
func (o *packedObject) Type() plumbing.ObjectType   { return o.typ }
func (o *packedObject) SetType(plumbing.ObjectType) {}
func (o *packedObject) Size() int64                 { return int64(len(o.data)) }
func (o *packedObject) SetSize(int64)               {}
func (o *packedObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

func (o *packedObject) Writer() (io.WriteCloser, error) {
	return nil, fmt.Errorf("object %s is read-only", o.hash)
}
