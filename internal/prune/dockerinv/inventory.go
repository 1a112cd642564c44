package dockerinv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/driftcheck/driftcheck/internal/prune"
)

// Inventory gathers everything the plan and the gates look at. The calls
// are independent and run concurrently: on API < 1.42 GET /system/df
// computes every section and dominates, so the others hide behind it.
// Swarm services and tasks are only listed on a manager (workers cannot).
func (c *Client) Inventory(ctx context.Context) (*prune.Inventory, error) {
	inv := &prune.Inventory{APIVersion: c.APIVersion()}
	if err := c.info(ctx, inv); err != nil {
		return nil, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	gather := func(f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	gather(func() (err error) { inv.Containers, err = c.containers(ctx); return err })
	gather(func() (err error) { inv.Images, err = c.images(ctx); return err })
	gather(func() (err error) { inv.Networks, err = c.networks(ctx); return err })
	gather(func() (err error) { inv.BuildCache, err = c.buildCache(ctx); return err })
	if inv.SwarmManager {
		gather(func() (err error) { inv.Services, err = c.services(ctx); return err })
		gather(func() (err error) { inv.Tasks, err = c.tasks(ctx); return err })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return inv, nil
}

func (c *Client) info(ctx context.Context, inv *prune.Inventory) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fmt.Errorf("docker info: %w", err)
	}
	info := res.Info
	inv.RootDir, inv.Driver = info.DockerRootDir, info.Driver
	inv.Store = StoreOf(info.DriverStatus)
	inv.SwarmState = string(info.Swarm.LocalNodeState)
	inv.SwarmManager = info.Swarm.LocalNodeState == swarm.LocalNodeStateActive && info.Swarm.ControlAvailable
	return nil
}

// StoreOf tells the image store from Info.DriverStatus: the containerd
// snapshotter reports driver-type io.containerd.snapshotter.v1.
func StoreOf(driverStatus [][2]string) prune.Store {
	for _, kv := range driverStatus {
		if kv[0] == "driver-type" && kv[1] == "io.containerd.snapshotter.v1" {
			return prune.StoreContainerd
		}
	}
	return prune.StoreGraphdriver
}

func (c *Client) containers(ctx context.Context) ([]prune.Container, error) {
	lctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.ContainerList(lctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]prune.Container, 0, len(res.Items))
	for _, s := range res.Items {
		ct := prune.Container{ID: s.ID, ImageID: s.ImageID, State: string(s.State), Labels: s.Labels}
		if len(s.Names) > 0 {
			ct.Name = strings.TrimPrefix(s.Names[0], "/")
		}
		if needsFinishTime(ct) {
			finished, gone, err := c.finishedAt(ctx, s.ID)
			if err != nil {
				return nil, err
			}
			if gone {
				continue // removed since the list: nothing to decide
			}
			ct.FinishedAt = finished
		}
		out = append(out, ct)
	}
	return out, nil
}

// needsFinishTime: the list has no exit time, so only containers the plan
// could delete are inspected (swarm task containers never are).
func needsFinishTime(c prune.Container) bool {
	if c.Labels[prune.LabelSwarmTaskID] != "" || c.Labels[prune.LabelSwarmServiceID] != "" {
		return false
	}
	return c.State == string(container.StateExited) || c.State == string(container.StateDead)
}

func (c *Client) finishedAt(ctx context.Context, id string) (finished time.Time, gone bool, err error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return time.Time{}, true, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("inspect container %s: %w", id, err)
	}
	if res.Container.State == nil || res.Container.State.FinishedAt == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, res.Container.State.FinishedAt)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("container %s: finish time %q: %w", id, res.Container.State.FinishedAt, err)
	}
	if t.Year() < 2 {
		return time.Time{}, false, nil // "0001-01-01T00:00:00Z": never finished
	}
	return t, false, nil
}

func (c *Client) images(ctx context.Context) ([]prune.Image, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.ImageList(ctx, client.ImageListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	out := make([]prune.Image, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, prune.Image{ID: s.ID, ParentID: s.ParentID, RepoTags: s.RepoTags, RepoDigests: s.RepoDigests, Size: s.Size})
	}
	return out, nil
}

