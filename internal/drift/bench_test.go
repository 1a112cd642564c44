package drift

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
	"github.com/driftcheck/driftcheck/internal/testreq"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// The end-to-end benchmark's host: the fixture of internal/live's
// BenchmarkLiveRead (benchSandbox there; test helpers cannot be imported,
// so it is repeated here and must stay the same): 1,000 oneshot services,
// the first 500 enabled and active, the other 500 triggered by 500 enabled
// OnCalendar=daily timers.
const (
	benchServices    = 1000
	benchTimers      = benchServices / 2
	benchModuleFiles = 100 // 10 services and 5 timers each
	benchHistory     = DefaultHistory
)

func benchHostUnits() []sdsandbox.Unit {
	var units []sdsandbox.Unit
	for i := range benchServices {
		u := sdsandbox.Unit{
			Name:    fmt.Sprintf("svc-%04d.service", i),
			Content: "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
		}
		if i < benchTimers {
			u.WantedBy = []string{"multi-user.target"}
		}
		units = append(units, u)
	}
	for i := range benchTimers {
		units = append(units, sdsandbox.Unit{
			Name:     fmt.Sprintf("tmr-%04d.timer", i),
			Content:  fmt.Sprintf("[Timer]\nOnCalendar=daily\nUnit=svc-%04d.service\n", benchTimers+i),
			WantedBy: []string{"timers.target"},
		})
	}
	return units
}

// benchModule is module file k: services 10k…10k+9 and timers 5k…5k+4,
// declared as the host runs them, written as a NixOS module would be.
func benchModule(k int, edit int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "# bench module %d, edit %d\n{ config, lib, pkgs, ... }:\n\n{\n", k, edit)
	per := benchServices / benchModuleFiles
	for i := k * per; i < (k+1)*per; i++ {
		fmt.Fprintf(&s, "  systemd.services.svc-%04d = {\n", i)
		if i < benchTimers {
			s.WriteString("    wantedBy = [ \"multi-user.target\" ];\n")
		}
		s.WriteString("    serviceConfig = {\n      Type = \"oneshot\";\n      RemainAfterExit = true;\n      ExecStart = \"/bin/true\";\n    };\n  };\n\n")
	}
	per = benchTimers / benchModuleFiles
	for i := k * per; i < (k+1)*per; i++ {
		fmt.Fprintf(&s, "  systemd.timers.tmr-%04d = {\n    wantedBy = [ \"timers.target\" ];\n", i)
		fmt.Fprintf(&s, "    timerConfig = {\n      OnCalendar = \"daily\";\n      Unit = \"svc-%04d.service\";\n    };\n  };\n\n", benchTimers+i)
	}
	s.WriteString("}\n")
	return s.String()
}

// benchRepo commits the 100 module files, then benchHistory commits that
// each edit one module file's comment, so that the default history search
// reads benchHistory earlier revisions in full. It returns the repository
// and the module files' paths in the work tree (which is at HEAD).
func benchRepo(b *testing.B) (*gittest.Repo, []string) {
	b.Helper()
	g := gittest.New(b)
	files := map[string]string{}
	var paths []string
	for k := range benchModuleFiles {
		p := fmt.Sprintf("nix/modules/bench-%02d.nix", k)
		files[p] = benchModule(k, 0)
		paths = append(paths, filepath.Join(g.Dir, filepath.FromSlash(p)))
	}
	g.Commit("1,000 services, 500 timers", files)
	for c := 1; c <= benchHistory; c++ {
		k := c % benchModuleFiles
		g.Commit(fmt.Sprintf("edit %d", c), map[string]string{fmt.Sprintf("nix/modules/bench-%02d.nix", k): benchModule(k, c)})
	}
	sort.Strings(paths)
	return g, paths
}

