package drift

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func incidentReport() *Report {
	return &Report{
		Schema: ReportSchema, Rev: sha, Verdict: unitdiff.VerdictDrift,
		Findings: []unitdiff.Finding{
			{
				Kind: unitdiff.KindRenamed, Unit: "docker-prune.timer", LiveUnit: "ci-docker-prune.timer",
				DeclaredAt: "nix/modules/docker-prune.nix:32",
				Host:       unitdiff.HostState{Load: "loaded", Active: "active", FileState: "enabled"},
				Detail:     "declared docker-prune.timer is not on the host, which runs ci-docker-prune.timer instead",
				Fix:        "commit the rename: declare ci-docker-prune.timer in nix/modules/docker-prune.nix, or rebuild the host from 0123456789ab",
				Severity:   unitdiff.SeverityDrift,
			},
			{
				Kind: unitdiff.KindDirty, DeclaredAt: "nix/modules/docker-prune.nix",
				Detail: "nix/modules/docker-prune.nix is modified in the work tree and not committed",
				Fix:    "commit the change", Severity: unitdiff.SeverityWarning,
			},
		},
		Notes: []string{"provenance: not available (no /run/current-system/sw/bin/nixos-version)"},
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := incidentReport().WriteText(&buf, TextStyle{}); err != nil {
		t.Fatal(err)
	}
	want := `drift: 2 findings at 0123456789ab (1 drift, 1 warning)

renamed  docker-prune.timer -> ci-docker-prune.timer
  declared at  nix/modules/docker-prune.nix:32
  host         load loaded, active active, file enabled
  detail       declared docker-prune.timer is not on the host, which runs ci-docker-prune.timer instead
  fix          commit the rename: declare ci-docker-prune.timer in nix/modules/docker-prune.nix, or rebuild the host from 0123456789ab

dirty (warning)
  file         nix/modules/docker-prune.nix
  detail       nix/modules/docker-prune.nix is modified in the work tree and not committed
  fix          commit the change

note: provenance: not available (no /run/current-system/sw/bin/nixos-version)
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestWriteTextVerdictLine(t *testing.T) {
	warning := unitdiff.Finding{Kind: unitdiff.KindRevision, Detail: "d", Fix: "f", Severity: unitdiff.SeverityWarning}
	incomplete := unitdiff.Finding{Kind: unitdiff.KindUnresolved, Detail: "d", Fix: "f", Severity: unitdiff.SeverityIncomplete}
	tests := []struct {
		name     string
		findings []unitdiff.Finding
		strict   bool
		want     string
	}{
		{"in sync", nil, false, "in-sync: 0 findings at 0123456789ab"},
		{"warning only", []unitdiff.Finding{warning}, false, "in-sync: 1 finding at 0123456789ab (1 warning)"},
		{"warning strict", []unitdiff.Finding{warning}, true, "drift: 1 finding at 0123456789ab [strict]"},
		{"incomplete", []unitdiff.Finding{incomplete, warning}, false, "incomplete: 2 findings at 0123456789ab (1 incomplete, 1 warning)"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		r := &Report{Rev: sha, Findings: tc.findings, Verdict: unitdiff.Verdict(tc.findings, tc.strict), Strict: tc.strict}
		if err := r.WriteText(&buf, TextStyle{}); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := strings.Cut(buf.String(), "\n"); got != tc.want {
			t.Errorf("%s: verdict line %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestWriteTextEscapesUntrustedNames(t *testing.T) {
	r := &Report{Rev: sha, Findings: []unitdiff.Finding{{
		Kind: unitdiff.KindUndeclared, Unit: "evil\x1b[2J.service", DeclaredAt: "nix/\x1b]0;pwned\x07.nix:1",
		Host:   unitdiff.HostState{Load: "loaded\x1b[31m", Active: "active"},
		Detail: "the host has evil\x1b[2J.service", Fix: "remove evil\x1b[2J.service", Severity: unitdiff.SeverityDrift,
	}}, Notes: []string{"note \x1b[1m"}}
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := r.WriteText(&buf, TextStyle{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if color {
			// Our own colour codes are the only escapes allowed.
			for _, code := range []string{ansiRed, ansiYellow, ansiCyan, ansiGreen, ansiBold, ansiReset} {
				out = strings.ReplaceAll(out, code, "")
			}
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("color=%v: raw control character in output:\n%q", color, out)
		}
		if !strings.Contains(out, `evil\x1b[2J.service`) {
			t.Errorf("color=%v: escaped name missing:\n%s", color, out)
		}
	}
}

func TestWriteTextColor(t *testing.T) {
	var plain, colored bytes.Buffer
	r := incidentReport()
	if err := r.WriteText(&plain, TextStyle{}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteText(&colored, TextStyle{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("plain output contains escapes")
	}
	if !strings.HasPrefix(colored.String(), ansiBold+ansiRed+"drift:") {
		t.Errorf("coloured verdict line = %q", strings.SplitN(colored.String(), "\n", 2)[0])
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := incidentReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != "driftcheck.check/v1" || doc["rev"] != sha || doc["verdict"] != "drift" {
		t.Errorf("header = %v %v %v", doc["schema"], doc["rev"], doc["verdict"])
	}
	first := doc["findings"].([]any)[0].(map[string]any)
	want := map[string]any{
		"kind": "renamed", "unit": "docker-prune.timer", "live_unit": "ci-docker-prune.timer",
		"declared_at": "nix/modules/docker-prune.nix:32",
		"host":        map[string]any{"load": "loaded", "active": "active", "file_state": "enabled"},
		"detail":      "declared docker-prune.timer is not on the host, which runs ci-docker-prune.timer instead",
		"fix":         "commit the rename: declare ci-docker-prune.timer in nix/modules/docker-prune.nix, or rebuild the host from 0123456789ab",
		"severity":    "drift",
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first finding (-want +got):\n%s", diff)
	}
}

func TestWriteJSONFindingsAlwaysAnArray(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Report{Schema: ReportSchema, Rev: sha, Verdict: unitdiff.VerdictInSync}).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"findings": []`) {
		t.Errorf("findings not an empty array:\n%s", buf.String())
	}
}
