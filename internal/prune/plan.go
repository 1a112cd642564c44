package prune

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Kind is the kind of object an action deletes or a protection keeps.
type Kind string

const (
	KindContainer  Kind = "container"
	KindImage      Kind = "image"
	KindBuildCache Kind = "build-cache"
	KindVolume     Kind = "volume"
	KindNetwork    Kind = "network"
)

// Policy is what the operator asked for.
type Policy struct {
	Until        time.Duration  // minimum age: containers since exit, images since first seen unused, cache since last use
	ThresholdPct float64        // prune only at or above this usage (bytes or inodes)
	BusyPattern  *regexp.Regexp // stack namespaces or names of CI runs
}

// DefaultBusyPattern matches the CI run-app stacks of the incident host.
const DefaultBusyPattern = `^[a-z0-9]{1,4}-[0-9a-f]{6}_ci_`

// State is what driftcheck remembers between runs: when it first saw each
// image unused. The daemon records no "last used" time for images, so this
// is the only honest age for "unused for at least --until".
type State struct {
	FirstSeenUnused map[string]time.Time `json:"first_seen_unused"`
}

// Candidate is one object the plan deletes.
type Candidate struct {
	Kind   Kind
	ID     string
	Ref    string // a human name: container name, image reference, cache type
	Bytes  int64  // the daemon's estimate; 0 when unknown
	Reason string
}

// Protection is one object the plan keeps, and why.
type Protection struct {
	Kind   Kind   `json:"kind"`
	ID     string `json:"id"`
	Ref    string `json:"ref"`
	Reason string `json:"reason"`
}

// PlanResult lists the deletions in execution order (containers, images,
// build cache), what stays, and the state to persist.
type PlanResult struct {
	Containers []Candidate
	Images     []Candidate
	BuildCache []Candidate
	Protected  []Protection
	State      State
}

// All returns every candidate in execution order.
func (p PlanResult) All() []Candidate {
	out := make([]Candidate, 0, len(p.Containers)+len(p.Images)+len(p.BuildCache))
	out = append(out, p.Containers...)
	out = append(out, p.Images...)
	return append(out, p.BuildCache...)
}

// Plan decides what to delete. It is pure: the same inventory, policy,
// state and time give the same plan, which is what makes --dry-run exact.
func Plan(inv *Inventory, pol Policy, state State, now time.Time) PlanResult {
	var p PlanResult
	for _, c := range inv.Containers {
		if reason, ok := containerEligible(c, pol, now); ok {
			p.Containers = append(p.Containers, Candidate{Kind: KindContainer, ID: c.ID, Ref: c.Name, Reason: reason})
		} else {
			p.Protected = append(p.Protected, Protection{Kind: KindContainer, ID: c.ID, Ref: c.Name, Reason: reason})
		}
	}
	p.Images, p.State = planImages(inv, pol, state, now, &p.Protected)
	for _, r := range inv.BuildCache {
		if reason, ok := cacheEligible(r, pol, now); ok {
			p.BuildCache = append(p.BuildCache, Candidate{Kind: KindBuildCache, ID: r.ID, Ref: r.Type, Bytes: r.Size, Reason: reason})
		} else {
			p.Protected = append(p.Protected, Protection{Kind: KindBuildCache, ID: r.ID, Ref: r.Type, Reason: reason})
		}
	}
	return p
}

// containerEligible returns why the container goes (true) or stays (false).
func containerEligible(c Container, pol Policy, now time.Time) (string, bool) {
	switch {
	case c.Labels[LabelSwarmTaskID] != "" || c.Labels[LabelSwarmServiceID] != "":
		return "swarm task container: swarm removes it itself", false
	case stackBusy(c.Labels, c.Name, pol.BusyPattern):
		return "belongs to a CI run stack (busy pattern)", false
	case c.State != "exited" && c.State != "dead":
		return fmt.Sprintf("state %s: only exited or dead containers go", c.State), false
	case c.FinishedAt.IsZero():
		return "no finish time recorded", false
	}
	age := now.Sub(c.FinishedAt)
	if age < pol.Until {
		return fmt.Sprintf("finished %s ago, younger than %s", roundAge(age), pol.Until), false
	}
	return fmt.Sprintf("%s, finished %s ago", c.State, roundAge(age)), true
}

