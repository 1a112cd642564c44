// Package dockerinv is the Docker edge of the prune executor: it gathers the
// inventory through github.com/moby/moby/client (API version negotiated, so
// daemons down to API 1.40 answer) and deletes single objects by ID. Every
// call runs under its own timeout. It offers no volume, network or system
// prune, and never forces a removal.
package dockerinv

import (
	"context"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/driftcheck/driftcheck/internal/prune"
)

// DefaultCallTimeout bounds each call to the daemon.
const DefaultCallTimeout = 30 * time.Second

// Client is a connected Docker engine; it implements prune.Engine.
type Client struct {
	api         *client.Client
	callTimeout time.Duration
}

// Dial connects to host ("" = DOCKER_HOST or the default socket),
// negotiates the API version and checks that the daemon answers.
func Dial(ctx context.Context, host string, callTimeout time.Duration) (*Client, error) {
	if callTimeout <= 0 {
		callTimeout = DefaultCallTimeout
	}
	// client.New negotiates the API version on the first request (the
	// Ping below); its minimum is API 1.40, so Docker 20.10 (1.41) works.
	opts := []client.Opt{client.FromEnv}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	api, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %q: %w", host, err)
	}
	c := &Client{api: api, callTimeout: callTimeout}
	pctx, cancel := c.call(ctx)
	defer cancel()
	if _, err := api.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		return nil, fmt.Errorf("docker daemon at %s: %w", api.DaemonHost(), err)
	}
	return c, nil
}

// APIVersion is the negotiated API version.
func (c *Client) APIVersion() string { return c.api.ClientVersion() }

// Close releases the connection.
func (c *Client) Close() error { return c.api.Close() }

func (c *Client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.callTimeout)
}

// RemoveContainer removes one container by ID: no force, no volumes.
func (c *Client) RemoveContainer(ctx context.Context, id string) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	_, err := c.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{})
	return classify("remove container "+id, err)
}

// RemoveImage removes one image by ID: no force and no pruning of untagged
// parents, so exactly the planned image goes or nothing does.
func (c *Client) RemoveImage(ctx context.Context, id string) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	_, err := c.api.ImageRemove(ctx, id, client.ImageRemoveOptions{})
	return classify("remove image "+id, err)
}

// RemoveBuildCache deletes one build cache record through the id filter of
// POST /build/prune (filters exist since API 1.39; the id filter is
// BuildKit's). Never all=true: internal and shared records stay.
func (c *Client) RemoveBuildCache(ctx context.Context, id string) (bool, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.BuildCachePrune(ctx, client.BuildCachePruneOptions{
		Filters: make(client.Filters).Add("id", id),
	})
	if err != nil {
		return false, classify("remove build cache "+id, err)
	}
	for _, deleted := range res.Report.CachesDeleted {
		if deleted == id {
			return true, nil
		}
	}
	return false, nil
}

// classify wraps daemon errors so the executor can tell skips from failures.
func classify(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsConflict(err):
		return fmt.Errorf("%s: %w: %w", what, prune.ErrConflict, err)
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%s: %w: %w", what, prune.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
