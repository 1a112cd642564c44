package parser

import (
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// parseString parses "…" with interpolations.
func (p *parser) parseString() *ast.String {
	str := &ast.String{OpenPos: p.expect(token.STRING_OPEN).Pos}
	for {
		switch p.tok.Tok {
		case token.STRING_TEXT:
			str.Parts = appendText(str.Parts, &ast.Text{ValuePos: p.tok.Pos, Value: p.tok.Value, EndP: p.tok.End})
			p.next()
		case token.DOLLAR_CURLY:
			str.Parts = append(str.Parts, p.parseInterp())
		case token.STRING_CLOSE:
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
	text   *ast.Text
	indent bool
	interp *ast.Interp
}

// parseIndString parses ”…” and strips indentation as Nix does.
func (p *parser) parseIndString() *ast.String {
	str := &ast.String{OpenPos: p.expect(token.IND_STRING_OPEN).Pos, Indented: true}
	var parts []indPart
	for {
		switch p.tok.Tok {
		case token.STRING_TEXT:
			text := &ast.Text{ValuePos: p.tok.Pos, Value: p.tok.Value, EndP: p.tok.End}
			parts = append(parts, indPart{text: text, indent: p.tok.Indent})
			p.next()
		case token.DOLLAR_CURLY:
			parts = append(parts, indPart{interp: p.parseInterp()})
		case token.STRING_CLOSE:
			str.EndP = p.tok.End
			p.next()
			str.Parts = stripIndentation(parts)
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
func stripIndentation(parts []indPart) []ast.Expr {
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
		for _, c := range []byte(part.text.Value) {
			switch {
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

	var out []ast.Expr
	atStart = true
	dropped := 0
	for i, part := range parts {
		if part.interp != nil {
			atStart, dropped = false, 0
			out = append(out, part.interp)
			continue
		}
		var b strings.Builder
		for _, c := range []byte(part.text.Value) {
			switch {
			case atStart && c == ' ':
				if dropped >= minIndent {
					b.WriteByte(c)
				}
				dropped++
			case atStart && c == '\n':
				dropped = 0
				b.WriteByte(c)
			case atStart:
				atStart, dropped = false, 0
				b.WriteByte(c)
			default:
				b.WriteByte(c)
				if c == '\n' {
					atStart = true
				}
			}
		}
		s := b.String()
		if i == len(parts)-1 {
			if nl := strings.LastIndexByte(s, '\n'); nl >= 0 && strings.Trim(s[nl+1:], " ") == "" {
				s = s[:nl+1]
			}
		}
		if s != "" {
			out = appendText(out, &ast.Text{ValuePos: part.text.ValuePos, Value: s, EndP: part.text.EndP})
		}
	}
	return out
}
