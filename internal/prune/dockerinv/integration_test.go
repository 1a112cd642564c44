package dockerinv_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/prune"
	"github.com/driftcheck/driftcheck/internal/prune/prunetest"
)

func TestNegotiatesDownToTheDaemon(t *testing.T) {
	c := requireDaemon(t)
	server := strings.TrimSpace(docker(t, defaultHost, "version", "--format", "{{.Server.APIVersion}}"))
	if c.APIVersion() != server {
		t.Fatalf("negotiated API %s, daemon speaks %s", c.APIVersion(), server)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inv, err := c.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inv.RootDir == "" || inv.Store == "" || inv.APIVersion != server {
		t.Fatalf("inventory lacks daemon facts: root %q store %q api %q", inv.RootDir, inv.Store, inv.APIVersion)
	}
}

// Everything the policy protects survives a real run with --until 0s;
// everything eligible goes; the dry run lists exactly what the run deletes.
func TestPruneKeepsProtectedDeletesEligible(t *testing.T) {
	h := testDaemon(t)
	reg := registry(t)
	u := uniq(t)

	// Eligible.
	dangling := buildImage(t, h, u+"-dangling", 0)
	tagged := u + "/tagged:1"
	taggedID := buildImage(t, h, u+"-tagged", 0, tagged)
	exited := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-exited", tagged))
	t.Cleanup(func() { dockerErr(h, "rm", "-f", exited) })
	docker(t, h, "start", "-a", exited)
	buildCacheRecords(t, h, u)

	// Protected.
	runningImg := buildImage(t, h, u+"-running", 0)
	running := strings.TrimSpace(docker(t, h, "run", "-d", "--network", "none", "--name", u+"-running", runningImg, "sleep"))
	t.Cleanup(func() { dockerErr(h, "rm", "-f", running) })
	createdImg := buildImage(t, h, u+"-created", 0)
	created := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-created", createdImg))
	taskCreated := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-task-created", "--label", prune.LabelSwarmTaskID+"="+u, tagged))
	taskExited := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-task-exited", "--label", prune.LabelSwarmTaskID+"="+u+"x", tagged))
	docker(t, h, "start", "-a", taskExited)
	t.Cleanup(func() { dockerErr(h, "rm", "-f", created, taskCreated, taskExited) })

	keepID := buildImage(t, h, u+"-keep", 0, u+"/keep:1")
	digestOnly := digestOnlyImage(t, h, reg+"/"+u+"/digest", u+"-digest")

	svcRef := reg + "/" + u + "/svc:1"
	svcImg := buildImage(t, h, u+"-svc", 0, svcRef)
	docker(t, h, "push", "-q", svcRef)
	docker(t, h, "rmi", svcRef)
	docker(t, h, "service", "create", "--detach", "--name", u+"-svc", svcRef, "sleep")
	t.Cleanup(func() { removeService(t, h, u+"-svc") })
	waitService(t, h, u+"-svc")

	docker(t, h, "volume", "create", u+"-vol")
	t.Cleanup(func() { dockerErr(h, "volume", "rm", u+"-vol") })
	docker(t, h, "network", "create", u+"-net")
	t.Cleanup(func() { dockerErr(h, "network", "rm", u+"-net") })

	opts, _ := options(t, h)
	dryOpts := opts
	dryOpts.DryRun = true
	dry := run(t, dryOpts)
	if dry.Outcome != prune.OutcomePruned || !dry.DryRun {
		t.Fatalf("dry run outcome %s (dry %v), want pruned; report %+v", dry.Outcome, dry.DryRun, dry)
	}
	if !exists(h, "image", dangling) || !exists(h, "container", exited) {
		t.Fatal("the dry run deleted something")
	}

	real := run(t, opts)
	planned, deleted := byResult(dry, prune.ResultPlanned), byResult(real, prune.ResultDeleted)
	if !reflect.DeepEqual(planned, deleted) {
		t.Errorf("dry run planned %d objects, the run deleted %d:\nplanned %v\ndeleted %v\nactions %+v", len(planned), len(deleted), planned, deleted, real.Actions)
	}
	for name, id := range map[string]string{"dangling image": dangling, "exited container": exited} {
		if !deleted[id] {
			t.Errorf("%s %s was not deleted; actions %+v", name, id, real.Actions)
		}
	}
	if countKind(real, prune.KindBuildCache, prune.ResultDeleted) == 0 {
		t.Errorf("no build cache record deleted; actions %+v", real.Actions)
	}
	sharedKept := false
	for _, p := range real.Protected {
		sharedKept = sharedKept || (p.Kind == prune.KindBuildCache && strings.Contains(p.Reason, "shared"))
	}
	if !sharedKept {
		t.Errorf("the BuildKit build's shared cache record is not among the protected: %+v", real.Protected)
	}

	for name, obj := range map[string][2]string{
		"tagged image":                   {"image", taggedID},
		"digest-only image":              {"image", digestOnly},
		"service image (digest, in use)": {"image", svcImg},
		"image of a running container":   {"image", runningImg},
		"image of a created container":   {"image", createdImg},
		"running container":              {"container", running},
		"created container":              {"container", created},
		"created swarm task container":   {"container", taskCreated},
		"exited swarm task container":    {"container", taskExited},
		"volume":                         {"volume", u + "-vol"},
		"network":                        {"network", u + "-net"},
		"service":                        {"service", u + "-svc"},
	} {
		if !exists(h, obj[0], obj[1]) {
			t.Errorf("protected %s %s was deleted", name, obj[1])
		}
		if deleted[obj[1]] {
			t.Errorf("protected %s %s is in the deleted list", name, obj[1])
		}
	}
	// Tagged, digest-only and in-use images are reported with their reason.
	reasons := protectedReasons(real)
	for id, want := range map[string]string{keepID: "tagged", digestOnly: "digest", runningImg: "used by container", createdImg: "used by container"} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("protection reason for %s = %q, want it to say %q", id, reasons[id], want)
		}
	}
	// The filesystem measured (a tmpfs at 75 %) is still over 50 %: fail
	// closed, never escalate.
	if real.Outcome != prune.OutcomeUnderPressure || real.ExitCode() != 4 {
		t.Errorf("outcome %s exit %d, want %s exit 4", real.Outcome, real.ExitCode(), prune.OutcomeUnderPressure)
	}
	if real.Store != prune.StoreGraphdriver || real.APIVersion == "" {
		t.Errorf("store %q api %q not reported", real.Store, real.APIVersion)
	}
}

