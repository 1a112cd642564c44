package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live"
)

// propertyModules declare units in every form reconcile renames: flat and
// nested paths, config.systemd, a let-bound fragment merged with mkMerge,
// mkIf, quoted names, ${name} from a let binding, a unit defined in two
// files, a timer with its service.
var propertyModules = map[string]string{
	"nix/modules/alpha.nix": `{ pkgs, ... }:
{
  # a timer and its service
  systemd.services.alpha = {
    serviceConfig.Type = "oneshot";
  };
  systemd.timers.alpha = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "daily";
  };
}
`,
	"nix/modules/beta.nix": `{
  config = {
    systemd = {
      services = {
        beta = { serviceConfig.Type = "simple"; }; # nested
      };
    };
  };
}
`,
	"nix/modules/gamma.nix": `{ config, lib, ... }:
let
  fragment = {
    systemd.services."gamma" = { serviceConfig.Type = "oneshot"; };
  };
  name = "delta";
in
lib.mkMerge [
  fragment
  (lib.mkIf true { systemd.services.${name}.serviceConfig.Type = "oneshot"; })
]
`,
	"nix/modules/epsilon.nix":          "{ systemd.services.epsilon.serviceConfig.Type = \"oneshot\"; }\n",
	"nix/modules/epsilon-override.nix": "{ lib, ... }: { systemd.services.epsilon.serviceConfig.Nice = lib.mkDefault 5; }\n",
}

// propertyGroups are renamed together: a timer and the service it starts.
var propertyGroups = [][]string{
	{"alpha.service", "alpha.timer"},
	{"beta.service"}, {"gamma.service"}, {"delta.service"}, {"epsilon.service"},
}

var renamePrefixes = []string{"ci-", "host-", "x-", "prod-"}
var renameSuffixes = []string{"-v2", "-ng", "-main", "-gated"}

// TestReconcilePropertyRandomRenames: a host that runs the fixture's units
// under random new names; reconcile's patch, applied with git apply and
// committed, declares exactly the host's names.
func TestReconcilePropertyRandomRenames(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	base := repo.Commit("fixture", propertyModules)
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			hostNames := randomRenames(rng)
			t.Logf("host runs %v", hostNames)
			snap := propertySnapshot(t, hostNames)

			code, patch, stderr := runReconcileCLI(t, "--repo", repo.Dir, "--rev", base, "--live", snap, "--format", "patch")
			if code != exitFindings {
				t.Fatalf("host %v: exit %d, stderr %q\n%s", hostNames, code, stderr, patch)
			}
			clone := gittest.Open(t, t.TempDir())
			clone.Git("clone", "-q", repo.Dir, ".")
			clone.Git("checkout", "-q", base)
			clone.GitInput(patch, "apply", "-")
			clone.Git("commit", "-q", "-am", "reconcile")

			code, stdout, stderr := runCLI(t, "units", "--repo", clone.Dir, "--rev", "HEAD", "--format", "json")
			if code != exitOK {
				t.Fatalf("units after the patch: exit %d, stderr %q\n%s", code, stderr, stdout)
			}
			if got := declaredNames(t, stdout); !slices.Equal(got, hostNames) {
				t.Errorf("units after the patch:\n%v\nwant the host's:\n%v\npatch:\n%s", got, hostNames, patch)
			}
			code, stdout, stderr = runCheckCLI(t, "--repo", clone.Dir, "--rev", "HEAD", "--live", snap)
			if code != exitOK {
				t.Errorf("check after the patch: exit %d, stderr %q\n%s", code, stderr, stdout)
			}
		})
	}
}

// randomRenames renames each group with probability 2/3, with a random
// prefix or suffix; at least one group is renamed. It returns the host's
// unit names, sorted.
func randomRenames(rng *rand.Rand) []string {
	var names []string
	renamed := false
	for i, group := range propertyGroups {
		rename := rng.IntN(3) > 0 || (!renamed && i == len(propertyGroups)-1)
		affix := rng.IntN(len(renamePrefixes))
		prefix := rng.IntN(2) == 0
		for _, unit := range group {
			dot := strings.LastIndexByte(unit, '.')
			b, typ := unit[:dot], unit[dot:]
			switch {
			case !rename:
			case prefix:
				b = renamePrefixes[affix] + b
			default:
				b = b + renameSuffixes[affix]
			}
			names = append(names, b+typ)
		}
		renamed = renamed || rename
	}
	sort.Strings(names)
	return names
}

// propertySnapshot writes a snapshot of a host that runs exactly names, as
// NixOS installs them: services linked, timers enabled and waiting.
func propertySnapshot(t *testing.T, names []string) string {
	t.Helper()
	s := live.Snapshot{Schema: live.SnapshotSchema, TakenAt: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), Scope: []string{"*"}}
	for _, n := range names {
		u := live.Unit{Name: n, LoadState: "loaded", ActiveState: "inactive", SubState: "dead", UnitFileState: "linked"}
		if strings.HasSuffix(n, ".timer") {
			u.ActiveState, u.SubState, u.UnitFileState = "active", "waiting", "enabled"
			u.Timer = &live.Timer{Calendar: []string{"*-*-* 00:00:00"}, Unit: strings.TrimSuffix(n, ".timer") + ".service"}
		}
		s.Units = append(s.Units, u)
	}
	return writeSnapshot(t, s)
}

func declaredNames(t *testing.T, unitsJSON string) []string {
	t.Helper()
	var out struct {
		Units []struct {
			Name      string `json:"name"`
			Scope     string `json:"scope"`
			ImpliedBy string `json:"implied_by"`
		} `json:"units"`
	}
	if err := json.Unmarshal([]byte(unitsJSON), &out); err != nil {
		t.Fatalf("units JSON: %v", err)
	}
	var names []string
	for _, u := range out.Units {
		if u.Scope == "system" && u.ImpliedBy == "" {
			names = append(names, u.Name)
		}
	}
	sort.Strings(names)
	return names
}
