package parser

import (
	"sync"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// Allocation. A parse makes one node per syntax element and many short
// slices (attribute paths, bindings, string parts, call arguments), and
// allocation and garbage collection were a large part of its time. Three
// devices cut the number of allocations without changing the tree:
//
//   - The most frequent node types come from slabs: chunks of nodes handed
//     out one by one, sized from the rate of use so far and the source left.
//   - Lists are gathered on scratch stacks shared by the whole parse, and
//     copied once, at their final length, into storage carved from a shared
//     block, instead of growing a slice per list by doubling. Empty lists
//     stay nil, as before.
//   - The parser itself, with its scratch stacks and the scanner's buffers,
//     is reused across parses through a sync.Pool.
//
// Nodes and lists carved from one chunk share an allocation, so a node
// still referenced keeps its neighbours alive; a tree is normally kept or
// dropped whole, and chunks are small, so this costs little.

const (
	minChunk = 4
	maxChunk = 256
)

// chunkSize sizes a new chunk for items of a kind, used of which were
// handed out so far: half of the number the rest of the source would need
// at the same rate, so that the last chunk, partly unused, stays small.
func (p *parser) chunkSize(used, need int) int {
	off := p.tok.Pos.Offset()
	n := used * (p.size - off) / (2 * max(off, 1))
	return max(need, min(max(n, minChunk), maxChunk))
}

// slab hands out zeroed *T carved from chunks.
type slab[T any] struct {
	free []T
	used int
}

func (s *slab[T]) new(p *parser) *T {
	if len(s.free) == 0 {
		s.free = make([]T, p.chunkSize(s.used, 1))
	}
	x := &s.free[0]
	s.free = s.free[1:]
	s.used++
	return x
}

// block hands out exact-length slices carved from chunks. Their capacity
// equals their length, so appending to one never overwrites a neighbour.
type block[T any] struct {
	free []T
	used int
}

// take returns a copy of xs, or nil if xs is empty.
func (b *block[T]) take(p *parser, xs []T) []T {
	n := len(xs)
	if n == 0 {
		return nil
	}
	if len(b.free) < n {
		b.free = make([]T, p.chunkSize(b.used, n))
	}
	out := b.free[:n:n]
	b.free = b.free[n:]
	b.used += n
	copy(out, xs)
	return out
}

// stack is a scratch stack of list items under construction. A production
// notes the height, pushes its items (nested productions push and pop
// above it) and pops them all into an exact-length slice.
type stack[T any] []T

func (s *stack[T]) push(x T) { *s = append(*s, x) }

// popTo removes and returns the items above mark, copied by b.
func (s *stack[T]) popTo(p *parser, b *block[T], mark int) []T {
	out := b.take(p, (*s)[mark:])
	clear((*s)[mark:]) // drop the references, for the pool
	*s = (*s)[:mark]
	return out
}

// alloc holds the slabs, blocks and scratch stacks of one parse.
type alloc struct {
	idents   slab[ast.Ident]
	texts    slab[ast.Text]
	strs     slab[ast.String]
	attrs    slab[ast.Attr]
	interps  slab[ast.Interp]
	comments slab[ast.Comment]

	exprList    block[ast.Expr]
	bindingList block[ast.Binding]
	formalList  block[*ast.Formal]
	commentList block[*ast.Comment]

	exprs    stack[ast.Expr]
	bindings stack[ast.Binding]
	formals  stack[*ast.Formal]
	cmts     stack[*ast.Comment]
	indParts stack[indPart]
}

// reset forgets the chunks of the previous parse (they belong to its tree)
// and keeps the scratch stacks, which are empty after a successful parse and
// cleared here after a failed one.
func (a *alloc) reset() {
	clear(a.exprs[:cap(a.exprs)])
	clear(a.bindings[:cap(a.bindings)])
	clear(a.formals[:cap(a.formals)])
	clear(a.cmts[:cap(a.cmts)])
	clear(a.indParts[:cap(a.indParts)])
	*a = alloc{exprs: a.exprs[:0], bindings: a.bindings[:0], formals: a.formals[:0], cmts: a.cmts[:0], indParts: a.indParts[:0]}
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}
