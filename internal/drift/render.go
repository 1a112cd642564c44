package drift

import (
	"fmt"
	"io"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/termsafe"
	"github.com/driftcheck/driftcheck/internal/textout"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// WriteJSON writes the report as the check command's JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	if out.Findings == nil {
		out.Findings = []unitdiff.Finding{} // always an array, never null
	}
	enc := termsafe.NewJSONEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// TextStyle says how WriteText renders. (The policy, strict or not, is
// the report's own: Report.Strict and Report.Verdict.)
type TextStyle struct {
	Color bool // ANSI colours; only for a terminal, never with NO_COLOR
}

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiGreen  = "\x1b[32m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// WriteText writes the verdict line, then one block per finding, worst
// first, each with its fix. Every string that came from the repository or
// the host goes through termsafe.
func (r *Report) WriteText(w io.Writer, style TextStyle) error {
	ew := textout.New(w)
	if t := r.Toplevel; t != nil && t.Match {
		// The strongest fact there is comes first.
		ew.Printf("%s\n", style.paint(ansiGreen, fmt.Sprintf("toplevel: the host runs exactly what %s builds (%s)", unitdiff.ShortRev(r.Rev), termsafe.String(t.Host))))
	}
	ew.Printf("%s\n", style.paint(verdictColor(r.Verdict), r.summary()))
	for _, f := range r.Findings {
		ew.Printf("\n%s\n", style.paint(severityColor(unitdiff.EffectiveSeverity(f, r.Strict)), heading(f, r.Strict)))
		if f.DeclaredAt != "" {
			ew.Printf("  %s  %s\n", placeLabel(f.Kind), termsafe.String(f.DeclaredAt))
		}
		if f.Host != (unitdiff.HostState{}) {
			ew.Printf("  host         %s\n", termsafe.String(f.Host.String()))
		}
		ew.Printf("  detail       %s\n", termsafe.String(f.Detail))
		ew.Printf("  fix          %s\n", termsafe.String(f.Fix))
	}
	r.writeFidelity(ew)
	if len(r.Notes) > 0 {
		ew.Printf("\n")
		for _, n := range r.Notes {
			ew.Printf("note: %s\n", termsafe.String(n))
		}
	}
	if ew.Err() != nil {
		return fmt.Errorf("write report: %w", ew.Err())
	}
	return nil
}

// writeFidelity lists where the static reader and the evaluation
// disagree (--declared both): what the static reader misses on this code.
func (r *Report) writeFidelity(ew *textout.Writer) {
	if len(r.Fidelity) == 0 {
		return
	}
	ew.Printf("\nfidelity: the static reader and the evaluation disagree on %s (the evaluation decided)\n", plural(len(r.Fidelity), "unit"))
	for _, f := range r.Fidelity {
		name := f.Unit
		if f.Scope == declared.ScopeUser {
			name += " (user)"
		}
		ew.Printf("  %-13s  %s: %s\n", f.Kind, termsafe.String(name), termsafe.String(f.Detail))
		if f.StaticReason != "" {
			ew.Printf("  %-13s  static reader: %s\n", "", termsafe.String(f.StaticReason))
		}
	}
}

// summary is the verdict line, e.g. "drift: 2 findings at 0123456789ab".
func (r *Report) summary() string {
	counts := map[unitdiff.Severity]int{}
	for _, f := range r.Findings {
		counts[unitdiff.EffectiveSeverity(f, r.Strict)]++
	}
	line := fmt.Sprintf("%s: %s at %s", r.Verdict, plural(len(r.Findings), "finding"), unitdiff.ShortRev(r.Rev))
	var parts []string
	for _, s := range []unitdiff.Severity{unitdiff.SeverityDrift, unitdiff.SeverityIncomplete, unitdiff.SeverityWarning} {
		if counts[s] > 0 && counts[s] != len(r.Findings) {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 && counts[unitdiff.SeverityWarning] > 0 {
		parts = append(parts, plural(counts[unitdiff.SeverityWarning], "warning"))
	}
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	if r.Strict {
		line += " [strict]"
	}
	return line
}

func heading(f unitdiff.Finding, strict bool) string {
	h := string(f.Kind)
	if sev := unitdiff.EffectiveSeverity(f, strict); sev != unitdiff.SeverityDrift {
		h += " (" + string(sev) + ")"
	}
	switch {
	case f.Unit != "" && f.LiveUnit != "":
		h += "  " + termsafe.String(f.Unit) + " -> " + termsafe.String(f.LiveUnit)
	case f.Unit != "":
		h += "  " + termsafe.String(f.Unit)
	}
	return h
}

// placeLabel names DeclaredAt: a declaration for unit findings, a plain
// file for the work-tree and deploy-source findings.
func placeLabel(k unitdiff.Kind) string {
	if k == unitdiff.KindDirty || k == unitdiff.KindSourceDiffers {
		return "file       "
	}
	return "declared at"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func verdictColor(verdict string) string {
	switch verdict {
	case unitdiff.VerdictDrift:
		return ansiBold + ansiRed
	case unitdiff.VerdictIncomplete:
		return ansiBold + ansiYellow
	default:
		return ansiBold + ansiGreen
	}
}

func severityColor(s unitdiff.Severity) string {
	switch s {
	case unitdiff.SeverityDrift:
		return ansiRed
	case unitdiff.SeverityIncomplete:
		return ansiYellow
	default:
		return ansiCyan
	}
}

func (s TextStyle) paint(color, text string) string {
	if !s.Color {
		return text
	}
	return color + text + ansiReset
}