func (c *Client) networks(ctx context.Context) ([]prune.Network, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	out := make([]prune.Network, 0, len(res.Items))
	for _, n := range res.Items {
		out = append(out, prune.Network{ID: n.ID, Name: n.Name, Labels: n.Labels})
	}
	return out, nil
}

func (c *Client) services(ctx context.Context) ([]prune.Service, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.ServiceList(ctx, client.ServiceListOptions{Status: true})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := make([]prune.Service, 0, len(res.Items))
	for _, s := range res.Items {
		svc := prune.Service{ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels}
		svc.ImageRefs = appendImageRef(svc.ImageRefs, &s.Spec)
		svc.ImageRefs = appendImageRef(svc.ImageRefs, s.PreviousSpec)
		if st := s.ServiceStatus; st != nil {
			svc.HasStatus, svc.Running, svc.Desired = true, st.RunningTasks, st.DesiredTasks
		}
		if u := s.UpdateStatus; u != nil {
			svc.UpdateState = string(u.State)
		}
		out = append(out, svc)
	}
	return out, nil
}

func appendImageRef(refs []string, spec *swarm.ServiceSpec) []string {
	if spec == nil || spec.TaskTemplate.ContainerSpec == nil || spec.TaskTemplate.ContainerSpec.Image == "" {
		return refs
	}
	return append(refs, spec.TaskTemplate.ContainerSpec.Image)
}

func (c *Client) tasks(ctx context.Context) ([]prune.Task, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.TaskList(ctx, client.TaskListOptions{
		Filters: make(client.Filters).Add("desired-state", string(swarm.TaskStateRunning)),
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	out := make([]prune.Task, 0, len(res.Items))
	for _, t := range res.Items {
		out = append(out, prune.Task{ID: t.ID, ServiceID: t.ServiceID, DesiredState: string(t.DesiredState), State: string(t.Status.State)})
	}
	return out, nil
}

// buildCache reads the cache records from GET /system/df. On API < 1.42 the
// daemon ignores the type filter and computes every section, which costs
// a layer walk; on newer daemons only the build cache is computed.
func (c *Client) buildCache(ctx context.Context) ([]prune.CacheRecord, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.DiskUsage(ctx, client.DiskUsageOptions{BuildCache: true, Verbose: true})
	if err != nil {
		return nil, fmt.Errorf("disk usage (build cache): %w", err)
	}
	out := make([]prune.CacheRecord, 0, len(res.BuildCache.Items))
	for _, r := range res.BuildCache.Items {
		out = append(out, cacheRecord(r))
	}
	return out, nil
}

func cacheRecord(r build.CacheRecord) prune.CacheRecord {
	rec := prune.CacheRecord{ID: r.ID, Type: r.Type, Size: r.Size, InUse: r.InUse, Shared: r.Shared, CreatedAt: r.CreatedAt}
	if r.LastUsedAt != nil {
		rec.LastUsedAt = *r.LastUsedAt
	}
	return rec
}

// Disk measures the filesystem holding path with statfs(2): bytes as df(1)
// counts them (blocks reserved for root count as unavailable) and inodes.
func (c *Client) Disk(_ context.Context, path string) (prune.Disk, error) {
	return MeasureDisk(path)
}

// MeasureDisk is Disk without a client.
func MeasureDisk(path string) (prune.Disk, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return prune.Disk{}, fmt.Errorf("measure disk %s (must be on this host): %w", path, err)
	}
	bsize := uint64(st.Bsize)
	used := (st.Blocks - st.Bfree) * bsize
	usable := used + st.Bavail*bsize
	d := prune.Disk{Path: path, TotalBytes: st.Blocks * bsize, UsedBytes: used,
		TotalInodes: st.Files, UsedInodes: st.Files - st.Ffree}
	if usable > 0 {
		d.BytesPct = 100 * float64(used) / float64(usable)
	}
	if st.Files > 0 {
		d.InodesPct = 100 * float64(d.UsedInodes) / float64(st.Files)
	}
	return d, nil
}
