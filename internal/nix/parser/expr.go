package parser

import (
	"fmt"
	"strconv"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// parseExpr parses Nix's expr_function: lambdas, assert, with, let … in,
// if, or an operator expression.
func (p *parser) parseExpr() ast.Expr {
	p.enter()
	defer p.leave()
	switch p.tok.Tok {
	case token.IDENT:
		switch p.peek(1).Tok {
		case token.COLON:
			param := p.parseIdent()
			p.next()
			return node(p, &p.lambdas, ast.Lambda{StartPos: param.NamePos, Param: param, Body: p.parseExpr()})
		case token.AT:
			param := p.parseIdent()
			p.next()
			formals := p.parseFormals()
			formals.BinderLeft = true
			p.checkBinder(param, formals)
			p.expect(token.COLON)
			return node(p, &p.lambdas, ast.Lambda{StartPos: param.NamePos, Param: param, Formals: formals, Body: p.parseExpr()})
		}
	case token.LBRACE:
		if p.startsFormals() {
			start := p.tok.Pos
			formals := p.parseFormals()
			var param *ast.Ident
			if p.tok.Tok == token.AT {
				p.next()
				if p.tok.Tok != token.IDENT {
					p.errorExpected("identifier")
				}
				param = p.parseIdent()
				p.checkBinder(param, formals)
			}
			p.expect(token.COLON)
			return node(p, &p.lambdas, ast.Lambda{StartPos: start, Param: param, Formals: formals, Body: p.parseExpr()})
		}
	case token.ASSERT:
		pos := p.tok.Pos
		p.next()
		cond := p.parseExpr()
		p.expect(token.SEMI)
		return &ast.Assert{AssertPos: pos, Cond: cond, Body: p.parseExpr()}
	case token.WITH:
		pos := p.tok.Pos
		p.next()
		scope := p.parseExpr()
		p.expect(token.SEMI)
		return &ast.With{WithPos: pos, Scope: scope, Body: p.parseExpr()}
	case token.LET:
		if p.peek(1).Tok != token.LBRACE {
			pos := p.tok.Pos
			p.next()
			bindings := p.parseBindings(token.IN)
			for _, b := range bindings {
				if a, ok := b.(*ast.Attr); ok && !isStaticKey(a.Path[0]) {
					p.error(pos, "dynamic attributes not allowed in let")
				}
			}
			p.expect(token.IN)
			return &ast.Let{LetPos: pos, Bindings: bindings, Body: p.parseExpr()}
		}
	case token.IF:
		pos := p.tok.Pos
		p.next()
		cond := p.parseExpr()
		p.expect(token.THEN)
		then := p.parseExpr()
		p.expect(token.ELSE)
		return &ast.If{IfPos: pos, Cond: cond, Then: then, Else: p.parseExpr()}
	}
	return p.parseBinary(precLowest)
}

// startsFormals decides, at '{', between a lambda pattern and an attribute
// set, as Nix's LALR(1) parser does with its lookahead.
func (p *parser) startsFormals() bool {
	switch p.peek(1).Tok {
	case token.ELLIPSIS:
		return true
	case token.RBRACE:
		t := p.peek(2).Tok
		return t == token.COLON || t == token.AT
	case token.IDENT:
		switch p.peek(2).Tok {
		case token.COMMA, token.QUESTION, token.RBRACE:
			return true
		}
	}
	return false
}

// parseFormals parses { a, b ? d, ... } with an optional trailing comma.
func (p *parser) parseFormals() *ast.Formals {
	f := node(p, &p.formalSets, ast.Formals{Lbrace: p.expectPos(token.LBRACE)})
	mark := len(p.formals)
	var seen map[string]bool // only for long lists; short ones are searched
	canEllipsis := true      // "..." must come first or after a comma
	for p.tok.Tok == token.IDENT {
		name := p.parseIdent()
		if p.duplicateFormal(name.Name, p.formals[mark:], &seen) {
			p.error(name.NamePos, fmt.Sprintf("duplicate formal function argument '%s'", name.Name))
		}
		formal := node(p, &p.formalNodes, ast.Formal{Name: name})
		if p.tok.Tok == token.QUESTION {
			p.next()
			formal.Default = p.parseExpr()
		}
		p.formals.push(formal)
		if p.tok.Tok != token.COMMA {
			canEllipsis = false
			break
		}
		p.next()
	}
	f.List = p.formals.popTo(p, &p.formalList, mark)
	if p.tok.Tok == token.ELLIPSIS && canEllipsis {
		f.Ellipsis = true
		p.next()
	}
	f.EndP = p.expectEnd(token.RBRACE)
	return f
}

// duplicateFormal reports whether name is among the formals so far. Past a
// few formals it indexes them in *seen, so that a hostile pattern with many
// formals does not cost quadratic time.
func (p *parser) duplicateFormal(name string, list []*ast.Formal, seen *map[string]bool) bool {
	const linear = 8
	if len(list) < linear {
		for _, f := range list {
			if f.Name.Name == name {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*len(list))
		for _, f := range list {
			(*seen)[f.Name.Name] = true
		}
	}
	if (*seen)[name] {
		return true
	}
	(*seen)[name] = true
	return false
}

func (p *parser) checkBinder(param *ast.Ident, f *ast.Formals) {
	for _, formal := range f.List {
		if formal.Name.Name == param.Name {
			p.error(param.NamePos, fmt.Sprintf("duplicate formal function argument '%s'", param.Name))
		}
	}
}

// Operator precedences, lowest first, from the %left/%right/%nonassoc
// declarations of Nix's parser.y.
const (
	precLowest = iota
	precImpl   // -> right
	precOr     // || left
	precAnd    // && left
	precEq     // == != nonassoc
	precCmp    // < > <= >= nonassoc
	precUpdate // // right
	precNot    // ! prefix
	precAdd    // + - left
	precMul    // * / left
	precConcat // ++ right
	precHas    // ? nonassoc
	precNeg    // unary - prefix
)

type assoc int

const (
	left assoc = iota
	right
	nonassoc
)

func binaryPrec(t token.Token) (int, assoc) {
	switch t {
	case token.IMPL:
		return precImpl, right
	case token.LOR:
		return precOr, left
	case token.LAND:
		return precAnd, left
	case token.EQL, token.NEQ:
		return precEq, nonassoc
	case token.LSS, token.GTR, token.LEQ, token.GEQ:
		return precCmp, nonassoc
	case token.UPDATE:
		return precUpdate, right
	case token.ADD, token.SUB:
		return precAdd, left
	case token.MUL, token.QUO:
		return precMul, left
	case token.CONCAT:
		return precConcat, right
	case token.QUESTION:
		return precHas, nonassoc
	}
	return 0, left
}

// parseBinary parses an operator expression whose operators all bind at
// least as tightly as minPrec.
func (p *parser) parseBinary(minPrec int) ast.Expr {
	p.enter()
	defer p.leave()
	var x ast.Expr
	switch p.tok.Tok {
	case token.NOT:
		pos := p.tok.Pos
		p.next()
		x = &ast.Unary{OpPos: pos, Op: token.NOT, X: p.parseBinary(precNot + 1)}
	case token.SUB:
		pos := p.tok.Pos
		p.next()
		x = &ast.Unary{OpPos: pos, Op: token.SUB, X: p.parseBinary(precNeg + 1)}
	default:
		if minPrec > precNeg {
			return p.parseApp()
		}
		x = p.parseApp()
	}
	lastNonassoc := -1
	chain := 0 // left-nested nodes built here deepen the tree without recursion
	for {
		op := p.tok
		prec, as := binaryPrec(op.Tok)
		if prec == 0 || prec < minPrec {
			if op.Tok == token.PIPE_R || op.Tok == token.PIPE_L {
				p.error(op.Pos, fmt.Sprintf("pipe operator '%s' is not supported by Nix 2.8", op.Tok))
			}
			return x
		}
		if prec == lastNonassoc {
			p.error(op.Pos, fmt.Sprintf("unexpected '%s': operator is not associative", op.Tok))
		}
		chain++
		if p.depth+chain > p.maxDepth {
			p.error(op.Pos, fmt.Sprintf("expression nested too deeply (limit %d)", p.maxDepth))
		}
		p.next()
		if op.Tok == token.QUESTION {
			path, end := p.parseAttrPath()
			x = &ast.HasAttr{X: x, Path: path, EndP: end}
		} else {
			next := prec + 1
			if as == right {
				next = prec
			}
			x = node(p, &p.binaries, ast.Binary{X: x, OpPos: op.Pos, Op: op.Tok, Y: p.parseBinary(next)})
		}
		if as == nonassoc {
			lastNonassoc = prec
		} else {
			lastNonassoc = -1
		}
	}
}

// parseApp parses function application: a sequence of select expressions.
func (p *parser) parseApp() ast.Expr {
	fun := p.parseSelect()
	if !p.startsSimple() {
		return fun
	}
	mark := len(p.exprs)
	for p.startsSimple() {
		arg := p.parseSelect() // not inline: p.exprs may grow meanwhile
		p.exprs.push(arg)
	}
	return node(p, &p.calls, ast.Call{Fun: fun, Args: p.exprs.popTo(p, &p.exprList, mark)})
}

func (p *parser) startsSimple() bool {
	switch p.tok.Tok {
	case token.IDENT, token.INT, token.FLOAT, token.STRING_OPEN, token.IND_STRING_OPEN,
		token.PATH, token.PATH_OPEN, token.SPATH, token.URI,
		token.LPAREN, token.LBRACE, token.LBRACK, token.REC:
		return true
	case token.LET:
		return p.peek(1).Tok == token.LBRACE
	}
	return false
}

// parseSelect parses expr_select: x, x.a.b, x.a.b or default, and the
// legacy `x or`, which applies x to a variable named "or".
func (p *parser) parseSelect() ast.Expr {
	x := p.parseSimple()
	switch p.tok.Tok {
	case token.DOT:
		p.next()
		path, end := p.parseAttrPath()
		sel := node(p, &p.selects, ast.Select{X: x, Path: path, EndP: end})
		if p.tok.Tok == token.OR {
			p.next()
			p.enter()
			sel.Default = p.parseSelect()
			p.leave()
			sel.EndP = sel.Default.End()
		}
		return sel
	case token.OR:
		or := p.idents.new(p)
		*or = ast.Ident{NamePos: p.tok.Pos, Name: "or", EndP: p.tok.End}
		p.next()
		return node(p, &p.calls, ast.Call{Fun: x, Args: p.exprList.take(p, []ast.Expr{or})})
	}
	return x
}

// parseAttrPath parses a.b."c".${d}; it returns the elements and the end of
// the last one.
func (p *parser) parseAttrPath() ([]ast.Expr, token.Pos) {
	mark := len(p.exprs)
	for {
		elem := p.parseAttrName()
		p.exprs.push(elem)
		if p.tok.Tok != token.DOT {
			return p.exprs.popTo(p, &p.exprList, mark), elem.End()
		}
		p.next()
	}
}

// parseAttrName parses one attribute name: identifier, "or", "string" or
// ${expr}.
func (p *parser) parseAttrName() ast.Expr {
	switch p.tok.Tok {
	case token.IDENT, token.OR:
		id := p.idents.new(p)
		*id = ast.Ident{NamePos: p.tok.Pos, Name: p.tok.Lit, EndP: p.tok.End}
		p.next()
		return id
	case token.STRING_OPEN:
		return p.parseString()
	case token.DOLLAR_CURLY:
		return p.parseInterp()
	}
	p.errorExpected("attribute name")
	return nil
}

func (p *parser) parseIdent() *ast.Ident {
	if p.tok.Tok != token.IDENT {
		p.errorExpected("'" + token.IDENT.String() + "'")
	}
	id := p.idents.new(p)
	*id = ast.Ident{NamePos: p.tok.Pos, Name: p.tok.Lit, EndP: p.tok.End}
	p.next()
	return id
}

// parseInterp parses ${ expr }.
func (p *parser) parseInterp() *ast.Interp {
	dollar := p.expectPos(token.DOLLAR_CURLY)
	x := p.parseExpr()
	end := p.expectEnd(token.RBRACE)
	in := p.interps.new(p)
	*in = ast.Interp{Dollar: dollar, X: x, EndP: end}
	return in
}

// parseSimple parses Nix's expr_simple.
func (p *parser) parseSimple() ast.Expr {
	p.enter()
	defer p.leave()
	tok := p.tok
	pos := tok.Pos
	switch tok.Tok {
	case token.IDENT:
		return p.parseIdent()
	case token.INT:
		p.next()
		v, _ := strconv.ParseInt(tok.Lit, 10, 64) // the scanner validated it
		return node(p, &p.ints, ast.Int{ValuePos: pos, Lit: tok.Lit, Value: v, EndP: tok.End})
	case token.FLOAT:
		p.next()
		v, _ := strconv.ParseFloat(tok.Lit, 64)
		return &ast.Float{ValuePos: pos, Lit: tok.Lit, Value: v, EndP: tok.End}
	case token.STRING_OPEN:
		return p.parseString()
	case token.IND_STRING_OPEN:
		return p.parseIndString()
	case token.PATH:
		text := p.texts.new(p)
		*text = ast.Text{ValuePos: pos, Value: p.tok.Lit, EndP: p.tok.End}
		p.next()
		return node(p, &p.paths, ast.Path{ValuePos: pos, Parts: p.exprList.take(p, []ast.Expr{text}), EndP: text.EndP})
	case token.PATH_OPEN:
		return p.parseInterpolatedPath()
	case token.SPATH:
		sp := &ast.SearchPath{ValuePos: pos, Value: p.tok.Value, EndP: p.tok.End}
		p.next()
		return sp
	case token.URI:
		uri := &ast.URI{ValuePos: pos, Value: p.tok.Lit, EndP: p.tok.End}
		p.next()
		return uri
	case token.LPAREN:
		p.next()
		x := p.parseExpr()
		end := p.expectEnd(token.RPAREN)
		return node(p, &p.parens, ast.Paren{Lparen: pos, X: x, EndP: end})
	case token.LET:
		p.next()
		p.expect(token.LBRACE)
		bindings := p.parseBindings(token.RBRACE)
		end := p.expectEnd(token.RBRACE)
		return &ast.LegacyLet{LetPos: pos, Bindings: bindings, EndP: end}
	case token.REC:
		p.next()
		lbrace := p.expectPos(token.LBRACE)
		bindings := p.parseBindings(token.RBRACE)
		end := p.expectEnd(token.RBRACE)
		return node(p, &p.attrSets, ast.AttrSet{RecPos: pos, Lbrace: lbrace, Bindings: bindings, EndP: end})
	case token.LBRACE:
		p.next()
		bindings := p.parseBindings(token.RBRACE)
		end := p.expectEnd(token.RBRACE)
		return node(p, &p.attrSets, ast.AttrSet{Lbrace: pos, Bindings: bindings, EndP: end})
	case token.LBRACK:
		p.next()
		list := node(p, &p.lists, ast.List{Lbrack: pos})
		mark := len(p.exprs)
		for p.startsSimple() {
			elem := p.parseSelect()
			p.exprs.push(elem)
		}
		list.Elems = p.exprs.popTo(p, &p.exprList, mark)
		list.EndP = p.expectEnd(token.RBRACK)
		return list
	case token.PIPE_R, token.PIPE_L:
		p.error(pos, fmt.Sprintf("pipe operator '%s' is not supported by Nix 2.8", p.tok.Tok))
	}
	p.errorExpected("expression")
	return nil
}

// parseBindings parses the bindings of a set or let up to (not including)
// the closing token.
func (p *parser) parseBindings(closing token.Token) []ast.Binding {
	mark := len(p.bindings)
	for p.tok.Tok != closing {
		if p.tok.Tok == token.INHERIT {
			inh := p.parseInherit()
			p.bindings.push(inh)
			continue
		}
		switch p.tok.Tok {
		case token.IDENT, token.OR, token.STRING_OPEN, token.DOLLAR_CURLY:
		default:
			p.errorExpected("attribute name or '" + closing.String() + "'")
		}
		path, _ := p.parseAttrPath()
		p.expect(token.ASSIGN)
		value := p.parseExpr()
		end := p.expectEnd(token.SEMI)
		attr := p.attrs.new(p)
		*attr = ast.Attr{Path: path, Value: value, EndP: end}
		p.bindings.push(attr)
	}
	return p.bindings.popTo(p, &p.bindingList, mark)
}

// parseInherit parses inherit a b; and inherit (from) a b;.
func (p *parser) parseInherit() *ast.Inherit {
	inh := &ast.Inherit{InheritPos: p.expectPos(token.INHERIT)}
	if p.tok.Tok == token.LPAREN {
		p.next()
		inh.From = p.parseExpr()
		p.expect(token.RPAREN)
	}
	mark := len(p.exprs)
	for {
		switch p.tok.Tok {
		case token.IDENT, token.OR, token.STRING_OPEN, token.DOLLAR_CURLY:
			name := p.parseAttrName()
			if !isStaticKey(name) {
				p.error(name.Pos(), "dynamic attributes not allowed in inherit")
			}
			p.exprs.push(name)
			continue
		}
		break
	}
	inh.Names = p.exprs.popTo(p, &p.exprList, mark)
	inh.EndP = p.expectEnd(token.SEMI)
	return inh
}

// isStaticKey reports whether an attribute name is known without
// evaluation: an identifier, a string without interpolation, or ${ } of
// such a string, which Nix folds into a static name.
func isStaticKey(x ast.Expr) bool {
	switch k := x.(type) {
	case *ast.Ident:
		return true
	case *ast.Interp:
		return isConstString(k.X)
	}
	return isConstString(x)
}

func isConstString(x ast.Expr) bool {
	for {
		paren, ok := x.(*ast.Paren)
		if !ok {
			break
		}
		x = paren.X
	}
	str, ok := x.(*ast.String)
	if !ok {
		return false
	}
	for _, part := range str.Parts {
		if _, ok := part.(*ast.Interp); ok {
			return false
		}
	}
	return true
}

// parseInterpolatedPath parses PATH_OPEN (PATH_TEXT | ${expr})* PATH_CLOSE.
func (p *parser) parseInterpolatedPath() *ast.Path {
	path := node(p, &p.paths, ast.Path{ValuePos: p.expectPos(token.PATH_OPEN)})
	interpolated := false
	mark := len(p.exprs)
	for p.tok.Tok != token.PATH_CLOSE {
		switch p.tok.Tok {
		case token.PATH_TEXT:
			p.pushText(mark, p.tok.Pos, p.tok.Lit, p.tok.End)
			p.next()
		case token.DOLLAR_CURLY:
			interp := p.parseInterp()
			p.exprs.push(interp)
			interpolated = true
		default:
			p.errorExpected("path")
		}
	}
	if !interpolated {
		p.error(path.ValuePos, "expected '${' in path, found end of path")
	}
	path.Parts = p.exprs.popTo(p, &p.exprList, mark)
	path.EndP = p.tok.Pos
	p.next()
	return path
}

// pushText pushes a text part onto p.exprs, merging it into a preceding
// *Text of the same list (above mark). The preceding node is one this
// list made and nothing else refers to, so it is updated in place.
func (p *parser) pushText(mark int, pos token.Pos, value string, end token.Pos) {
	if n := len(p.exprs); n > mark {
		if prev, ok := p.exprs[n-1].(*ast.Text); ok {
			prev.Value += value
			prev.EndP = end
			return
		}
	}
	t := p.texts.new(p)
	*t = ast.Text{ValuePos: pos, Value: value, EndP: end}
	p.exprs.push(t)
}
