package dockerinv_test

import (
	"testing"

	"github.com/driftcheck/driftcheck/internal/prune"
	"github.com/driftcheck/driftcheck/internal/prune/dockerinv"
)

func TestStoreOf(t *testing.T) {
	tests := []struct {
		name   string
		status [][2]string
		want   prune.Store
	}{
		{"overlay2 (Docker 20.10 here)", [][2]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"}}, prune.StoreGraphdriver},
		{"containerd snapshotter", [][2]string{{"driver-type", "io.containerd.snapshotter.v1"}}, prune.StoreContainerd},
		{"no status", nil, prune.StoreGraphdriver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dockerinv.StoreOf(tt.status); got != tt.want {
				t.Fatalf("StoreOf(%v) = %s, want %s", tt.status, got, tt.want)
			}
		})
	}
}
