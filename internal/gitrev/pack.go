package gitrev

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// The repository's packs are read in place (memory-mapped, read-only)
// rather than through go-git's storage, which for every object seeks and
// reads through a buffered file, hashes what it scans and, on first use,
// decodes the whole index into memory: reading a revision is a lookup in
// the index, an inflate, and for a deltified object the inflate and
// application of each delta down to a base. Loose object files are read
// here too, with plain system calls (go-git resolves every path component
// and registers every descriptor with the poller). Only what this reader
// fully understands is read here; everything else (alternates, version 1
// indexes, a base outside the packs, objects above the size limit) is
// left to go-git, so this is a faster path, never a second opinion.

var (
	// errNotInPacks means the packs do not hold the object (or this
	// reader leaves it to go-git); the caller falls back to go-git.
	errNotInPacks = errors.New("object not in the mapped packs")
	// errObjectTooLarge means the object (or a base it needs) is larger
	// than the caller's limit; it was not loaded.
	errObjectTooLarge = errors.New("object larger than the limit")
)

const (
	// maxDeltaDepth bounds a delta chain: git itself never writes chains
	// deeper than 4095 (pack-objects caps --depth there), so a longer one
	// is a cycle of REF_DELTA bases or corruption.
	maxDeltaDepth = 4096
	// deltaCacheBytes bounds the memory of resolved delta bases kept for
	// reuse: objects of one revision share bases (and so do a file's
	// versions along history).
	deltaCacheBytes = 32 << 20
	// maxCachedObject keeps one large base from flushing the cache.
	maxCachedObject = deltaCacheBytes / 8
	// maxScratch is the largest inflate buffer kept between reads.
	maxScratch = 1 << 20
)

// packFile is one mapped pack with its index.
type packFile struct {
	path string
	idx  *packIndex
	data []byte // the whole .pack file; objects lie in data[12:len-20]
}

// openPack maps the pack and its index and checks that they belong
// together (same object count, same pack checksum).
func openPack(idxPath string) (_ *packFile, err error) {
	packPath := strings.TrimSuffix(idxPath, ".idx") + ".pack"
	idxData, err := mapFile(idxPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unmapFile(idxData)
		}
	}()
	idx, err := parsePackIndex(idxData)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", idxPath, err)
	}
	data, err := mapFile(packPath)
	if err != nil {
		return nil, err
	}
	p := &packFile{path: packPath, idx: idx, data: data}
	if err := p.check(); err == nil && !bytes.Equal(data[len(data)-20:], idx.packSum) {
		err = fmt.Errorf("%w: pack checksum differs from its index's", errCorruptPack)
	}
	if err != nil {
		unmapFile(data)
		return nil, fmt.Errorf("%s: %w", packPath, err)
	}
	return p, nil
}

// check checks the pack's header against its index.
func (p *packFile) check() error {
	d := p.data
	if len(d) < 12+20 || string(d[:4]) != "PACK" {
		return fmt.Errorf("%w: not a pack file", errCorruptPack)
	}
	if v := binary.BigEndian.Uint32(d[4:]); v != 2 && v != 3 {
		return fmt.Errorf("%w: pack version %d", errCorruptPack, v)
	}
	if n := binary.BigEndian.Uint32(d[8:]); int64(n) != int64(p.idx.n) {
		return fmt.Errorf("%w: pack holds %d objects, its index %d", errCorruptPack, n, p.idx.n)
	}
	return nil
}

// entryHeader is the header of the object at an offset of a pack.
type entryHeader struct {
	typ     plumbing.ObjectType
	size    int64 // inflated size: of the object, or of the delta
	dataOff int64 // where the zlib stream starts
	baseOff int64 // OFS_DELTA: the base's offset in the same pack
	base    Hash  // REF_DELTA: the base's name
}

