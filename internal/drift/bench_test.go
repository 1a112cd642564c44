package drift

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/driftcheck/driftcheck/internal/benchtest"
	"github.com/driftcheck/driftcheck/internal/busdial"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/modules"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
	"github.com/driftcheck/driftcheck/internal/testreq"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// The end-to-end benchmark's host is the one internal/live's
// BenchmarkLiveRead reads (sdsandbox.FleetUnits): 1,000 oneshot services,
// the first 500 enabled and active, the other 500 triggered by 500 enabled
// OnCalendar=daily timers.
const (
	benchServices = 1000
	benchTimers   = benchServices / 2
	benchHistory  = DefaultHistory
)

func benchHostUnits() []sdsandbox.Unit { return sdsandbox.FleetUnits(benchServices) }

// benchCase is a repository declaring some of the host's units: services
// svc-NNNN and timers tmr-NNNN by number, spread evenly over files module
// files.
type benchCase struct {
	name     string
	files    int
	services []int
	timers   []int
}

func (bc benchCase) declared() int { return len(bc.services) + len(bc.timers) }

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// The case: 50 of the host's 1,500 units declared, in 5 module
// files of 7 services and 3 timers: 20 enabled services (svc-0000…0019),
// 15 timers (tmr-0000…0014) and the 15 services they trigger
// (svc-0500…0514).
var benchSpec = benchCase{
	name:     "spec-50-declared",
	files:    5,
	services: append(span(0, 20), span(benchTimers, benchTimers+15)...),
	timers:   span(0, 15),
}

// The stress case: every unit of the host declared, in 100 module files of
// 10 services and 5 timers (2.6 KB, 135 lines each).
var benchStress = benchCase{
	name:     "stress-1500-declared",
	files:    100,
	services: span(0, benchServices),
	timers:   span(0, benchTimers),
}

// module is module file k of the case, declaring its units as the host
// runs them, written as a NixOS module would be; edit changes its comment.
func (bc benchCase) module(k int, edit int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "# bench module %d, edit %d\n{ config, lib, pkgs, ... }:\n\n{\n", k, edit)
	part := func(all []int) []int { return all[k*len(all)/bc.files : (k+1)*len(all)/bc.files] }
	for _, i := range part(bc.services) {
		fmt.Fprintf(&s, "  systemd.services.svc-%04d = {\n", i)
		if i < benchTimers {
			s.WriteString("    wantedBy = [ \"multi-user.target\" ];\n")
		}
		s.WriteString("    serviceConfig = {\n      Type = \"oneshot\";\n      RemainAfterExit = true;\n      ExecStart = \"/bin/true\";\n    };\n  };\n\n")
	}
	for _, i := range part(bc.timers) {
		fmt.Fprintf(&s, "  systemd.timers.tmr-%04d = {\n    wantedBy = [ \"timers.target\" ];\n", i)
		fmt.Fprintf(&s, "    timerConfig = {\n      OnCalendar = \"daily\";\n      Unit = \"svc-%04d.service\";\n    };\n  };\n\n", benchTimers+i)
	}
	s.WriteString("}\n")
	return s.String()
}

// repo commits the case's module files, then benchHistory commits that
// each edit one module file's comment, so that the default history search
// reads benchHistory earlier revisions in full. It returns the repository
// and the module files' paths in the work tree (which is at HEAD).
func (bc benchCase) repo(b *testing.B) (*gittest.Repo, []string) {
	b.Helper()
	g := gittest.New(b)
	files := map[string]string{}
	var paths []string
	for k := range bc.files {
		p := fmt.Sprintf("nix/modules/bench-%02d.nix", k)
		files[p] = bc.module(k, 0)
		paths = append(paths, filepath.Join(g.Dir, filepath.FromSlash(p)))
	}
	g.Commit(fmt.Sprintf("%d services, %d timers", len(bc.services), len(bc.timers)), files)
	for c := 1; c <= benchHistory; c++ {
		k := c % bc.files
		g.Commit(fmt.Sprintf("edit %d", c), map[string]string{fmt.Sprintf("nix/modules/bench-%02d.nix", k): bc.module(k, c)})
	}
	sort.Strings(paths)
	return g, paths
}

