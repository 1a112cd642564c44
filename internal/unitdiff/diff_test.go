package unitdiff

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/live"
)

const rev = "0123456789abcdef0123456789abcdef01234567"

func boolPtr(b bool) *bool { return &b }

// decl builds a declared system unit at file:line.
func decl(name, at string, props declared.Properties) declared.Unit {
	file, line, _ := strings.Cut(at, ":")
	n := 0
	for _, c := range line {
		n = n*10 + int(c-'0')
	}
	return declared.Unit{Name: name, Type: declared.UnitType(name), Scope: declared.ScopeSystem, File: file, Line: n, Properties: props}
}

// host builds a live unit.
func host(name, load, active, fileState string) live.Unit {
	return live.Unit{Name: name, LoadState: load, ActiveState: active, UnitFileState: fileState}
}

// conditionally marks prop as set under mkIf at the unit's only site.
func conditionally(u declared.Unit, prop string) declared.Unit {
	u.Sites = []declared.Site{{File: u.File, Line: u.Line, Properties: u.Properties,
		Settings: map[string]declared.Setting{prop: {Line: u.Line, Priority: 100, Conditional: true}}}}
	return u
}

func withTimer(u live.Unit, unit string, persistent bool, calendar ...string) live.Unit {
	u.Timer = &live.Timer{Calendar: calendar, Unit: unit, Persistent: persistent}
	return u
}

// brief is the part of a finding the table tests pin; detail and fix
// wording is checked separately.
type brief struct {
	Kind       Kind
	Unit       string
	LiveUnit   string
	DeclaredAt string
	Severity   Severity
}

func briefs(fs []Finding) []brief {
	out := []brief{}
	for _, f := range fs {
		out = append(out, brief{f.Kind, f.Unit, f.LiveUnit, f.DeclaredAt, f.Severity})
	}
	return out
}

const modFile = "nix/modules/docker-prune.nix"

