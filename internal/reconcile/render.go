package reconcile

import (
	"fmt"
	"io"
	"strings"

	"github.com/driftcheck/driftcheck/internal/termsafe"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// Applied is the commit --apply wrote.
type Applied struct {
	Branch string `json:"branch"`
	Commit string `json:"commit"`
	Verify string `json:"verify"` // the check command that verifies it
}

// Output is the plan with what was done with it; its JSON form is the
// reconcile command's --format json output.
type Output struct {
	*Plan
	Applied *Applied `json:"applied,omitempty"`
}

// WriteJSON writes the output as indented JSON.
func (o Output) WriteJSON(w io.Writer) error {
	enc := termsafe.NewJSONEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(o)
}

// describe is a finding in one line: "renamed docker-prune.timer -> ci-docker-prune.timer".
func describe(f unitdiff.Finding) string {
	s := string(f.Kind)
	switch {
	case f.Unit != "" && f.LiveUnit != "":
		s += " " + f.Unit + " -> " + f.LiveUnit
	case f.Unit != "":
		s += " " + f.Unit
	case f.DeclaredAt != "":
		s += " " + f.DeclaredAt
	}
	if f.Property != "" {
		s += " (" + f.Property + ")"
	}
	return s
}

// WriteText writes the plan for a person. Names from the repository and
// the host pass through termsafe.
func (o Output) WriteText(w io.Writer) error {
	p := o.Plan
	var b strings.Builder
	fmt.Fprintf(&b, "reconcile --to %s at %s: %s\n", p.To, unitdiff.ShortRev(p.Rev), summary(p))
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "\n%d. %s\n", i+1, termsafe.String(s.Detail))
		if s.Command != "" {
			fmt.Fprintf(&b, "   run      %s\n", termsafe.String(s.Command))
		}
		for _, site := range s.Sites {
			fmt.Fprintf(&b, "   at       %s\n", termsafe.String(site))
		}
		for _, e := range s.Ends {
			line := describe(e.Finding)
			if !e.Reported {
				line += ", which the earlier steps bring out"
			}
			fmt.Fprintf(&b, "   ends     %s\n", termsafe.String(line))
		}
	}
	if len(p.Files) > 0 {
		b.WriteString("\nfiles:\n")
		for _, f := range p.Files {
			fmt.Fprintf(&b, "  %-8s %s\n", f.Change, termsafe.String(f.Path))
		}
	}
	if len(p.Left) > 0 {
		b.WriteString("\nleft for a person:\n")
		for _, l := range p.Left {
			fmt.Fprintf(&b, "  %s\n    %s\n", termsafe.String(describe(l.Finding)), termsafe.String(l.Reason))
			if l.UnitFile != nil {
				fmt.Fprintf(&b, "    host unit file %s:\n", termsafe.String(l.UnitFile.Path))
				for _, line := range splitLines([]byte(l.UnitFile.Content)) {
					fmt.Fprintf(&b, "      %s\n", termsafe.String(strings.TrimRight(line, "\n")))
				}
			}
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", termsafe.String(n))
	}
	if p.Verified && p.Findings > 0 {
		fmt.Fprintf(&b, "\nverified: the planned tree, compared with the same host, leaves %d finding(s)\n", len(p.Left))
	}
	if a := o.Applied; a != nil {
		fmt.Fprintf(&b, "\napplied: branch %s, commit %s (parent %s)\nverify:  %s\n",
			termsafe.String(a.Branch), a.Commit, unitdiff.ShortRev(p.Rev), termsafe.String(a.Verify))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func summary(p *Plan) string {
	if p.Findings == 0 {
		return "nothing to reconcile"
	}
	ended := 0
	for _, s := range p.Steps {
		for _, e := range s.Ends {
			if e.Reported {
				ended++
			}
		}
	}
	return fmt.Sprintf("%d finding(s), %d step(s), %d ended, %d left for a person", p.Findings, len(p.Steps), ended, countReported(p.Left))
}

func countReported(left []Left) int {
	n := 0
	for _, l := range left {
		if l.Reported {
			n++
		}
	}
	return n
}