// header decodes the type, size and delta base of the object at off.
func (p *packFile) header(off int64) (entryHeader, error) {
	end := int64(len(p.data)) - 20
	if off < 12 || off >= end {
		return entryHeader{}, fmt.Errorf("%w: object offset %d outside the pack", errCorruptPack, off)
	}
	b := p.data[off:end]
	c := b[0]
	h := entryHeader{typ: plumbing.ObjectType((c >> 4) & 7), size: int64(c & 15)}
	i, shift := 1, uint(4)
	for c&0x80 != 0 {
		if i >= len(b) || shift > 55 {
			return h, fmt.Errorf("%w: bad object header at %d", errCorruptPack, off)
		}
		c = b[i]
		h.size |= int64(c&0x7f) << shift
		shift += 7
		i++
	}
	switch h.typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	case plumbing.OFSDeltaObject:
		if i >= len(b) {
			return h, fmt.Errorf("%w: truncated delta at %d", errCorruptPack, off)
		}
		c = b[i]
		i++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(b) || rel >= 1<<48 {
				return h, fmt.Errorf("%w: bad delta base offset at %d", errCorruptPack, off)
			}
			c = b[i]
			i++
			rel = (rel+1)<<7 | int64(c&0x7f)
		}
		if rel <= 0 || rel > off-12 {
			return h, fmt.Errorf("%w: delta at %d points to %d bytes before it", errCorruptPack, off, rel)
		}
		h.baseOff = off - rel
	case plumbing.REFDeltaObject:
		if i+20 > len(b) {
			return h, fmt.Errorf("%w: truncated delta at %d", errCorruptPack, off)
		}
		copy(h.base[:], b[i:i+20])
		i += 20
	default:
		return h, fmt.Errorf("%w: object type %d at %d", errCorruptPack, h.typ, off)
	}
	h.dataOff = off + int64(i)
	return h, nil
}

// packSet is the mapped packs of a repository, with the state reads
// reuse: a zlib reader, an inflate buffer and a cache of delta bases. The
// mutex makes a shared Repo safe to read from, though reads do not run in
// parallel.
type packSet struct {
	mu    sync.Mutex
	packs []*packFile
	// objectsDir holds the loose objects (objects/xx/…), read here too.
	objectsDir string
	closed     bool
	maps       *mappings

	src     bytes.Reader
	zr      io.ReadCloser
	scratch []byte
	chain   []deltaLink
	cache   baseCache
}

// deltaLink is one delta of a chain being resolved.
type deltaLink struct {
	pack *packFile
	off  int64
	hdr  entryHeader
}

// openPacks maps every pack of the objects directory that has a version
// 2 index. A pack this reader cannot use is skipped (go-git still reads
// it); only a failure to list the directory is an error.
func openPacks(objectsDir string) (*packSet, error) {
	idxs, err := filepath.Glob(filepath.Join(objectsDir, "pack", "pack-*.idx"))
	if err != nil {
		return nil, err
	}
	sort.Strings(idxs)
	s := &packSet{objectsDir: objectsDir, maps: &mappings{}}
	for _, idx := range idxs {
		p, err := openPack(idx)
		if err != nil {
			continue
		}
		s.packs = append(s.packs, p)
		s.maps.data = append(s.maps.data, p.idx.data, p.data)
	}
	// A Repo that is never closed still releases its mappings once
	// nothing can read through them any more.
	runtime.AddCleanup(s, func(m *mappings) { m.unmap() }, s.maps)
	return s, nil
}

// mappings are the mapped files of a packSet, unmapped once.
type mappings struct {
	mu   sync.Mutex
	data [][]byte
}

func (m *mappings) unmap() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, d := range m.data {
		errs = append(errs, unmapFile(d))
	}
	m.data = nil
	return errors.Join(errs...)
}

// close unmaps the packs; later reads report errNotInPacks, which sends
// them to go-git.
func (s *packSet) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packs, s.closed = nil, true
	s.cache = baseCache{}
	s.src.Reset(nil)
	return s.maps.unmap()
}

// find locates the object named h in the packs.
func (s *packSet) find(h Hash) (*packFile, int64, bool, error) {
	for _, p := range s.packs {
		if i, ok := p.idx.find(h); ok {
			off, err := p.idx.offset(i)
			return p, off, true, err
		}
	}
	return nil, 0, false, nil
}

// read returns the type and content of the object named h. An object
// larger than limit is not loaded: the error is errObjectTooLarge and
// size tells its size. errNotInPacks sends the caller to go-git. The
// returned data belongs to the caller.
func (s *packSet) read(h Hash, limit int64) (typ plumbing.ObjectType, data []byte, size int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, nil, 0, errNotInPacks
	}
	p, off, ok, err := s.find(h)
	if !ok || err != nil {
		if err == nil {
			err = errNotInPacks
		}
		return 0, nil, 0, err
	}
	typ, data, size, err = s.readAt(p, off, limit)
	if err != nil && !errors.Is(err, errNotInPacks) && !errors.Is(err, errObjectTooLarge) {
		err = fmt.Errorf("object %s in %s: %w", h, filepath.Base(p.path), err)
	}
	return typ, data, size, err
}

