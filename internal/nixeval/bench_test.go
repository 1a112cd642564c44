package nixeval_test

import (
	"context"
	"os/exec"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nixeval"
	"github.com/driftcheck/driftcheck/internal/nixeval/nixevaltest"
)

// BenchmarkEvaluate times one evaluation of the fixture host (13 units,
// the stand-in's module system on nixpkgs' lib) against the baseline
// "nix eval of networking.hostName": Nix's start, the flake's fetch from
// git and the lock, with nearly nothing evaluated. A real NixOS host
// evaluates thousands of modules: seconds, not these milliseconds.
func BenchmarkEvaluate(b *testing.B) {
	s := nixevaltest.NewStandin(b)
	repo, sha := s.FlakeRepo(b, map[string]string{"web": "web.nix"}, map[string]string{"web.nix": webModule})
	rev := resolveTB(b, repo.Dir, sha)
	b.Run("baseline-nix-eval-hostname", func(b *testing.B) {
		ref := "git+file://" + repo.Dir + "?rev=" + sha + "#nixosConfigurations.web.config.networking.hostName"
		for i := 0; i < b.N; i++ {
			if out, err := exec.Command("nix", append(nixevaltest.NixFlags, "eval", "--json", "--no-update-lock-file", "--offline", ref)...).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
	for _, c := range []struct {
		name     string
		toplevel bool
	}{{"flake-units", false}, {"flake-units-toplevel", true}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: repo.Dir, Rev: rev, Host: "web", Toplevel: c.toplevel}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	plain := nixevaltest.PlainRepo(b, map[string]string{"configuration.nix": webModule})
	plainRev := resolveTB(b, plain.Dir, plain.Git("rev-parse", "HEAD"))
	b.Run("nixos-units-toplevel", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: plain.Dir, Rev: plainRev, Toplevel: true, Env: s.NixPathEnv()}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
