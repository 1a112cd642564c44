// Package prune decides and executes a Docker prune that keeps the cache,
// runs only under disk pressure, never during a deploy or a CI run, and only
// while git and the host agree. The core (Plan, the gate functions) is pure:
// it reasons about an Inventory gathered at the edge (package dockerinv) and
// returns what to delete and why. Run orchestrates gates, plan and the
// deletions through the Engine interface; it has no way to prune volumes,
// networks or the whole system, by construction.
package prune

import "time"

// Store is the daemon's image store; "dangling" and "age" mean different
// things on each (see StoreNote).
type Store string

const (
	StoreGraphdriver Store = "graphdriver"
	StoreContainerd  Store = "containerd"
)

// Inventory is what the daemon reported, gathered in one pass.
type Inventory struct {
	APIVersion   string
	RootDir      string // Info.DockerRootDir
	Driver       string
	Store        Store
	SwarmState   string // Info.Swarm.LocalNodeState: inactive, active, …
	SwarmManager bool   // Info.Swarm.ControlAvailable

	Containers []Container
	Images     []Image
	Services   []Service
	Tasks      []Task
	Networks   []Network
	BuildCache []CacheRecord
	Disk       Disk
}

// Container is one container in any state.
type Container struct {
	ID         string
	Name       string // without the leading slash
	ImageID    string
	State      string // created, running, paused, restarting, removing, exited, dead
	Labels     map[string]string
	FinishedAt time.Time // zero unless exited or dead (and inspected)
}

// Image is one image, intermediate ones included.
type Image struct {
	ID          string
	ParentID    string
	RepoTags    []string
	RepoDigests []string
	Size        int64
}

// Service is one swarm service with the image references of its current and
// previous spec (the rollback target).
type Service struct {
	ID          string
	Name        string
	Labels      map[string]string
	ImageRefs   []string
	Running     uint64
	Desired     uint64
	HasStatus   bool   // Running/Desired were reported
	UpdateState string // UpdateStatus.State, "" when none
}

// Task is one swarm task.
type Task struct {
	ID           string
	ServiceID    string
	DesiredState string
	State        string
}

// Network is one network.
type Network struct {
	ID     string
	Name   string
	Labels map[string]string
}

// CacheRecord is one build cache record.
type CacheRecord struct {
	ID         string
	Type       string
	Size       int64
	InUse      bool
	Shared     bool
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when the daemon never recorded a use
}

// Disk is the usage of the filesystem holding the Docker root.
type Disk struct {
	Path        string
	BytesPct    float64
	InodesPct   float64
	TotalBytes  uint64
	UsedBytes   uint64
	TotalInodes uint64
	UsedInodes  uint64
}

// Labels that tie containers, services and networks to swarm and stacks.
const (
	LabelStackNamespace = "com.docker.stack.namespace"
	LabelSwarmTaskID    = "com.docker.swarm.task.id"
	LabelSwarmServiceID = "com.docker.swarm.service.id"
)

// StoreNote explains in one line what "dangling" and "age" mean on store.
func StoreNote(store Store) string {
	switch store {
	case StoreContainerd:
		return "containerd store: dangling = records named moby-dangling@…; stack images (repo:tag@digest) are never dangling; " +
			"driftcheck ages images by its own first-seen-unused record, not the daemon's"
	default:
		return "graphdriver store: dangling = no tag, even with a digest (every swarm-pulled image); the daemon's image age is build time " +
			"(1970 for Nix dockerTools images), so driftcheck keeps digest-only images and ages the rest by its own first-seen-unused record"
	}
}