// readObject reads the object named h from the packs or, failing that,
// from its loose object file; errNotInPacks means neither holds it (an
// alternate's object, say), and go-git is asked.
func (s *packSet) readObject(h Hash, limit int64) (plumbing.ObjectType, []byte, int64, error) {
	typ, data, size, err := s.read(h, limit)
	if !errors.Is(err, errNotInPacks) {
		return typ, data, size, err
	}
	return s.readLoose(h, limit)
}

// readLoose reads the loose object file of h: a zlib stream of "type
// size\0" and the content. A missing file is errNotInPacks; a file too
// large to hold an object within limit is left to go-git, which streams.
func (s *packSet) readLoose(h Hash, limit int64) (plumbing.ObjectType, []byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.objectsDir == "" {
		return 0, nil, 0, errNotInPacks
	}
	name := h.String()
	path := filepath.Join(s.objectsDir, name[:2], name[2:])
	// zlib never grows data by more than a few bytes per 16 KiB block.
	comp, err := readFileInto(path, s.scratch[:0], limit+limit/64+1024)
	switch {
	case errors.Is(err, errNotInPacks):
		return 0, nil, 0, err
	case err != nil:
		return 0, nil, 0, fmt.Errorf("read loose object %s: %w", h, err)
	}
	s.scratch = comp[:0]
	if cap(s.scratch) > maxScratch {
		s.scratch = nil
	}
	typ, data, size, err := s.inflateLoose(comp, limit)
	if err != nil && !errors.Is(err, errObjectTooLarge) {
		err = fmt.Errorf("loose object %s: %w", h, err)
	}
	return typ, data, size, err
}

// looseHeaderMax is more than the longest header, "commit " and 20 digits.
const looseHeaderMax = 32

