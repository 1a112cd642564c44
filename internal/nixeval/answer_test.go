package nixeval

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
)

// Values NixOS accepts in timerConfig and serviceConfig, and values that
// are no systemd setting, as layout.nix hands them over.
func TestAnswerToDeclared(t *testing.T) {
	var m managers
	data := `{"system":{
	  "a.timer":{"enable":true,"wantedBy":["timers.target"],"onCalendar":["daily","weekly"],"persistent":"yes","unit":"b.service","failed":[]},
	  "c.timer":{"enable":true,"wantedBy":[],"onCalendar":{"not":"a calendar"},"persistent":42,"failed":[]},
	  "d.service":{"enable":false,"wantedBy":[],"description":"","type":["x"],"failed":["description"]}
	},"user":{"e.service":{"enable":true,"wantedBy":["default.target"],"failed":[]}}}`
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatal(err)
	}
	res := m.declared("nixosConfigurations.web")
	yes, no := true, false
	want := []declared.Unit{
		{Name: "a.timer", Type: "timer", Scope: declared.ScopeSystem, File: "nixosConfigurations.web", Properties: declared.Properties{
			Enable: &yes, WantedBy: []string{"timers.target"}, OnCalendar: []string{"daily", "weekly"}, Persistent: &yes, Unit: "b.service"}},
		{Name: "c.timer", Type: "timer", Scope: declared.ScopeSystem, File: "nixosConfigurations.web", Properties: declared.Properties{Enable: &yes, WantedBy: []string{}}},
		{Name: "d.service", Type: "service", Scope: declared.ScopeSystem, File: "nixosConfigurations.web", Properties: declared.Properties{Enable: &no, WantedBy: []string{}}},
		{Name: "e.service", Type: "service", Scope: declared.ScopeUser, File: "nixosConfigurations.web", Properties: declared.Properties{Enable: &yes, WantedBy: []string{"default.target"}}},
	}
	if diff := cmp.Diff(want, res.Units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	var reasons []string
	for _, u := range res.Unresolved {
		reasons = append(reasons, u.Unit+": "+u.Reason)
	}
	got := strings.Join(reasons, "\n")
	for _, w := range []string{"c.timer: timerConfig.OnCalendar: not a string or a list", "c.timer: timerConfig.Persistent: not a boolean", "d.service: description of d.service does not evaluate", "d.service: serviceConfig.Type: not a string"} {
		if !strings.Contains(got, w) {
			t.Errorf("unresolved lacks %q:\n%s", w, got)
		}
	}
}

func TestNixMessageIsOneLine(t *testing.T) {
	stderr := "warning: the group 'nixbld' specified in 'build-users-group' does not exist\nGC Warning: Out of Memory!\nerror: The option `a' has conflicting definition values:\n       - In `x': 1\n(use '--show-trace' to show detailed location information)\n"
	if got, want := nixMessage(stderr), "The option `a' has conflicting definition values:; - In `x': 1"; got != want {
		t.Errorf("nixMessage = %q, want %q", got, want)
	}
	if got := nixString("a\"b${c}\\\n"); got != `"a\"b\${c}\\\n"` {
		t.Errorf("nixString = %s", got)
	}
}
