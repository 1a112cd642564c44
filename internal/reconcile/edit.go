package reconcile

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// edit replaces the bytes [start, end) of one file. Edits are made at the
// parser's exact positions, so everything around them (formatting,
// comments) stays as it was.
type edit struct {
	file       string
	start, end int
	text       string
}

// offset is the byte offset of a position in its file.
func offset(p token.Pos) int { return p.Offset() }

func nodeEdit(file string, n ast.Node, text string) edit {
	return edit{file: file, start: offset(n.Pos()), end: offset(n.End()), text: text}
}

// applyEdits applies the edits of one file. Overlapping edits are a bug in
// the planner, reported rather than written.
func applyEdits(src []byte, edits []edit) ([]byte, error) {
	sorted := append([]edit(nil), edits...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].start < sorted[j].start })
	var b strings.Builder
	last := 0
	for _, e := range sorted {
		if e.start < last || e.end < e.start || e.end > len(src) {
			return nil, fmt.Errorf("%s: overlapping or out-of-range edit at byte %d", e.file, e.start)
		}
		b.Write(src[last:e.start])
		b.WriteString(e.text)
		last = e.end
	}
	b.Write(src[last:])
	return []byte(b.String()), nil
}

// identifier is an attribute name Nix accepts unquoted.
var identifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_'-]*$`)

var keywords = map[string]bool{
	"if": true, "then": true, "else": true, "assert": true, "with": true, "let": true,
	"in": true, "rec": true, "inherit": true, "or": true,
}

// attrName writes name as an attribute-path segment: bare when Nix
// accepts it, else quoted ("foo@", "a.b").
func attrName(name string) string {
	if identifier.MatchString(name) && !keywords[name] {
		return name
	}
	return nixString(name)
}

// nixString writes s as a double-quoted Nix string.
func nixString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '$':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteString(`\$`)
			} else {
				b.WriteByte(c)
			}
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// nixValue writes a host value (a string, a bool, or a list of strings)
// in Nix syntax.
func nixValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return nixString(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case []string:
		if len(x) == 1 {
			return nixString(x[0]), true
		}
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = nixString(s)
		}
		return "[ " + strings.Join(parts, " ") + " ]", true
	case []any:
		list := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return "", false
			}
			list = append(list, s)
		}
		return nixValue(list)
	}
	return "", false
}

// reparse checks that a file reconcile writes is still Nix.
func reparse(path string, src []byte) error {
	if _, err := parser.ParseFile(path, src); err != nil {
		return fmt.Errorf("%s would not parse: %w", path, err)
	}
	return nil
}

// lineOf is the 1-based line of a byte offset.
func lineOf(src []byte, off int) int {
	if off > len(src) {
		off = len(src)
	}
	return strings.Count(string(src[:off]), "\n") + 1
}
