package dockerinv_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/driftcheck/driftcheck/internal/prune"
	"github.com/driftcheck/driftcheck/internal/prune/dockerinv"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// Tests that delete Docker objects run only against a daemon the test
// started itself (testDaemon: its own data root, socket, bridge and swarm),
// never against the default socket: the prune is daemon-wide by design, so
// on a shared daemon it would delete whatever else lives there, and the busy
// and converging gates would see other people's services. Only read-only
// tests talk to the host's daemon (requireDaemon).

const defaultHost = "unix:///var/run/docker.sock"

// requireDaemon returns a client for the host's daemon, for read-only
// tests, or stops the test (skip outside CI, fail in CI) when none answers.
func requireDaemon(t *testing.T) *dockerinv.Client {
	t.Helper()
	testreq.Command(t, "dockerd", "docker.io")
	testreq.Command(t, "docker", "docker.io")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dockerinv.Dial(ctx, defaultHost, 30*time.Second)
	if err != nil {
		testreq.Missing(t, "no Docker daemon answers on %s (run scripts/ensure-dockerd): %v", defaultHost, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testDaemon returns the host URL of the tests' own dockerd: started once
// per test binary (its own data root, socket and bridge) and made a
// single-node swarm manager on free loopback ports, so that it never shares
// a port with the host's swarm. TestMain stops it. The tests using it run
// one after another and remove what they create.
func testDaemon(t *testing.T) string {
	t.Helper()
	testreq.Root(t, "runs a private dockerd")
	testreq.Command(t, "dockerd", "docker.io")
	testreq.Command(t, "docker", "docker.io")
	testreq.Command(t, "ip", "iproute2")
	ownDaemon.once.Do(func() {
		dir, err := os.MkdirTemp("", "driftcheck-dockerd-")
		if err != nil {
			t.Fatal(err)
		}
		ownDaemon.cleanup = func() { os.RemoveAll(dir) }
		d, stop := launchDaemon(t, filepath.Join(dir, "data"), dir)
		ownDaemon.cleanup = func() { stop(); os.RemoveAll(dir) }
		addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
		docker(t, d.host, "swarm", "init", "--advertise-addr", addr, "--listen-addr", addr,
			"--data-path-port", fmt.Sprint(freeUDPPort(t)))
		ownDaemon.host = d.host
	})
	if ownDaemon.host == "" {
		t.Fatal("the tests' own dockerd did not start (see the first test that needed it)")
	}
	return ownDaemon.host
}

// ownDaemon is the dockerd testDaemon started; TestMain stops it.
var ownDaemon struct {
	once    sync.Once
	host    string
	cleanup func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ownDaemon.cleanup != nil {
		ownDaemon.cleanup()
	}
	os.Exit(code)
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freeUDPPort finds a free UDP port in the range Docker accepts for the
// VXLAN data path (1024-49151), below the kernel's ephemeral range.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		b := make([]byte, 2)
		rand.Read(b)
		port := 20000 + (int(b[0])<<8|int(b[1]))%10000
		if c, err := net.ListenPacket("udp", fmt.Sprintf(":%d", port)); err == nil {
			c.Close()
			return port
		}
	}
	t.Fatal("no free UDP port in 20000-29999")
	return 0
}

// docker runs the docker CLI against host and returns its stdout.
func docker(t testing.TB, host string, args ...string) string {
	t.Helper()
	out, err := dockerErr(host, args...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func dockerErr(host string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"-H", host}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0", "DOCKER_CLI_HINTS=false")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

var (
	appOnce sync.Once
	appDir  string
	appErr  error
)

// appBinary builds, once per test binary, a static Go program for FROM
// scratch images: "app sleep" sleeps, "app" exits at once.
func appBinary(t testing.TB) string {
	t.Helper()
	appOnce.Do(func() {
		dir, err := os.MkdirTemp("", "driftcheck-prune-app-")
		if err != nil {
			appErr = err
			return
		}
		src := "package main\n\nimport (\n\t\"os\"\n\t\"time\"\n)\n\nfunc main() {\n\tif len(os.Args) > 1 && os.Args[1] == \"sleep\" {\n\t\ttime.Sleep(time.Hour)\n\t}\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
			appErr = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module app\n\ngo 1.21\n"), 0o644); err != nil {
			appErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", "app", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			appErr = fmt.Errorf("build fixture binary: %v: %s", err, out)
			return
		}
		appDir = dir
	})
	if appErr != nil {
		t.Fatal(appErr)
	}
	return filepath.Join(appDir, "app")
}

// buildImage builds a FROM scratch image with the legacy builder; label
// makes its ID unique, extra adds a file of that many random bytes. It
// returns the image ID.
func buildImage(t testing.TB, host, label string, extra int, tags ...string) string {
	t.Helper()
	dir := t.TempDir()
	bin, err := os.ReadFile(appBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"
	if extra > 0 {
		blob := make([]byte, extra)
		rand.Read(blob)
		if err := os.WriteFile(filepath.Join(dir, "blob"), blob, 0o644); err != nil {
			t.Fatal(err)
		}
		dockerfile += "COPY blob /blob\n"
	}
	dockerfile += "LABEL driftcheck.test=" + label + "\n"
	if err := os.WriteFile(filepath.Join(dir, "app"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-q"}
	for _, tag := range tags {
		args = append(args, "-t", tag)
	}
	id := strings.TrimSpace(docker(t, host, append(args, dir)...))
	// Tests leave no images behind (errors: already pruned, daemon gone).
	t.Cleanup(func() { dockerErr(host, "rmi", "-f", id) })
	return id
}

// buildCacheRecords runs a BuildKit build (through the API: no buildx on
// the test hosts) so the daemon holds build cache records.
func buildCacheRecords(t testing.TB, host, content string) {
	t.Helper()
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	for name, body := range map[string]string{"Dockerfile": "FROM scratch\nCOPY f /f\n", "f": content} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	api, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := api.ImageBuild(ctx, &ctxTar, client.ImageBuildOptions{Version: build.BuilderBuildKit})
	if err != nil {
		t.Fatalf("BuildKit build: %v", err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(res.Body)
	if strings.Contains(out.String(), `"error"`) {
		t.Fatalf("BuildKit build failed: %s", out.String())
	}
}

func exists(host, kind, id string) bool {
	_, err := dockerErr(host, kind, "inspect", id)
	return err == nil
}

func uniq(t testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("dc%x", b)
}

// registry runs Debian's docker-registry on a free 127.0.0.1 port; dockerd
// treats 127.0.0.0/8 registries as insecure, so plain HTTP works.
func registry(t *testing.T) string {
	t.Helper()
	bin := testreq.Command(t, "docker-registry", "docker-registry")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("docker-registry did not listen on %s", addr)
	return ""
}

// waitService waits until the service runs all its desired tasks.
func waitService(t *testing.T, host, name string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := dockerErr(host, "service", "ls", "--filter", "name="+name, "--format", "{{.Replicas}}")
		if r := strings.TrimSpace(out); r != "" {
			parts := strings.SplitN(strings.Fields(r)[0], "/", 2)
			if len(parts) == 2 && parts[0] == parts[1] && parts[0] != "0" {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("service %s did not converge", name)
}

// removeService removes a service and waits until its tasks are gone, so
// the next test sees no converging service.
func removeService(t testing.TB, host, name string) {
	dockerErr(host, "service", "rm", name)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := dockerErr(host, "ps", "-aq", "--filter", "label=com.docker.swarm.service.name="+name)
		if strings.TrimSpace(out) == "" {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// tmpfsDisk mounts a small tmpfs and fills it to fillPct percent, for the
// pressure gate measured through hooks.diskPath.
func tmpfsDisk(t *testing.T, sizeMB int, fillPct float64) string {
	t.Helper()
	testreq.Root(t, "mounts a tmpfs to measure disk pressure")
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm", sizeMB)); err != nil {
		testreq.Missing(t, "mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	if fillPct > 0 {
		size := int(float64(sizeMB<<20) * fillPct / 100)
		if err := os.WriteFile(filepath.Join(dir, "fill"), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hooks are a test's handles on a run, kept out of the production types:
// which filesystem the pressure gate measures, and code run around each
// deletion (to kill the daemon, close a gate or start a second prune at a
// precise point). hookedEngine applies them.
type hooks struct {
	diskPath     string                           // measure this path instead of the Docker root; "" = the root
	beforeRemove func(kind prune.Kind, id string) // right before a deletion call
	afterRemove  func(kind prune.Kind, id string) // right after it returned
}

// hookedEngine is the real engine with the test's hooks around it.
type hookedEngine struct {
	prune.Engine
	h *hooks
}

func (e hookedEngine) Disk(ctx context.Context, rootDir string) (prune.Disk, error) {
	if e.h.diskPath != "" {
		rootDir = e.h.diskPath
	}
	return e.Engine.Disk(ctx, rootDir)
}

func (e hookedEngine) around(kind prune.Kind, id string, remove func() error) error {
	if e.h.beforeRemove != nil {
		e.h.beforeRemove(kind, id)
	}
	err := remove()
	if e.h.afterRemove != nil {
		e.h.afterRemove(kind, id)
	}
	return err
}

func (e hookedEngine) RemoveContainer(ctx context.Context, id string) error {
	return e.around(prune.KindContainer, id, func() error { return e.Engine.RemoveContainer(ctx, id) })
}

func (e hookedEngine) RemoveImage(ctx context.Context, id string) error {
	return e.around(prune.KindImage, id, func() error { return e.Engine.RemoveImage(ctx, id) })
}

func (e hookedEngine) RemoveBuildCache(ctx context.Context, id string) (deleted bool, err error) {
	err = e.around(prune.KindBuildCache, id, func() error {
		var err error
		deleted, err = e.Engine.RemoveBuildCache(ctx, id)
		return err
	})
	return deleted, err
}

// options are Run options for the daemon at host with every gate open
// except as a test changes them: drift in sync, the pressure gate measuring
// a tmpfs at 75 % against a 50 % threshold, default busy pattern. The
// returned hooks apply to every run made with these options.
func options(t *testing.T, host string) (prune.Options, *hooks) {
	h := &hooks{diskPath: tmpfsDisk(t, 4, 75)}
	connect := connector(host)
	return prune.Options{
		Policy:   prune.Policy{Until: 0, ThresholdPct: 50, BusyPattern: mustBusy()},
		Drift:    inSync,
		StateDir: t.TempDir(),
		Connect: func(ctx context.Context) (prune.Engine, error) {
			eng, err := connect(ctx)
			if err != nil {
				return nil, err
			}
			return hookedEngine{Engine: eng, h: h}, nil
		},
	}, h
}

func connector(host string) prune.Connector {
	return func(ctx context.Context) (prune.Engine, error) {
		return dockerinv.Dial(ctx, host, 30*time.Second)
	}
}

func inSync(context.Context) (prune.Gate, error) {
	return prune.Gate{Name: prune.GateDrift, Open: true, Reason: "in sync (test)"}, nil
}

func run(t *testing.T, opts prune.Options) *prune.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := prune.Run(ctx, opts)
	if err != nil {
		t.Fatalf("prune.Run: %v (report %+v)", err, r)
	}
	return r
}

// byResult returns the IDs of the report's actions with result.
func byResult(r *prune.Report, result string) map[string]bool {
	ids := make(map[string]bool)
	for _, a := range r.Actions {
		if a.Result == result {
			ids[a.ID] = true
		}
	}
	return ids
}

func mustBusy() *regexp.Regexp { return regexp.MustCompile(prune.DefaultBusyPattern) }

// daemon is a private dockerd on its own socket and data root, for tests
// that kill the daemon or need a data root on a small filesystem.
type daemon struct {
	host      string
	args      []string
	execRoots []string
	logPath   string
	cmd       *exec.Cmd
	exited    chan struct{} // closed once cmd has been waited for
	groups    []int         // process groups of every dockerd started, with their containerd
}

func startDaemon(t testing.TB, dataRoot string) *daemon {
	t.Helper()
	d, cleanup := launchDaemon(t, dataRoot, t.TempDir())
	t.Cleanup(cleanup)
	return d
}

// launchDaemon starts a private dockerd on dataRoot, logging into logDir,
// and returns it with the function that stops it and removes what it left
// (bridge, mounts, exec roots, socket). When the start fails the test stops
// and everything is removed at once.
func launchDaemon(t testing.TB, dataRoot, logDir string) (d *daemon, cleanup func()) {
	t.Helper()
	testreq.Root(t, "runs a private dockerd")
	bin := testreq.Command(t, "dockerd", "docker.io")
	ipCmd := testreq.Command(t, "ip", "iproute2")
	u := uniq(t)
	// Its own bridge: with --bridge=none dockerd deletes docker0, which
	// would break the host daemon's networking.
	bridge := "b" + u
	if out, err := exec.Command(ipCmd, "link", "add", "name", bridge, "type", "bridge").CombinedOutput(); err != nil {
		testreq.Missing(t, "create bridge %s: %v: %s", bridge, err, out)
	}
	d = &daemon{
		host:    "unix:///run/" + u + ".sock",
		logPath: filepath.Join(logDir, "dockerd.log"),
		args: []string{"--data-root", dataRoot, "--pidfile", "/run/" + u + ".pid",
			"-H", "unix:///run/" + u + ".sock", "--bridge", bridge, "--iptables=false", "--ip-masq=false", "--ip-forward=false"},
	}
	cleanup = func() {
		d.stop()
		unmountUnder(dataRoot)
		for _, dir := range d.execRoots {
			unmountUnder(dir)
			os.RemoveAll(dir)
		}
		os.Remove("/run/" + u + ".sock")
		os.Remove("/run/" + u + ".pid")
		exec.Command(ipCmd, "link", "del", bridge).Run()
	}
	started := false
	defer func() { // also on t.Fatal (runtime.Goexit)
		if !started {
			cleanup()
		}
	}()
	d.start(t, bin)
	started = true
	return d, cleanup
}

// start runs dockerd and waits until it answers. On a loaded machine its
// containerd can miss dockerd's start timeout (seen in CI right after a
// kill); dockerd then exits, and one more attempt is made, as a service
// manager's Restart= would.
func (d *daemon) start(t testing.TB, bin string) {
	t.Helper()
	const attempts = 3
	for i := 1; ; i++ {
		err := d.tryStart(t, bin)
		if err == nil {
			return
		}
		if i == attempts {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; retrying", i, err)
		d.stop()
	}
}

func (d *daemon) tryStart(t testing.TB, bin string) error {
	t.Helper()
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// A fresh exec root per start: a crashed daemon's containerd state
	// there would stall the restart. Short: containerd's sockets live in it.
	execRoot := "/run/" + uniq(t)
	d.execRoots = append(d.execRoots, execRoot)
	d.cmd = exec.Command(bin, append([]string{"--exec-root", execRoot}, d.args...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its containerd too, for stop
	if err := d.cmd.Start(); err != nil {
		return err
	}
	d.groups = append(d.groups, d.cmd.Process.Pid)
	exited := make(chan struct{})
	d.exited = exited
	go func() { d.cmd.Wait(); close(exited) }() //nolint:errcheck // only the exit matters
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := dockerErr(d.host, "info", "--format", "{{.ID}}"); err == nil {
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(d.logPath)
			return fmt.Errorf("private dockerd exited before answering: %s", lastLines(string(log), 10))
		case <-time.After(200 * time.Millisecond):
		}
	}
	log, _ := os.ReadFile(d.logPath)
	return fmt.Errorf("private dockerd did not answer within a minute: %s", lastLines(string(log), 10))
}

// kill ends dockerd abruptly (SIGKILL), as a crash would; its containerd
// keeps running until stop.
func (d *daemon) kill() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Kill()
		<-d.exited
	}
}

func (d *daemon) stop() {
	for _, pgid := range d.groups {
		syscall.Kill(-pgid, syscall.SIGTERM)
	}
	if d.cmd != nil && d.cmd.Process != nil {
		select {
		case <-d.exited:
		case <-time.After(15 * time.Second):
		}
	}
	// Let containerd shut down cleanly, then make sure every process of
	// every group is gone: a containerd left behind holds the metadata
	// database's lock, and the next start would time out on it.
	deadline := time.Now().Add(10 * time.Second)
	for _, pgid := range d.groups {
		for syscall.Kill(-pgid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	for _, pgid := range d.groups {
		for syscall.Kill(-pgid, 0) == nil && time.Now().Before(deadline.Add(5*time.Second)) {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// unmountUnder detaches every mount below dir (a killed dockerd leaves its
// overlay and shm mounts behind, and dockerd bind-mounts its data root
// onto itself), so the test's temporary dirs can go.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var targets []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && (fields[1] == dir || strings.HasPrefix(fields[1], dir+"/")) {
			targets = append(targets, fields[1])
		}
	}
	for i := len(targets) - 1; i >= 0; i-- {
		syscall.Unmount(targets[i], syscall.MNT_DETACH)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func testreqDockerd(t *testing.T) string { return testreq.Command(t, "dockerd", "docker.io") }

func dockerinvMeasure(path string) (prune.Disk, error) { return dockerinv.MeasureDisk(path) }

func containerConfig(image string) *container.Config {
	return &container.Config{Image: image, Cmd: []string{"/app"}}
}
