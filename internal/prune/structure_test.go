package prune

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// forbiddenCalls are the Docker SDK methods that delete more than the plan
// names, or delete what the policy never deletes.
var forbiddenCalls = map[string]bool{
	"VolumePrune": true, "VolumeRemove": true, "NetworkPrune": true, "NetworkRemove": true,
	"ContainerPrune": true, "ImagePrune": true, "SystemPrune": true, "ContainersPrune": true, "ImagesPrune": true,
	"VolumesPrune": true, "NetworksPrune": true,
}

// deletionOptions are the option types of the deletions the executor makes;
// forbiddenOptions are their fields that widen a deletion when set.
var (
	deletionOptions  = map[string]bool{"ImageRemoveOptions": true, "ContainerRemoveOptions": true, "BuildCachePruneOptions": true}
	forbiddenOptions = map[string]bool{"Force": true, "PruneChildren": true, "All": true, "RemoveVolumes": true}
)

// The executor must have no code path to prune volumes, networks or the
// system, nor to force a removal: check every non-test source file of this
// package and its subpackages.
func TestSourcesHaveNoWideDeletion(t *testing.T) {
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		files++
		for _, problem := range wideDeletions(t, path) {
			t.Errorf("%s", problem)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("inspected only %d files; the walk is broken", files)
	}
}

func wideDeletions(t *testing.T, path string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if forbiddenCalls[n.Sel.Name] {
				problems = append(problems, fset.Position(n.Pos()).String()+": uses "+n.Sel.Name)
			}
		case *ast.CompositeLit:
			if !deletionOptions[typeName(n.Type)] {
				return true
			}
			for _, elt := range n.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, ok := kv.Key.(*ast.Ident)
				val, isIdent := kv.Value.(*ast.Ident)
				if ok && forbiddenOptions[key.Name] && !(isIdent && val.Name == "false") {
					problems = append(problems, fset.Position(kv.Pos()).String()+": sets "+key.Name)
				}
			}
		case *ast.BasicLit:
			for _, endpoint := range []string{"/volumes", "/networks", "/system/prune", "/containers/prune", "/images/prune"} {
				if strings.Contains(n.Value, endpoint) {
					problems = append(problems, fset.Position(n.Pos()).String()+": names endpoint "+endpoint)
				}
			}
		}
		return true
	})
	return problems
}

func typeName(expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// The checker must catch what it is there to catch.
func TestWideDeletionCheckerCatches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.go")
	src := `package bad
func f(c any) {
	c.VolumePrune(nil, nil)
	c.ImageRemove(nil, "x", client.ImageRemoveOptions{Force: true})
	c.BuildCachePrune(nil, client.BuildCachePruneOptions{All: true})
	c.ImageList(nil, client.ImageListOptions{All: true}) // listing is fine
	_ = "/volumes/prune"
}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := wideDeletions(t, path); len(got) != 4 {
		t.Fatalf("found %d problems, want 4: %v", len(got), got)
	}
}
