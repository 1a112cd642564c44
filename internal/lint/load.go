package lint

import (
	"context"
	"fmt"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/repoconfig"
)

// DefaultDocGlob selects the documentation the doc check reads.
const DefaultDocGlob = "**/*.md"

// DocOptions say which documentation to read.
type DocOptions struct {
	Docs        []string // documentation globs; none means DefaultDocGlob
	ExcludeDocs []string // added to the config file's lint.ignore_docs
}

// ReadDocs is the I/O edge of the doc check: it reads, at the revision and
// never from the work tree, the documentation files and the lint section of
// .driftcheck.json. The checks themselves are pure (Run).
func ReadDocs(ctx context.Context, v *gitrev.Revision, o DocOptions) ([]Doc, Config, error) {
	cfg, err := readConfig(ctx, v)
	if err != nil {
		return nil, Config{}, err
	}
	if len(o.ExcludeDocs) > 0 {
		if _, err := gitrev.ParseGlobs(o.ExcludeDocs); err != nil {
			return nil, Config{}, fmt.Errorf("--exclude-docs: %w", err)
		}
		cfg.IgnoreDocs = append(cfg.IgnoreDocs, o.ExcludeDocs...)
	}
	docGlobs := o.Docs
	if len(docGlobs) == 0 {
		docGlobs = []string{DefaultDocGlob}
	}
	globs, err := gitrev.ParseGlobs(docGlobs)
	if err != nil {
		return nil, Config{}, fmt.Errorf("--docs: %w", err)
	}
	files, err := v.Files(ctx, globs)
	if err != nil {
		return nil, Config{}, fmt.Errorf("read documentation at %.12s: %w", v.SHA, err)
	}
	docs := make([]Doc, 0, len(files))
	for _, f := range files {
		if f.Problem != nil {
			continue // binary or oversized "Markdown" names no units a reader copies
		}
		docs = append(docs, Doc{Path: f.Path, Content: f.Data})
	}
	return docs, cfg, nil
}

func readConfig(ctx context.Context, v *gitrev.Revision) (Config, error) {
	file, _, err := repoconfig.Read(ctx, v)
	if err != nil {
		return Config{}, err
	}
	return lintSection(file)
}
