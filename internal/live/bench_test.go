package live

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/benchtest"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

// benchSandbox boots a benchmark host: services oneshot services (the
// first half enabled and active, the second half behind daily timers) and
// services/2 enabled timers.
func benchSandbox(b *testing.B, services int) *sdsandbox.Sandbox {
	b.Helper()
	units := sdsandbox.FleetUnits(services)
	start := time.Now()
	sb := sdsandbox.New(b, sdsandbox.Options{Units: units, BootTimeout: time.Minute})
	b.Logf("booted %d units in %v", len(units), time.Since(start))
	return sb
}

// fiftyNames is the benchmark's declared set: 25 services, 25 timers,
// spread over a host with the given number of timers.
func fiftyNames(timers int) []string {
	var names []string
	step := timers / 25
	for i := range 25 {
		names = append(names, fmt.Sprintf("svc-%04d.service", i*step), fmt.Sprintf("tmr-%04d.timer", i*step))
	}
	return names
}

// BenchmarkLiveRead compares driftcheck's reader for 50 named units with
// the baseline a shell script would use (systemctl list-units --all plus
// list-unit-files, JSON), and the alternatives behind the reader's design.
func BenchmarkLiveRead(b *testing.B) {
	sb := benchSandbox(b, 1000)
	names := fiftyNames(500)
	ctx := context.Background()
	conn, err := Connect(ctx, sb.BusAddress())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()

	readWith := func(workers int) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				snap, err := Read(ctx, conn, Query{Names: names, Root: sb.RootFS(), Workers: workers})
				if err != nil || len(snap.Units) != len(names) {
					b.Fatalf("read %v units, err %v", snap, err)
				}
			}
		}
	}
	b.Run("driftcheck/50-names/8-workers", readWith(8))
	b.Run("driftcheck/50-names/1-worker", readWith(1))
	b.Run("driftcheck/50-names/16-workers", readWith(16))
	// What `check` asks for 50 declared units: the names and one
	// "*<name>*" rename probe per name (internal/unitdiff's LiveQuery).
	checkQuery := Query{Names: names, ScopeGlobs: renameProbes(names), Root: sb.RootFS()}
	listUnits := func(b *testing.B) {
		if _, err := sb.Systemctl(ctx, "list-units", "--all", "-o", "json"); err != nil {
			b.Fatal(err)
		}
	}
	read := func(b *testing.B, q Query) {
		if snap, err := Read(ctx, conn, q); err != nil || len(snap.Units) != len(names) {
			b.Fatalf("read %v units, err %v", snap, err)
		}
	}
	b.Run("driftcheck/check-query-50-names+50-probes", func(b *testing.B) {
		for b.Loop() {
			read(b, checkQuery)
		}
	})
	// The target, back to back in every iteration so that load
	// from elsewhere hits both alike: the check's read against
	// `systemctl list-units --all -o json` alone.
	b.Run("interleaved/check-query-vs-list-units-json", func(b *testing.B) {
		mean := benchtest.Interleave(b, func() { read(b, checkQuery) }, func() { listUnits(b) })
		b.ReportMetric(benchtest.Nanoseconds(mean[0]), "read-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(mean[1]), "list-units-ns/op")
		b.ReportMetric(benchtest.Ratio(mean[0], mean[1]), "read/list-units")
	})
	leanQuery := checkQuery
	leanQuery.ForComparison = true
	b.Run("interleaved/check-query-all-fields-vs-for-comparison-vs-list-units", func(b *testing.B) {
		mean := benchtest.Interleave(b, func() { read(b, checkQuery) }, func() { read(b, leanQuery) }, func() { listUnits(b) })
		full, lean, lu := mean[0], mean[1], mean[2]
		b.ReportMetric(benchtest.Nanoseconds(full), "all-fields-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(lean), "for-comparison-ns/op")
		b.ReportMetric(benchtest.Nanoseconds(lu), "list-units-ns/op")
		b.ReportMetric(benchtest.Ratio(full, lu), "all-fields/list-units")
		b.ReportMetric(benchtest.Ratio(lean, lu), "for-comparison/list-units")
	})
	b.Run("driftcheck/50-names/with-connect", func(b *testing.B) {
		for b.Loop() {
			c, err := Connect(ctx, sb.BusAddress())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Read(ctx, c, Query{Names: names, Root: sb.RootFS()}); err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("baseline/systemctl-list-units+list-unit-files-json", func(b *testing.B) {
		for b.Loop() {
			for _, args := range [][]string{{"list-units", "--all", "-o", "json"}, {"list-unit-files", "-o", "json"}} {
				if _, err := sb.Systemctl(ctx, args...); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("baseline/systemctl-list-units-json-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := sb.Systemctl(ctx, "list-units", "--all", "-o", "json"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline/nsenter-true", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("nsenter", "-t", strconv.Itoa(sb.PID()), "-m", "-p", "--", "true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})

	// Install state fresh from disk for 50 names: the two candidates.
	b.Run("filestate/GetUnitFileState-8-goroutines", func(b *testing.B) {
		for b.Loop() {
			inParallel(b, 8, names, func(n string) error { _, err := conn.unitFileState(ctx, n); return err })
		}
	})
	b.Run("filestate/GetUnitFileState-sequential", func(b *testing.B) {
		for b.Loop() {
			inParallel(b, 1, names, func(n string) error { _, err := conn.unitFileState(ctx, n); return err })
		}
	})
	b.Run("filestate/ListUnitFilesByPatterns-50-probes", func(b *testing.B) {
		for b.Loop() {
			files, err := conn.unitFiles(ctx, checkQuery.ScopeGlobs)
			if err != nil || len(files) != len(names) {
				b.Fatalf("%d files, %v", len(files), err)
			}
		}
	})
	b.Run("filestate/ListUnitFilesByPatterns-no-match", func(b *testing.B) {
		for b.Loop() {
			if _, err := conn.unitFiles(ctx, []string{"no-such-unit-*.service"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The probes' own cost: 50 "*<name>*" globs matching no file, i.e.
	// fnmatch of every unit file against every glob, no install state.
	noMatchProbes := renameProbes(strings.Fields(strings.NewReplacer("svc-", "nope-", "tmr-", "nope-").Replace(strings.Join(names, " "))))
	b.Run("filestate/ListUnitFilesByPatterns-50-probes-no-match", func(b *testing.B) {
		for b.Loop() {
			files, err := conn.unitFiles(ctx, noMatchProbes)
			if err != nil || len(files) != 0 {
				b.Fatalf("%d files, %v", len(files), err)
			}
		}
	})
	b.Run("filestate/ListUnitFilesByPatterns-50-names", func(b *testing.B) {
		for b.Loop() {
			files, err := conn.unitFiles(ctx, names)
			if err != nil || len(files) != len(names) {
				b.Fatalf("%d files, %v", len(files), err)
			}
		}
	})
	// The phases of a read, to see where its time goes.
	b.Run("phase/GetUnitProperties-50-8-goroutines", func(b *testing.B) {
		for b.Loop() {
			inParallel(b, 8, names, func(n string) error { _, err := conn.unitProperties(ctx, n); return err })
		}
	})
	b.Run("phase/GetUnitProperties-50-sequential", func(b *testing.B) {
		for b.Loop() {
			inParallel(b, 1, names, func(n string) error { _, err := conn.unitProperties(ctx, n); return err })
		}
	})
	// The alternative to GetUnitProperties (GetAll of ~100 properties per
	// unit): one ListUnitsByNames for the states of all names, plus the
	// properties it lacks read one Get at a time.
	b.Run("phase/ListUnitsByNames-50", func(b *testing.B) {
		for b.Loop() {
			units, err := conn.sd.ListUnitsByNamesContext(ctx, names)
			if err != nil || len(units) != len(names) {
				b.Fatalf("%d units, %v", len(units), err)
			}
		}
	})
	for _, props := range [][]string{{"NeedDaemonReload"}, {"NeedDaemonReload", "FragmentPath", "UnitFilePreset"}} {
		b.Run(fmt.Sprintf("phase/Get-%d-properties-50-8-goroutines", len(props)), func(b *testing.B) {
			for b.Loop() {
				inParallel(b, 8, names, func(n string) error {
					for _, p := range props {
						if _, err := conn.sd.GetUnitPropertyContext(ctx, n, p); err != nil {
							return err
						}
					}
					return nil
				})
			}
		})
	}
	b.Run("phase/Timer-properties-25-8-goroutines", func(b *testing.B) {
		for b.Loop() {
			inParallel(b, 8, timerNames(names), func(n string) error { _, err := conn.timerProperties(ctx, n); return err })
		}
	})
	// What a scope glob costs: ListUnitFilesByPatterns scans every unit file.
	b.Run("driftcheck/scope-glob-tmr-000x", func(b *testing.B) {
		for b.Loop() {
			snap, err := Read(ctx, conn, Query{ScopeGlobs: []string{"tmr-000?.timer"}, Root: sb.RootFS()})
			if err != nil || len(snap.Units) != 10 {
				b.Fatalf("read %v, err %v", snap, err)
			}
		}
	})
}

// renameProbes is "*<base>*.<type>" for every name, as the check asks.
func renameProbes(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		i := strings.LastIndexByte(n, '.')
		out = append(out, "*"+n[:i]+"*"+n[i:])
	}
	return out
}

// inParallel calls f for every name from n goroutines.
func inParallel(b *testing.B, n int, names []string, f func(string) error) {
	var wg sync.WaitGroup
	work := make(chan string)
	for range n {
		wg.Go(func() {
			for name := range work {
				if err := f(name); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
}

func timerNames(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".timer") {
			out = append(out, n)
		}
	}
	return out
}

// BenchmarkLiveReadTypicalHost is the same comparison on a host the size of
// a typical NixOS server (~300 unit files: 200 services, 100 timers), where
// list-unit-files is no longer dominated by its super-linear scan.
func BenchmarkLiveReadTypicalHost(b *testing.B) {
	sb := benchSandbox(b, 200)
	names := fiftyNames(100)
	ctx := context.Background()
	conn, err := Connect(ctx, sb.BusAddress())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.Run("driftcheck/50-names", func(b *testing.B) {
		for b.Loop() {
			snap, err := Read(ctx, conn, Query{Names: names, Root: sb.RootFS()})
			if err != nil || len(snap.Units) != len(names) {
				b.Fatalf("read %v, err %v", snap, err)
			}
		}
	})
	b.Run("baseline/systemctl-list-units+list-unit-files-json", func(b *testing.B) {
		for b.Loop() {
			for _, args := range [][]string{{"list-units", "--all", "-o", "json"}, {"list-unit-files", "-o", "json"}} {
				if _, err := sb.Systemctl(ctx, args...); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
