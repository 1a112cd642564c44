package live

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/driftcheck/driftcheck/internal/termsafe"
)

// WriteText renders the snapshot for people: one row per unit, then what
// could not be read. Every string from the host goes through termsafe.
func (snap *Snapshot) WriteText(w io.Writer) error {
	host := snap.Host
	if host == "" {
		host = "the given bus"
	}
	fmt.Fprintf(w, "systemd %s on %s at %s: %d units read",
		termsafe.String(orDash(snap.SystemdVersion)), termsafe.String(host), snap.TakenAt.Format(time.RFC3339), len(snap.Units))
	if len(snap.Errors) > 0 {
		fmt.Fprintf(w, ", %d could not be read", len(snap.Errors))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UNIT\tLOAD\tACTIVE\tSUB\tFILE STATE\tPRESET\tRELOAD\tSOURCE\tTIMER")
	for _, u := range snap.Units {
		reload := "-"
		if u.NeedDaemonReload {
			reload = "needed"
		}
		source := u.StorePath
		if source == "" {
			source = u.FragmentPath
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			termsafe.String(u.Name), termsafe.String(u.LoadState), termsafe.String(u.ActiveState),
			termsafe.String(orDash(u.SubState)), termsafe.String(orDash(u.UnitFileState)),
			termsafe.String(orDash(u.Preset)), reload, termsafe.String(orDash(source)), timerText(u.Timer))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range snap.Errors {
		fmt.Fprintf(w, "could not read %s: %s\n", termsafe.String(orDash(e.Unit)), termsafe.String(e.Message))
	}
	return nil
}

func timerText(t *Timer) string {
	if t == nil {
		return "-"
	}
	parts := make([]string, 0, len(t.Calendar)+2)
	for _, c := range t.Calendar {
		parts = append(parts, termsafe.String(c))
	}
	if t.Unit != "" {
		parts = append(parts, "-> "+termsafe.String(t.Unit))
	}
	if t.Persistent {
		parts = append(parts, "(persistent)")
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
