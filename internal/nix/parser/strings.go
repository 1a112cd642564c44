package parser

import (
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// parseString parses "…" with interpolations.
func (p *parser) parseString() *ast.String {
	str := p.strs.new(p)
	*str = ast.String{OpenPos: p.expectPos(token.STRING_OPEN)}
	mark := len(p.exprs)
	for {
		switch p.tok.Tok {
		case token.STRING_TEXT:
			p.pushText(mark, p.tok.Pos, p.tok.Value, p.tok.End)
			p.next()
		case token.DOLLAR_CURLY:
			interp := p.parseInterp()
			p.exprs.push(interp)
		case token.STRING_CLOSE:
			str.Parts = p.exprs.popTo(p, &p.exprList, mark)
			str.EndP = p.tok.End
			p.next()
			return str
		default:
			p.errorExpected("'\"'")
		}
	}
}

// indPart is one lexer token of an indented string before indentation
// stripping: text (indent reports literal source text) or an interpolation.
type indPart struct {
	pos, end token.Pos
	value    string
	indent   bool
	interp   *ast.Interp
}

// parseIndString parses ”…” and strips indentation as Nix does.
func (p *parser) parseIndString() *ast.String {
	str := p.strs.new(p)
	*str = ast.String{OpenPos: p.expectPos(token.IND_STRING_OPEN), Indented: true}
	mark := len(p.indParts)
	for {
		switch p.tok.Tok {
		case token.STRING_TEXT:
			p.indParts.push(indPart{pos: p.tok.Pos, end: p.tok.End, value: p.tok.Value, indent: p.tok.Indent})
			p.next()
		case token.DOLLAR_CURLY:
			interp := p.parseInterp()
			p.indParts.push(indPart{interp: interp})
		case token.STRING_CLOSE:
			str.EndP = p.tok.End
			p.next()
			str.Parts = p.stripIndentation(p.indParts[mark:])
			clear(p.indParts[mark:])
			p.indParts = p.indParts[:mark]
			return str
		default:
			p.errorExpected("''")
		}
	}
}

// stripIndentation is Nix 2.8's stripIndentation (parser.y): it removes the
// smallest indentation of all lines from every line, where only spaces
// count, lines holding only spaces do not count, and interpolations and
// escapes end a line's indentation. A final line of only spaces is dropped.
// Empty text parts are omitted and adjacent ones merged.
func (p *parser) stripIndentation(parts []indPart) []ast.Expr {
	minIndent := 1 << 62
	atStart, cur := true, 0
	for _, part := range parts {
		if part.interp != nil || !part.indent {
			if atStart {
				atStart = false
				minIndent = min(minIndent, cur)
			}
			continue
		}
		v := part.value
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case atStart && c == ' ':
				cur++
			case atStart && c == '\n':
				cur = 0 // an empty line does not influence the indentation
			case atStart:
				atStart = false
				minIndent = min(minIndent, cur)
			case c == '\n':
				atStart, cur = true, 0
			}
		}
	}

	mark := len(p.exprs)
	atStart = true
	dropped := 0
	for i, part := range parts {
		if part.interp != nil {
			atStart, dropped = false, 0
			p.exprs.push(part.interp)
			continue
		}
		// The result is v less the indentation dropped. While only a
		// prefix of v was dropped, it is a substring of v; b collects it
		// only once text is kept before a dropped byte.
		v := part.value
		var b strings.Builder
		building := false
		kept := 0 // v[kept:j] is kept and not yet in b
		for j := 0; j < len(v); j++ {
			switch c := v[j]; {
			case atStart && c == ' ':
				if dropped < minIndent {
					if j > kept {
						if !building {
							b.Grow(len(v))
							building = true
						}
						b.WriteString(v[kept:j])
					}
					kept = j + 1
				}
				dropped++
			case atStart && c == '\n':
				dropped = 0
			case atStart:
				atStart, dropped = false, 0
			case c == '\n':
				atStart = true
			}
		}
		s := v[kept:]
		if building {
			b.WriteString(s)
			s = b.String()
		}
		if i == len(parts)-1 {
			if nl := strings.LastIndexByte(s, '\n'); nl >= 0 && strings.Trim(s[nl+1:], " ") == "" {
				s = s[:nl+1]
			}
		}
		if s != "" {
			p.pushText(mark, part.pos, s, part.end)
		}
	}
	return p.exprs.popTo(p, &p.exprList, mark)
}
