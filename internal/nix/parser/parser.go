// Package parser implements a parser for Nix source files, in the manner of
// go/parser. It accepts the language of Nix 2.8 (the version Debian 12 ships
// and the project's oracle): recursive descent for the prefix forms and a
// precedence-climbing loop for operators, with the precedences and
// associativities of Nix's parser.y.
package parser

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/scanner"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Error and ErrorList are the scanner's error types; every error returned by
// this package is an ErrorList holding *Error values with file:line:col.
type (
	Error     = scanner.Error
	ErrorList = scanner.ErrorList
)

// Default limits, used when the corresponding Options field is zero.
const (
	DefaultMaxSize  = 16 << 20
	DefaultMaxDepth = 1000
)

// Options bound the resources a parse may use. The zero value selects the
// defaults.
type Options struct {
	// MaxSize is the largest accepted source, in bytes.
	MaxSize int
	// MaxDepth is the deepest accepted nesting of expressions. It bounds the
	// parser's recursion and the depth of the returned tree, so that hostile
	// input cannot exhaust the stack of the parser or of tree walkers.
	MaxDepth int
}

// ParseFile parses one Nix source file with the default Options.
func ParseFile(filename string, src []byte) (*ast.File, error) {
	return Options{}.ParseFile(filename, src)
}

// ParseExpr parses a single expression given as a string; positions are
// reported without a file name.
func ParseExpr(src string) (ast.Expr, error) {
	f, err := ParseFile("", []byte(src))
	if err != nil {
		return nil, err
	}
	return f.Expr, nil
}

// ParseFile parses one Nix source file. On failure the error is an
// ErrorList, and the returned file is nil.
func (o Options) ParseFile(filename string, src []byte) (f *ast.File, err error) {
	maxSize, maxDepth := o.MaxSize, o.MaxDepth
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if len(src) > maxSize {
		var errs ErrorList
		errs.Add(token.Position{Filename: filename}, fmt.Sprintf("file too large: %d bytes (limit %d)", len(src), maxSize))
		return nil, errs
	}
	p := parserPool.Get().(*parser)
	p.init(filename, src, maxDepth)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			f, err = nil, p.errs
		}
		p.release()
	}()
	p.checkEncoding(src)
	p.next()
	p.file.Expr = p.parseExpr()
	if p.tok.Tok != token.EOF {
		p.errorExpected("end of file")
	}
	p.file.EOF = p.tok.Pos
	p.file.Lines = p.sc.File()
	p.file.Comments = p.cmts.popTo(p, &p.commentList, 0)
	return p.file, nil
}

// init prepares a fresh or pooled parser for one parse.
func (p *parser) init(filename string, src []byte, maxDepth int) {
	p.sc.Init(filename, src, scanner.ScanComments)
	p.file = &ast.File{Name: filename}
	p.tok = scanner.Lexeme{}
	p.ahead = p.ahead[:0]
	p.depth, p.maxDepth, p.size = 0, maxDepth, len(src)
	p.errs = nil
	p.alloc.reset(0)
}

// release returns p to the pool, keeping its buffers but no reference to
// the source, the tree or the errors.
func (p *parser) release() {
	p.sc.Init("", nil, 0)
	p.file, p.tok, p.errs = nil, scanner.Lexeme{}, nil
	clear(p.ahead[:cap(p.ahead)])
	p.ahead = p.ahead[:0]
	p.alloc.reset(p.size)
	parserPool.Put(p)
}

// bailout is the panic value used to unwind the parser at the first error;
// it never escapes ParseFile.
type bailout struct{}

type parser struct {
	sc       scanner.Scanner
	file     *ast.File
	tok      scanner.Lexeme   // current token
	ahead    []scanner.Lexeme // buffered lookahead after tok
	depth    int
	maxDepth int
	size     int // of the source
	errs     ErrorList
	alloc
}

// checkEncoding rejects NUL bytes and invalid UTF-8. Nix accepts some of
// both (a NUL silently truncates a string), but a NixOS module holding them
// is corrupt or hostile, and a clear error beats a surprising parse.
func (p *parser) checkEncoding(src []byte) {
	if i := bytes.IndexByte(src, 0); i >= 0 {
		p.errorAt(i, "illegal NUL byte")
	}
	if utf8.Valid(src) {
		return
	}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			p.errorAt(i, "invalid UTF-8 encoding")
		}
		i += n
	}
}

func (p *parser) errorAt(off int, msg string) {
	p.errs.Add(p.sc.Position(off), msg)
	panic(bailout{})
}

func (p *parser) error(pos token.Pos, msg string) {
	p.errs.Add(p.sc.File().Position(pos), msg)
	panic(bailout{})
}

func describe(lx scanner.Lexeme) string {
	switch lx.Tok {
	case token.EOF:
		return "end of file"
	case token.IDENT:
		return "identifier " + lx.Lit
	case token.INT, token.FLOAT:
		return "number " + lx.Lit
	case token.PATH, token.PATH_OPEN:
		return "path"
	case token.SPATH:
		return "search path " + lx.Lit
	case token.URI:
		return "URI"
	case token.STRING_TEXT, token.PATH_TEXT:
		return "text"
	case token.PATH_CLOSE:
		return "end of path"
	}
	return "'" + lx.Tok.String() + "'"
}

func (p *parser) errorExpected(what string) {
	p.error(p.tok.Pos, fmt.Sprintf("expected %s, found %s", what, describe(p.tok)))
}

// scan stores the next non-comment lexeme from the scanner in *lx,
// recording comments as trivia and turning scanner errors into a bailout.
func (p *parser) scan(lx *scanner.Lexeme) {
	for {
		*lx = p.sc.Scan()
		switch lx.Tok {
		case token.COMMENT:
			c := p.comments.new(p)
			*c = ast.Comment{Slash: lx.Pos, Text: lx.Lit, EndP: lx.End}
			p.cmts.push(c)
			continue
		case token.ILLEGAL:
			p.errs = append(p.errs, p.sc.Errors()...)
			panic(bailout{})
		}
		return
	}
}

func (p *parser) next() {
	if len(p.ahead) > 0 {
		p.tok = p.ahead[0]
		// Shift down rather than reslice, so the buffer keeps its capacity.
		p.ahead = p.ahead[:copy(p.ahead, p.ahead[1:])]
		return
	}
	p.scan(&p.tok)
}

// peek returns the token n positions after the current one (n ≥ 1).
func (p *parser) peek(n int) scanner.Lexeme {
	for len(p.ahead) < n {
		p.ahead = append(p.ahead, scanner.Lexeme{})
		p.scan(&p.ahead[len(p.ahead)-1]) // at the end the scanner repeats EOF
	}
	return p.ahead[n-1]
}

// expect consumes a tok, or reports an error. expectPos and expectEnd
// also return its position or end.
func (p *parser) expect(tok token.Token) {
	if p.tok.Tok != tok {
		p.errorExpected("'" + tok.String() + "'")
	}
	p.next()
}

func (p *parser) expectPos(tok token.Token) token.Pos {
	pos := p.tok.Pos
	p.expect(tok)
	return pos
}

func (p *parser) expectEnd(tok token.Token) token.Pos {
	end := p.tok.End
	p.expect(tok)
	return end
}

// enter counts one level of nesting; every recursive production calls it.
func (p *parser) enter() {
	p.depth++
	if p.depth > p.maxDepth {
		p.error(p.tok.Pos, fmt.Sprintf("expression nested too deeply (limit %d)", p.maxDepth))
	}
}

func (p *parser) leave() { p.depth-- }
