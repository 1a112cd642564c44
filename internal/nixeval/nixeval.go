// Package nixeval evaluates a host's NixOS configuration at a git revision
// with Nix: the exact declared side, where the static reader
// (internal/declared) approximates. It never reads the work tree: a flake is
// evaluated as git+file://REPO?rev=SHA, a configuration without a flake is
// written from the revision's git objects into a private temporary
// directory first. Evaluation is offline (no substituters, the lock file as
// committed, never --impure), bounded in time and memory, and never builds:
// system.build.toplevel is instantiated for its store path only.
//
// What is read from the configuration, and from which NixOS attribute
// paths, lives in layout.nix (embedded); this package runs Nix and turns its
// answer into declared units.
package nixeval

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
)

//go:embed layout.nix
var layoutExpr string

// Where hosts live, next to layout.nix's attribute paths: a flake's
// nixosConfigurations output, or <nixpkgs/nixos> with a configuration.
const (
	flakeOutput  = "nixosConfigurations"
	nixosEntry   = "<nixpkgs/nixos>"
	DefaultEntry = "configuration.nix" // the configuration of a repository without a flake
)

// Defaults for the bounds on one evaluation.
const (
	DefaultTimeout     = 120 * time.Second
	DefaultMemoryLimit = 8 << 30 // address space of the Nix process, bytes
)

// Modes of evaluation.
const (
	ModeFlake = "flake" // flake.nix at the revision's root
	ModeNixOS = "nixos" // no flake: <nixpkgs/nixos> with the entry file
)

// Options say what to evaluate and within which bounds.
type Options struct {
	// RepoDir is the repository's directory (a work tree or a bare
	// repository); only its git objects are read, through Rev and the
	// git+file URL.
	RepoDir string
	Rev     *gitrev.Revision
	// Host is the nixosConfigurations attribute of a flake. A repository
	// without a flake has one configuration and ignores it.
	Host string
	// Entry is the configuration file of a repository without a flake,
	// relative to its root; "" = DefaultEntry.
	Entry string
	// Toplevel also evaluates system.build.toplevel's store path.
	Toplevel bool

	Timeout     time.Duration // 0 = DefaultTimeout
	MemoryLimit int64         // bytes of address space; 0 = DefaultMemoryLimit
	// Env is the Nix process's environment; nil = this process's (NIX_PATH
	// finds <nixpkgs> for a configuration without a flake).
	Env []string
}

// Result is one evaluation's answer.
type Result struct {
	Mode string // ModeFlake or ModeNixOS
	// Source names what was evaluated, for reports and declared_at:
	// "nixosConfigurations.web" or "configuration.nix".
	Source   string
	Declared declared.Result
	// Toplevel is system.build.toplevel's store path; "" when not asked
	// for or when it failed (ToplevelErr, an *Error, says why).
	Toplevel    string
	ToplevelErr error
	Duration    time.Duration
}

// Error is an evaluation that could not give an answer. CannotStart means
// it could not even begin (no Nix, nothing to evaluate, no such host): the
// command cannot run. Otherwise the evaluation failed for this host
// (an error in the configuration, a missing input, a timeout): the check
// is incomplete. Either way it never yields "in sync".
type Error struct {
	CannotStart bool
	Reason      string // what failed, in driftcheck's words
	Nix         string // Nix's own message, on one line; may be ""
	killed      bool   // ended by a signal (the kernel's OOM killer, an operator)
}

func (e *Error) Error() string {
	if e.Nix == "" {
		return e.Reason
	}
	return e.Reason + ": " + e.Nix
}

func cannotStart(format string, args ...any) *Error {
	return &Error{CannotStart: true, Reason: fmt.Sprintf(format, args...)}
}

// hostPattern is what a host name may be: the attribute names NixOS hosts
// use (hostnames, FQDNs). It keeps the name safe to write into a Nix string.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

