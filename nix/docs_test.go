package nix_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/driftcheck/driftcheck/internal/prune"
)

var (
	yamlBlock  = regexp.MustCompile("(?s)```yaml\n(.*?)```")
	metricName = regexp.MustCompile(`\bdriftcheck_[a-z_]+\b`)
)

// TestOperationsDoc checks docs/operations.md against the code: its alert
// rules are valid Prometheus rule YAML, and every metric it names is one
// the prune writes.
func TestOperationsDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlock.FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("no yaml block (the alert rules) in docs/operations.md")
	}
	for _, b := range blocks {
		var rules struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Alert       string            `yaml:"alert"`
					Expr        string            `yaml:"expr"`
					For         string            `yaml:"for"`
					Labels      map[string]string `yaml:"labels"`
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b[1])))
		dec.KnownFields(true)
		if err := dec.Decode(&rules); err != nil {
			t.Fatalf("alert rules are not valid rule YAML: %v", err)
		}
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if g.Name == "" || r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
					t.Errorf("rule %+v lacks group name, alert, expr or summary", r)
				}
			}
		}
	}
	written := prune.FormatMetrics(&prune.Report{})
	for _, name := range metricName.FindAllString(string(doc), -1) {
		if !strings.Contains(written, "# TYPE "+name+" ") {
			t.Errorf("docs/operations.md names %s, which the prune does not write", name)
		}
	}
}
