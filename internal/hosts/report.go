package hosts

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/driftcheck/driftcheck/internal/termsafe"
	"github.com/driftcheck/driftcheck/internal/textout"
)

// ReportSchema identifies the JSON format of the hosts report.
const ReportSchema = "driftcheck.hosts/v1"

// Report is what the hosts command prints for one revision.
type Report struct {
	Rev       string
	Inventory *Inventory
	// Files lists every host's closure in the text form too.
	Files bool
}

// WriteJSON writes {"schema","rev","source","hosts","problems"}.
func (r Report) WriteJSON(w io.Writer) error {
	out := struct {
		Schema string `json:"schema"`
		Rev    string `json:"rev"`
		*Inventory
	}{ReportSchema, r.Rev, r.Inventory}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write hosts report: %w", err)
	}
	return nil
}

// WriteText writes a table of the hosts, then what could not be
// followed. Every string from the repository is escaped.
func (r Report) WriteText(w io.Writer) error {
	ew := textout.New(w)
	inv := r.Inventory
	switch {
	case len(inv.Hosts) == 0 && len(inv.Problems) == 0:
		fmt.Fprintf(ew, "revision %s: no hosts: commands without --host read every matched file\n", r.Rev)
	default:
		fmt.Fprintf(ew, "revision %s: %d hosts (%s)\n", r.Rev, len(inv.Hosts), termsafe.String(inv.Source))
	}
	if len(inv.Hosts) > 0 {
		fmt.Fprintln(ew)
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tFOUND BY\tDEFINED AT\tENTRY MODULES\tFILES\tEXTERNAL\tUNFOLLOWED")
		for _, h := range inv.Hosts {
			def := h.Definition
			if def == "" {
				def = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", termsafe.String(h.Name),
				termsafe.String(strings.Join(h.Found, ", ")), termsafe.String(def),
				termsafe.String(summarize(h.Entries, 2)), len(h.Files), len(h.External), len(h.Unfollowed))
		}
		tw.Flush()
	}
	for _, h := range inv.Hosts {
		if r.Files {
			fmt.Fprintf(ew, "\n%s: %d files\n", termsafe.String(h.Name), len(h.Files))
			for _, f := range h.Files {
				fmt.Fprintf(ew, "  %s\n", termsafe.String(f))
			}
			for _, e := range h.External {
				fmt.Fprintf(ew, "  external %s\n", termsafe.String(e))
			}
		}
	}
	header := false
	for _, h := range inv.Hosts {
		for _, p := range h.Unfollowed {
			if !header {
				fmt.Fprintln(ew, "\nnot followed (the closure may miss files):")
				header = true
			}
			fmt.Fprintf(ew, "  %s: %s\n", termsafe.String(h.Name), termsafe.String(p.String()))
		}
	}
	if len(inv.Problems) > 0 {
		fmt.Fprintf(ew, "\nhost list (%d problems):\n", len(inv.Problems))
		for _, p := range inv.Problems {
			fmt.Fprintf(ew, "  %s\n", termsafe.String(p.String()))
		}
	}
	if ew.Err() != nil {
		return fmt.Errorf("write hosts report: %w", ew.Err())
	}
	return nil
}

// summarize lists the first n items and counts the rest.
func summarize(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, " ")
	}
	return fmt.Sprintf("%s +%d", strings.Join(items[:n], " "), len(items)-n)
}

// Complete reports whether every host was found and followed fully.
func (inv *Inventory) Complete() bool {
	if len(inv.Problems) > 0 || inv.Incomplete {
		return false
	}
	for i := range inv.Hosts {
		if !inv.Hosts[i].Complete() {
			return false
		}
	}
	return true
}