func planImages(inv *Inventory, pol Policy, state State, now time.Time, protected *[]Protection) ([]Candidate, State) {
	usedBy := make(map[string]string, len(inv.Containers))
	for _, c := range inv.Containers {
		usedBy[c.ImageID] = c.Name
	}
	children := make(map[string][]string)
	for _, img := range inv.Images {
		if img.ParentID != "" {
			children[img.ParentID] = append(children[img.ParentID], img.ID)
		}
	}
	refs := serviceRefs(inv.Services)
	next := State{FirstSeenUnused: make(map[string]time.Time)}
	var out []Candidate
	planned := make(map[string]bool)
	var parents []Image // untagged, unreferenced, unused, but with children
	for _, img := range inv.Images {
		ref := imageRef(img)
		reason := imageKept(img, usedBy, refs)
		if reason != "" {
			*protected = append(*protected, Protection{Kind: KindImage, ID: img.ID, Ref: ref, Reason: reason})
			continue // its first-seen-unused clock does not run
		}
		age := now.Sub(firstSeenUnused(img.ID, state, now, &next))
		switch {
		case age < pol.Until:
			*protected = append(*protected, Protection{Kind: KindImage, ID: img.ID, Ref: ref,
				Reason: fmt.Sprintf("unused for %s as seen by driftcheck, younger than %s", roundAge(age), pol.Until)})
		case len(children[img.ID]) > 0:
			parents = append(parents, img)
		default:
			planned[img.ID] = true
			out = append(out, Candidate{Kind: KindImage, ID: img.ID, Ref: ref, Bytes: img.Size,
				Reason: fmt.Sprintf("untagged, no digest, unused for %s", roundAge(age))})
		}
	}
	// An untagged parent goes after its children once every child is
	// planned: deleting the child alone would leave its layers behind as
	// a new dangling image. Repeat until no more parents qualify, so a
	// chain goes child first, parent last.
	for changed := true; changed; {
		changed = false
		for _, img := range parents {
			if planned[img.ID] || !allPlanned(children[img.ID], planned) {
				continue
			}
			planned[img.ID], changed = true, true
			out = append(out, Candidate{Kind: KindImage, ID: img.ID, Ref: imageRef(img), Bytes: img.Size,
				Reason: "untagged parent whose children all go in this run"})
		}
	}
	for _, img := range parents {
		if !planned[img.ID] {
			*protected = append(*protected, Protection{Kind: KindImage, ID: img.ID, Ref: imageRef(img), Reason: "parent of an image that stays"})
		}
	}
	return out, next
}

// firstSeenUnused returns when driftcheck first saw the image unused and
// records it in next; an unknown (or future) time starts the clock now.
func firstSeenUnused(id string, state State, now time.Time, next *State) time.Time {
	first, seen := state.FirstSeenUnused[id]
	if !seen || first.After(now) {
		first = now
	}
	next.FirstSeenUnused[id] = first
	return first
}

func allPlanned(ids []string, planned map[string]bool) bool {
	for _, id := range ids {
		if !planned[id] {
			return false
		}
	}
	return true
}

// imageKept returns why an image stays regardless of age, or "". Tagged and
// digest-only images are not tracked: an image's clock starts once it has
// neither, which errs on the side of keeping it.
func imageKept(img Image, usedBy map[string]string, refs serviceRefSet) string {
	if name, ok := usedBy[img.ID]; ok {
		return "used by container " + name
	}
	if svc := refs.match(img); svc != "" {
		return "referenced by service " + svc + " (spec or rollback spec)"
	}
	switch {
	case len(realTags(img.RepoTags)) > 0:
		return "tagged"
	case len(realDigests(img.RepoDigests)) > 0:
		return "digest reference (swarm/stack cache)"
	}
	return ""
}

func cacheEligible(r CacheRecord, pol Policy, now time.Time) (string, bool) {
	switch {
	case r.InUse:
		return "in use", false
	case r.Shared:
		return "shared with another record (kept without --all)", false
	case r.Type == "internal" || r.Type == "frontend":
		return r.Type + " record (kept without --all)", false
	}
	last := r.LastUsedAt
	if last.IsZero() {
		last = r.CreatedAt
	}
	age := now.Sub(last)
	if age < pol.Until {
		return fmt.Sprintf("used %s ago, younger than %s", roundAge(age), pol.Until), false
	}
	return fmt.Sprintf("unused for %s", roundAge(age)), true
}

// serviceRefSet indexes service image references by digest, repo:tag and ID.
type serviceRefSet map[string]string

func serviceRefs(services []Service) serviceRefSet {
	set := make(serviceRefSet)
	for _, s := range services {
		for _, ref := range s.ImageRefs {
			name, digest, _ := strings.Cut(ref, "@")
			if digest != "" {
				set[digest] = s.Name
			}
			if name != "" {
				set[name] = s.Name // an image ID ("sha256:…") as the spec's image
				set[normalizeTag(name)] = s.Name
			}
		}
	}
	return set
}

func (set serviceRefSet) match(img Image) string {
	if svc, ok := set[img.ID]; ok {
		return svc
	}
	for _, d := range realDigests(img.RepoDigests) {
		if _, digest, ok := strings.Cut(d, "@"); ok {
			if svc, ok := set[digest]; ok {
				return svc
			}
		}
	}
	for _, t := range realTags(img.RepoTags) {
		if svc, ok := set[normalizeTag(t)]; ok {
			return svc
		}
	}
	return ""
}

// normalizeTag adds the implicit :latest so "repo" and "repo:latest" match.
// A colon after the last slash is a tag; one before it is a registry port.
func normalizeTag(ref string) string {
	if strings.LastIndex(ref, ":") > strings.LastIndex(ref, "/") {
		return ref
	}
	return ref + ":latest"
}

func realTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t != "" && t != "<none>:<none>" {
			out = append(out, t)
		}
	}
	return out
}

func realDigests(digests []string) []string {
	var out []string
	for _, d := range digests {
		if d != "" && d != "<none>@<none>" {
			out = append(out, d)
		}
	}
	return out
}

func imageRef(img Image) string {
	if t := realTags(img.RepoTags); len(t) > 0 {
		sort.Strings(t)
		return t[0]
	}
	if d := realDigests(img.RepoDigests); len(d) > 0 {
		sort.Strings(d)
		return d[0]
	}
	return ""
}

func stackBusy(labels map[string]string, name string, busy *regexp.Regexp) bool {
	if busy == nil {
		return false
	}
	if ns := labels[LabelStackNamespace]; ns != "" && busy.MatchString(ns) {
		return true
	}
	return busy.MatchString(name)
}

func roundAge(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