var (
	pruneService = decl("docker-prune.service", modFile+":10", declared.Properties{Description: "Prune Docker under disk pressure"})
	pruneTimer   = decl("docker-prune.timer", modFile+":32", declared.Properties{
		OnCalendar: []string{"daily"}, WantedBy: []string{"timers.target"}, Persistent: boolPtr(true),
	})
	stockService = declared.Unit{Name: "docker-prune.service", Type: "service", Scope: declared.ScopeSystem,
		File: "nix/modules/docker.nix", Line: 3, ImpliedBy: "virtualisation.docker.enable"}
	liveTimerOK = withTimer(host("docker-prune.timer", "loaded", "active", "enabled"), "docker-prune.service", true, "*-*-* 00:00:00")
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []brief
	}{
		{
			name: "in sync",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneService, pruneTimer}},
				Live: live.Snapshot{Units: []live.Unit{
					host("docker-prune.service", "loaded", "inactive", "linked"),
					liveTimerOK,
				}},
			},
			want: []brief{},
		},
		{
			name: "missing: not on the host at all, the snapshot's listing covers it",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneTimer}},
				Live:     live.Snapshot{Scope: []string{"*prune*"}},
			},
			want: []brief{{KindMissing, "docker-prune.timer", "", modFile + ":32", SeverityDrift}},
		},
		{
			name: "absent from a snapshot that never asked for it is unresolved, not missing",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneTimer}},
				Live:     live.Snapshot{Scope: []string{"ci-*"}},
			},
			want: []brief{{KindUnresolved, "docker-prune.timer", "", modFile + ":32", SeverityIncomplete}},
		},
		{
			name: "missing: not-found and masked",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneService, pruneTimer}},
				Live: live.Snapshot{Units: []live.Unit{
					host("docker-prune.service", "not-found", "inactive", ""),
					host("docker-prune.timer", "masked", "inactive", "masked"),
				}},
			},
			want: []brief{
				{KindMissing, "docker-prune.service", "", modFile + ":10", SeverityDrift},
				{KindMissing, "docker-prune.timer", "", modFile + ":32", SeverityDrift},
			},
		},
		{
			name: "missing under a condition is incomplete, not drift",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{func() declared.Unit { u := pruneTimer; u.Conditional = true; return u }()}},
			},
			want: []brief{{KindMissing, "docker-prune.timer", "", modFile + ":32", SeverityIncomplete}},
		},
		{
			name: "declared enable = false and absent is fine",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("old.service", "a.nix:1", declared.Properties{Enable: boolPtr(false)})}},
			},
			want: []brief{},
		},
		{
			name: "declared enable = false but active",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("old.service", "a.nix:1", declared.Properties{Enable: boolPtr(false)})}},
				Live:     live.Snapshot{Units: []live.Unit{host("old.service", "loaded", "active", "linked")}},
			},
			want: []brief{{KindMismatch, "old.service", "", "a.nix:1", SeverityDrift}},
		},
		{
			name: "declared enable = false, present but neither running nor enabled",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("old.service", "a.nix:1", declared.Properties{Enable: boolPtr(false)})}},
				Live:     live.Snapshot{Units: []live.Unit{host("old.service", "loaded", "inactive", "linked")}},
			},
			want: []brief{},
		},
		{
			name: "the incident: renamed timer and the service it activates",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneService, pruneTimer}},
				Live: live.Snapshot{Units: []live.Unit{
					host("docker-prune.service", "loaded", "inactive", "linked"),
					host("ci-docker-prune.service", "loaded", "inactive", "linked"),
					withTimer(host("ci-docker-prune.timer", "loaded", "active", "enabled"), "ci-docker-prune.service", true, "*-*-* 00:00:00"),
					host("docker-prune.timer", "not-found", "inactive", ""),
				}},
			},
			want: []brief{
				{KindRenamed, "docker-prune.service", "ci-docker-prune.service", modFile + ":10", SeverityDrift},
				{KindRenamed, "docker-prune.timer", "ci-docker-prune.timer", modFile + ":32", SeverityDrift},
			},
		},
		{
			name: "renamed pairs only units of the same type, each once, best match first",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{
					decl("backup.service", "b.nix:1", declared.Properties{}),
					decl("backup.timer", "b.nix:9", declared.Properties{}),
				}},
				Live: live.Snapshot{Units: []live.Unit{
					host("nightly-backup.service", "loaded", "inactive", "linked"),
					host("backup.socket", "loaded", "active", "enabled"),
					host("ci-backup.service", "loaded", "inactive", "linked"),
				}},
				Scope: []string{"*"},
			},
			want: []brief{
				{KindRenamed, "backup.service", "ci-backup.service", "b.nix:1", SeverityDrift},
				{KindMissing, "backup.timer", "", "b.nix:9", SeverityDrift},
				{KindUndeclared, "backup.socket", "", "", SeverityDrift},
				{KindUndeclared, "nightly-backup.service", "", "", SeverityDrift},
			},
		},
		{
			name: "renamed by similarity without containment",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("docker-prune.timer", "a.nix:2", declared.Properties{})}},
				Live:     live.Snapshot{Units: []live.Unit{host("docker-purne.timer", "loaded", "active", "enabled")}},
			},
			want: []brief{{KindRenamed, "docker-prune.timer", "docker-purne.timer", "a.nix:2", SeverityDrift}},
		},
		{
			name: "no pairing for unrelated or too-short names",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("a.service", "a.nix:1", declared.Properties{}), decl("nginx.service", "a.nix:5", declared.Properties{})}},
				Live:     live.Snapshot{Units: []live.Unit{host("bar-a.service", "loaded", "active", "enabled"), host("postgresql.service", "loaded", "active", "enabled")}},
			},
			want: []brief{
				{KindMissing, "a.service", "", "a.nix:1", SeverityDrift},
				{KindMissing, "nginx.service", "", "a.nix:5", SeverityDrift},
			},
		},
		{
			name: "undeclared only in scope",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneService}},
				Live: live.Snapshot{Units: []live.Unit{
					host("docker-prune.service", "loaded", "inactive", "linked"),
					host("ci-runner.service", "loaded", "active", "enabled"),
					host("sshd.service", "loaded", "active", "enabled"),
					host("ci-gone.service", "not-found", "inactive", ""),
				}},
				Scope: []string{"ci-*", "[", "docker-*"},
			},
			want: []brief{{KindUndeclared, "ci-runner.service", "", "", SeverityDrift}},
		},
		{
			name: "default scope never reports undeclared",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneService}},
				Live: live.Snapshot{Units: []live.Unit{
					host("docker-prune.service", "loaded", "inactive", "linked"),
					host("ci-runner.service", "loaded", "active", "enabled"),
				}},
			},
			want: []brief{},
		},
		{
			name: "stale: declared earlier, still on the host, out of scope",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneService}},
				Live: live.Snapshot{Units: []live.Unit{
					host("docker-prune.service", "loaded", "inactive", "linked"),
					host("old-cleanup.service", "loaded", "inactive", "linked"),
					host("older.timer", "not-found", "active", ""),
					host("gone.service", "not-found", "inactive", ""),
				}},
				History: []Revision{
					{Commit: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Units: []declared.Unit{decl("old-cleanup.service", "c.nix:4", declared.Properties{})}},
					{Commit: "cccccccccccccccccccccccccccccccccccccccc", Units: []declared.Unit{
						decl("old-cleanup.service", "c.nix:1", declared.Properties{}),
						decl("older.timer", "d.nix:7", declared.Properties{}),
						decl("gone.service", "d.nix:9", declared.Properties{}),
					}},
				},
			},
			want: []brief{
				{KindStale, "old-cleanup.service", "", "c.nix:4", SeverityDrift},
				{KindStale, "older.timer", "", "d.nix:7", SeverityDrift},
			},
		},
		{
			name: "implied units are declared, not stale",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{stockService}},
				Live:     live.Snapshot{Units: []live.Unit{host("docker-prune.service", "loaded", "inactive", "linked")}},
				History:  []Revision{{Commit: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Units: []declared.Unit{pruneService}}},
			},
			want: []brief{},
		},
		{
			name: "mismatch: calendar, persistent, timer unit",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("x.timer", "x.nix:3", declared.Properties{
					OnCalendar: []string{"weekly"}, Persistent: boolPtr(true), Unit: "x.service",
				})}},
				Live: live.Snapshot{Units: []live.Unit{withTimer(host("x.timer", "loaded", "active", "enabled"), "y.service", false, "*-*-* 00:00:00")}},
			},
			want: []brief{
				{KindMismatch, "x.timer", "", "x.nix:3", SeverityDrift},
				{KindMismatch, "x.timer", "", "x.nix:3", SeverityDrift},
				{KindMismatch, "x.timer", "", "x.nix:3", SeverityDrift},
			},
		},
		{
			name: "calendar equal after normalization, in any order",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("x.timer", "x.nix:3", declared.Properties{OnCalendar: []string{"Mon,Tue,Wed 4:00", "weekly"}})}},
				Live:     live.Snapshot{Units: []live.Unit{withTimer(host("x.timer", "loaded", "active", "enabled"), "x.service", false, "Mon *-*-* 00:00:00", "Mon..Wed *-*-* 04:00:00")}},
			},
			want: []brief{},
		},
		{
			name: "calendar that cannot be normalized is inconclusive",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("x.timer", "x.nix:3", declared.Properties{OnCalendar: []string{"*-*~03"}})}},
				Live:     live.Snapshot{Units: []live.Unit{withTimer(host("x.timer", "loaded", "active", "enabled"), "x.service", false, "*-*~03 00:00:00")}},
			},
			want: []brief{{KindUnresolved, "x.timer", "", "x.nix:3", SeverityIncomplete}},
		},
		{
			name: "calendar that cannot be normalized but is verbatim equal",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("x.timer", "x.nix:3", declared.Properties{OnCalendar: []string{"*-*~03 00:00:00"}})}},
				Live:     live.Snapshot{Units: []live.Unit{withTimer(host("x.timer", "loaded", "active", "enabled"), "x.service", false, "*-*~03 00:00:00")}},
			},
			want: []brief{},
		},
		{
			name: "timer settings not read is inconclusive",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("x.timer", "x.nix:3", declared.Properties{OnCalendar: []string{"daily"}})}},
				Live:     live.Snapshot{Units: []live.Unit{host("x.timer", "loaded", "active", "enabled")}},
			},
			want: []brief{{KindUnresolved, "x.timer", "", "x.nix:3", SeverityIncomplete}},
		},
		{
			name: "mismatch: wantedBy but linked and inactive",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneTimer, decl("web.service", "w.nix:1", declared.Properties{WantedBy: []string{"multi-user.target"}})}},
				Live: live.Snapshot{Units: []live.Unit{
					withTimer(host("docker-prune.timer", "loaded", "inactive", "linked"), "docker-prune.service", true, "*-*-* 00:00:00"),
					host("web.service", "loaded", "inactive", "disabled"),
				}},
			},
			want: []brief{
				{KindMismatch, "docker-prune.timer", "", modFile + ":32", SeverityDrift},
				{KindMismatch, "web.service", "", "w.nix:1", SeverityDrift},
			},
		},
		{
			name: "wantedBy service that ran and exited is fine",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("web.service", "w.nix:1", declared.Properties{WantedBy: []string{"multi-user.target"}})}},
				Live:     live.Snapshot{Units: []live.Unit{host("web.service", "loaded", "inactive", "enabled")}},
			},
			want: []brief{},
		},
		{
			name: "mismatch: load error replaces other checks; reload pending; description",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{
					decl("bad.service", "b.nix:1", declared.Properties{WantedBy: []string{"multi-user.target"}}),
					decl("reload.service", "b.nix:5", declared.Properties{}),
					pruneService,
				}},
				Live: live.Snapshot{Units: []live.Unit{
					{Name: "bad.service", LoadState: "bad-setting", ActiveState: "inactive", UnitFileState: "static", LoadError: "Unit bad.service has a bad unit file setting."},
					{Name: "reload.service", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled", NeedDaemonReload: true},
					{Name: "docker-prune.service", LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked", Description: "Prune docker resources"},
				}},
			},
			want: []brief{
				{KindMismatch, "bad.service", "", "b.nix:1", SeverityDrift},
				{KindMismatch, "docker-prune.service", "", modFile + ":10", SeverityDrift},
				{KindMismatch, "reload.service", "", "b.nix:5", SeverityDrift},
			},
		},
		{
			name: "unresolved, parse errors and live read errors are incomplete",
			in: Input{
				Declared: declared.Result{
					Unresolved: []declared.Unresolved{
						{File: "j.nix", Line: 4, Reason: `computed unit name "job-${n}"`},
						{File: "k.nix", Line: 7, Reason: "OnCalendar is not a constant", Unit: "k.timer"},
					},
					Errors: []declared.ParseError{{File: "broken.nix", Line: 2, Col: 5, Message: "unexpected '}'"}},
				},
				Live: live.Snapshot{Errors: []live.ReadError{{Unit: "x.service", Message: "timeout"}}},
			},
			want: []brief{
				{KindUnresolved, "", "", "broken.nix:2", SeverityIncomplete},
				{KindUnresolved, "", "", "j.nix:4", SeverityIncomplete},
				{KindUnresolved, "k.timer", "", "k.nix:7", SeverityIncomplete},
				{KindUnresolved, "x.service", "", "", SeverityIncomplete},
			},
		},
		{
			name: "a declared unit the host could not be asked about is unresolved, not missing",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{decl("worker@.service", "w.nix:3", declared.Properties{}), pruneTimer}},
				Live: live.Snapshot{
					Units:  []live.Unit{liveTimerOK},
					Errors: []live.ReadError{{Unit: "worker@.service", Message: "invalid unit name"}},
				},
			},
			want: []brief{{KindUnresolved, "worker@.service", "", "w.nix:3", SeverityIncomplete}},
		},
		{
			name: "hygiene findings are warnings",
			in: Input{
				Hygiene: Hygiene{
					Dirty: []FileChange{{"nix/modules/a.nix", ChangeModified}, {"nix/modules/new.nix", ChangeAdded}}, DeploySource: "/etc/nixos",
					SourceDiffers: []FileChange{{"nix/modules/b.nix", ChangeModified}, {"nix/modules/c.nix", ChangeDeleted}},
					Provenance:    Provenance{Status: ProvenanceDirty, HostRevision: "abc-dirty"},
				},
			},
			want: []brief{
				{KindRevision, "", "", "", SeverityWarning},
				{KindSourceDiffers, "", "", "nix/modules/b.nix", SeverityWarning},
				{KindSourceDiffers, "", "", "nix/modules/c.nix", SeverityWarning},
				{KindDirty, "", "", "nix/modules/a.nix", SeverityWarning},
				{KindDirty, "", "", "nix/modules/new.nix", SeverityWarning},
			},
		},
		{
			name: "user units are not compared",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{{Name: "sync.service", Scope: declared.ScopeUser, File: "u.nix", Line: 1}}},
			},
			want: []brief{},
		},
		{
			name: "a difference in a conditional setting is inconclusive, not a mismatch",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{
					conditionally(decl("x.timer", "x.nix:3", declared.Properties{OnCalendar: []string{"weekly"}}), "OnCalendar"),
					conditionally(decl("off.service", "x.nix:9", declared.Properties{Enable: boolPtr(false)}), "Enable"),
					conditionally(decl("on.service", "x.nix:12", declared.Properties{Enable: boolPtr(true)}), "Enable"),
				}},
				Live: live.Snapshot{Units: []live.Unit{
					withTimer(host("x.timer", "loaded", "active", "enabled"), "x.service", false, "*-*-* 00:00:00"),
					host("off.service", "loaded", "active", "enabled"),
				}},
			},
			want: []brief{
				{KindMissing, "on.service", "", "x.nix:12", SeverityIncomplete},
				{KindUnresolved, "off.service", "", "x.nix:9", SeverityIncomplete},
				{KindUnresolved, "x.timer", "", "x.nix:3", SeverityIncomplete},
			},
		},
		{
			name: "drift sorts before incomplete before warnings",
			in: Input{
				Declared: declared.Result{Units: []declared.Unit{pruneTimer}, Unresolved: []declared.Unresolved{{File: "j.nix", Line: 4, Reason: "r"}}},
				Hygiene:  Hygiene{Provenance: Provenance{Status: ProvenanceOlder, HostRevision: "abc"}},
			},
			want: []brief{
				{KindMissing, "docker-prune.timer", "", modFile + ":32", SeverityDrift},
				{KindUnresolved, "", "", "j.nix:4", SeverityIncomplete},
				{KindRevision, "", "", "", SeverityWarning},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Rev = rev
			if tc.in.Live.Scope == nil {
				// As read over D-Bus: every declared name was asked for.
				tc.in.Live.Scope = []string{"*"}
			}
			got := Compare(tc.in)
			if diff := cmp.Diff(tc.want, briefs(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range got {
				if f.Detail == "" || f.Fix == "" || strings.Contains(f.Fix, "\n") || strings.Contains(f.Detail, "\n") {
					t.Errorf("finding %+v: want a one-line detail and fix", f)
				}
			}
		})
	}
}

