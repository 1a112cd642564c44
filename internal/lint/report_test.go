package lint

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var sampleReport = Report{Rev: "0123456789abcdef0123456789abcdef01234567", Findings: []Finding{
	{Kind: KindParseError, File: "bad.nix", Line: 4, Col: 7, Message: "does not parse: unexpected '}'"},
	{Kind: KindDocUndeclared, File: "docs/\x1b[31mx.md", Line: 2, Unit: "a.service", Message: "names a.service\x07"},
	{Kind: KindUnresolved, File: "a.nix", Message: "cannot resolve"},
}}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"bad.nix:4:7: parse-error: does not parse: unexpected '}'\n",
		"a.nix: unresolved: cannot resolve\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("text report lacks %q:\n%s", want, got)
		}
	}
	if strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("text report contains raw control characters: %q", got)
	}
}

func TestWriteJSON(t *testing.T) {
	for _, r := range []Report{sampleReport, {Rev: "abc"}} {
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Schema   string            `json:"schema"`
			Rev      string            `json:"rev"`
			Findings []json.RawMessage `json:"findings"`
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("report is not JSON: %v\n%s", err, buf.String())
		}
		if got.Schema != Schema || got.Rev != r.Rev || len(got.Findings) != len(r.Findings) {
			t.Errorf("got schema %q rev %q %d findings; want %q %q %d", got.Schema, got.Rev, len(got.Findings), Schema, r.Rev, len(r.Findings))
		}
		if !strings.Contains(buf.String(), `"findings": [`) {
			t.Errorf("findings must be a list, never null:\n%s", buf.String())
		}
	}
}

// TestWriteSARIF checks the structure SARIF 2.1.0 requires (§3.13 sarifLog,
// §3.14 run, §3.19 toolComponent, §3.27 result, §3.28 location) and that
// code-scanning consumers use: rule ids resolve, locations are relative.
func TestWriteSARIF(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport.WriteSARIF(&buf, "v1.2.3", "https://example.org/infra.git"); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if log["version"] != "2.1.0" {
		t.Errorf("version = %v, want 2.1.0", log["version"])
	}
	if s, _ := log["$schema"].(string); !strings.Contains(s, "sarif-2.1.0") {
		t.Errorf("$schema = %q, want the 2.1.0 schema", s)
	}
	runs := list(t, log, "runs")
	if len(runs) != 1 {
		t.Fatalf("runs = %d, want 1", len(runs))
	}
	run := runs[0].(map[string]any)
	driver := obj(t, obj(t, run, "tool"), "driver")
	if driver["name"] != "driftcheck" || driver["version"] != "v1.2.3" {
		t.Errorf("driver = %v", driver)
	}
	ruleIDs := map[string]int{}
	for i, r := range list(t, driver, "rules") {
		rule := r.(map[string]any)
		id, _ := rule["id"].(string)
		if id == "" || obj(t, rule, "shortDescription")["text"] == "" {
			t.Errorf("rule %d lacks id or shortDescription: %v", i, rule)
		}
		ruleIDs[id] = i
	}
	if len(ruleIDs) != len(Kinds()) {
		t.Errorf("%d rules, want one per kind (%d)", len(ruleIDs), len(Kinds()))
	}
	results := list(t, run, "results")
	if len(results) != len(sampleReport.Findings) {
		t.Fatalf("results = %d, want %d", len(results), len(sampleReport.Findings))
	}
	for i, r := range results {
		res := r.(map[string]any)
		id, _ := res["ruleId"].(string)
		idx, ok := ruleIDs[id]
		if !ok || int(res["ruleIndex"].(float64)) != idx {
			t.Errorf("result %d: ruleId %q / ruleIndex %v do not resolve to a rule", i, id, res["ruleIndex"])
		}
		if obj(t, res, "message")["text"] == "" {
			t.Errorf("result %d has no message text", i)
		}
		switch res["level"] {
		case "error", "warning", "note", "none":
		default:
			t.Errorf("result %d: level %v is not a SARIF level", i, res["level"])
		}
		locs := list(t, res, "locations")
		phys := obj(t, locs[0].(map[string]any), "physicalLocation")
		uri, _ := obj(t, phys, "artifactLocation")["uri"].(string)
		if uri != sampleReport.Findings[i].File {
			t.Errorf("result %d: uri %q, want %q", i, uri, sampleReport.Findings[i].File)
		}
		region, hasRegion := phys["region"].(map[string]any)
		if want := sampleReport.Findings[i].Line; want > 0 {
			if !hasRegion || int(region["startLine"].(float64)) != want {
				t.Errorf("result %d: region %v, want startLine %d", i, phys["region"], want)
			}
		} else if hasRegion {
			t.Errorf("result %d: region %v for a finding without a line (startLine must be ≥ 1)", i, region)
		}
	}
	vcp := list(t, run, "versionControlProvenance")
	if vcp[0].(map[string]any)["revisionId"] != sampleReport.Rev {
		t.Errorf("versionControlProvenance = %v", vcp)
	}
}

func obj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is missing or not an object in %v", key, m)
	}
	return v
}

func list(t *testing.T, m map[string]any, key string) []any {
	t.Helper()
	v, ok := m[key].([]any)
	if !ok || len(v) == 0 && key != "results" {
		t.Fatalf("%q is missing or empty in %v", key, m)
	}
	return v
}
