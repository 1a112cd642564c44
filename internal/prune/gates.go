package prune

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Gate names, in evaluation order.
const (
	GateDrift      = "drift"
	GateLock       = "lock"
	GatePressure   = "disk-pressure"
	GateBusy       = "ci-idle"
	GateConverging = "services-converged"
)

// Gate is one precondition with its verdict.
type Gate struct {
	Name   string `json:"name"`
	Open   bool   `json:"open"`
	Reason string `json:"reason"`
}

// PressureGate opens at or above threshold percent on bytes or inodes.
func PressureGate(d Disk, threshold float64) Gate {
	g := Gate{Name: GatePressure}
	usage := fmt.Sprintf("%s: bytes %.1f%%, inodes %.1f%%, threshold %.1f%%", d.Path, d.BytesPct, d.InodesPct, threshold)
	switch {
	case d.BytesPct >= threshold:
		g.Open, g.Reason = true, "bytes at or above threshold: "+usage
	case d.InodesPct >= threshold:
		g.Open, g.Reason = true, "inodes at or above threshold: "+usage
	default:
		g.Reason = "no pressure: " + usage
	}
	return g
}

// BusyGate closes while any service, container or network belongs to a CI
// run: its stack namespace or its name matches busy.
func BusyGate(inv *Inventory, busy *regexp.Regexp) Gate {
	g := Gate{Name: GateBusy}
	var hits []string
	for _, s := range inv.Services {
		if stackBusy(s.Labels, s.Name, busy) {
			hits = append(hits, "service "+s.Name)
		}
	}
	for _, c := range inv.Containers {
		if stackBusy(c.Labels, c.Name, busy) {
			hits = append(hits, "container "+c.Name)
		}
	}
	for _, n := range inv.Networks {
		if stackBusy(n.Labels, n.Name, busy) {
			hits = append(hits, "network "+n.Name)
		}
	}
	if len(hits) > 0 {
		g.Reason = fmt.Sprintf("CI run live (pattern %s): %s", busy, summarize(hits))
		return g
	}
	g.Open, g.Reason = true, fmt.Sprintf("no stack, container or network matches %s", busy)
	return g
}

// Task states between "scheduled" and "running": a task desired running in
// one of them is still being deployed.
var pendingTaskStates = map[string]bool{
	"new": true, "allocated": true, "pending": true, "assigned": true, "accepted": true,
	"preparing": true, "ready": true, "starting": true,
}

var convergingUpdateStates = map[string]bool{
	"updating": true, "rollback_started": true, "paused": true, "rollback_paused": true,
}

// ConvergingGate closes while any swarm service is converging. On a node
// that is not a swarm manager it cannot see services and falls back to
// local containers that are created or restarting.
func ConvergingGate(inv *Inventory) Gate {
	g := Gate{Name: GateConverging}
	var hits []string
	if inv.SwarmManager {
		names := make(map[string]string, len(inv.Services))
		for _, s := range inv.Services {
			names[s.ID] = s.Name
			if s.HasStatus && s.Running < s.Desired {
				hits = append(hits, fmt.Sprintf("service %s: %d of %d tasks running", s.Name, s.Running, s.Desired))
			}
			if convergingUpdateStates[s.UpdateState] {
				hits = append(hits, fmt.Sprintf("service %s: update %s", s.Name, s.UpdateState))
			}
		}
		for _, t := range inv.Tasks {
			if t.DesiredState == "running" && pendingTaskStates[t.State] {
				hits = append(hits, fmt.Sprintf("task %s of service %s: %s, desired running", t.ID, names[t.ServiceID], t.State))
			}
		}
	} else {
		for _, c := range inv.Containers {
			if c.State == "created" || c.State == "restarting" {
				hits = append(hits, fmt.Sprintf("container %s: %s", c.Name, c.State))
			}
		}
	}
	scope := "swarm services and tasks"
	if !inv.SwarmManager {
		scope = fmt.Sprintf("not a swarm manager (swarm %s): checked local containers only", orNone(inv.SwarmState))
	}
	if len(hits) > 0 {
		g.Reason = "converging (" + scope + "): " + summarize(hits)
		return g
	}
	g.Open, g.Reason = true, "nothing converging ("+scope+")"
	return g
}

// summarize lists up to five items, sorted, and counts the rest.
func summarize(items []string) string {
	sort.Strings(items)
	const show = 5
	if len(items) <= show {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:show], "; "), len(items)-show)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