// digestOnlyImage builds an image, pushes it, drops it and pulls it back by
// digest: what a swarm node holds after deploying a stack (graphdriver
// stores only the digest reference). Removing the last tag alone is not
// enough: the daemon then drops the repository's digest references too.
func digestOnlyImage(t *testing.T, h, repo, label string) string {
	t.Helper()
	id := buildImage(t, h, label, 0, repo+":1")
	docker(t, h, "push", "-q", repo+":1")
	digestRef := strings.TrimSpace(docker(t, h, "image", "inspect", "--format", "{{index .RepoDigests 0}}", repo+":1"))
	docker(t, h, "rmi", repo+":1")
	docker(t, h, "pull", "-q", digestRef)
	tags := strings.TrimSpace(docker(t, h, "image", "inspect", "--format", "{{len .RepoTags}} {{len .RepoDigests}}", id))
	if tags != "0 1" {
		t.Fatalf("image %s has %s tags/digests, want a digest-only image", id, tags)
	}
	return id
}

func countKind(r *prune.Report, k prune.Kind, result string) int {
	n := 0
	for _, a := range r.Actions {
		if a.Kind == k && a.Result == result {
			n++
		}
	}
	return n
}

func protectedReasons(r *prune.Report) map[string]string {
	out := make(map[string]string)
	for _, p := range r.Protected {
		out[p.ID] = p.Reason
	}
	return out
}