// inflateLoose decodes a loose object file's contents.
func (s *packSet) inflateLoose(comp []byte, limit int64) (plumbing.ObjectType, []byte, int64, error) {
	if err := s.resetInflate(comp); err != nil {
		return 0, nil, 0, err
	}
	var hdr [looseHeaderMax]byte
	n, err := io.ReadFull(s.zr, hdr[:])
	if err != nil && err != io.ErrUnexpectedEOF {
		return 0, nil, 0, fmt.Errorf("%w: inflate: %w", errCorruptObject, err)
	}
	nul := bytes.IndexByte(hdr[:n], 0)
	if nul < 0 {
		return 0, nil, 0, fmt.Errorf("%w: no header", errCorruptObject)
	}
	name, sizeText, _ := strings.Cut(string(hdr[:nul]), " ")
	typ, err := plumbing.ParseObjectType(name)
	if err != nil || typ < plumbing.CommitObject || typ > plumbing.TagObject {
		return 0, nil, 0, fmt.Errorf("%w: object type %q", errCorruptObject, name)
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 {
		return 0, nil, 0, fmt.Errorf("%w: object size %q", errCorruptObject, sizeText)
	}
	if size > limit {
		return typ, nil, size, errObjectTooLarge
	}
	rest := hdr[nul+1 : n]
	if int64(len(rest)) > size {
		return 0, nil, 0, fmt.Errorf("%w: more data than its header declares", errCorruptObject)
	}
	data := make([]byte, size)
	copy(data, rest)
	if err := s.finishInflate(data[len(rest):]); err != nil {
		return 0, nil, 0, err
	}
	return typ, data, size, nil
}

// readAt resolves the object at off: it follows the delta chain down to
// a base (or a cached base), inflates it, and applies the deltas back up.
func (s *packSet) readAt(p *packFile, off int64, limit int64) (plumbing.ObjectType, []byte, int64, error) {
	chain := s.chain[:0]
	defer func() { s.chain = chain[:0] }()
	var (
		typ     plumbing.ObjectType
		base    []byte
		fromTop = true // base is the object asked for, not a base of it
	)
	for depth := 0; ; depth++ {
		if depth > maxDeltaDepth {
			return 0, nil, 0, fmt.Errorf("%w: delta chain deeper than %d", errCorruptPack, maxDeltaDepth)
		}
		if t, cached, ok := s.cache.get(p, off); ok {
			typ, base = t, cached
			if fromTop {
				if int64(len(cached)) > limit {
					return typ, nil, int64(len(cached)), errObjectTooLarge
				}
				base = append([]byte(nil), cached...) // the cache keeps its copy
			}
			break
		}
		hdr, err := p.header(off)
		if err != nil {
			return 0, nil, 0, err
		}
		if hdr.typ != plumbing.OFSDeltaObject && hdr.typ != plumbing.REFDeltaObject {
			if hdr.size > limit {
				// A base above the limit for a smaller object is left
				// to go-git, which streams large objects.
				if fromTop {
					return hdr.typ, nil, hdr.size, errObjectTooLarge
				}
				return 0, nil, 0, errNotInPacks
			}
			typ = hdr.typ
			if base, err = s.inflate(p, hdr, make([]byte, hdr.size)); err != nil {
				return 0, nil, 0, err
			}
			if !fromTop {
				s.cache.put(p, off, typ, base)
			}
			break
		}
		chain = append(chain, deltaLink{pack: p, off: off, hdr: hdr})
		fromTop = false
		if hdr.typ == plumbing.OFSDeltaObject {
			off = hdr.baseOff
			continue
		}
		np, noff, ok, err := s.find(hdr.base)
		if err != nil {
			return 0, nil, 0, err
		}
		if !ok {
			return 0, nil, 0, errNotInPacks // a thin pack's base, loose or in an alternate
		}
		p, off = np, noff
	}
	for i := len(chain) - 1; i >= 0; i-- {
		l := chain[i]
		if l.hdr.size/2 > limit+64 {
			return 0, nil, 0, errNotInPacks // an absurd delta: go-git decides
		}
		delta, err := s.inflate(l.pack, l.hdr, s.scratchOf(l.hdr.size))
		if err != nil {
			return 0, nil, 0, err
		}
		srcSize, delta, err := deltaVarint(delta)
		if err != nil {
			return 0, nil, 0, err
		}
		dstSize, delta, err := deltaVarint(delta)
		if err != nil {
			return 0, nil, 0, err
		}
		if srcSize != uint64(len(base)) {
			return 0, nil, 0, fmt.Errorf("%w: delta at %d expects a base of %d bytes, base has %d", errCorruptPack, l.off, srcSize, len(base))
		}
		if dstSize > uint64(limit) {
			if i == 0 {
				return typ, nil, int64(dstSize), errObjectTooLarge
			}
			return 0, nil, 0, errNotInPacks
		}
		out := make([]byte, dstSize)
		if err := applyDelta(out, base, delta); err != nil {
			return 0, nil, 0, fmt.Errorf("delta at %d: %w", l.off, err)
		}
		if i > 0 {
			s.cache.put(l.pack, l.off, typ, out)
		}
		base = out
	}
	if s.scratch != nil && cap(s.scratch) > maxScratch {
		s.scratch = nil
	}
	return typ, base, int64(len(base)), nil
}

func (s *packSet) scratchOf(n int64) []byte {
	if int64(cap(s.scratch)) < n {
		s.scratch = make([]byte, n)
	}
	return s.scratch[:n]
}

// inflate decompresses the zlib stream of an entry into dst, which has
// exactly the size the header declares; a stream that ends early, runs
// longer or fails its checksum is corruption.
func (s *packSet) inflate(p *packFile, hdr entryHeader, dst []byte) ([]byte, error) {
	err := s.resetInflate(p.data[hdr.dataOff : len(p.data)-20])
	if err == nil {
		err = s.finishInflate(dst)
	}
	if err != nil {
		return nil, fmt.Errorf("object at %d: %w", hdr.dataOff, err)
	}
	return dst, nil
}

// resetInflate points the zlib reader at a stream.
func (s *packSet) resetInflate(stream []byte) error {
	s.src.Reset(stream)
	var err error
	if s.zr == nil {
		s.zr, err = zlib.NewReader(&s.src)
	} else {
		err = s.zr.(zlib.Resetter).Reset(&s.src, nil)
	}
	if err != nil {
		s.zr = nil
		return fmt.Errorf("%w: inflate: %w", errCorruptObject, err)
	}
	return nil
}

// finishInflate fills dst with the rest of the stream, which must end
// there, checksum verified.
func (s *packSet) finishInflate(dst []byte) error {
	if _, err := io.ReadFull(s.zr, dst); err != nil {
		return fmt.Errorf("%w: inflate: %d bytes expected: %w", errCorruptObject, len(dst), err)
	}
	var one [1]byte
	if n, err := s.zr.Read(one[:]); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("more data than its header declares")
		}
		return fmt.Errorf("%w: inflate: %w", errCorruptObject, err)
	}
	return nil
}