func TestCompareIsDeterministic(t *testing.T) {
	in := Input{
		Rev:      rev,
		Declared: declared.Result{Units: []declared.Unit{pruneService, pruneTimer, decl("abc.timer", "a.nix:1", declared.Properties{}), decl("b.timer", "a.nix:2", declared.Properties{})}},
		Live: live.Snapshot{Scope: []string{"*"}, Units: []live.Unit{
			host("x-abc.timer", "loaded", "active", "enabled"), host("y-abc.timer", "loaded", "active", "enabled"),
			host("ci-docker-prune.timer", "loaded", "active", "enabled"), host("z.service", "loaded", "active", "enabled"),
		}},
		Scope: []string{"*"},
	}
	first := Compare(in)
	for i := 0; i < 20; i++ {
		if diff := cmp.Diff(first, Compare(in)); diff != "" {
			t.Fatalf("run %d differs (-first +now):\n%s", i, diff)
		}
	}
	// x-abc.timer and y-abc.timer tie for abc.timer: the first by name wins, the other stays undeclared.
	var renamed []string
	for _, f := range first {
		if f.Kind == KindRenamed {
			renamed = append(renamed, f.Unit+"->"+f.LiveUnit)
		}
	}
	if diff := cmp.Diff([]string{"abc.timer->x-abc.timer", "docker-prune.timer->ci-docker-prune.timer"}, renamed); diff != "" {
		t.Errorf("pairs (-want +got):\n%s", diff)
	}
}