// BenchmarkCheck measures the whole check (drift.Check as `driftcheck
// check --repo R --bus-address A` runs it: resolve the revision with
// go-git, read, parse and extract its module files, the same for the 20
// earlier revisions of the stale search, the dirty check, read the host
// over D-Bus, compare) against a sandbox systemd running 1,000 services
// and 500 timers, in two cases:
//
//   - spec-50-declared, the benchmark: a repository declaring 50
//     of the host's units. Its baseline is the issue's: `systemctl
//     list-units --all -o json` plus `systemctl list-unit-files -o json`
//     inside the sandbox (through `nsenter`, as internal/live's benchmark
//     runs them); `nix-instantiate --parse` of the module files is not
//     part of it and is timed apart.
//   - stress-1500-declared: a repository declaring all 1,500 units. Its
//     baseline adds one `nix-instantiate --parse` of the 100 module files
//     of the checked-out work tree to the two systemctl listings.
//
// Either baseline is a floor for the manual route: it gets no unit names
// out of the modules (that needs an evaluation), compares nothing, reads
// no history and assumes the work tree is at the revision. Every
// iteration of the check asserts the verdict in-sync with no finding.
func BenchmarkCheck(b *testing.B) {
	sdsandbox.Require(b)
	start := time.Now()
	sb := sdsandbox.New(b, sdsandbox.Options{Units: benchHostUnits(), BootTimeout: time.Minute})
	b.Logf("booted %d units in %v", benchServices+benchTimers, time.Since(start))
	b.Run(benchSpec.name, func(b *testing.B) { benchCheck(b, sb, benchSpec, false) })
	b.Run(benchStress.name, func(b *testing.B) { benchCheck(b, sb, benchStress, true) })
}

