package lint

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
)

func TestSuffixlessCommandNames(t *testing.T) {
	doc := "# Ops\n\n" +
		"    systemctl restart ci-runner\n" +
		"```\nsystemctl --now enable backup web-app.service\njournalctl -u ci-cache --since today\njournalctl --unit=reports\n```\n" +
		"Run `systemctl status nginx` or `systemctl list-timers`.\n"
	var got []string
	for _, r := range unitRefs([]byte(doc)) {
		got = append(got, r.name)
	}
	want := []string{"ci-runner.service", "web-app.service", "backup.service", "ci-cache.service", "reports.service", "nginx.service"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func unitsNamed(file string, names ...string) declared.Result {
	var r declared.Result
	for _, n := range names {
		r.Units = append(r.Units, declared.Unit{Name: n, File: file, Line: 1})
	}
	return r
}

// TestPerHost: a document under a host's directory is checked against
// that host's units; conflicts between hosts are not conflicts.
func TestPerHost(t *testing.T) {
	web := Host{Name: "web", Dirs: []string{"hosts/web"}, Declared: unitsNamed("hosts/web/default.nix", "web-app.service")}
	build := Host{Name: "build", Dirs: []string{"hosts/build"}, Declared: unitsNamed("hosts/build/default.nix", "ci-runner.service")}
	all := unitsNamed("x.nix", "web-app.service", "ci-runner.service")
	docs := []Doc{
		{Path: "hosts/web/README.md", Content: []byte("Restart with `systemctl restart web-app` or `systemctl restart ci-runner`.\n")},
		{Path: "docs/ops.md", Content: []byte("`systemctl restart ci-runner` and `systemctl restart web-app`\n")},
	}
	fs := Run(Input{Declared: all, Docs: docs, Hosts: []Host{web, build}})
	want := []Finding{{Kind: KindDocUndeclared, File: "hosts/web/README.md", Line: 1, Unit: "ci-runner.service", Host: "web",
		Message: "names ci-runner.service, which host web does not declare"}}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// One unit set differently on two hosts is no conflict; on one host it is.
	calendar := func(file, cal string) declared.Site {
		return declared.Site{File: file, Line: 2, Properties: declared.Properties{OnCalendar: []string{cal}},
			Settings: map[string]declared.Setting{"OnCalendar": {Line: 2, Priority: 100}}}
	}
	unit := func(sites ...declared.Site) declared.Result {
		return declared.Result{Units: []declared.Unit{{Name: "backup.timer", File: sites[0].File, Line: 2, Sites: sites}}}
	}
	a := Host{Name: "a", Dirs: []string{"hosts/a"}, Declared: unit(calendar("hosts/a.nix", "daily"))}
	b := Host{Name: "b", Dirs: []string{"hosts/b"}, Declared: unit(calendar("hosts/b.nix", "weekly"))}
	union := unit(calendar("hosts/a.nix", "daily"), calendar("hosts/b.nix", "weekly"))
	if fs := Run(Input{Declared: union, Hosts: []Host{a, b}}); len(fs) != 0 {
		t.Errorf("two hosts, one calendar each: %v", fs)
	}
	if fs := Run(Input{Declared: union}); len(fs) != 1 || fs[0].Kind != KindConflict {
		t.Errorf("without hosts the two sites conflict: %v", fs)
	}
	twice := Host{Name: "a", Declared: union}
	if fs := Run(Input{Declared: union, Hosts: []Host{twice}}); len(fs) != 1 || fs[0].Host != "a" {
		t.Errorf("one host with both sites: %v", fs)
	}
}
