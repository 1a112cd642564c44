package gitrev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// errCorruptPack is wrapped by every error about malformed pack or pack
// index data, errCorruptObject by those about an object's compressed
// data: the repository is damaged, and the read fails rather than
// guessing.
var (
	errCorruptPack   = errors.New("corrupt pack")
	errCorruptObject = errors.New("corrupt object")
)

// errUnsupportedIndex marks a pack index this reader does not decode (the
// version 1 format of git before 1.5.2): go-git reads such packs.
var errUnsupportedIndex = errors.New("unsupported pack index version")

const (
	idxHeaderLen  = 8          // magic and version
	idxFanoutLen  = 256 * 4    // object counts by first byte of the name
	idxTrailerLen = 2 * 20     // checksum of the pack, checksum of the index
	idxPerObject  = 20 + 4 + 4 // name, CRC-32, 31-bit offset
)

var idxMagic = []byte{0xff, 't', 'O', 'c'}

// packIndex is a version 2 pack index (.idx) read in place: lookups
// binary-search the sorted names within the fanout bucket of the first
// byte, and nothing is decoded up front.
type packIndex struct {
	data    []byte // the whole file
	n       int
	fanout  []byte // 256 big-endian counts, cumulative
	names   []byte // n sorted 20-byte names
	offsets []byte // n 4-byte offsets; the high bit selects a large offset
	large   []byte // 8-byte offsets of objects beyond 2 GiB
	// packSum is the checksum the pack file ends with.
	packSum []byte
}

// parsePackIndex checks the layout of a version 2 index (magic, version,
// monotonic fanout, sizes that add up) and returns a view of data.
func parsePackIndex(data []byte) (*packIndex, error) {
	if len(data) < idxHeaderLen+idxFanoutLen+idxTrailerLen {
		return nil, fmt.Errorf("%w: index of %d bytes is too short", errCorruptPack, len(data))
	}
	if !bytes.Equal(data[:4], idxMagic) {
		return nil, fmt.Errorf("%w: version 1", errUnsupportedIndex)
	}
	if v := binary.BigEndian.Uint32(data[4:]); v != 2 {
		return nil, fmt.Errorf("%w: version %d", errUnsupportedIndex, v)
	}
	fanout := data[idxHeaderLen : idxHeaderLen+idxFanoutLen]
	prev := uint32(0)
	for i := range 256 {
		c := binary.BigEndian.Uint32(fanout[4*i:])
		if c < prev {
			return nil, fmt.Errorf("%w: index fanout decreases at %#02x", errCorruptPack, i)
		}
		prev = c
	}
	body := int64(len(data)) - idxHeaderLen - idxFanoutLen - idxTrailerLen
	n := int64(prev)
	if n*idxPerObject > body {
		return nil, fmt.Errorf("%w: index claims %d objects but has %d bytes", errCorruptPack, n, len(data))
	}
	largeLen := body - n*idxPerObject
	if largeLen%8 != 0 {
		return nil, fmt.Errorf("%w: index of %d bytes for %d objects has a partial large offset", errCorruptPack, len(data), n)
	}
	names := int64(idxHeaderLen + idxFanoutLen)
	offsets := names + n*(20+4)
	large := offsets + n*4
	trailer := int64(len(data)) - idxTrailerLen
	return &packIndex{
		data:    data,
		n:       int(n),
		fanout:  fanout,
		names:   data[names : names+n*20],
		offsets: data[offsets:large],
		large:   data[large:trailer],
		packSum: data[trailer : trailer+20],
	}, nil
}

// find returns the position of the object named h, if the index holds it.
func (x *packIndex) find(h Hash) (int, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(binary.BigEndian.Uint32(x.fanout[4*(int(h[0])-1):]))
	}
	hi := int(binary.BigEndian.Uint32(x.fanout[4*int(h[0]):]))
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(x.names[20*mid:20*mid+20], h[:]); {
		case c == 0:
			return mid, true
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false
}

// offset returns the pack offset of the object at position i.
func (x *packIndex) offset(i int) (int64, error) {
	v := binary.BigEndian.Uint32(x.offsets[4*i:])
	if v&0x80000000 == 0 {
		return int64(v), nil
	}
	j := int64(v & 0x7fffffff)
	if j >= int64(len(x.large)/8) {
		return 0, fmt.Errorf("%w: large offset %d out of range", errCorruptPack, j)
	}
	o := binary.BigEndian.Uint64(x.large[8*j:])
	if o > 1<<62 {
		return 0, fmt.Errorf("%w: offset %d out of range", errCorruptPack, o)
	}
	return int64(o), nil
}