func benchCheck(b *testing.B, sb *sdsandbox.Sandbox, bc benchCase, nixInBaseline bool) {
	ctx := context.Background()
	repo, moduleFiles := bc.repo(b)
	opts := Options{RepoDir: repo.Dir, Rev: "HEAD", Globs: defaultGlobs(b), History: DefaultHistory, BusAddress: sb.BusAddress()}

	assertInSync := func(b *testing.B, r *Report, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if r.Verdict != unitdiff.VerdictInSync || len(r.Findings) != 0 {
			b.Fatalf("verdict %s, %d findings: %+v", r.Verdict, len(r.Findings), r.Findings[:min(3, len(r.Findings))])
		}
	}
	check := func(b *testing.B, opts Options) {
		r, err := Check(ctx, opts)
		assertInSync(b, r, err)
	}
	systemctl := func(b *testing.B) {
		for _, args := range [][]string{{"list-units", "--all", "-o", "json"}, {"list-unit-files", "-o", "json"}} {
			if _, err := sb.Systemctl(ctx, args...); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Issue 13.5's target: `systemctl list-units --all -o json` alone.
	listUnits := func(b *testing.B) {
		if _, err := sb.Systemctl(ctx, "list-units", "--all", "-o", "json"); err != nil {
			b.Fatal(err)
		}
	}
	nixParse := func(b *testing.B, nix string) {
		cmd := exec.CommandContext(ctx, nix, append([]string{"--store", "dummy://", "--parse"}, moduleFiles...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err != nil || len(out) == 0 {
			b.Fatalf("nix-instantiate --parse: %v: %s", err, stderr.String())
		}
	}
	check(b, opts) // the fixture is in sync: a finding means a broken benchmark

	b.Run("driftcheck", func(b *testing.B) {
		for b.Loop() {
			check(b, opts)
		}
	})
	baselineName := "baseline/systemctl-list-units+list-unit-files-json"
	if nixInBaseline {
		baselineName += "+nix-instantiate-parse"
	}
	b.Run(baselineName, func(b *testing.B) {
		nix := ""
		if nixInBaseline {
			nix = testreq.Command(b, "nix-instantiate", "nix-bin")
		}
		for b.Loop() {
			systemctl(b)
			if nixInBaseline {
				nixParse(b, nix)
			}
		}
	})
	// Interleaved: each iteration times the check, the two systemctl
	// listings and nix-instantiate --parse back to back, so load from
	// elsewhere on the machine hits all alike. check/baseline is against
	// this case's baseline; both ratios are reported.
	b.Run("interleaved", func(b *testing.B) {
		nix := testreq.Command(b, "nix-instantiate", "nix-bin")
		mean := benchtest.Interleave(b, func() { check(b, opts) }, func() { systemctl(b) }, func() { nixParse(b, nix) }, func() { listUnits(b) })
		dc, sys, np, lu := mean[0], mean[1], mean[2], mean[3]
		base := sys
		if nixInBaseline {
			base += np
		}
		b.ReportMetric(benchtest.Nanoseconds(dc), "check-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(sys), "systemctl-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(np), "nixparse-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(base), "baseline-ns/op")
		b.ReportMetric(benchtest.Ratio(dc, base), "check/baseline")
		b.ReportMetric(benchtest.Ratio(dc, sys), "check/systemctl")
		b.ReportMetric(benchtest.Ratio(dc, sys+np), "check/systemctl+nix")
		// Issue 13.5's target: the check against `systemctl list-units
		// --all -o json` alone (no install states, loaded units only).
		b.ReportMetric(benchtest.Nanoseconds(lu), "list-units-ns/op")
		b.ReportMetric(benchtest.Ratio(dc, lu), "check/list-units")
	})

	// Issue 13.5's target alone, without the slow list-unit-files: the
	// check and `systemctl list-units --all -o json`, back to back.
	b.Run("interleaved-list-units", func(b *testing.B) {
		mean := benchtest.Interleave(b, func() { check(b, opts) }, func() { listUnits(b) })
		b.ReportMetric(benchtest.Nanoseconds(mean[0]), "check-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(mean[1]), "list-units-ns/op")
		b.ReportMetric(benchtest.Ratio(mean[0], mean[1]), "check/list-units")
	})

	// The baseline's parts (for the spec case, nix-instantiate is not in
	// the baseline: this says what adding it would cost).
	b.Run("baseline/part/systemctl-list-units+list-unit-files-json", func(b *testing.B) {
		for b.Loop() {
			systemctl(b)
		}
	})
	b.Run(fmt.Sprintf("baseline/part/nix-instantiate-parse-%d-files", bc.files), func(b *testing.B) {
		nix := testreq.Command(b, "nix-instantiate", "nix-bin")
		for b.Loop() {
			nixParse(b, nix)
		}
	})

	// Where the check's time goes.
	b.Run("driftcheck/parse-cache-off", func(b *testing.B) {
		for b.Loop() {
			c, err := newChecker(ctx, opts)
			if err != nil {
				b.Fatal(err)
			}
			c.parses = nil
			r, err := c.check(ctx)
			assertInSync(b, r, err)
		}
	})
	b.Run("driftcheck/history-none", func(b *testing.B) {
		o := opts
		o.History = 0
		for b.Loop() {
			check(b, o)
		}
	})
	b.Run("driftcheck/live-from-file", func(b *testing.B) {
		o := opts
		o.BusAddress = ""
		o.LiveFile = benchSnapshotFile(b, ctx, opts)
		for b.Loop() {
			check(b, o)
		}
	})
	c, err := newChecker(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	in := unitdiff.Input{Rev: c.rev.SHA}
	if in.Declared, err = c.declared(ctx, c.rev); err != nil {
		b.Fatal(err)
	}
	if len(in.Declared.Units) != bc.declared() {
		b.Fatalf("%d units declared, want %d", len(in.Declared.Units), bc.declared())
	}
	b.Run("phase/declared-one-revision", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.declared(ctx, c.rev); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The stale search alone: 20 earlier revisions, with a fresh parse
	// cache per iteration as in a check, and without one.
	history := func(cached bool) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				c.parses = nil
				if cached {
					c.parses = modules.NewParseCache()
				}
				h, err := c.history(ctx)
				if err != nil || len(h) != benchHistory {
					b.Fatalf("%d revisions, %v", len(h), err)
				}
			}
		}
	}
	b.Run(fmt.Sprintf("phase/history-%d-revisions", benchHistory), history(true))
	b.Run(fmt.Sprintf("phase/history-%d-revisions/parse-cache-off", benchHistory), history(false))

	q := unitdiff.LiveQuery(in)
	conn, err := live.Connect(ctx, sb.BusAddress())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.Run("phase/live.Read-check-query", func(b *testing.B) {
		for b.Loop() {
			if _, err := live.Read(ctx, conn, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The D-Bus calls of that read, alone, with go-systemd on a connection
	// of its own: the install states of the declared units' files (listed
	// through the rename probes "*svc-0000*.service" …, each matching its
	// own unit, as the read does; or through the exact names), and the
	// properties of the units.
	sd := benchSystemd(b, sb.BusAddress())
	listFiles := func(patterns []string) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				files, err := sd.ListUnitFilesByPatternsContext(ctx, nil, patterns)
				if err != nil || len(files) != len(q.Names) {
					b.Fatalf("%d files, %v", len(files), err)
				}
			}
		}
	}
	n := len(q.Names)
	b.Run(fmt.Sprintf("phase/ListUnitsByPatterns-%d-probes", n), func(b *testing.B) {
		for b.Loop() {
			if _, err := sd.ListUnitsByPatternsContext(ctx, nil, q.ScopeGlobs); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A pattern matching no file: what enumerating the host's unit files
	// costs systemd before any install state is computed.
	b.Run("phase/ListUnitFilesByPatterns-no-match", func(b *testing.B) {
		for b.Loop() {
			files, err := sd.ListUnitFilesByPatternsContext(ctx, nil, []string{"no-such-unit-*.service"})
			if err != nil || len(files) != 0 {
				b.Fatalf("%d files, %v", len(files), err)
			}
		}
	})
	b.Run(fmt.Sprintf("phase/ListUnitFilesByPatterns-%d-probes", n), listFiles(q.ScopeGlobs))
	// The floor of issue 13.5's target: the one call the check cannot do
	// without (the install states of the declared units' files, fresh from
	// disk) against `systemctl list-units --all -o json`, back to back.
	b.Run("interleaved-install-states-vs-list-units", func(b *testing.B) {
		mean := benchtest.Interleave(b, func() {
			if files, err := sd.ListUnitFilesByPatternsContext(ctx, nil, q.ScopeGlobs); err != nil || len(files) != len(q.Names) {
				b.Fatalf("%d files, %v", len(files), err)
			}
		}, func() { listUnits(b) })
		b.ReportMetric(benchtest.Nanoseconds(mean[0]), "install-states-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(mean[1]), "list-units-ns/op")
		b.ReportMetric(benchtest.Ratio(mean[0], mean[1]), "install-states/list-units")
	})
	b.Run(fmt.Sprintf("phase/ListUnitFilesByPatterns-%d-names", n), listFiles(q.Names))
	b.Run(fmt.Sprintf("phase/GetUnitProperties-%d-8-goroutines", n), func(b *testing.B) {
		for b.Loop() {
			work := make(chan string)
			errs := make(chan error, 8)
			for range 8 {
				go func() {
					var err error
					for name := range work {
						if _, e := sd.GetUnitPropertiesContext(ctx, name); e != nil && err == nil {
							err = e
						}
					}
					errs <- err
				}()
			}
			for _, name := range q.Names {
				work <- name
			}
			close(work)
			for range 8 {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// benchSystemd connects go-systemd to the sandbox's bus.
func benchSystemd(b *testing.B, addr string) *sddbus.Conn {
	b.Helper()
	sd, err := sddbus.NewConnection(func() (*dbus.Conn, error) { return busdial.Dial(addr) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sd.Close)
	return sd
}

// benchSnapshotFile writes the snapshot the check would read over D-Bus.
func benchSnapshotFile(b *testing.B, ctx context.Context, opts Options) string {
	b.Helper()
	c, err := newChecker(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	in := unitdiff.Input{Rev: c.rev.SHA}
	if in.Declared, err = c.declared(ctx, c.rev); err != nil {
		b.Fatal(err)
	}
	if in.History, err = c.history(ctx); err != nil {
		b.Fatal(err)
	}
	snap, err := ReadHost(ctx, opts.BusAddress, unitdiff.LiveQuery(in))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := snap.WriteJSON(&buf); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), "snapshot.json")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}
