// Package nixgen generates random Nix programs for differential testing and
// benchmarking of the parser. Generation is deterministic for a seed.
//
// Programs are built as a sequence of source fragments (tokens, or whole
// string literals) joined by random whitespace and comments. Valid programs
// come from the grammar; invalid ones by mutating the fragment sequence
// (delete, duplicate or swap fragments). Neither kind is guaranteed to be
// accepted or rejected by Nix: occasional tight joins (no separator) create
// lexical traps such as paths, URIs and merged identifiers on purpose. The
// oracle decides; the tests compare.
package nixgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Generator produces programs from a seeded random source.
type Generator struct {
	r *rand.Rand
	// MaxDepth bounds the nesting of generated expressions.
	MaxDepth int
	// Tight is the probability of joining two fragments without a separator
	// (0 by default). Tight joins make lexical traps on purpose: merged
	// identifiers and keywords, paths from a/b, URIs from x:y.
	Tight float64
	frags []string
	// opsOnly restricts generation to identifiers, integers, lists and the
	// expression forms, for programs whose normal form is easy to predict.
	opsOnly bool
	// lastOp is the operator emitted last; Operators programs reuse it
	// often, so chains like a ++ b ++ c test associativity.
	lastOp string
	// constInterp makes string interpolations constant strings, so a
	// string literal can be evaluated without any bindings.
	constInterp bool
}

// New returns a generator for the given seed.
func New(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), MaxDepth: 5}
}

// Program is a generated program: its fragments and the joined source.
type Program struct {
	Frags []string
	// Seps[i] separates Frags[i] from Frags[i+1].
	Seps []string
}

