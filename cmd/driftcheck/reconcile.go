package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/modules"
	"github.com/driftcheck/driftcheck/internal/reconcile"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// maxReportSize bounds a --from-report file; maxUnitFileSize a host unit
// file shown as a reference.
const (
	maxReportSize   = 64 << 20
	maxUnitFileSize = 64 << 10
)

// reconcileOptions are the reconcile command's flags: the check's, and
// what to do with its findings.
type reconcileOptions struct {
	checkOptions
	to         string
	fromReport string
	branch     string
	format     string
	apply      bool
}

func newReconcileCmd(s streams) *cobra.Command {
	var o reconcileOptions
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Turn a drift report into the commit or the commands that end it",
		Long: `reconcile plans the steps that end each finding of a check (the same flags as
check, or --from-report FILE holding a check's JSON report):

  --to git   adopt the host into git: rename units at every definition site,
             write the host's value of a differing property, take the deploy
             source's files; undeclared and stale units are described, not
             written
  --to host  apply git to the host: the nixos-rebuild commands for this
             revision (driftcheck never runs them)

It changes nothing unless --apply is given: then (only with --to git) it
writes the plan as one commit on a new branch whose parent is the revision,
without touching the work tree, the index or any existing branch, and prints
the check command that verifies it. A plan made from a check is compared
with the same host before it is offered; findings it does not end are left
for a person.

Exit codes: 0 nothing to reconcile, 1 a plan ends every finding (or was
applied), 2 could not run, 3 some findings are left for a person.`,
		Example: `  driftcheck reconcile --rev incident
  driftcheck reconcile --rev incident --format patch | git apply --check
  driftcheck reconcile --rev incident --apply
  driftcheck reconcile --to host --host ci-host
  driftcheck check --format json > report.json; driftcheck reconcile --from-report report.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReconcile(cmd.Context(), s, o, cmd.Flags().Changed("rev"))
		},
	}
	f := cmd.Flags()
	o.checkOptions.addFlags(f)
	f.StringVar(&o.to, "to", "git", "which side to change: git (adopt the host into git) or host (apply git to the host)")
	f.StringVar(&o.fromReport, "from-report", "", "plan from this driftcheck.check/v1 JSON report instead of running a check")
	f.StringVar(&o.branch, "branch", "", "branch --apply creates (default driftcheck/reconcile-<short sha>)")
	f.StringVar(&o.format, "format", "text", "output format: text, json, or patch (a unified diff for git apply; --to git)")
	f.BoolVar(&o.apply, "apply", false, "write the plan as one commit on a new branch (--to git only; never pushes)")
	return cmd
}

func runReconcile(ctx context.Context, s streams, o reconcileOptions, revSet bool) error {
	if err := o.validate(); err != nil {
		return cannotRun(fmt.Errorf("reconcile: %w", err))
	}
	in, side, err := o.input(ctx, revSet)
	if err != nil {
		return cannotRun(fmt.Errorf("reconcile: %w", err))
	}
	defer side.repo.Close()
	plan, err := reconcile.Make(in)
	if err != nil {
		return cannotRun(fmt.Errorf("reconcile: %w", err))
	}
	out := reconcile.Output{Plan: plan}
	if o.apply {
		if out.Applied, err = o.commit(ctx, side, plan); err != nil {
			return cannotRun(fmt.Errorf("reconcile: %w", err))
		}
	}
	switch o.format {
	case "json":
		err = out.WriteJSON(s.Out)
	case "patch":
		err = plan.WritePatch(s.Out)
	default:
		err = out.WriteText(s.Out)
	}
	if err != nil {
		return cannotRun(fmt.Errorf("reconcile: %w", err))
	}
	return withCode(plan.ExitCode())
}

func (o reconcileOptions) validate() error {
	switch o.to {
	case string(reconcile.ToGit), string(reconcile.ToHost):
	default:
		return fmt.Errorf("--to %q: want git or host", o.to)
	}
	switch o.format {
	case "text", "json":
	case "patch":
		if o.to != string(reconcile.ToGit) {
			return errors.New("--format patch needs --to git (--to host changes no file)")
		}
	default:
		return fmt.Errorf("--format %q: want text, json or patch", o.format)
	}
	if o.apply && o.to != string(reconcile.ToGit) {
		return errors.New("--apply needs --to git: driftcheck never changes the host")
	}
	if o.branch != "" && !o.apply {
		return errors.New("--branch needs --apply")
	}
	if o.decl.Declared != drift.DeclaredStatic {
		// The plan edits module files and re-reads them the same way.
		return fmt.Errorf("--declared %s: reconcile reads and edits the modules statically (--declared static)", o.decl.Declared)
	}
	return nil
}

// gitSide is what reconcile needs of the repository, from a check or from
// the revision a report names.
type gitSide struct {
	repo  *gitrev.Repo
	rev   *gitrev.Revision
	globs gitrev.Globs
}

// input gathers the findings (a check, or the report) and the files.
func (o reconcileOptions) input(ctx context.Context, revSet bool) (reconcile.Input, *gitSide, error) {
	in := reconcile.Input{To: reconcile.Target(o.to)}
	var side *gitSide
	if o.fromReport != "" {
		report, err := readReport(o.fromReport)
		if err != nil {
			return in, nil, err
		}
		rev := report.Rev
		l, err := o.load(ctx, rev)
		if err != nil {
			return in, nil, err
		}
		if revSet && o.Rev != rev {
			if v, err := l.Repo.Resolve(ctx, o.Rev); err != nil || v.SHA != rev {
				l.Repo.Close()
				return in, nil, fmt.Errorf("--rev %s is not the report's revision %s", o.Rev, unitdiff.ShortRev(rev))
			}
		}
		side = &gitSide{repo: l.Repo, rev: l.Revision, globs: l.Globs}
		in.Findings, in.Files, in.Rev = report.Findings, l.Files, report.Rev
	} else {
		opts, err := o.driftOptions()
		if err != nil {
			return in, nil, err
		}
		if err := o.refuseExistingBranch(opts); err != nil {
			return in, nil, err
		}
		facts, err := drift.Gather(ctx, opts)
		if err != nil {
			return in, nil, err
		}
		side = &gitSide{repo: facts.Repo, rev: facts.Revision, globs: facts.Globs}
		in.Findings, in.Files, in.Rev, in.Facts = facts.Report.Findings, facts.Files, facts.Revision.SHA, &facts.Input
		if facts.LocalHost {
			in.UnitFile = hostUnitFiles(facts.Input.Live.Units, in.Findings)
		}
	}
	if err := o.edges(ctx, &in, side); err != nil {
		side.repo.Close()
		return in, nil, err
	}
	return in, side, nil
}

// edges reads what the plan needs besides the findings: the deploy
// source's files and, for --to host, how the host is rebuilt.
func (o reconcileOptions) edges(ctx context.Context, in *reconcile.Input, side *gitSide) error {
	if o.deploySource != "" {
		deploy, err := readDeployFiles(o.deploySource, in.Findings)
		if err != nil {
			return err
		}
		in.Deploy = deploy
	}
	if in.To == reconcile.ToHost {
		host, err := o.hostTarget(ctx, side)
		if err != nil {
			return err
		}
		in.Host = host
	}
	return nil
}

// load reads the module files of the report's revision.
func (o reconcileOptions) load(ctx context.Context, rev string) (*modules.Loaded, error) {
	globs, err := o.parse()
	if err != nil {
		return nil, err
	}
	l, err := modules.Load(ctx, modules.Options{Repo: o.Repo, Rev: rev, Globs: globs})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// refuseExistingBranch fails before the check when --apply could not
// write its branch anyway.
func (o reconcileOptions) refuseExistingBranch(opts drift.Options) error {
	if !o.apply || o.branch == "" {
		return nil
	}
	repo, err := gitrev.Open(opts.RepoDir)
	if err != nil {
		return err
	}
	defer repo.Close()
	if exists, err := repo.BranchExists(o.branch); err != nil {
		return err
	} else if exists {
		return fmt.Errorf("%w: %s (reconcile never moves an existing branch)", gitrev.ErrBranchExists, o.branch)
	}
	return nil
}

func readReport(path string) (*drift.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--from-report: %w", err)
	}
	defer f.Close()
	var r drift.Report
	dec := json.NewDecoder(io.LimitReader(f, maxReportSize))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("--from-report %s: %w", path, err)
	}
	if r.Schema != drift.ReportSchema {
		return nil, fmt.Errorf("--from-report %s: schema %q, want %q", path, r.Schema, drift.ReportSchema)
	}
	if r.Rev == "" {
		return nil, fmt.Errorf("--from-report %s: no revision", path)
	}
	return &r, nil
}

// readDeployFiles reads the deploy source's version of each file a
// source-differs finding names; a file the copy lacks is left out.
func readDeployFiles(dir string, findings []unitdiff.Finding) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, f := range findings {
		if f.Kind != unitdiff.KindSourceDiffers || f.DeclaredAt == "" {
			continue
		}
		rel := filepath.FromSlash(f.DeclaredAt)
		if !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("--deploy-source: %q is not a path inside the copy", f.DeclaredAt)
		}
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("--deploy-source: %w", err)
		}
		out[f.DeclaredAt] = data
	}
	return out, nil
}

// hostUnitFiles reads the unit files of undeclared and stale units, as a
// reference for declaring them. Only on this machine's own host.
func hostUnitFiles(units []live.Unit, findings []unitdiff.Finding) map[string]reconcile.UnitFile {
	want := map[string]bool{}
	for _, f := range findings {
		if f.Kind == unitdiff.KindUndeclared || f.Kind == unitdiff.KindStale {
			want[f.Unit] = true
		}
	}
	out := map[string]reconcile.UnitFile{}
	for _, u := range units {
		if !want[u.Name] || u.FragmentPath == "" {
			continue
		}
		uf := reconcile.UnitFile{Path: u.FragmentPath}
		if data, err := readLimited(u.FragmentPath, maxUnitFileSize); err == nil {
			uf.Content = string(data)
		}
		out[u.Name] = uf
	}
	return out
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// hostTarget says how the host is rebuilt: the repository, the host name
// and whether the revision is a flake.
func (o reconcileOptions) hostTarget(ctx context.Context, side *gitSide) (reconcile.HostTarget, error) {
	h := reconcile.HostTarget{Host: o.decl.hostName()}
	dir := side.repo.WorkTree()
	if dir == "" {
		dir = o.Repo
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return h, err
	}
	h.Repo = abs
	if h.Host == "" {
		if name, err := os.Hostname(); err == nil {
			h.Host = name
		}
	}
	for _, name := range []string{"flake.nix", "configuration.nix"} {
		g, err := gitrev.ParseGlobs([]string{name})
		if err != nil {
			return h, err
		}
		entries, err := side.rev.List(ctx, g)
		if err != nil {
			return h, err
		}
		if len(entries) == 0 {
			continue
		}
		if name == "flake.nix" {
			h.Flake = true
		} else {
			h.Config = name
		}
	}
	return h, nil
}

// commit writes the plan as one commit on a new branch.
func (o reconcileOptions) commit(ctx context.Context, side *gitSide, plan *reconcile.Plan) (*reconcile.Applied, error) {
	if len(plan.Files) == 0 {
		// A refusal, not a failure: the plan says why (nothing to
		// reconcile, exit 0; or only findings left for a person, exit 3).
		plan.Notes = append(plan.Notes, "--apply: no step changes a file, so no branch was created")
		return nil, nil
	}
	branch := o.branch
	if branch == "" {
		branch = "driftcheck/reconcile-" + unitdiff.ShortRev(side.rev.SHA)
	}
	var changes []gitrev.Change
	for _, f := range plan.Files {
		changes = append(changes, gitrev.Change{Path: f.Path, Data: f.New, Delete: f.Change == unitdiff.ChangeDeleted})
	}
	name, email := side.repo.Identity()
	if name == "" {
		name = "driftcheck"
	}
	if email == "" {
		email = "driftcheck@localhost"
	}
	sig := gitrev.Signature{Name: name, Email: email, When: time.Now()}
	sha, err := side.repo.CommitOnNewBranch(ctx, side.rev, branch, changes, commitMessage(plan), sig)
	if err != nil {
		return nil, err
	}
	return &reconcile.Applied{Branch: branch, Commit: sha, Verify: o.verifyCommand(branch)}, nil
}

func commitMessage(p *reconcile.Plan) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Reconcile %s with the host\n\n", unitdiff.ShortRev(p.Rev))
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "- %s\n", s.Detail)
	}
	b.WriteString("\nWritten by driftcheck reconcile --to git --apply.\n")
	return b.String()
}

// verifyCommand is the check of the new branch against the same host.
func (o reconcileOptions) verifyCommand(branch string) string {
	args := []string{"driftcheck", "check", "--repo", reconcile.ShellQuote(o.Repo), "--rev", reconcile.ShellQuote(branch)}
	for _, m := range o.Modules {
		if m != gitrev.DefaultModuleGlob {
			args = append(args, "--modules", reconcile.ShellQuote(m))
		}
	}
	for _, g := range o.scope {
		args = append(args, "--scope", reconcile.ShellQuote(g))
	}
	if o.liveSource != "dbus" {
		args = append(args, "--live", reconcile.ShellQuote(o.liveSource))
	}
	if o.busAddress != "" {
		args = append(args, "--bus-address", reconcile.ShellQuote(o.busAddress))
	}
	if o.deploySource != "" {
		args = append(args, "--deploy-source", reconcile.ShellQuote(o.deploySource))
	}
	if host := o.decl.hostName(); host != "" {
		args = append(args, "--host", reconcile.ShellQuote(host))
	}
	return strings.Join(args, " ")
}
