package nix_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/driftcheck/driftcheck/internal/checkmetrics"
	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/prune"
)

// metricName finds metric names; a recording rule's name
// (instance:driftcheck_…:max) is not one.
var metricName = regexp.MustCompile(`(?:^|[^:a-z_])(driftcheck_[a-z_]+)\b`)

// renamedMetrics are old names docs/operations.md lists as renamed: they
// must not be written any more.
var renamedMetrics = map[string]bool{
	"driftcheck_prune_bytes_reclaimed":   true,
	"driftcheck_prune_objects_deleted":   true,
	"driftcheck_prune_disk_used_percent": true,
}

// writtenMetrics are the names the check and the prune write.
func writtenMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	evaluated := &drift.Report{Toplevel: &drift.Toplevel{Revision: "/nix/store/a", Host: "/nix/store/a", Match: true}}
	for _, reg := range []prometheus.Gatherer{
		prune.MetricsRegistry(&prune.Report{}, 0),
		checkmetrics.Registry(checkmetrics.Run{Report: evaluated}, 0),
	} {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			names[f.GetName()] = true
		}
	}
	return names
}

// TestOperationsDoc checks docs/operations.md and the shipped rules file
// against the code: the rules are valid Prometheus rule YAML, and every
// metric they name is one driftcheck writes (old names only in the table
// of renamed metrics).
func TestOperationsDoc(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rulesYAML, err := os.ReadFile(filepath.Join(root, "nix", "prometheus", "driftcheck.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(rulesYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("the rules file is not valid rule YAML: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if g.Name == "" || r.Expr == "" || (r.Alert == "") == (r.Record == "") || (r.Alert != "" && r.Annotations["summary"] == "") {
				t.Errorf("rule %+v lacks group name, expr, alert or record, or an alert's summary", r)
			}
		}
	}
	written := writtenMetrics(t)
	for _, src := range []struct {
		name string
		text []byte
	}{{"docs/operations.md", doc}, {"nix/prometheus/driftcheck.rules.yml", rulesYAML}} {
		for _, m := range metricName.FindAllSubmatch(src.text, -1) {
			name := string(m[1])
			switch {
			case renamedMetrics[name] && written[name]:
				t.Errorf("%s is listed as renamed but still written", name)
			case renamedMetrics[name] && src.name == "docs/operations.md":
			case !written[name]:
				t.Errorf("%s names %s, which driftcheck does not write", src.name, name)
			}
		}
	}
}
