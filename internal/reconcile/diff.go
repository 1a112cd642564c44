package reconcile

import (
	"fmt"
	"io"
	"strings"

	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// contextLines is how many unchanged lines surround a hunk, as git's default.
const contextLines = 3

// maxLCSCells bounds the line-matching table; beyond it the changed middle
// of a file is one replacement (still a correct patch, only larger).
const maxLCSCells = 4 << 20

// WritePatch writes the plan's file changes as a unified diff that
// `git apply` accepts.
func (p *Plan) WritePatch(w io.Writer) error {
	var b strings.Builder
	for _, f := range p.Files {
		writeFilePatch(&b, f)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFilePatch(b *strings.Builder, f FileChange) {
	oldName, newName := diffPath("a/"+f.Path), diffPath("b/"+f.Path)
	fmt.Fprintf(b, "diff --git %s %s\n", oldName, newName)
	switch f.Change {
	case unitdiff.ChangeAdded:
		b.WriteString("new file mode 100644\n")
		oldName = "/dev/null"
	case unitdiff.ChangeDeleted:
		b.WriteString("deleted file mode 100644\n")
		newName = "/dev/null"
	}
	fmt.Fprintf(b, "--- %s\n+++ %s\n", oldName, newName)
	writeHunks(b, splitLines(f.Old), splitLines(f.New))
}

// splitLines splits after each newline; the last line may lack one.
func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// op is one line of an edit script: ' ' kept, '-' removed, '+' added.
type op struct {
	kind byte
	line string
}

func editScript(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for _, l := range a[:pre] {
		ops = append(ops, op{' ', l})
	}
	ops = append(ops, middle(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, op{' ', l})
	}
	return ops
}

// middle matches the changed lines by longest common subsequence.
func middle(a, b []string) []op {
	var ops []op
	if len(a)*len(b) > maxLCSCells {
		for _, l := range a {
			ops = append(ops, op{'-', l})
		}
		for _, l := range b {
			ops = append(ops, op{'+', l})
		}
		return ops
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	return ops
}

// writeHunks groups the edit script into hunks with context.
func writeHunks(b *strings.Builder, a, bl []string) {
	ops := editScript(a, bl)
	oldLine, newLine := make([]int, len(ops)+1), make([]int, len(ops)+1)
	for i, o := range ops {
		oldLine[i+1], newLine[i+1] = oldLine[i], newLine[i]
		if o.kind != '+' {
			oldLine[i+1]++
		}
		if o.kind != '-' {
			newLine[i+1]++
		}
	}
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-contextLines)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*contextLines {
				end = min(run, end+contextLines)
				break
			}
			end = run
		}
		writeHunk(b, ops[start:end], oldLine[start], newLine[start])
		i = end
	}
}

func writeHunk(b *strings.Builder, ops []op, oldStart, newStart int) {
	var oldN, newN int
	for _, o := range ops {
		if o.kind != '+' {
			oldN++
		}
		if o.kind != '-' {
			newN++
		}
	}
	fmt.Fprintf(b, "@@ -%s +%s @@\n", hunkRange(oldStart, oldN), hunkRange(newStart, newN))
	for _, o := range ops {
		b.WriteByte(o.kind)
		b.WriteString(o.line)
		if !strings.HasSuffix(o.line, "\n") {
			b.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange is "start,count" with git's conventions: an empty range
// starts at the line before it.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// diffPath writes a path for a diff header as git does: C-quoted with
// octal escapes when it holds a control character, a quote, a backslash
// or a non-ASCII byte, so that no name from the repository reaches a
// terminal raw and git apply reads it back exactly.
func diffPath(p string) string {
	needs := false
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c >= 0x80 || c == '"' || c == '\\' {
			needs = true
			break
		}
	}
	if !needs {
		return p
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f || c >= 0x80:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