// BenchmarkCheck measures the whole check (drift.Check as `driftcheck
// check --repo R --bus-address A` runs it: resolve the revision with
// go-git, read, parse and extract its 100 module files, the same for the
// 20 earlier revisions of the stale search, the dirty check, read the
// host over D-Bus, compare) on a repository declaring 1,000 services and
// 500 timers, against the sandbox systemd running exactly those units.
//
// The baseline is what an operator would run by hand to see the same
// facts, in the same run: `systemctl list-units --all -o json` and
// `systemctl list-unit-files -o json` inside the sandbox (through
// `nsenter`, as internal/live's benchmark runs them) plus one
// `nix-instantiate --parse` of the 100 module files of the checked-out
// work tree. It is a floor for the manual route: it gets no unit names out
// of the modules (that needs an evaluation), does not compare anything,
// reads no history and assumes the work tree is at the revision.
func BenchmarkCheck(b *testing.B) {
	sdsandbox.Require(b)
	ctx := context.Background()
	repo, moduleFiles := benchRepo(b)
	start := time.Now()
	sb := sdsandbox.New(b, sdsandbox.Options{Units: benchHostUnits(), BootTimeout: time.Minute})
	b.Logf("booted %d units in %v", benchServices+benchTimers, time.Since(start))
	opts := Options{RepoDir: repo.Dir, BusAddress: sb.BusAddress()}

	check := func(b *testing.B, opts Options) {
		r, err := Check(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		if r.Verdict != unitdiff.VerdictInSync || len(r.Findings) != 0 {
			b.Fatalf("verdict %s, %d findings: %+v", r.Verdict, len(r.Findings), r.Findings[:min(3, len(r.Findings))])
		}
	}
	systemctl := func(b *testing.B) {
		for _, args := range [][]string{{"list-units", "--all", "-o", "json"}, {"list-unit-files", "-o", "json"}} {
			if _, err := sb.Systemctl(ctx, args...); err != nil {
				b.Fatal(err)
			}
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
	baseline := func(b *testing.B, nix string) {
		systemctl(b)
		nixParse(b, nix)
	}
	check(b, opts) // the fixture is in sync: a finding means a broken benchmark

	b.Run("driftcheck", func(b *testing.B) {
		for b.Loop() {
			check(b, opts)
		}
	})
	b.Run("baseline/systemctl-list-units+list-unit-files-json+nix-instantiate-parse", func(b *testing.B) {
		nix := testreq.Command(b, "nix-instantiate", "nix-bin")
		for b.Loop() {
			baseline(b, nix)
		}
	})
	// Interleaved: each iteration times the check and the baseline back to
	// back, so load from elsewhere on the machine hits both alike.
	b.Run("interleaved", func(b *testing.B) {
		nix := testreq.Command(b, "nix-instantiate", "nix-bin")
		var dc, base time.Duration
		n := 0
		for b.Loop() {
			t0 := time.Now()
			check(b, opts)
			t1 := time.Now()
			baseline(b, nix)
			dc += t1.Sub(t0)
			base += time.Since(t1)
			n++
		}
		b.ReportMetric(float64(dc.Nanoseconds())/float64(n), "check-ns/op")
		b.ReportMetric(float64(base.Nanoseconds())/float64(n), "baseline-ns/op")
		b.ReportMetric(float64(dc)/float64(base), "check/baseline")
	})

	// The baseline's two halves.
	b.Run("baseline/part/systemctl-list-units+list-unit-files-json", func(b *testing.B) {
		for b.Loop() {
			systemctl(b)
		}
	})
	b.Run("baseline/part/nix-instantiate-parse-100-files", func(b *testing.B) {
		nix := testreq.Command(b, "nix-instantiate", "nix-bin")
		for b.Loop() {
			nixParse(b, nix)
		}
	})

	// Where the check's time goes.
	b.Run("driftcheck/history-none", func(b *testing.B) {
		o := opts
		o.History = -1
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
	q := liveQuery(in)
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
	// The expensive D-Bus calls of that read, alone, with go-systemd on a
	// connection of their own: the install states of the 1,500 unit files
	// (listed through the 1,500 rename probes "*svc-0000*.service" …, each
	// matching its own unit, as the read does; or through the exact
	// names), and the properties of the 1,500 units.
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
	b.Run("phase/ListUnitFilesByPatterns-1500-probes", listFiles(q.ScopeGlobs))
	b.Run("phase/ListUnitFilesByPatterns-1500-names", listFiles(q.Names))
	b.Run("phase/GetUnitProperties-1500-8-goroutines", func(b *testing.B) {
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
	b.Run("phase/declared-one-revision", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.declared(ctx, c.rev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchSystemd connects go-systemd to the sandbox's bus.
func benchSystemd(b *testing.B, addr string) *sddbus.Conn {
	b.Helper()
	sd, err := sddbus.NewConnection(func() (*dbus.Conn, error) {
		conn, err := dbus.Dial(addr)
		if err != nil {
			return nil, err
		}
		if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
			conn.Close()
			return nil, err
		}
		if err := conn.Hello(); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	})
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
	snap, err := c.live(ctx, in)
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