func TestFindingText(t *testing.T) {
	in := Input{
		Rev:      rev,
		Declared: declared.Result{Units: []declared.Unit{pruneService, pruneTimer}},
		Live: live.Snapshot{Scope: []string{"*docker-prune*"}, Units: []live.Unit{
			host("docker-prune.service", "loaded", "inactive", "linked"),
			host("ci-docker-prune.service", "loaded", "inactive", "linked"),
			withTimer(host("ci-docker-prune.timer", "loaded", "active", "enabled"), "ci-docker-prune.service", true, "*-*-* 00:00:00"),
		}},
		History: []Revision{{Commit: "feedfacefeedfacefeedfacefeedfacefeedface", Date: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			Units: []declared.Unit{decl("ci-docker-prune.timer", modFile+":30", declared.Properties{})}}},
	}
	got := Compare(in)
	if len(got) != 2 {
		t.Fatalf("got %d findings, want 2: %+v", len(got), got)
	}
	timer := got[1]
	wantFix := "commit the rename: declare ci-docker-prune.timer in nix/modules/docker-prune.nix, or rebuild the host from 0123456789ab"
	if timer.Fix != wantFix {
		t.Errorf("fix = %q, want %q", timer.Fix, wantFix)
	}
	for _, want := range []string{"declared docker-prune.timer is not on the host", "ci-docker-prune.timer", "last declared at feedfacefeed"} {
		if !strings.Contains(timer.Detail, want) {
			t.Errorf("detail %q lacks %q", timer.Detail, want)
		}
	}
	if timer.Host != (HostState{Load: "loaded", Active: "active", FileState: "enabled"}) {
		t.Errorf("host = %+v, want the live ci-docker-prune.timer's state", timer.Host)
	}
}

