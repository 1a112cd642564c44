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
//   - Each slab and block learns, across the parses of its pooled parser,
//     how many items a byte of source needs, and sizes its first chunk for
//     the whole file from that: most files take one chunk per kind, a
//     per-file arena, rather than a chain of growing ones.
//
// Nodes and lists carved from one chunk share an allocation, so a node
// still referenced keeps its neighbours alive; a tree is normally kept or
// dropped whole, and chunks are small, so this costs little.

const (
	minChunk = 4
	maxChunk = 256
)

// chunkSize sizes a new chunk for items of a kind, used of which were
// handed out so far. The first chunk holds what earlier files of this
// density (items per byte) would need for the whole source; later ones
// half of the number the rest of the source would need at the rate so
// far, so that the last chunk, partly unused, stays small.
func (p *parser) chunkSize(used, need int, density float64) int {
	if used == 0 && density > 0 {
		return max(need, int(density*float64(p.size)+0.5))
	}
	off := p.tok.Pos.Offset()
	n := used * (p.size - off) / (2 * max(off, 1))
	return max(need, min(max(n, minChunk), maxChunk))
}

// learn folds the items a parse of size bytes used into the density of
// their kind.
func learn(density float64, used, size int) float64 {
	if size <= 0 {
		return density
	}
	return 0.75*density + 0.25*float64(used)/float64(size)
}

// slab hands out zeroed *T carved from chunks.
type slab[T any] struct {
	free    []T
	used    int
	density float64 // items per byte of source, learned over parses
}

// next is an empty slab for the next parse, knowing the density of this
// one's, of size bytes.
func (s *slab[T]) next(size int) slab[T] { return slab[T]{density: learn(s.density, s.used, size)} }

func (s *slab[T]) new(p *parser) *T {
	if len(s.free) == 0 {
		s.free = make([]T, p.chunkSize(s.used, 1, s.density))
	}
	x := &s.free[0]
	s.free = s.free[1:]
	s.used++
	return x
}

// node returns a node from a slab, set to v.
func node[T any](p *parser, s *slab[T], v T) *T {
	x := s.new(p)
	*x = v
	return x
}

// block hands out exact-length slices carved from chunks. Their capacity
// equals their length, so appending to one never overwrites a neighbour.
type block[T any] struct {
	free    []T
	used    int
	density float64 // items per byte of source, learned over parses
}

// next is an empty block for the next parse, knowing the density of this
// one's, of size bytes.
func (b *block[T]) next(size int) block[T] { return block[T]{density: learn(b.density, b.used, size)} }

// take returns a copy of xs, or nil if xs is empty.
func (b *block[T]) take(p *parser, xs []T) []T {
	n := len(xs)
	if n == 0 {
		return nil
	}
	if len(b.free) < n {
		b.free = make([]T, p.chunkSize(b.used, n, b.density))
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
	// Less frequent kinds, one slab each.
	selects     slab[ast.Select]
	calls       slab[ast.Call]
	binaries    slab[ast.Binary]
	attrSets    slab[ast.AttrSet]
	lists       slab[ast.List]
	formalNodes slab[ast.Formal]
	lambdas     slab[ast.Lambda]
	formalSets  slab[ast.Formals]
	parens      slab[ast.Paren]
	paths       slab[ast.Path]
	ints        slab[ast.Int]

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

// reset forgets the chunks of the previous parse (they belong to its tree),
// learning from it how many items of each kind a byte of source needs
// (size is its source's, 0 when there was none), and keeps the scratch
// stacks, which are empty after a successful parse and cleared here after
// a failed one.
func (a *alloc) reset(size int) {
	// Every pop clears what it pops, so only what a failed parse left on
	// the stacks holds references; clearing their whole capacity cost a
	// tenth of the parse of a small file once one large file had grown
	// them.
	clear(a.exprs)
	clear(a.bindings)
	clear(a.formals)
	clear(a.cmts)
	clear(a.indParts)
	next := alloc{exprs: a.exprs[:0], bindings: a.bindings[:0], formals: a.formals[:0], cmts: a.cmts[:0], indParts: a.indParts[:0]}
	next.idents, next.texts, next.strs = a.idents.next(size), a.texts.next(size), a.strs.next(size)
	next.attrs, next.interps, next.comments = a.attrs.next(size), a.interps.next(size), a.comments.next(size)
	next.selects, next.calls, next.binaries = a.selects.next(size), a.calls.next(size), a.binaries.next(size)
	next.attrSets, next.lists, next.formalNodes = a.attrSets.next(size), a.lists.next(size), a.formalNodes.next(size)
	next.lambdas, next.formalSets, next.parens = a.lambdas.next(size), a.formalSets.next(size), a.parens.next(size)
	next.paths, next.ints = a.paths.next(size), a.ints.next(size)
	next.exprList, next.bindingList = a.exprList.next(size), a.bindingList.next(size)
	next.formalList, next.commentList = a.formalList.next(size), a.commentList.next(size)
	*a = next
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}
