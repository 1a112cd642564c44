package testreq

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCorpusUnpacksRepositories(t *testing.T) {
	dir := Corpus(t)
	for _, repo := range []string{"Misterio77__nix-config", "nix-community__nixos-images"} {
		if _, err := os.Stat(filepath.Join(dir, repo, ".git")); err != nil {
			t.Errorf("corpus repository %s is not a git repository: %v", repo, err)
		}
	}
	if again := Corpus(t); again != dir {
		t.Errorf("second unpack went elsewhere: %s, then %s", dir, again)
	}
}

func TestNixpkgsLibUnpacks(t *testing.T) {
	dir := NixpkgsLib(t)
	if _, err := os.Stat(filepath.Join(dir, "lib", "default.nix")); err != nil {
		t.Fatalf("nixpkgs lib not unpacked: %v", err)
	}
}
