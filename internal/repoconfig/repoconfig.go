// Package repoconfig reads .driftcheck.json, the repository's own settings
// for driftcheck, at a revision. One schema for every command: a key no
// command knows is an error naming it, because a typo ("scpoe") must not
// silently mean "no scope".
package repoconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/driftcheck/driftcheck/internal/gitrev"
)

// File is the repository file, read at the revision like the modules.
const File = ".driftcheck.json"

// Config is the whole file.
type Config struct {
	// Scope are the live unit globs whose undeclared units count as drift
	// (check, snapshot --repo, the prune's drift gate).
	Scope []string `json:"scope,omitempty"`
	// Host is the host of a many-host repository that this checkout's
	// machine is (check, snapshot, prune), when --host does not say;
	// see docs/hosts.md.
	Host string `json:"host,omitempty"`
	// Lint tunes driftcheck lint's documentation check.
	Lint Lint `json:"lint"`
}

// Lint is the "lint" section.
type Lint struct {
	// IgnoreDocs are path globs ("**" spans directories) of Markdown files
	// the documentation check skips.
	IgnoreDocs []string `json:"ignore_docs,omitempty"`
	// KnownUnits may be named in documentation without being declared,
	// e.g. units another repository deploys to the same host.
	KnownUnits []string `json:"known_units,omitempty"`
}

// Parse reads the file's content: one JSON object, every key known.
func Parse(data []byte) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("parse %s: %w", File, explain(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("parse %s: data after the top-level object", File)
	}
	return cfg, nil
}

// explain turns encoding/json's unknown-field error into one that says
// which keys there are.
func explain(err error) error {
	const prefix = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, prefix) {
		return fmt.Errorf("unknown key %s (known: scope, host, lint.ignore_docs, lint.known_units)", strings.TrimPrefix(msg, prefix))
	}
	return err
}

// Read reads and parses the file at the revision; found is false when the
// revision has none.
func Read(ctx context.Context, v *gitrev.Revision) (cfg Config, found bool, err error) {
	globs, err := gitrev.ParseGlobs([]string{File})
	if err != nil {
		return Config{}, false, err
	}
	files, err := v.Files(ctx, globs)
	if err != nil {
		return Config{}, false, fmt.Errorf("read %s at %.12s: %w", File, v.SHA, err)
	}
	if len(files) == 0 {
		return Config{}, false, nil
	}
	if files[0].Problem != nil {
		return Config{}, false, fmt.Errorf("read %s at %.12s: %w", File, v.SHA, files[0].Problem)
	}
	cfg, err = Parse(files[0].Data)
	return cfg, true, err
}
