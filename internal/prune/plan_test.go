package prune

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	now  = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	busy = regexp.MustCompile(DefaultBusyPattern)
	day  = 24 * time.Hour
)

func policy(until time.Duration) Policy {
	return Policy{Until: until, ThresholdPct: 80, BusyPattern: busy}
}

func TestPlanContainers(t *testing.T) {
	tests := []struct {
		name string
		c    Container
		want bool
	}{
		{"exited long ago", Container{State: "exited", FinishedAt: now.Add(-25 * time.Hour)}, true},
		{"dead long ago", Container{State: "dead", FinishedAt: now.Add(-25 * time.Hour)}, true},
		{"exited recently", Container{State: "exited", FinishedAt: now.Add(-time.Hour)}, false},
		{"exited without finish time", Container{State: "exited"}, false},
		{"running", Container{State: "running", FinishedAt: now.Add(-48 * time.Hour)}, false},
		{"created", Container{State: "created"}, false},
		{"restarting", Container{State: "restarting", FinishedAt: now.Add(-48 * time.Hour)}, false},
		{"swarm task", Container{State: "exited", FinishedAt: now.Add(-48 * time.Hour), Labels: map[string]string{LabelSwarmTaskID: "x"}}, false},
		{"swarm service", Container{State: "created", Labels: map[string]string{LabelSwarmServiceID: "x"}}, false},
		{"busy stack label", Container{State: "exited", FinishedAt: now.Add(-48 * time.Hour), Labels: map[string]string{LabelStackNamespace: "ab12-0a1b2c_ci_app"}}, false},
		{"busy name", Container{Name: "ab12-0a1b2c_ci_app_web.1", State: "exited", FinishedAt: now.Add(-48 * time.Hour)}, false},
		{"other stack", Container{State: "exited", FinishedAt: now.Add(-48 * time.Hour), Labels: map[string]string{LabelStackNamespace: "monitoring"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.ID = "c1"
			p := Plan(&Inventory{Containers: []Container{tt.c}}, policy(day), State{}, now)
			if got := len(p.Containers) == 1; got != tt.want {
				t.Fatalf("eligible = %v, want %v (protected: %+v)", got, tt.want, p.Protected)
			}
			if !tt.want && (len(p.Protected) != 1 || p.Protected[0].Reason == "") {
				t.Fatalf("kept container must be reported with a reason, got %+v", p.Protected)
			}
		})
	}
}

func TestPlanImages(t *testing.T) {
	old := now.Add(-25 * time.Hour)
	img := func(id string) Image { return Image{ID: id, Size: 100} }
	tests := []struct {
		name  string
		inv   Inventory
		state map[string]time.Time
		until time.Duration
		want  bool // is image "i" a candidate
	}{
		{"untagged, unused long enough", Inventory{Images: []Image{img("i")}}, map[string]time.Time{"i": old}, day, true},
		{"untagged, first seen now", Inventory{Images: []Image{img("i")}}, nil, day, false},
		{"untagged, until zero", Inventory{Images: []Image{img("i")}}, nil, 0, true},
		{"tagged", Inventory{Images: []Image{{ID: "i", RepoTags: []string{"app:1"}}}}, map[string]time.Time{"i": old}, 0, false},
		{"none tag is no tag", Inventory{Images: []Image{{ID: "i", RepoTags: []string{"<none>:<none>"}, RepoDigests: []string{"<none>@<none>"}}}}, nil, 0, true},
		{"digest only", Inventory{Images: []Image{{ID: "i", RepoDigests: []string{"reg/app@sha256:aa"}}}}, nil, 0, false},
		{"used by exited container", Inventory{Images: []Image{img("i")}, Containers: []Container{{ID: "c", ImageID: "i", State: "exited"}}}, nil, 0, false},
		{"used by created container", Inventory{Images: []Image{img("i")}, Containers: []Container{{ID: "c", ImageID: "i", State: "created"}}}, nil, 0, false},
		{"parent of another image", Inventory{Images: []Image{img("i"), {ID: "child", ParentID: "i", RepoTags: []string{"x:1"}}}}, nil, 0, false},
		{"referenced by service id", Inventory{Images: []Image{img("i")}, Services: []Service{{Name: "s", ImageRefs: []string{"i"}}}}, nil, 0, false},
		{"busy-pattern has no say on images", Inventory{Images: []Image{img("i")}}, nil, 0, true},
		{"future first-seen is reset", Inventory{Images: []Image{img("i")}}, map[string]time.Time{"i": now.Add(time.Hour)}, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Plan(&tt.inv, policy(tt.until), State{FirstSeenUnused: tt.state}, now)
			got := false
			for _, c := range p.Images {
				if c.ID == "i" {
					got = true
				}
			}
			if got != tt.want {
				t.Fatalf("candidate = %v, want %v (plan images %+v, protected %+v)", got, tt.want, p.Images, p.Protected)
			}
		})
	}
}