// Each gate, closed on its own, stops the run before anything is deleted;
// with all open, the same objects go (so the fixture was eligible).
func TestEachGateBlocksOnItsOwn(t *testing.T) {
	h := testDaemon(t)
	u := uniq(t)
	dangling := buildImage(t, h, u+"-gate", 0)
	tagged := u + "/gate:1"
	buildImage(t, h, u+"-gate-tagged", 0, tagged)
	exited := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-gate-exited", tagged))
	t.Cleanup(func() { dockerErr(h, "rm", "-f", exited) })
	docker(t, h, "start", "-a", exited)
	survives := func(t *testing.T) {
		t.Helper()
		if !exists(h, "image", dangling) || !exists(h, "container", exited) {
			t.Fatal("a closed gate let the prune delete")
		}
	}
	tests := []struct {
		name    string
		gate    string
		outcome string
		setup   func(t *testing.T, o *prune.Options, hk *hooks)
	}{
		{"drift", prune.GateDrift, prune.OutcomeBlocked, func(t *testing.T, o *prune.Options, hk *hooks) {
			o.Drift = func(context.Context) (prune.Gate, error) {
				return prune.Gate{Open: false, Reason: "drift: renamed docker-prune.service -> ci-docker-prune.service"}, nil
			}
		}},
		{"disk pressure", prune.GatePressure, prune.OutcomeSkipped, func(t *testing.T, o *prune.Options, hk *hooks) {
			hk.diskPath = tmpfsDisk(t, 4, 0)
		}},
		{"ci run live", prune.GateBusy, prune.OutcomeSkipped, func(t *testing.T, o *prune.Options, hk *hooks) {
			ns := "zz9-abc123_ci_" + u
			docker(t, h, "network", "create", "--label", prune.LabelStackNamespace+"="+ns, u+"-busy")
			t.Cleanup(func() { dockerErr(h, "network", "rm", u+"-busy") })
		}},
		{"service converging", prune.GateConverging, prune.OutcomeSkipped, func(t *testing.T, o *prune.Options, hk *hooks) {
			docker(t, h, "service", "create", "--detach", "--no-resolve-image", "--name", u+"-stuck", "127.0.0.1:1/none/stuck:1")
			t.Cleanup(func() { removeService(t, h, u+"-stuck") })
		}},
		{"deploy lock held", prune.GateLock, prune.OutcomeSkipped, func(t *testing.T, o *prune.Options, hk *hooks) {
			o.DeployLock = filepath.Join(t.TempDir(), "deploy.lock")
			held, err := prune.TryLock(o.DeployLock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { held.Release() })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, hk := options(t, h)
			tt.setup(t, &opts, hk)
			r := run(t, opts)
			if r.Outcome != tt.outcome || len(r.Actions) != 0 {
				t.Fatalf("outcome %s with %d actions, want %s and none; reason %q", r.Outcome, len(r.Actions), tt.outcome, r.Reason)
			}
			closed := 0
			for _, g := range r.Gates {
				if !g.Open {
					closed++
					if g.Name != tt.gate {
						t.Errorf("gate %s closed (%s), want only %s", g.Name, g.Reason, tt.gate)
					}
				}
			}
			if closed != 1 {
				t.Errorf("%d gates closed, want exactly %s: %+v", closed, tt.gate, r.Gates)
			}
			survives(t)
		})
	}
	opts, _ := options(t, h)
	r := run(t, opts)
	if d := byResult(r, prune.ResultDeleted); !d[dangling] || !d[exited] {
		t.Fatalf("with every gate open the fixture must go; actions %+v, gates %+v", r.Actions, r.Gates)
	}
}

// With the drift gate closed, no daemon is contacted: the client is not
// even built, so a socket that counts connections sees none.
func TestDriftGateContactsNothing(t *testing.T) {
	url, conns := prunetest.CountingSocket(t)
	opts := prune.Options{
		Policy:   prune.Policy{ThresholdPct: 0, BusyPattern: mustBusy()},
		Drift:    func(context.Context) (prune.Gate, error) { return prune.Gate{Reason: "drift"}, nil },
		Connect:  connector(url),
		StateDir: t.TempDir(),
	}
	r, err := prune.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != prune.OutcomeBlocked || r.ExitCode() != 1 {
		t.Fatalf("outcome %s exit %d, want blocked exit 1", r.Outcome, r.ExitCode())
	}
	time.Sleep(100 * time.Millisecond)
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connections to the daemon socket while the drift gate was closed", n)
	}
	// The recorder works: an open gate does connect.
	opts.NoDriftGate = true
	if _, err := prune.Run(context.Background(), opts); err == nil {
		t.Fatal("a socket that hangs up must fail the run")
	}
	if conns.Load() == 0 {
		t.Fatal("the recording socket saw no connection from an unblocked run: the test proves nothing")
	}
}

// Two prunes at once: the second, started while the first is between
// gates and deletions, skips on the prune's own lock; the first completes.
func TestTwoPrunesNeverOverlap(t *testing.T) {
	h := testDaemon(t)
	u := uniq(t)
	dangling := buildImage(t, h, u+"-overlap", 0)
	opts, hk := options(t, h)
	var second *prune.Report
	hk.beforeRemove = func(prune.Kind, string) {
		if second != nil {
			return
		}
		second = run(t, opts) // same state dir, so the same prune lock
	}
	first := run(t, opts)
	if second == nil {
		t.Fatal("the hook never ran: the first prune had nothing to delete")
	}
	if second.Outcome != prune.OutcomeSkipped || !strings.Contains(second.Reason, "another driftcheck prune") {
		t.Fatalf("second prune: outcome %s reason %q, want skipped on the prune lock", second.Outcome, second.Reason)
	}
	if !byResult(first, prune.ResultDeleted)[dangling] {
		t.Fatalf("first prune did not delete %s: %+v", dangling, first.Actions)
	}
}

