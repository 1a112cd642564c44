package unitdiff

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// benchSpecs are OnCalendar expressions as modules write them.
var benchSpecs = []string{
	"daily", "weekly", "hourly", "monthly", "Mon..Fri 04:00", "*-*-* 00/6:00:00",
	"Sat,Sun 03:30", "*:0/15", "2026-1-1 3:4", "*-*-1,15 12:00",
}

// BenchmarkNormalizeCalendar normalizes benchSpecs in process.
func BenchmarkNormalizeCalendar(b *testing.B) {
	for b.Loop() {
		for _, s := range benchSpecs {
			if _, err := NormalizeCalendar(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkNormalizeCalendarBaselineSystemdAnalyze is the baseline: one
// systemd-analyze calendar process normalizing the same specs.
func BenchmarkNormalizeCalendarBaselineSystemdAnalyze(b *testing.B) {
	analyze := testreq.Command(b, "systemd-analyze", "systemd")
	args := append([]string{"calendar"}, benchSpecs...)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if out, err := exec.CommandContext(ctx, analyze, args...).CombinedOutput(); err != nil {
			cancel()
			b.Fatalf("systemd-analyze: %v\n%s", err, out)
		}
		cancel()
	}
}

// benchInput is a large host: 1,000 services and 500 timers declared and
// live, 50 renamed timers, 50 stale services, 20 earlier revisions.
func benchInput() Input {
	in := Input{Rev: rev, Scope: []string{"ci-*"}, Live: live.Snapshot{Scope: []string{"*"}}}
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("svc-%04d.service", i)
		in.Declared.Units = append(in.Declared.Units, decl(name, fmt.Sprintf("nix/m%d.nix:%d", i%40, i), declared.Properties{WantedBy: []string{"multi-user.target"}}))
		in.Live.Units = append(in.Live.Units, host(name, "loaded", "active", "enabled"))
	}
	for i := 0; i < 500; i++ {
		name := fmt.Sprintf("tmr-%04d.timer", i)
		in.Declared.Units = append(in.Declared.Units, decl(name, fmt.Sprintf("nix/t%d.nix:%d", i%20, i), declared.Properties{
			OnCalendar: []string{"daily"}, WantedBy: []string{"timers.target"}, Persistent: boolPtr(true),
		}))
		liveName := name
		if i < 50 {
			liveName = "ci-" + name
		}
		in.Live.Units = append(in.Live.Units, withTimer(host(liveName, "loaded", "active", "enabled"), "", true, "*-*-* 00:00:00"))
	}
	var old []declared.Unit
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("old-%04d.service", i)
		old = append(old, decl(name, "nix/old.nix:1", declared.Properties{}))
		in.Live.Units = append(in.Live.Units, host(name, "loaded", "inactive", "linked"))
	}
	for i := 0; i < 20; i++ {
		in.History = append(in.History, Revision{Commit: fmt.Sprintf("%040d", i), Units: append(old, in.Declared.Units...)})
	}
	return in
}

// BenchmarkCompare runs the whole comparison on benchInput.
func BenchmarkCompare(b *testing.B) {
	in := benchInput()
	var n int
	for b.Loop() {
		n = len(Compare(in))
	}
	if n != 100 {
		b.Fatalf("%d findings, want 50 renamed + 50 stale", n)
	}
}

// BenchmarkCompareBaselineNameJoin is the floor any comparison pays: one
// map join of declared and live names, nothing explained.
func BenchmarkCompareBaselineNameJoin(b *testing.B) {
	in := benchInput()
	var missing int
	for b.Loop() {
		liveNames := make(map[string]live.Unit, len(in.Live.Units))
		for _, u := range in.Live.Units {
			liveNames[u.Name] = u
		}
		missing = 0
		for _, d := range in.Declared.Units {
			if _, ok := liveNames[d.Name]; !ok {
				missing++
			}
		}
	}
	if missing != 50 {
		b.Fatalf("%d missing, want 50", missing)
	}
}