func TestServiceRefsMatchDigestAndTag(t *testing.T) {
	tests := []struct {
		name string
		ref  string
		img  Image
		want bool
	}{
		{"digest", "reg:5000/app:1@sha256:aa", Image{RepoDigests: []string{"reg:5000/app@sha256:aa"}}, true},
		{"tag", "reg:5000/app:1", Image{RepoTags: []string{"reg:5000/app:1"}}, true},
		{"implicit latest", "app", Image{RepoTags: []string{"app:latest"}}, true},
		{"registry port is not a tag", "reg:5000/app", Image{RepoTags: []string{"reg:5000/app:latest"}}, true},
		{"other digest", "reg:5000/app:1@sha256:bb", Image{RepoDigests: []string{"reg:5000/app@sha256:aa"}}, false},
		{"other tag", "app:2", Image{RepoTags: []string{"app:1"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := serviceRefs([]Service{{Name: "s", ImageRefs: []string{tt.ref}}})
			if got := set.match(tt.img) != ""; got != tt.want {
				t.Fatalf("match(%v) with %q = %v, want %v", tt.img, tt.ref, got, tt.want)
			}
		})
	}
}

func TestPlanImageStateTracksUnusedOnly(t *testing.T) {
	first := now.Add(-time.Hour)
	inv := Inventory{
		Images:     []Image{{ID: "unused"}, {ID: "back-in-use"}, {ID: "tagged", RepoTags: []string{"a:1"}}},
		Containers: []Container{{ID: "c", ImageID: "back-in-use", State: "running"}},
	}
	st := State{FirstSeenUnused: map[string]time.Time{"unused": first, "back-in-use": first, "gone": first}}
	p := Plan(&inv, policy(day), st, now)
	want := map[string]time.Time{"unused": first}
	if len(p.State.FirstSeenUnused) != len(want) || !p.State.FirstSeenUnused["unused"].Equal(first) {
		t.Fatalf("state = %v, want %v (in-use, tagged and vanished images drop out)", p.State.FirstSeenUnused, want)
	}
	// A second plan an hour later keeps the first-seen time, so the image
	// ages across runs.
	p2 := Plan(&inv, policy(90*time.Minute), p.State, now.Add(time.Hour))
	if len(p2.Images) != 1 || p2.Images[0].ID != "unused" {
		t.Fatalf("after two hours unused the image must be a candidate, got %+v", p2.Images)
	}
}

func TestPlanBuildCache(t *testing.T) {
	tests := []struct {
		name string
		r    CacheRecord
		want bool
	}{
		{"unused long", CacheRecord{Type: "regular", LastUsedAt: now.Add(-48 * time.Hour)}, true},
		{"used recently", CacheRecord{Type: "regular", LastUsedAt: now.Add(-time.Hour), CreatedAt: now.Add(-72 * time.Hour)}, false},
		{"never used, created long ago", CacheRecord{Type: "regular", CreatedAt: now.Add(-48 * time.Hour)}, true},
		{"in use", CacheRecord{Type: "regular", InUse: true, LastUsedAt: now.Add(-48 * time.Hour)}, false},
		{"shared", CacheRecord{Type: "regular", Shared: true, LastUsedAt: now.Add(-48 * time.Hour)}, false},
		{"internal", CacheRecord{Type: "internal", LastUsedAt: now.Add(-48 * time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.ID = "r"
			p := Plan(&Inventory{BuildCache: []CacheRecord{tt.r}}, policy(day), State{}, now)
			if got := len(p.BuildCache) == 1; got != tt.want {
				t.Fatalf("eligible = %v, want %v (protected %+v)", got, tt.want, p.Protected)
			}
		})
	}
}

func TestPlanNeverTouchesVolumesOrNetworks(t *testing.T) {
	inv := Inventory{Networks: []Network{{ID: "n", Name: "unused"}}}
	for _, c := range Plan(&inv, policy(0), State{}, now).All() {
		if c.Kind != KindContainer && c.Kind != KindImage && c.Kind != KindBuildCache {
			t.Fatalf("plan holds a %s", c.Kind)
		}
	}
}

// An untagged chain goes child first, parent last, and only when every
// child of the parent goes; a parent of a kept image stays.
func TestPlanImageChains(t *testing.T) {
	inv := Inventory{Images: []Image{
		{ID: "parent"},
		{ID: "child", ParentID: "parent"},
		{ID: "grandchild", ParentID: "child"},
		{ID: "shared-parent"},
		{ID: "gone", ParentID: "shared-parent"},
		{ID: "kept", ParentID: "shared-parent", RepoTags: []string{"app:1"}},
	}}
	p := Plan(&inv, policy(0), State{}, now)
	var got []string
	for _, c := range p.Images {
		got = append(got, c.ID)
	}
	want := []string{"grandchild", "gone", "child", "parent"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("images planned %v, want %v", got, want)
	}
	for _, pr := range p.Protected {
		if pr.ID == "shared-parent" && strings.Contains(pr.Reason, "parent") {
			return
		}
	}
	t.Fatalf("shared-parent must stay as the parent of a kept image: %+v", p.Protected)
}