// Source joins the fragments.
func (p Program) Source() string {
	var b strings.Builder
	for i, f := range p.Frags {
		b.WriteString(f)
		if i < len(p.Seps) {
			b.WriteString(p.Seps[i])
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// Valid generates a program from the grammar.
func (g *Generator) Valid() Program {
	g.frags = g.frags[:0]
	if g.r.IntN(3) == 0 {
		g.module()
	} else {
		g.expr(0)
	}
	return g.program()
}

// Operators generates an expression over identifiers and integers using
// every operator, application, select with or, has-attribute, lambdas, if,
// with, assert, lists and parentheses: a program whose precedence and
// associativity decide its shape.
func (g *Generator) Operators() Program {
	g.frags = g.frags[:0]
	g.opsOnly = true
	defer func() { g.opsOnly = false }()
	g.expr(0)
	return g.program()
}

// StringLiteral generates a single "…" or ”…” literal full of escapes,
// indentation, dollar signs and quotes, whose interpolations are constant
// strings: evaluating it needs no bindings, so Nix's cooked value can be
// compared with the parser's.
func (g *Generator) StringLiteral() Program {
	g.constInterp = true
	defer func() { g.constInterp = false }()
	return Program{Frags: []string{g.stringLit(0, g.chance(0.6))}}
}

// Module generates a realistic NixOS module declaring systemd units.
func (g *Generator) Module() Program {
	g.frags = g.frags[:0]
	g.module()
	return g.program()
}

// Invalid generates a program and mutates it: it deletes, duplicates or
// swaps fragments. The result is usually, not always, a syntax error.
func (g *Generator) Invalid() Program {
	p := g.Valid()
	frags := append([]string(nil), p.Frags...)
	for n := 1 + g.r.IntN(2); n > 0 && len(frags) > 1; n-- {
		i := g.r.IntN(len(frags))
		switch g.r.IntN(3) {
		case 0:
			frags = append(frags[:i], frags[i+1:]...)
		case 1:
			frags = append(frags[:i+1], frags[i:]...)
		default:
			j := g.r.IntN(len(frags))
			frags[i], frags[j] = frags[j], frags[i]
		}
	}
	g.frags = frags
	return g.program()
}

func (g *Generator) program() Program {
	p := Program{Frags: append([]string(nil), g.frags...)}
	for i := 0; i+1 < len(p.Frags); i++ {
		p.Seps = append(p.Seps, g.separator())
	}
	return p
}

func (g *Generator) separator() string {
	x := g.r.Float64()
	switch {
	case x < g.Tight:
		return ""
	case x < 0.75:
		return " "
	case x < 0.88:
		return "\n" + strings.Repeat("  ", g.r.IntN(4))
	case x < 0.94:
		return " # " + g.pick(comments) + "\n"
	default:
		return " /* " + g.pick(comments) + " */ "
	}
}

var comments = []string{"note", "systemd.services.fake = {};", "TODO: ${x}", "'' \" }", "*"}

func (g *Generator) emit(frags ...string) { g.frags = append(g.frags, frags...) }

func (g *Generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *Generator) chance(p float64) bool { return g.r.Float64() < p }

var idents = []string{
	"a", "b", "x", "y", "lib", "pkgs", "config", "cfg", "name", "value", "or'",
	"foo-bar", "x'", "_", "__curPos", "builtins", "mkIf", "mkMerge", "self", "orx", "in'",
}

var attrNames = []string{
	"a", "b", "enable", "description", "serviceConfig", "ExecStart", "wantedBy",
	"or", "foo-bar", "x'", "timerConfig", "OnCalendar", "script", "after",
}

var ints = []string{"0", "1", "42", "007", "9223372036854775807", "1e3", "2E5"}

var floats = []string{"1.5", ".5", "0.25", "1.", "1.5e3", "2.0E-2", "0.5e+1", "00.5"}

var paths = []string{
	"./a.nix", "../lib/b.nix", "/etc/x", "~/c", "a/b", "./a/b-c_d+e.nix", "<nixpkgs>",
	"<nixpkgs/lib>", "https://example.org/x?q=1&r=2", "mirror://gnu/hello",
}

var operators = []string{
	"+", "-", "*", "/", "++", "//", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "->",
}

func (g *Generator) ident() string { return g.pick(idents) }

func (g *Generator) expr(depth int) {
	if depth >= g.MaxDepth {
		g.simple(depth)
		return
	}
	kind := g.r.IntN(16)
	if g.opsOnly && (kind == 1 || kind == 2) {
		kind = 6
	}
	switch kind {
	case 0:
		g.emit(g.ident(), ":")
		g.expr(depth + 1)
	case 1:
		g.formals(depth)
		g.emit(":")
		g.expr(depth + 1)
	case 2:
		g.emit("let")
		g.bindings(depth, true)
		g.emit("in")
		g.expr(depth + 1)
	case 3:
		g.emit("with")
		g.expr(depth + 1)
		g.emit(";")
		g.expr(depth + 1)
	case 4:
		g.emit("assert")
		g.expr(depth + 1)
		g.emit(";")
		g.expr(depth + 1)
	case 5:
		g.emit("if")
		g.expr(depth + 1)
		g.emit("then")
		g.expr(depth + 1)
		g.emit("else")
		g.expr(depth + 1)
	default:
		g.op(depth)
	}
}

func (g *Generator) formals(depth int) {
	binder := g.r.IntN(4)
	if binder == 1 {
		g.emit(g.ident(), "@")
	}
	g.emit("{")
	names := []string{"lib", "pkgs", "config", "options", "modulesPath", "x", "y"}
	n := g.r.IntN(4)
	g.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for i := 0; i < n; i++ {
		g.emit(names[i])
		if g.chance(0.3) {
			g.emit("?")
			g.expr(depth + 1)
		}
		if i < n-1 || g.chance(0.4) {
			g.emit(",")
		}
	}
	if g.chance(0.4) {
		if n > 0 && g.frags[len(g.frags)-1] != "," {
			g.emit(",")
		}
		g.emit("...")
	}
	g.emit("}")
	if binder == 2 {
		g.emit("@", "args")
	}
}

func (g *Generator) op(depth int) {
	switch g.r.IntN(8) {
	case 0:
		g.emit(g.pick([]string{"!", "-"}))
		g.op(depth + 1)
	case 1, 2:
		g.app(depth)
		op := g.pick(operators)
		if g.opsOnly && g.lastOp != "" && g.chance(0.5) {
			op = g.lastOp
		}
		g.lastOp = op
		g.emit(op)
		g.op(depth + 1)
	case 3:
		g.app(depth)
		g.emit("?")
		g.attrPath(depth)
	default:
		g.app(depth)
	}
}

func (g *Generator) app(depth int) {
	g.selectExpr(depth)
	for n := g.r.IntN(3); n > 0 && depth < g.MaxDepth; n-- {
		g.selectExpr(depth + 1)
	}
}

func (g *Generator) selectExpr(depth int) {
	g.simple(depth)
	switch g.r.IntN(6) {
	case 0:
		g.emit(".")
		g.attrPath(depth)
	case 1:
		g.emit(".")
		g.attrPath(depth)
		g.emit("or")
		g.simple(depth + 1)
	case 2:
		if g.chance(0.1) {
			g.emit("or")
		}
	}
}

func (g *Generator) attrPath(depth int) {
	for n := 1 + g.r.IntN(3); ; n-- {
		g.attrName(depth)
		if n <= 1 {
			return
		}
		g.emit(".")
	}
}

func (g *Generator) attrName(depth int) {
	if g.opsOnly {
		g.emit(g.pick(attrNames))
		return
	}
	switch g.r.IntN(8) {
	case 0:
		g.emit(g.stringLit(depth, false))
	case 1:
		if depth < g.MaxDepth {
			g.emit("${")
			g.expr(depth + 1)
			g.emit("}")
			return
		}
		fallthrough
	default:
		g.emit(g.pick(attrNames))
	}
}

func (g *Generator) simple(depth int) {
	if g.opsOnly {
		g.simpleOp(depth)
		return
	}
	n := 9
	if depth < g.MaxDepth {
		n = 16
	}
	switch g.r.IntN(n) {
	case 0, 1:
		g.emit(g.ident())
	case 2:
		g.emit(g.pick(ints))
	case 3:
		g.emit(g.pick(floats))
	case 4:
		g.emit(g.stringLit(depth, false))
	case 5:
		g.emit(g.stringLit(depth, true))
	case 6:
		g.emit(g.pick(paths))
	case 7:
		g.emit(g.interpolatedPath(depth))
	case 8:
		g.emit("true")
	case 9, 10:
		g.emit(g.pick([]string{"{", "rec {"}))
		g.bindings(depth, false)
		g.emit("}")
	case 11:
		g.emit("let", "{")
		g.bindings(depth, false)
		g.emit("body", "=")
		g.expr(depth + 1)
		g.emit(";", "}")
	case 12, 13:
		g.emit("[")
		for n := g.r.IntN(4); n > 0; n-- {
			g.selectExpr(depth + 1)
		}
		g.emit("]")
	default:
		g.emit("(")
		g.expr(depth + 1)
		g.emit(")")
	}
}

func (g *Generator) simpleOp(depth int) {
	n := 3
	if depth < g.MaxDepth {
		n = 6
	}
	switch g.r.IntN(n) {
	case 0, 1:
		g.emit(g.pick([]string{"a", "b", "c", "d", "x'", "foo-bar", "_"}))
	case 2:
		g.emit(g.pick([]string{"0", "1", "42", "007"}))
	case 3:
		g.emit("[")
		for n := g.r.IntN(3); n > 0; n-- {
			g.selectExpr(depth + 1)
		}
		g.emit("]")
	default:
		g.emit("(")
		g.expr(depth + 1)
		g.emit(")")
	}
}

func (g *Generator) bindings(depth int, inLet bool) {
	for n := g.r.IntN(4); n > 0; n-- {
		switch g.r.IntN(6) {
		case 0:
			g.emit("inherit")
			if g.chance(0.5) {
				g.emit("(")
				g.expr(depth + 1)
				g.emit(")")
			}
			for m := 1 + g.r.IntN(3); m > 0; m-- {
				g.emit(g.pick(attrNames))
			}
			g.emit(";")
		default:
			if inLet {
				g.emit(g.pick(idents))
				if g.chance(0.3) {
					g.emit(".")
					g.attrPath(depth + 1)
				}
			} else {
				g.attrPath(depth + 1)
			}
			g.emit("=")
			g.expr(depth + 1)
			g.emit(";")
		}
	}
}

// interpolatedPath returns a path like ./${x}.nix or ~/${x}/a.
func (g *Generator) interpolatedPath(depth int) string {
	var b strings.Builder
	b.WriteString(g.pick([]string{"./", "../", "/", "~/", "a/", "./a/"}))
	for n := 1 + g.r.IntN(2); n > 0; n-- {
		b.WriteString("${" + g.sub(depth) + "}")
		b.WriteString(g.pick([]string{"", ".nix", "/b", "-x", "/c.d"}))
	}
	return b.String()
}

// sub renders a nested expression as a single fragment, for use inside
// string and path interpolations.
func (g *Generator) sub(depth int) string {
	saved := g.frags
	g.frags = nil
	g.expr(depth + 1)
	p := g.program()
	g.frags = saved
	return strings.TrimSuffix(p.Source(), "\n")
}

var stringPieces = []string{
	"hello", " ", "\\n", "\\t", "\\r", "\\\\", "\\\"", "\\$", "\\${x}", "$$", "$${x}", "$", "'",
	"''", "}", "{", "é", "a$b", "\\q", "#", "/*",
}

var indPieces = []string{
	"hello", " ", "  ", "\n", "\n  ", "\n    ", "''$", "'''", "''\\n", "''\\t", "''\\ ", "$$",
	"$${x}", "'", "$", "\"", "\\n", "}", "{", "é", "\t", "''${x}", "a'b", "'$",
}

func (g *Generator) stringLit(depth int, indented bool) string {
	var b strings.Builder
	pieces := stringPieces
	if indented {
		pieces = indPieces
		b.WriteString("''")
		if g.chance(0.6) {
			b.WriteString(strings.Repeat(" ", g.r.IntN(3)) + "\n")
		}
	} else {
		b.WriteString(`"`)
	}
	indent := strings.Repeat(" ", g.r.IntN(5))
	for n := g.r.IntN(7); n > 0; n-- {
		if depth < g.MaxDepth && g.chance(0.2) {
			if g.constInterp {
				if strings.HasSuffix(b.String(), "$") {
					// "$" + "${" would read as "$$" + "{": the literal would
					// end early and no longer evaluate to a string.
					b.WriteByte(' ')
				}
				b.WriteString("${" + g.stringLit(depth+2, g.chance(0.5)) + "}")
			} else {
				b.WriteString("${" + g.sub(depth) + "}")
			}
			continue
		}
		piece := g.pick(pieces)
		if indented && strings.HasPrefix(piece, "\n") {
			piece += indent
		}
		// A piece ending in $ must not run into a following '{' by accident
		// in a way the generator did not intend; keep it anyway: the oracle
		// judges.
		b.WriteString(piece)
	}
	if indented {
		if g.chance(0.5) {
			b.WriteString("\n" + indent)
		}
		b.WriteString("''")
	} else {
		b.WriteString(`"`)
	}
	return b.String()
}

// module emits a NixOS module in the shapes real configurations use.
func (g *Generator) module() {
	g.emit("{", "config", ",", "lib", ",", "pkgs", ",")
	if g.chance(0.5) {
		g.emit("...")
	}
	g.emit("}", ":")
	if g.chance(0.5) {
		g.emit("with", "lib", ";")
	}
	g.emit("let", "cfg", "=", "config", ".", "services", ".", "app", ";", "name", "=",
		fmt.Sprintf("%q", g.pick([]string{"docker-prune", "backup", "app"})), ";", "in")
	g.emit("{")
	g.emit("options", ".", "services", ".", "app", ".", "enable", "=", "mkEnableOption",
		`"app"`, ";")
	g.emit("config", "=")
	if g.chance(0.5) {
		g.emit("mkIf", "cfg", ".", "enable")
	}
	g.emit("{")
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		unit := g.pick([]string{"foo", `"getty@tty1"`, "${name}", `"app-${name}"`, "docker-prune"})
		g.emit("systemd", ".", "services", ".", unit, "=", "{")
		g.emit("description", "=", `"Unit ${name}"`, ";")
		g.emit("serviceConfig", ".", "ExecStart", "=",
			"\"${pkgs.docker}/bin/docker system prune -f\"", ";")
		g.emit("script", "=", g.stringLit(g.MaxDepth-1, true), ";")
		if g.chance(0.5) {
			g.emit("startAt", "=", g.pick([]string{`"daily"`, `[ "daily" "weekly" ]`}), ";")
		}
		g.emit("}", ";")
		if g.chance(0.4) {
			g.emit("systemd", ".", "timers", ".", unit, "=", "{", "wantedBy", "=", "[",
				`"timers.target"`, "]", ";", "timerConfig", ".", "OnCalendar", "=", `"daily"`, ";", "}", ";")
		}
	}
	g.emit("}", ";", "}")
}