func TestStaleSaysWhen(t *testing.T) {
	got := Compare(Input{
		Rev:  rev,
		Live: live.Snapshot{Units: []live.Unit{host("old.service", "loaded", "active", "enabled")}},
		History: []Revision{{Commit: "feedfacefeedfacefeedfacefeedfacefeedface", Date: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
			Units: []declared.Unit{decl("old.service", "o.nix:3", declared.Properties{})}}},
	})
	if len(got) != 1 || got[0].Kind != KindStale {
		t.Fatalf("got %+v, want one stale finding", got)
	}
	for _, want := range []string{"feedfacefeed (2026-11-20)", "0123456789ab"} {
		if !strings.Contains(got[0].Detail, want) {
			t.Errorf("detail %q lacks %q", got[0].Detail, want)
		}
	}
	if !strings.Contains(got[0].Fix, "systemctl stop old.service") {
		t.Errorf("fix %q: a running stale unit needs stopping", got[0].Fix)
	}
}

func TestProvenanceFindings(t *testing.T) {
	tests := []struct {
		status ProvenanceStatus
		host   string
		want   string // substring of the detail; "" = no finding
	}{
		{"", "", ""},
		{ProvenanceNotRead, "", ""},
		{ProvenanceEqual, rev, ""},
		{ProvenanceOlder, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "an ancestor of 0123456789ab"},
		{ProvenanceDiverged, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "not an ancestor"},
		{ProvenanceUnknown, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "not in this repository"},
		{ProvenanceDirty, "aaaa-dirty", "uncommitted tree (configurationRevision aaaa-dirty)"},
		{ProvenanceDirty, "", "records no configurationRevision"},
	}
	for _, tc := range tests {
		got := Compare(Input{Rev: rev, Hygiene: Hygiene{Provenance: Provenance{Status: tc.status, HostRevision: tc.host}}})
		if tc.want == "" {
			if len(got) != 0 {
				t.Errorf("%s: got %+v, want no finding", tc.status, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Kind != KindRevision || !strings.Contains(got[0].Detail, tc.want) {
			t.Errorf("%s: got %+v, want one revision finding with %q", tc.status, got, tc.want)
		}
	}
}

// Issue 8: with --bus-address (or a snapshot, or no nixos-version) the
// host's provenance was never read and --strict passed with only a note.
// Under --strict, provenance that was not read, or could not be, is an
// incomplete revision finding; without --strict it stays a note (not
// read) or a warning (unreadable).
func TestUnverifiedProvenanceUnderStrict(t *testing.T) {
	tests := []struct {
		name     string
		p        Provenance
		strict   bool
		severity Severity // "" = no finding
		verdict  string
	}{
		{"not looked at", Provenance{}, false, "", VerdictInSync},
		{"not looked at, strict", Provenance{}, true, SeverityIncomplete, VerdictIncomplete},
		{"not read (bus address)", Provenance{Status: ProvenanceNotRead, Reason: "the live side is not this host's system bus"}, false, "", VerdictInSync},
		{"not read (bus address), strict", Provenance{Status: ProvenanceNotRead, Reason: "the live side is not this host's system bus"}, true, SeverityIncomplete, VerdictIncomplete},
		{"unreadable", Provenance{Status: ProvenanceUnreadable, Reason: "killed, no answer in time"}, false, SeverityWarning, VerdictInSync},
		{"unreadable, strict", Provenance{Status: ProvenanceUnreadable, Reason: "killed, no answer in time"}, true, SeverityIncomplete, VerdictIncomplete},
		{"equal, strict", Provenance{Status: ProvenanceEqual, HostRevision: rev}, true, "", VerdictInSync},
	}
	for _, tc := range tests {
		got := Compare(Input{Rev: rev, Strict: tc.strict, Hygiene: Hygiene{Provenance: tc.p}})
		switch {
		case tc.severity == "" && len(got) != 0:
			t.Errorf("%s: %+v, want no finding", tc.name, got)
		case tc.severity != "" && (len(got) != 1 || got[0].Kind != KindRevision || got[0].Severity != tc.severity):
			t.Errorf("%s: %+v, want one %s revision finding", tc.name, got, tc.severity)
		}
		if v := Verdict(got, tc.strict); v != tc.verdict {
			t.Errorf("%s: verdict %s, want %s", tc.name, v, tc.verdict)
		}
		if tc.severity != "" && tc.p.Reason != "" && !strings.Contains(got[0].Detail, tc.p.Reason) {
			t.Errorf("%s: detail %q does not say why", tc.name, got[0].Detail)
		}
	}
}

func TestVerdict(t *testing.T) {
	drift := Finding{Kind: KindMissing, Severity: SeverityDrift}
	incomplete := Finding{Kind: KindUnresolved, Severity: SeverityIncomplete}
	warning := Finding{Kind: KindDirty, Severity: SeverityWarning}
	tests := []struct {
		name     string
		findings []Finding
		strict   bool
		want     string
	}{
		{"nothing", nil, false, VerdictInSync},
		{"nothing strict", nil, true, VerdictInSync},
		{"drift", []Finding{drift}, false, VerdictDrift},
		{"drift beats incomplete", []Finding{incomplete, drift}, false, VerdictDrift},
		{"incomplete", []Finding{incomplete}, false, VerdictIncomplete},
		{"warning alone", []Finding{warning}, false, VerdictInSync},
		{"warning strict", []Finding{warning}, true, VerdictDrift},
		{"warning and incomplete", []Finding{warning, incomplete}, false, VerdictIncomplete},
		{"warning and incomplete strict", []Finding{warning, incomplete}, true, VerdictDrift},
	}
	for _, tc := range tests {
		if got := Verdict(tc.findings, tc.strict); got != tc.want {
			t.Errorf("%s: Verdict = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRenameScore(t *testing.T) {
	tests := []struct {
		declared, live string
		ok             bool
	}{
		{"docker-prune.timer", "ci-docker-prune.timer", true},
		{"ci-docker-prune.timer", "docker-prune.timer", true},
		{"docker-prune.timer", "ci-docker-prune.service", false},
		{"docker-prune.timer", "docker-prunes.timer", true},
		{"prune.service", "docker-pruner.service", false},
		{"a.service", "bar-a.service", false},
		{"nginx.service", "nginy.service", true},
		{"web.service", "wob.service", false},
		{"x.service", "x.service", false},
	}
	for _, tc := range tests {
		if _, ok := renameScore(tc.declared, tc.live); ok != tc.ok {
			t.Errorf("renameScore(%q, %q) ok = %v, want %v", tc.declared, tc.live, ok, tc.ok)
		}
	}
	contained, _ := renameScore("docker-prune.timer", "ci-docker-prune.timer")
	similar, _ := renameScore("docker-prune.timer", "docker-prunes.timer")
	if contained <= similar {
		t.Errorf("containment score %v should rank above similarity %v", contained, similar)
	}
}

// TestMissingOverrideOnly: a unit the repository only overrides says so,
// and the fix names the override sites.
func TestMissingOverrideOnly(t *testing.T) {
	in := Input{Rev: strings.Repeat("a", 40), Declared: declared.Result{Units: []declared.Unit{{
		Name: "telegraf.service", Type: "service", Scope: declared.ScopeSystem, File: "hosts/x.nix", Line: 3,
		Definitions: []declared.Definition{{File: "hosts/x.nix", Line: 3, Role: declared.RoleOverrides}},
	}}}, Live: live.Snapshot{Scope: []string{"telegraf*"}}}
	fs := Compare(in)
	if len(fs) != 1 || fs[0].Kind != KindMissing || !strings.Contains(fs[0].Detail, "only overrides it (hosts/x.nix:3)") ||
		!strings.Contains(fs[0].Fix, "remove the overrides at hosts/x.nix:3") {
		t.Errorf("findings %+v", fs)
	}
}