// The daemon dies between the container and the image step: the run ends
// with an error (exit 2), deletes nothing further, and after a restart
// every protected object is still there.
func TestDaemonDiesMidRun(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	h := d.host
	u := uniq(t)
	tagged := u + "/keep:1"
	taggedID := buildImage(t, h, u+"-keep", 0, tagged)
	dangling := buildImage(t, h, u+"-doomed", 0)
	exited := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-exited", tagged))
	docker(t, h, "start", "-a", exited)
	docker(t, h, "volume", "create", u+"-vol")

	t.Log("fixture ready")
	opts, hk := options(t, h)
	// The exited container is the only one: once it is gone, the next
	// call is the gate re-check before the image step.
	hk.afterRemove = func(kind prune.Kind, id string) {
		if kind == prune.KindContainer {
			d.kill()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := prune.Run(ctx, opts)
	if err == nil || r.ExitCode() != 2 || r.Outcome != prune.OutcomeError {
		t.Fatalf("err %v, outcome %s, exit %d; want an error, exit 2", err, r.Outcome, r.ExitCode())
	}
	got := byResult(r, prune.ResultDeleted)
	if !got[exited] || got[dangling] {
		t.Fatalf("deleted %v: want the exited container (before the kill) and not the image (after)", got)
	}
	if !byResult(r, prune.ResultSkipped)[dangling] {
		t.Fatalf("the image not reached must be reported as skipped: %+v", r.Actions)
	}

	t.Log("daemon killed; restarting")
	d.stop() // reap the dead daemon's containerd, as a service manager would
	d.start(t, testreqDockerd(t))
	for _, obj := range [][2]string{{"image", taggedID}, {"image", dangling}, {"volume", u + "-vol"}} {
		if !exists(h, obj[0], obj[1]) {
			t.Errorf("%s %s lost after the daemon died mid-run", obj[0], obj[1])
		}
	}
}

// Disk pressure for real, both ways, on a daemon whose data root is a small
// tmpfs: under the threshold it skips; over it, it deletes until the
// filesystem is below the threshold and says pruned (exit 0).
func TestPressureRelievedForReal(t *testing.T) {
	root := tmpfsDisk(t, 96, 0)
	d := startDaemon(t, root)
	h := d.host
	u := uniq(t)

	opts, hk := options(t, h)
	hk.diskPath = "" // measure the Docker root itself
	opts.Policy.ThresholdPct = 60
	if r := run(t, opts); r.Outcome != prune.OutcomeSkipped || gate(r, prune.GatePressure).Open {
		t.Fatalf("empty data root: outcome %s, want skipped on pressure; gates %+v", r.Outcome, r.Gates)
	}

	var doomed []string
	for i := 0; i < 6; i++ {
		doomed = append(doomed, buildImage(t, h, u+"-fill", 9<<20))
	}
	before, err := measure(root)
	if err != nil {
		t.Fatal(err)
	}
	opts.Policy.ThresholdPct = before - 10
	if opts.Policy.ThresholdPct < 20 {
		t.Fatalf("fill reached only %.1f%%: the fixture is too small to show pressure", before)
	}
	r := run(t, opts)
	if r.Outcome != prune.OutcomePruned || r.ExitCode() != 0 {
		t.Fatalf("outcome %s exit %d (disk %+v, reason %q), want pruned exit 0", r.Outcome, r.ExitCode(), r.Disk, r.Reason)
	}
	if r.Disk.BeforePct < opts.Policy.ThresholdPct || r.Disk.AfterPct >= opts.Policy.ThresholdPct {
		t.Fatalf("disk %.1f%% -> %.1f%%, threshold %.1f%%: want from above to below", r.Disk.BeforePct, r.Disk.AfterPct, opts.Policy.ThresholdPct)
	}
	deleted := byResult(r, prune.ResultDeleted)
	for _, id := range doomed {
		if !deleted[id] {
			t.Errorf("filler image %s not deleted", id)
		}
	}
}

func measure(path string) (float64, error) {
	d, err := dockerinvMeasure(path)
	return d.BytesPct, err
}

func gate(r *prune.Report, name string) prune.Gate {
	for _, g := range r.Gates {
		if g.Name == name {
			return g
		}
	}
	return prune.Gate{Name: name, Reason: "not evaluated"}
}

// A gate that closes between two steps stops the run there: a CI stack
// appears after the containers went; the image stays, reported skipped.
func TestGateClosingMidRunStops(t *testing.T) {
	h := testDaemon(t)
	u := uniq(t)
	dangling := buildImage(t, h, u+"-mid", 0)
	tagged := u + "/mid:1"
	buildImage(t, h, u+"-mid-tagged", 0, tagged)
	exited := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-mid-exited", tagged))
	t.Cleanup(func() { dockerErr(h, "rm", "-f", exited) })
	docker(t, h, "start", "-a", exited)
	t.Cleanup(func() { dockerErr(h, "network", "rm", u+"-mid-busy") })

	opts, hk := options(t, h)
	// After the container step (one container), before the re-check that
	// precedes the image step: a CI stack appears.
	hk.afterRemove = func(kind prune.Kind, id string) {
		if kind == prune.KindContainer {
			docker(t, h, "network", "create", "--label", prune.LabelStackNamespace+"=zz9-abc123_ci_"+u, u+"-mid-busy")
		}
	}
	r := run(t, opts)
	if !byResult(r, prune.ResultDeleted)[exited] || !byResult(r, prune.ResultSkipped)[dangling] {
		t.Fatalf("want the container deleted and the image skipped; actions %+v", r.Actions)
	}
	if !exists(h, "image", dangling) {
		t.Fatal("the image went although the CI gate closed before the image step")
	}
	last := r.Rechecks[len(r.Rechecks)-1]
	if last.Before != prune.StepImages || !strings.Contains(r.Reason, prune.GateBusy) {
		t.Fatalf("rechecks %+v, reason %q: want the image step stopped by %s", r.Rechecks, r.Reason, prune.GateBusy)
	}
	if r.Outcome != prune.OutcomePruned || r.ExitCode() != 0 {
		t.Fatalf("outcome %s exit %d: a gate that stops a run midway is a normal stop", r.Outcome, r.ExitCode())
	}
}

// The image clock: a run without pressure still records when it first saw
// an image unused; a run under pressure an hour later may then delete it
// with --until 1h, and a run before that hour may not.
func TestImageClockRunsWithoutPressure(t *testing.T) {
	h := testDaemon(t)
	dangling := buildImage(t, h, uniq(t)+"-clock", 0)
	start := time.Now()
	opts, hk := options(t, h)
	opts.Policy.Until = time.Hour
	pressured := hk.diskPath
	hk.diskPath = tmpfsDisk(t, 4, 0)
	opts.Now = func() time.Time { return start }
	if r := run(t, opts); r.Outcome != prune.OutcomeSkipped {
		t.Fatalf("no pressure: outcome %s, want skipped", r.Outcome)
	}
	st, err := prune.LoadState(opts.StateDir)
	if err != nil || !st.FirstSeenUnused[dangling].Equal(start) {
		t.Fatalf("state %v (err %v): want %s first seen unused at %s", st.FirstSeenUnused, err, dangling, start)
	}

	hk.diskPath = pressured
	opts.DryRun = true
	opts.Now = func() time.Time { return start.Add(59 * time.Minute) }
	if r := run(t, opts); byResult(r, prune.ResultPlanned)[dangling] {
		t.Fatal("planned after 59 minutes with --until 1h")
	}
	opts.Now = func() time.Time { return start.Add(61 * time.Minute) }
	if r := run(t, opts); !byResult(r, prune.ResultPlanned)[dangling] {
		t.Fatalf("not planned after 61 minutes with --until 1h: %+v", r.Protected)
	}
}

// An image that comes back into use between plan and deletion makes the
// daemon answer 409; that is a skip with the daemon's reason, not a
// failure, and the image stays.
func TestConflictIsASkip(t *testing.T) {
	h := testDaemon(t)
	u := uniq(t)
	dangling := buildImage(t, h, u+"-conflict", 0)
	opts, hk := options(t, h)
	hk.beforeRemove = func(kind prune.Kind, id string) {
		if kind == prune.KindImage && id == dangling {
			user := strings.TrimSpace(docker(t, h, "create", "--network", "none", "--name", u+"-late-user", dangling))
			t.Cleanup(func() { dockerErr(h, "rm", "-f", user) })
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := prune.Run(ctx, opts)
	if err != nil {
		t.Fatalf("a 409 must not fail the run: %v", err)
	}
	var got prune.Action
	for _, a := range r.Actions {
		if a.ID == dangling {
			got = a
		}
	}
	if got.Result != prune.ResultSkipped || !strings.Contains(got.Reason, "conflict") {
		t.Fatalf("action for the image: %+v, want skipped on a conflict", got)
	}
	if !exists(h, "image", dangling) {
		t.Fatal("the image in use was deleted")
	}
}