// Evaluate evaluates the host's configuration at the revision. Errors are
// *Error, except a cancelled ctx.
func Evaluate(ctx context.Context, opts Options) (*Result, error) {
	if opts.Rev == nil {
		return nil, cannotStart("no revision to evaluate")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	if opts.Entry == "" {
		opts.Entry = DefaultEntry
	}
	present, err := filesAt(ctx, opts.Rev, "flake.nix", "flake.lock", opts.Entry)
	if err != nil {
		return nil, cannotStart("read %s: %v", opts.Rev.SHA, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	start := time.Now()
	var res *Result
	if present["flake.nix"] {
		res, err = evalFlake(ctx, opts, present["flake.lock"])
	} else {
		if !present[opts.Entry] {
			return nil, cannotStart("%s is not a flake (no flake.nix) and has no %s to evaluate", short(opts.Rev.SHA), opts.Entry)
		}
		res, err = evalNixOS(ctx, opts)
	}
	if err != nil {
		return nil, err
	}
	res.Duration = time.Since(start)
	return res, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// filesAt reports which of the root files exist at the revision.
func filesAt(ctx context.Context, rev *gitrev.Revision, names ...string) (map[string]bool, error) {
	globs, err := gitrev.ParseGlobs(names)
	if err != nil {
		return nil, err
	}
	entries, err := rev.List(ctx, globs)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, e := range entries {
		out[e.Path] = true
	}
	return out, nil
}

// evalFlake runs nix eval on git+file://REPO?rev=SHA#nixosConfigurations.
func evalFlake(ctx context.Context, opts Options, hasLock bool) (*Result, error) {
	if opts.Host == "" {
		return nil, cannotStart("%s is a flake: name the host to evaluate (--host)", short(opts.Rev.SHA))
	}
	if !hostPattern.MatchString(opts.Host) {
		return nil, cannotStart("host %q: not a NixOS host name", opts.Host)
	}
	nix, err := exec.LookPath("nix")
	if err != nil {
		return nil, cannotStart("nix not found on PATH: evaluation needs Nix (the host's own, or Debian's nix-bin)")
	}
	dir, err := filepath.Abs(opts.RepoDir)
	if err != nil {
		return nil, cannotStart("repository %s: %v", opts.RepoDir, err)
	}
	ref := (&url.URL{Scheme: "git+file", Path: dir, RawQuery: "rev=" + opts.Rev.SHA}).String() + "#" + flakeOutput
	selector := "flakeUnits"
	if opts.Toplevel {
		selector = "flake"
	}
	args := func(selector string) []string {
		return append(flakeArgs(), ref, "--apply", fmt.Sprintf("(%s).%s %s", layoutExpr, selector, nixString(opts.Host)))
	}
	res := &Result{Mode: ModeFlake, Source: flakeOutput + "." + opts.Host}
	r := runner{path: nix, env: opts.Env, memory: opts.MemoryLimit, timeout: opts.Timeout}
	failure := func(err error) error {
		return explainFlake(err, opts.Rev.SHA, hasLock)
	}
	return res, evalInto(ctx, r, res, args(selector), args("flakeUnits"), failure)
}

// flakeArgs keep nix eval offline and from changing anything: the inputs
// are the lock file's, only what is in the store or on local paths.
func flakeArgs() []string {
	return []string{
		"--extra-experimental-features", "nix-command flakes",
		"eval", "--json",
		// Not --no-write-lock-file: with it, Nix 2.8 silently locks
		// what flake.lock lacks instead of failing.
		"--no-update-lock-file",
		"--offline",
		"--option", "substituters", "",
		"--option", "connect-timeout", "5",
		"--option", "allow-import-from-derivation", "false",
	}
}

// evalNixOS writes the revision into a private directory and runs
// nix-instantiate --eval on <nixpkgs/nixos> with its entry file.
func evalNixOS(ctx context.Context, opts Options) (*Result, error) {
	inst, err := exec.LookPath("nix-instantiate")
	if err != nil {
		return nil, cannotStart("nix-instantiate not found on PATH: evaluation needs Nix (the host's own, or Debian's nix-bin)")
	}
	r := runner{path: inst, env: opts.Env, memory: opts.MemoryLimit, timeout: opts.Timeout}
	if _, err := r.run(ctx, []string{"--find-file", "nixpkgs"}); err != nil {
		var e *Error
		if errors.As(err, &e) && !isTimeout(ctx) {
			return nil, &Error{CannotStart: true, Reason: fmt.Sprintf("%s is not a flake and there is no <nixpkgs> to evaluate %s with (set NIX_PATH)", short(opts.Rev.SHA), opts.Entry), Nix: e.Nix}
		}
		return nil, err
	}
	dir, err := os.MkdirTemp("", "driftcheck-eval-")
	if err != nil {
		return nil, cannotStart("temporary directory: %v", err)
	}
	defer os.RemoveAll(dir)
	if err := opts.Rev.Export(ctx, dir); err != nil {
		return nil, cannotStart("write %s into %s: %v", short(opts.Rev.SHA), dir, err)
	}
	entry := filepath.Join(dir, filepath.FromSlash(opts.Entry))
	args := func(selector string) []string {
		expr := fmt.Sprintf("(%s).%s (import %s { configuration = /. + %s; })", layoutExpr, selector, nixosEntry, nixString(entry))
		return []string{
			"--eval", "--strict", "--json",
			"--option", "substituters", "",
			"--option", "allow-import-from-derivation", "false",
			"-E", expr,
		}
	}
	selector := "nixosUnits"
	if opts.Toplevel {
		selector = "nixos"
	}
	res := &Result{Mode: ModeNixOS, Source: opts.Entry}
	failure := func(err error) error {
		var e *Error
		if errors.As(err, &e) {
			// Paths in Nix's messages point into the temporary copy.
			e.Nix = strings.ReplaceAll(e.Nix, dir+"/", "")
			return e
		}
		return err
	}
	return res, evalInto(ctx, r, res, args(selector), args("nixosUnits"), failure)
}

// evalInto runs the combined evaluation (units, and the toplevel when
// asked); when it fails and the toplevel was part of it, it evaluates the
// units alone, so that a configuration whose unit names evaluate but
// whose system does not is reported as exactly that.
func evalInto(ctx context.Context, r runner, res *Result, combined, unitsOnly []string, failure func(error) error) error {
	withToplevel := !equalArgs(combined, unitsOnly)
	out, err := r.run(ctx, combined)
	if err != nil && withToplevel && !isTimeout(ctx) && !isKilled(err) {
		res.ToplevelErr = failure(err)
		out, err = r.run(ctx, unitsOnly)
	}
	if err != nil {
		return failure(err)
	}
	var ans answer
	if err := json.Unmarshal(out, &ans); err != nil {
		return &Error{Reason: "Nix's answer is not the expected JSON", Nix: oneLine(err.Error())}
	}
	if ans.Toplevel != nil {
		res.Toplevel = *ans.Toplevel
	}
	if ans.Units == nil {
		return &Error{Reason: "Nix's answer holds no units"}
	}
	res.Declared = ans.Units.declared(res.Source)
	return nil
}

func equalArgs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func isTimeout(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// explainFlake names the failures of a flake evaluation that have a
// cause outside the host's configuration.
func explainFlake(err error, sha string, hasLock bool) error {
	var e *Error
	if !errors.As(err, &e) || e.Reason != reasonFailed {
		return err
	}
	switch {
	case strings.Contains(e.Nix, "cannot write modified lock file") && !hasLock:
		e.Reason = fmt.Sprintf("the revision has no lock file (no flake.lock committed at %s; evaluation uses the committed inputs only)", short(sha))
	case strings.Contains(e.Nix, "cannot write modified lock file"):
		e.Reason = fmt.Sprintf("the revision's flake.lock does not lock every input (at %s; evaluation never updates it)", short(sha))
	case strings.Contains(e.Nix, "the flake defines no host"):
		e.CannotStart = true
		e.Reason = "no such host"
	case missingInput(e.Nix):
		e.Reason = "a flake input is not in the store (evaluation is offline and fetches nothing; build the revision once on this host, or nix flake archive it)"
	}
	return e
}

// missingInput recognises Nix's messages for an input it would have to
// fetch: a locked path that is gone, a download refused offline.
func missingInput(msg string) bool {
	for _, s := range []string{"getting status of", "unable to download", "Couldn't resolve host", "cannot fetch", "does not exist and cannot be fetched", "while fetching the input"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// nixString quotes s as a Nix string literal.
func nixString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// answer is layout.nix's JSON.
type answer struct {
	Units    *managers `json:"units"`
	Toplevel *string   `json:"toplevel"`
}

type managers struct {
	System map[string]evalUnit `json:"system"`
	User   map[string]evalUnit `json:"user"`
}

type evalUnit struct {
	Enable      *bool           `json:"enable"`
	WantedBy    []string        `json:"wantedBy"`
	Description *string         `json:"description"`
	Type        json.RawMessage `json:"type"`
	OnCalendar  json.RawMessage `json:"onCalendar"`
	Persistent  json.RawMessage `json:"persistent"`
	Unit        json.RawMessage `json:"unit"`
	Failed      []string        `json:"failed"`
}

// declared turns the evaluated units into the static reader's shape, so
// that the comparison takes either. Properties whose values are not what
// systemd reads (a timerConfig value that is no string) are unresolved,
// never guessed.
func (m *managers) declared(source string) declared.Result {
	res := declared.Result{Units: []declared.Unit{}, Unresolved: []declared.Unresolved{}, Errors: []declared.ParseError{}}
	add := func(scope declared.Scope, units map[string]evalUnit) {
		names := make([]string, 0, len(units))
		for n := range units {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			u, problems := units[n].unit(n, scope, source)
			res.Units = append(res.Units, u)
			for _, p := range problems {
				res.Unresolved = append(res.Unresolved, declared.Unresolved{File: source, Unit: n, Reason: p})
			}
		}
	}
	add(declared.ScopeSystem, m.System)
	add(declared.ScopeUser, m.User)
	return res
}

func (e evalUnit) unit(name string, scope declared.Scope, source string) (declared.Unit, []string) {
	u := declared.Unit{Name: name, Scope: scope, File: source}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		u.Type = name[i+1:]
	}
	var problems []string
	for _, f := range e.Failed {
		problems = append(problems, fmt.Sprintf("%s of %s does not evaluate at the revision (a conflicting definition or an error in the configuration): the revision cannot build", f, name))
	}
	p := &u.Properties
	p.Enable = e.Enable
	p.WantedBy = e.WantedBy
	if e.Description != nil {
		p.Description = *e.Description
	}
	var err error
	if p.Type, err = stringValue(e.Type); err != nil {
		problems = append(problems, "serviceConfig.Type: "+err.Error())
	}
	if p.Unit, err = stringValue(e.Unit); err != nil {
		problems = append(problems, "timerConfig.Unit: "+err.Error())
	}
	if p.OnCalendar, err = stringList(e.OnCalendar); err != nil {
		problems = append(problems, "timerConfig.OnCalendar: "+err.Error())
	}
	if p.Persistent, err = boolValue(e.Persistent); err != nil {
		problems = append(problems, "timerConfig.Persistent: "+err.Error())
	}
	return u, problems
}

func stringValue(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("not a string: %s", clip(string(raw)))
	}
	return s, nil
}

// stringList reads a calendar: one string or a list of strings, as NixOS
// accepts for OnCalendar and startAt.
func stringList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("not a string or a list of strings: %s", clip(string(raw)))
	}
	return many, nil
}

// boolValue reads a systemd boolean: NixOS renders true/false, and users
// write "true", "yes", …
func boolValue(raw json.RawMessage) (*bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return &b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch strings.ToLower(s) {
		case "1", "yes", "true", "on":
			b = true
			return &b, nil
		case "0", "no", "false", "off":
			return &b, nil
		}
	}
	return nil, fmt.Errorf("not a boolean: %s", clip(string(raw)))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
