package prometheus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/examples/incident"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// The shipped rules on the real engine: two node_exporters on 127.0.0.1
// (two hosts, each with its own textfile directory), a Prometheus on
// 127.0.0.1 scraping both every second with driftcheck.rules.yml, and
// driftcheck itself writing the metrics: ci-1 in sync, ci-2 in drift (the
// bundled incident: its host against the commit that still declares
// docker-prune.*). The drift alert must fire for ci-2 and never for ci-1;
// once ci-2 is reconciled it must resolve.
func TestAlertsOnARealPrometheus(t *testing.T) {
	start := time.Now()
	promBin := testreq.Command(t, "prometheus", "prometheus")
	nodeBin := testreq.Command(t, "prometheus-node-exporter", "prometheus-node-exporter")
	gitBin := testreq.Command(t, "git", "git")
	goBin := testreq.Command(t, "go", "golang (Go 1.26 from go.dev)")
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	driftcheck := filepath.Join(t.TempDir(), "driftcheck")
	if out, err := exec.CommandContext(ctx, goBin, "build", "-o", driftcheck, "../../cmd/driftcheck").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repo, err := incident.BuildRepo(ctx, gitBin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	snapData, err := incident.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	snapshot := filepath.Join(t.TempDir(), "host.json")
	if err := os.WriteFile(snapshot, snapData, 0o644); err != nil {
		t.Fatal(err)
	}

	// check writes the host's textfile; the exit code must match the
	// verdict the metrics carry.
	check := func(dir, rev string, wantExit int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, driftcheck, "check", "--repo", repo.Dir, "--rev", rev, "--live", snapshot,
			"--metrics-file", filepath.Join(dir, "driftcheck.prom"))
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil {
			t.Fatalf("driftcheck check: %v", err)
		}
		if code := cmd.ProcessState.ExitCode(); code != wantExit {
			t.Fatalf("driftcheck check --rev %s: exit %d (%v), want %d\n%s", rev, code, err, wantExit, out)
		}
	}
	hosts := map[string]string{"ci-1": t.TempDir(), "ci-2": t.TempDir()}
	check(hosts["ci-1"], repo.Reconciled, 0)
	check(hosts["ci-2"], repo.Incident, 1)

	var targets []string
	exporters := map[string]string{}
	for _, name := range []string{"ci-1", "ci-2"} {
		addr := freeAddr(t)
		exporters[name] = addr
		startProcess(t, nodeBin, "--web.listen-address="+addr, "--collector.disable-defaults", "--collector.textfile",
			"--collector.textfile.directory="+hosts[name])
		waitHTTP(t, "http://"+addr+"/metrics", 30*time.Second)
		targets = append(targets, fmt.Sprintf("      - targets: [%q]\n        labels: {instance: %s}\n", addr, name))
	}
	promDir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - %q\nscrape_configs:\n  - job_name: node\n    static_configs:\n%s",
		rules, strings.Join(targets, ""))
	configPath := filepath.Join(promDir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	startProcess(t, promBin, "--config.file="+configPath, "--storage.tsdb.path="+filepath.Join(promDir, "data"),
		"--web.listen-address="+promAddr)
	api := "http://" + promAddr
	waitHTTP(t, api+"/-/ready", 60*time.Second)
	t.Logf("two node_exporters and Prometheus ready after %s", time.Since(start).Round(time.Millisecond))

	// Both hosts scraped and the recording rule evaluated on both: only
	// then does "no alert for ci-1" mean something.
	fired := time.Now()
	perHost := waitQuery(t, api, "instance:driftcheck_check_drift:max", 90*time.Second, func(got map[string]string) bool {
		return len(got) == 2
	})
	if perHost["ci-1"] != "0" || perHost["ci-2"] != "1" {
		t.Fatalf("recording rule per host = %v, want ci-1 0, ci-2 1", perHost)
	}
	alerts := waitAlerts(t, api, 90*time.Second, "ci-2 drifting", func(a []alert) bool {
		return len(firing(a, "DriftcheckDrift")) > 0
	})
	if got := firing(alerts, "DriftcheckDrift"); len(got) != 1 || got[0] != "ci-2" {
		t.Fatalf("DriftcheckDrift firing for %v, want exactly ci-2; alerts %+v", got, alerts)
	}
	for _, a := range alerts {
		if a.Labels["instance"] == "ci-1" {
			t.Errorf("alert %s for ci-1, which is in sync", a.Labels["alertname"])
		}
	}
	t.Logf("DriftcheckDrift firing for ci-2 after %s", time.Since(fired).Round(time.Millisecond))
	// What an operator sees (docs/operations.md shows the same).
	t.Logf("$ curl -s http://%s/metrics | grep '^driftcheck_' | grep -v ' 0$'\n%s", exporters["ci-2"],
		nonZero(grepLines(getText(t, "http://"+exporters["ci-2"]+"/metrics"), "driftcheck_")))
	t.Logf("$ curl -s %s/api/v1/alerts\n%s", api, getText(t, api+"/api/v1/alerts"))

	// Reconcile ci-2: the repository now declares what the host runs.
	check(hosts["ci-2"], repo.Reconciled, 0)
	resolved := time.Now()
	waitAlerts(t, api, 90*time.Second, "the drift alert to resolve", func(a []alert) bool {
		return len(firing(a, "DriftcheckDrift")) == 0
	})
	t.Logf("DriftcheckDrift resolved %s after ci-2 was reconciled; whole test %s",
		time.Since(resolved).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// alert is one entry of Prometheus's /api/v1/alerts.
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func firing(alerts []alert, name string) []string {
	var instances []string
	for _, a := range alerts {
		if a.Labels["alertname"] == name && a.State == "firing" {
			instances = append(instances, a.Labels["instance"])
		}
	}
	return instances
}

// waitAlerts polls the alerts API until done says so, at most for limit.
func waitAlerts(t *testing.T, api string, limit time.Duration, what string, done func([]alert) bool) []alert {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last []alert
	for time.Now().Before(deadline) {
		var resp struct {
			Status string `json:"status"`
			Data   struct {
				Alerts []alert `json:"alerts"`
			} `json:"data"`
		}
		if err := getJSON(api+"/api/v1/alerts", &resp); err == nil && resp.Status == "success" {
			last = resp.Data.Alerts
			if done(last) {
				return last
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s; last alerts %+v", limit, what, last)
	return nil
}

// waitQuery polls an instant query until done accepts its result (values
// by instance), at most for limit.
func waitQuery(t *testing.T, api, expr string, limit time.Duration, done func(map[string]string) bool) map[string]string {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last map[string]string
	for time.Now().Before(deadline) {
		if got, err := query(api, expr); err == nil {
			last = got
			if done(got) {
				return got
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s; last result %v", limit, expr, last)
	return nil
}

// query runs an instant query and returns each series' value by instance.
func query(api, expr string) (map[string]string, error) {
	var resp struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(api+"/api/v1/query?query="+url.QueryEscape(expr), &resp); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range resp.Data.Result {
		out[r.Metric["instance"]] = fmt.Sprint(r.Value[1])
	}
	return out, nil
}

func getJSON(u string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func getText(t *testing.T, u string) string {
	t.Helper()
	var raw json.RawMessage
	if strings.HasSuffix(u, "/metrics") {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if err := getJSON(u, &raw); err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func nonZero(text string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasSuffix(line, " 0") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}

// waitHTTP waits until url answers 200, at most for limit.
func waitHTTP(t *testing.T, u string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within %s", u, limit)
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess starts bin with its output in a log file; the test's
// cleanup stops it (SIGTERM, then SIGKILL after 10 s) and waits for it.
func startProcess(t *testing.T, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(bin)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // the exit is all that matters
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", filepath.Base(bin), lastLines(string(log), 20))
		}
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