// deltaVarint reads one of the two sizes a delta starts with.
func deltaVarint(b []byte) (uint64, []byte, error) {
	var v uint64
	for i, shift := 0, uint(0); i < len(b) && shift < 64; i, shift = i+1, shift+7 {
		v |= uint64(b[i]&0x7f) << shift
		if b[i]&0x80 == 0 {
			return v, b[i+1:], nil
		}
	}
	return 0, nil, fmt.Errorf("%w: bad delta size", errCorruptPack)
}

// applyDelta writes the result of a git delta's copy and insert
// instructions into dst, which has the delta's target size.
func applyDelta(dst, base, delta []byte) error {
	w := 0
	for i := 0; i < len(delta); {
		op := delta[i]
		i++
		switch {
		case op&0x80 != 0: // copy from base
			var off, n uint64
			for bit := range 4 {
				if op&(1<<bit) != 0 {
					if i >= len(delta) {
						return fmt.Errorf("%w: truncated copy", errCorruptPack)
					}
					off |= uint64(delta[i]) << (8 * bit)
					i++
				}
			}
			for bit := range 3 {
				if op&(0x10<<bit) != 0 {
					if i >= len(delta) {
						return fmt.Errorf("%w: truncated copy", errCorruptPack)
					}
					n |= uint64(delta[i]) << (8 * bit)
					i++
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(base)) || n > uint64(len(dst)-w) {
				return fmt.Errorf("%w: copy of %d bytes at %d out of range", errCorruptPack, n, off)
			}
			w += copy(dst[w:], base[off:off+n])
		case op != 0: // insert the next op bytes
			n := int(op)
			if i+n > len(delta) || n > len(dst)-w {
				return fmt.Errorf("%w: insert of %d bytes out of range", errCorruptPack, n)
			}
			w += copy(dst[w:], delta[i:i+n])
			i += n
		default:
			return fmt.Errorf("%w: reserved delta instruction 0", errCorruptPack)
		}
	}
	if w != len(dst) {
		return fmt.Errorf("%w: delta produced %d bytes, declared %d", errCorruptPack, w, len(dst))
	}
	return nil
}

// baseCache keeps resolved delta bases by pack and offset, evicting the
// least recently used beyond deltaCacheBytes.
type baseCache struct {
	entries map[baseKey]*baseEntry
	head    *baseEntry // most recently used; a ring through prev/next
	bytes   int
}

type baseKey struct {
	pack *packFile
	off  int64
}

type baseEntry struct {
	key        baseKey
	typ        plumbing.ObjectType
	data       []byte
	prev, next *baseEntry
}

func (c *baseCache) get(p *packFile, off int64) (plumbing.ObjectType, []byte, bool) {
	e, ok := c.entries[baseKey{p, off}]
	if !ok {
		return 0, nil, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.typ, e.data, true
}

func (c *baseCache) put(p *packFile, off int64, typ plumbing.ObjectType, data []byte) {
	if len(data) > maxCachedObject {
		return
	}
	key := baseKey{p, off}
	if c.entries == nil {
		c.entries = map[baseKey]*baseEntry{}
	}
	if _, ok := c.entries[key]; ok {
		return
	}
	e := &baseEntry{key: key, typ: typ, data: data}
	c.entries[key] = e
	c.pushFront(e)
	c.bytes += len(data)
	for c.bytes > deltaCacheBytes {
		old := c.head.prev
		c.unlink(old)
		delete(c.entries, old.key)
		c.bytes -= len(old.data)
	}
}

func (c *baseCache) pushFront(e *baseEntry) {
	if c.head == nil {
		e.prev, e.next = e, e
	} else {
		e.prev, e.next = c.head.prev, c.head
		c.head.prev.next = e
		c.head.prev = e
	}
	c.head = e
}

func (c *baseCache) unlink(e *baseEntry) {
	if e.next == e {
		c.head = nil
	} else {
		e.prev.next = e.next
		e.next.prev = e.prev
		if c.head == e {
			c.head = e.next
		}
	}
	e.prev, e.next = nil, nil
}
