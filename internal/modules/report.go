package modules

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/termsafe"
	"github.com/driftcheck/driftcheck/internal/textout"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// UnitsSchema identifies the JSON format of the units report.
const UnitsSchema = "driftcheck.units/v1"

// UnitsReport is what the units command prints for one revision.
type UnitsReport struct {
	Rev    string // full commit sha
	Files  int    // module files read
	Result declared.Result
	// Evaluated is set when Nix evaluated the configuration (--declared
	// eval or both): what was evaluated, e.g. "nixosConfigurations.web".
	Evaluated string
	// Fidelity lists where the static reader and the evaluation disagree
	// (--declared both).
	Fidelity []unitdiff.Fidelity
	Host     string   // the host read, "" when every matching file was
	Hosts    []string // the hosts the revision defines
}

// NewUnitsReport summarises a Load.
func NewUnitsReport(l *Loaded) UnitsReport {
	return UnitsReport{Rev: l.Revision.SHA, Files: len(l.Files), Result: l.Result, Host: l.Host, Hosts: l.Hosts}
}

// WriteJSON writes {"schema","rev","units","unresolved","errors"}; the
// three lists are arrays even when empty, never null.
func (r UnitsReport) WriteJSON(w io.Writer) error {
	out := struct {
		Schema     string                `json:"schema"`
		Rev        string                `json:"rev"`
		Evaluated  string                `json:"evaluated,omitempty"`
		Host       string                `json:"host,omitempty"`
		Hosts      []string              `json:"hosts,omitempty"`
		Units      []declared.Unit       `json:"units"`
		Unresolved []declared.Unresolved `json:"unresolved"`
		Errors     []declared.ParseError `json:"errors"`
		Fidelity   []unitdiff.Fidelity   `json:"fidelity,omitempty"`
	}{UnitsSchema, r.Rev, r.Evaluated, r.Host, r.Hosts, r.Result.Units, r.Result.Unresolved, r.Result.Errors, r.Fidelity}
	if out.Units == nil {
		out.Units = []declared.Unit{}
	}
	if out.Unresolved == nil {
		out.Unresolved = []declared.Unresolved{}
	}
	if out.Errors == nil {
		out.Errors = []declared.ParseError{}
	}
	enc := termsafe.NewJSONEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write units report: %w", err)
	}
	return nil
}

// WriteText writes a summary line, a table of the units, then the
// unresolved declarations and the files that did not parse. Every string
// from the repository is escaped for the terminal.
func (r UnitsReport) WriteText(w io.Writer) error {
	ew := textout.New(w)
	switch {
	case r.Evaluated != "":
		fmt.Fprintf(ew, "revision %s: evaluated %s with Nix, %d units\n", r.Rev, termsafe.String(r.Evaluated), len(r.Result.Units))
	case r.Host != "":
		fmt.Fprintf(ew, "revision %s, host %s: %d module files, %d units\n", r.Rev, termsafe.String(r.Host), r.Files, len(r.Result.Units))
	default:
		fmt.Fprintf(ew, "revision %s: %d module files, %d units\n", r.Rev, r.Files, len(r.Result.Units))
		if len(r.Hosts) > 0 {
			fmt.Fprintf(ew, "the repository defines %d hosts (%s): this reads every matched file, and one file's settings do not decide another's units; --host NAME reads one host\n",
				len(r.Hosts), termsafe.String(strings.Join(r.Hosts, ", ")))
		}
	}
	if len(r.Result.Units) > 0 {
		fmt.Fprintln(ew)
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "UNIT\tTYPE\tSCOPE\tDECLARED AT\tCONDITIONAL\tONCALENDAR")
		for _, u := range r.Result.Units {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n",
				termsafe.String(u.Name), termsafe.String(u.Type), termsafe.String(scopeText(u)),
				termsafe.String(unitPosition(u)), conditional(u), onCalendar(u))
		}
		tw.Flush()
		writeNotes(ew, r.Result.Units)
	}
	if len(r.Result.Unresolved) > 0 {
		fmt.Fprintf(ew, "\nunresolved (%d):\n", len(r.Result.Unresolved))
		for _, x := range r.Result.Unresolved {
			fmt.Fprintf(ew, "  %s: %s\n", termsafe.String(position(x.File, x.Line)), termsafe.String(x.Reason))
		}
	}
	if len(r.Fidelity) > 0 {
		fmt.Fprintf(ew, "\nfidelity: the static reader and the evaluation disagree on %d units (the evaluation decided):\n", len(r.Fidelity))
		for _, f := range r.Fidelity {
			fmt.Fprintf(ew, "  %s  %s: %s\n", f.Kind, termsafe.String(f.Unit), termsafe.String(f.Detail))
			if f.StaticReason != "" {
				fmt.Fprintf(ew, "    static reader: %s\n", termsafe.String(f.StaticReason))
			}
		}
	}
	if len(r.Result.Errors) > 0 {
		fmt.Fprintf(ew, "\nfiles that did not parse (%d):\n", len(r.Result.Errors))
		for _, e := range r.Result.Errors {
			fmt.Fprintf(ew, "  %s: %s\n", termsafe.String(errorPosition(e)), termsafe.String(e.Message))
		}
	}
	if ew.Err() != nil {
		return fmt.Errorf("write units report: %w", ew.Err())
	}
	return nil
}

// writeNotes lists how units were read where a reader should know it, e.g.
// a name taken from an option's default, which a host may override outside
// the repository.
func writeNotes(w io.Writer, units []declared.Unit) {
	header := false
	for _, u := range units {
		for _, n := range u.Notes {
			if !header {
				fmt.Fprintln(w, "\nnotes:")
				header = true
			}
			fmt.Fprintf(w, "  %s: %s\n", termsafe.String(u.Name), termsafe.String(n))
		}
	}
}

// unitPosition is file:line, or what was evaluated when Nix gave the unit
// and no module file declares it.
func unitPosition(u declared.Unit) string { return position(u.File, u.Line) }

func position(file string, line int) string {
	if line <= 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, line)
}

func conditional(u declared.Unit) string {
	s := "no"
	if u.Conditional {
		s = "yes"
	}
	if u.ImpliedBy != "" {
		s += " (implied by " + termsafe.String(u.ImpliedBy) + ")"
	}
	return s
}

func onCalendar(u declared.Unit) string {
	if len(u.Properties.OnCalendar) == 0 {
		return "-"
	}
	parts := make([]string, len(u.Properties.OnCalendar))
	for i, c := range u.Properties.OnCalendar {
		parts[i] = termsafe.String(c)
	}
	return strings.Join(parts, ", ")
}

// errorPosition is file:line:col, or just the file when the problem is the
// whole file (line 0: binary, too large, not UTF-8, a symbolic link).
func errorPosition(e declared.ParseError) string {
	switch {
	case e.Line == 0:
		return e.File
	case e.Col == 0:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
}

// scopeText is the unit's scope, with the home-manager user for user units
// declared in home-manager.users.<user>.
func scopeText(u declared.Unit) string {
	if u.User != "" {
		return string(u.Scope) + " (" + u.User + ")"
	}
	return string(u.Scope)
}
