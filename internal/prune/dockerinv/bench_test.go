package dockerinv_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/driftcheck/driftcheck/internal/prune"
	"github.com/driftcheck/driftcheck/internal/prune/dockerinv"
)

const (
	benchImages     = 2000
	benchContainers = 1000
)

// BenchmarkPlanInventory measures what a prune does before it deletes
// anything (inventory of a daemon holding 2,000 images and 1,000
// containers, then the plan) against the baseline an operator would use,
// `docker image ls -a` plus `docker ps -a`, on the same daemon in the same
// run. The fixture lives on a private daemon (created once, ~1 min), so
// this runs under `make bench` only.
func BenchmarkPlanInventory(b *testing.B) {
	d := startDaemon(b, b.TempDir())
	populate(b, d.host)
	ctx := context.Background()
	c, err := dockerinv.Dial(ctx, d.host, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pol := prune.Policy{Until: 24 * time.Hour, ThresholdPct: 80, BusyPattern: mustBusy()}

	api, err := client.New(client.WithHost(d.host))
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()
	planOnce := func(b *testing.B) {
		inv, err := c.Inventory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Images) < benchImages || len(inv.Containers) < benchContainers {
			b.Fatalf("inventory holds %d images, %d containers", len(inv.Images), len(inv.Containers))
		}
		prune.Plan(inv, pol, prune.State{}, time.Now())
	}
	baseline := func(b *testing.B) {
		for _, args := range [][]string{{"image", "ls", "-a"}, {"ps", "-a"}} {
			cmd := exec.Command("docker", append([]string{"-H", d.host}, args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("docker %v: %v: %s", args, err, out)
			}
		}
	}
	// The three expensive calls, one after another and at once, to show
	// what the concurrent inventory buys on this daemon.
	calls := []func() error{
		func() error { _, err := api.ImageList(ctx, client.ImageListOptions{All: true}); return err },
		func() error { _, err := api.ContainerList(ctx, client.ContainerListOptions{All: true}); return err },
		func() error {
			_, err := api.DiskUsage(ctx, client.DiskUsageOptions{BuildCache: true, Verbose: true})
			return err
		},
	}
	sequential := func(b *testing.B) {
		for _, call := range calls {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
	}
	concurrent := func(b *testing.B) {
		var wg sync.WaitGroup
		errs := make([]error, len(calls))
		for i, call := range calls {
			wg.Go(func() { errs[i] = call() })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("driftcheck", func(b *testing.B) {
		for b.Loop() {
			planOnce(b)
		}
	})
	b.Run("docker-cli-baseline", func(b *testing.B) {
		for b.Loop() {
			baseline(b)
		}
	})
	// Interleaved: each iteration times driftcheck and the baseline back to
	// back, so load from elsewhere on the machine hits both alike; the
	// ratio is the figure to compare with the 1.5x target.
	b.Run("interleaved", func(b *testing.B) {
		var dc, cli, seq, par time.Duration
		timed := func(total *time.Duration, f func(*testing.B)) {
			start := time.Now()
			f(b)
			*total += time.Since(start)
		}
		n := 0
		for b.Loop() {
			timed(&dc, planOnce)
			timed(&cli, baseline)
			timed(&seq, sequential)
			timed(&par, concurrent)
			n++
		}
		ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(n) }
		b.ReportMetric(ms(dc), "driftcheck-ms/op")
		b.ReportMetric(ms(cli), "cli-ms/op")
		b.ReportMetric(float64(dc)/float64(cli), "ratio")
		b.ReportMetric(ms(seq), "calls-sequential-ms/op")
		b.ReportMetric(ms(par), "calls-concurrent-ms/op")
	})
}

// populate loads 2,000 distinct images in one `docker load` (configs that
// differ by a label over one shared layer: cheap to make, each a row in
// `docker image ls -a` and in the inventory; half tagged, half untagged)
// and creates 1,000 containers that are never started.
func populate(b *testing.B, host string) {
	b.Helper()
	api, err := client.New(client.WithHost(host))
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	archive, ids := imageArchive(b, benchImages)
	res, err := api.ImageLoad(ctx, archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res)
	res.Close()
	for i := 0; i < benchContainers; i++ {
		_, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:   fmt.Sprintf("bench-%d", i),
			Config: containerConfig(ids[i%len(ids)]),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	out := docker(b, host, "image", "ls", "-a", "-q")
	b.Logf("fixture: %d image rows, %d containers", strings.Count(out, "\n"), benchContainers)
}

// imageArchive writes a `docker save` archive of n images that share one
// layer and differ by a label; even ones are tagged.
func imageArchive(b *testing.B, n int) (io.Reader, []string) {
	b.Helper()
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	lw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 5})
	lw.Write([]byte("hello"))
	lw.Close()
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(layer.Bytes()))

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	add("layer/layer.tar", layer.Bytes())
	type entry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var manifest []entry
	var ids []string
	for i := 0; i < n; i++ {
		cfg, _ := json.Marshal(map[string]any{
			"architecture": "amd64", "os": "linux",
			"config":  map[string]any{"Labels": map[string]string{"driftcheck.bench": fmt.Sprint(i)}},
			"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
			"created": "2026-01-01T00:00:00Z",
		})
		sum := fmt.Sprintf("%x", sha256.Sum256(cfg))
		add(sum+".json", cfg)
		e := entry{Config: sum + ".json", Layers: []string{"layer/layer.tar"}}
		if i%2 == 0 {
			e.RepoTags = []string{fmt.Sprintf("bench/img%d:%d", i%50, i)}
		}
		manifest = append(manifest, e)
		ids = append(ids, "sha256:"+sum)
	}
	m, _ := json.Marshal(manifest)
	add("manifest.json", m)
	tw.Close()
	return &buf, ids
}

// BenchmarkPlan is the pure planning step alone, over a synthetic
// inventory of the same size with a realistic mix.
func BenchmarkPlan(b *testing.B) {
	inv := syntheticInventory(benchImages, benchContainers)
	pol := prune.Policy{Until: 24 * time.Hour, ThresholdPct: 80, BusyPattern: mustBusy()}
	now := time.Now()
	for b.Loop() {
		prune.Plan(inv, pol, prune.State{}, now)
	}
}

func syntheticInventory(images, containers int) *prune.Inventory {
	inv := &prune.Inventory{}
	for i := 0; i < images; i++ {
		img := prune.Image{ID: fmt.Sprintf("sha256:%064d", i), Size: 1 << 20}
		switch i % 4 {
		case 0:
			img.RepoTags = []string{fmt.Sprintf("app%d:%d", i%20, i)}
		case 1:
			img.RepoDigests = []string{fmt.Sprintf("reg/app%d@sha256:%064d", i%20, i)}
		case 2:
			img.ParentID = fmt.Sprintf("sha256:%064d", i-1)
		}
		inv.Images = append(inv.Images, img)
	}
	for i := 0; i < containers; i++ {
		c := prune.Container{ID: fmt.Sprintf("%064d", i), Name: fmt.Sprintf("c%d", i), ImageID: fmt.Sprintf("sha256:%064d", i*2), State: "exited",
			FinishedAt: time.Now().Add(-48 * time.Hour)}
		if i%3 == 0 {
			c.Labels = map[string]string{prune.LabelSwarmTaskID: "t", prune.LabelStackNamespace: "ab12-0a1b2c_ci_x"}
		}
		inv.Containers = append(inv.Containers, c)
	}
	for i := 0; i < 50; i++ {
		inv.Services = append(inv.Services, prune.Service{Name: fmt.Sprintf("s%d", i), ImageRefs: []string{fmt.Sprintf("reg/app%d:1@sha256:%064d", i, i*4+1)}})
	}
	return inv
}
