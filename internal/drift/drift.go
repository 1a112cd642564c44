// Package drift runs a whole check: it reads the revision's declared units,
// the host's live units and the hygiene facts, and hands them to unitdiff.
package drift

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/modules"
	"github.com/driftcheck/driftcheck/internal/provenance"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// ReportSchema identifies the check report JSON format.
const ReportSchema = "driftcheck.check/v1"

// DefaultHistory is how many commits that touched module files are searched
// for units the revision no longer declares.
const DefaultHistory = 20

// connectTimeout bounds dialling the bus; each D-Bus call has its own
// timeout in live.
const connectTimeout = 15 * time.Second

// Options say what to compare.
type Options struct {
	// Where the declared side is: required, as the command's flags give
	// them (their defaults live with the flags, not here).
	RepoDir string       // git repository: a work tree, a directory in it, or a bare repository
	Rev     string       // revision to compare against
	Globs   gitrev.Globs // module files, parsed

	Scope   []string // live unit name globs; nil = the config file at Rev, else the declared names
	History int      // earlier commits that touched module files to search for stale units; 0 = none (the flag's default is DefaultHistory)

	LiveFile   string // "" = read over D-Bus
	BusAddress string // "" = DBUS_SYSTEM_BUS_ADDRESS or the default system bus

	DeploySource     string // "" = no deploy-source comparison
	NixosVersionPath string // "" = provenance.DefaultPath, read only when the live side is this host's system bus

	// Strict is the pre-claim check: hygiene warnings count as drift and
	// unverified provenance makes the check incomplete. It decides
	// Report.Verdict, which everything downstream reads.
	Strict bool

	// Declared is where the declared side comes from: DeclaredStatic
	// (""), DeclaredEval or DeclaredBoth; Eval says how to evaluate.
	Declared string
	Eval     EvalOptions

	// Host is the host whose import closure is the declared side. ""
	// means: the only host of the repository, else the host named
	// Hostname; a repository without hosts is read whole (Modules).
	Host string
	// Entries are the entry modules of the host to read (--entry).
	Entries []string
	// Hostname is this machine's name, the default host; "" = none.
	Hostname string
	// AllFiles reads every file matching Modules (one file's settings never
	// decide another's units),
	// even in a repository that defines hosts.
	AllFiles bool
}

// Report is the result of a check; its JSON form is the check command's
// --format json output.
type Report struct {
	Schema string `json:"schema"`
	Rev    string `json:"rev"`
	// Verdict is computed once, by Check, under Strict: renderers, the
	// exit code and the prune's drift gate read it, never recompute it.
	Verdict  string             `json:"verdict"`
	Findings []unitdiff.Finding `json:"findings"`
	Notes    []string           `json:"notes,omitempty"` // facts about the check itself, e.g. "provenance: not available"
	// Declared is where the declared side came from: static, eval or both.
	Declared string `json:"declared"`
	// Toplevel is the system's identity, set when the declared side was
	// evaluated.
	Toplevel *Toplevel `json:"toplevel,omitempty"`
	// Fidelity lists where the static reader and the evaluation disagree
	// (--declared both).
	Fidelity []unitdiff.Fidelity `json:"fidelity,omitempty"`
	// Strict is the policy the verdict was computed under; renderers show
	// each finding's severity under it.
	Strict bool `json:"-"`
}

// Exit codes of a check, as docs/exit-codes.md lists them.
const (
	ExitInSync     = 0
	ExitDrift      = 1
	ExitIncomplete = 3
)

// ExitCode maps the verdict to the check command's exit code.
func (r *Report) ExitCode() int {
	switch r.Verdict {
	case unitdiff.VerdictInSync:
		return ExitInSync
	case unitdiff.VerdictIncomplete:
		return ExitIncomplete
	default: // drift, or a verdict this code does not know: never a pass
		return ExitDrift
	}
}

// Check compares the revision with the host. It returns an error only when
// it could not run at all (exit 2): no repository, unknown revision, no
// module files, an unreadable snapshot file, a bus that cannot be reached
// or is lost mid-read. Everything it could not read or compare in part
// becomes a finding that makes the verdict incomplete.
func Check(ctx context.Context, opts Options) (*Report, error) {
	c, err := newChecker(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer c.repo.Close()
	// A check reads from the host only what the comparison reads (Gather,
	// for reconcile, reads every field: it needs the units' files).
	c.readForComparison = true
	return c.check(ctx)
}

// Query is what Check asks systemd for with these options: the declared
// and formerly declared names, the scope, and the probes that find renamed
// units. `driftcheck snapshot --repo` asks the same, so that a later
// `check --live FILE` of that snapshot sees what a check on the host sees.
func Query(ctx context.Context, opts Options) (live.Query, error) {
	c, err := newChecker(ctx, opts)
	if err != nil {
		return live.Query{}, err
	}
	defer c.repo.Close()
	in, err := c.gitFacts(ctx)
	if err != nil {
		return live.Query{}, err
	}
	return unitdiff.LiveQuery(in), nil
}

// gitFacts reads what the repository says: the declared units at the
// revision, the scope, and the units of earlier revisions.
func (c *checker) gitFacts(ctx context.Context) (unitdiff.Input, error) {
	in, err := c.revisionFacts(ctx)
	if err != nil {
		return in, err
	}
	if in.History, err = c.history(ctx); err != nil {
		return in, err
	}
	return in, nil
}

// revisionFacts reads the declared units at the revision and the scope:
// all the host read needs to start, except the names only earlier
// revisions declare.
func (c *checker) revisionFacts(ctx context.Context) (unitdiff.Input, error) {
	var err error
	in := unitdiff.Input{Rev: c.rev.SHA}
	if in.Declared, err = c.declaredSide(ctx); err != nil {
		return in, err
	}
	if in.Scope, err = c.scope(ctx); err != nil {
		return in, err
	}
	if c.host != nil && len(in.Declared.Units) == 0 && len(in.Scope) == 0 {
		// Fail closed: nothing to compare must not read as in sync.
		in.Declared.Unresolved = append(in.Declared.Unresolved, declared.Unresolved{File: c.hostEntry,
			Reason: fmt.Sprintf("host %s declares no unit and no scope is set: there is nothing to compare", c.host.Name)})
	}
	return in, nil
}

// check gathers the facts and compares them; a checker runs one check.
func (c *checker) check(ctx context.Context) (*Report, error) {
	in, err := c.facts(ctx)
	if err != nil {
		return nil, err
	}
	return c.report(in), nil
}

// facts gathers everything the comparison reads. Over D-Bus, the host is
// read while the repository is (hostRead); from a snapshot file, after.
func (c *checker) facts(ctx context.Context) (unitdiff.Input, error) {
	if c.opts.LiveFile != "" {
		return c.factsFromFile(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	host := startHostRead(ctx, c.opts.BusAddress, cancel)
	defer func() {
		cancel()
		host.close()
	}()
	in, err := c.revisionFacts(ctx)
	if err == nil {
		q := unitdiff.LiveQuery(in)
		q.ForComparison = c.readForComparison
		host.start(q)
		in.History, err = c.history(ctx)
	}
	if err == nil {
		in.Hygiene, err = c.hygiene(ctx)
	}
	if err == nil {
		// The dirty check and provenance record what they could not read
		// as warnings; a cancelled context must not pass for one.
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		return in, host.cause(err)
	}
	// The history adds the names of formerly declared units to the query.
	snap, err := host.finish(ctx, unitdiff.LiveQuery(in).Names)
	if err != nil {
		return in, err
	}
	in.Live = *snap
	return in, nil
}

// factsFromFile gathers the facts with the host's snapshot from a file.
func (c *checker) factsFromFile(ctx context.Context) (unitdiff.Input, error) {
	in, err := c.gitFacts(ctx)
	if err != nil {
		return in, err
	}
	if in.Hygiene, err = c.hygiene(ctx); err != nil {
		return in, err
	}
	snap, err := readSnapshotFile(c.opts.LiveFile)
	if err != nil {
		return in, err
	}
	in.Live = *snap
	return in, nil
}

// report compares the facts.
func (c *checker) report(in unitdiff.Input) *Report {
	in.Strict = c.opts.Strict
	in.Evaluation = c.evaluation
	findings := unitdiff.Compare(in)
	if findings == nil {
		findings = []unitdiff.Finding{}
	}
	return &Report{
		Schema:   ReportSchema,
		Rev:      c.rev.SHA,
		Verdict:  unitdiff.Verdict(findings, c.opts.Strict),
		Findings: findings,
		Notes:    c.notes,
		Declared: c.opts.Declared,
		Toplevel: c.toplevel,
		Fidelity: c.fidelity,
		Strict:   c.opts.Strict,
	}
}

// checker holds one check's state while it gathers facts.
type checker struct {
	opts  Options
	repo  *gitrev.Repo
	rev   *gitrev.Revision
	globs gitrev.Globs
	notes []string
	// host is the host whose closure is read; nil reads every file
	// matching globs. hostEntry is its first entry file, for messages.
	host      *modules.HostSpec
	hostEntry string
	// parses keeps the parsed module files of this check by path and blob
	// hash: the revision and the earlier revisions of the stale search
	// share most files. nil parses every file of every revision.
	parses *modules.ParseCache
	// toplevel and fidelity are set when the declared side is evaluated.
	toplevel *Toplevel
	fidelity []unitdiff.Fidelity
	source   string // what was evaluated
	// evaluation is what the evaluation of the declared side could not
	// answer; unitdiff turns it into findings.
	evaluation unitdiff.Evaluation
	// readForComparison reads the host with live.Query.ForComparison.
	readForComparison bool
}

func newChecker(ctx context.Context, opts Options) (*checker, error) {
	switch {
	case opts.RepoDir == "":
		return nil, errors.New("no repository given")
	case opts.Rev == "":
		return nil, errors.New("no revision given")
	case len(opts.Globs.Patterns()) == 0:
		return nil, errors.New("no module globs given")
	case opts.History < 0:
		return nil, fmt.Errorf("history %d: want 0 or more", opts.History)
	}
	if opts.Declared == "" {
		opts.Declared = DeclaredStatic
	}
	if err := ValidateDeclared(opts.Declared); err != nil {
		return nil, err
	}
	if err := ValidateScope(opts.Scope); err != nil {
		return nil, err
	}
	repo, err := gitrev.Open(opts.RepoDir)
	if err != nil {
		return nil, err
	}
	rev, err := repo.Resolve(ctx, opts.Rev)
	if err != nil {
		return nil, fmt.Errorf("resolve revision %q: %w", opts.Rev, err)
	}
	c := &checker{opts: opts, repo: repo, rev: rev, globs: opts.Globs, parses: modules.NewParseCache()}
	if err := c.selectHost(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// ValidateScope rejects globs path.Match cannot use, so that a typo fails
// the check instead of silently matching nothing.
func ValidateScope(globs []string) error {
	for _, g := range globs {
		if g == "" {
			return errors.New("--scope: empty glob")
		}
		if _, err := matchUnit(g, ""); err != nil {
			return fmt.Errorf("--scope %q: %w", g, err)
		}
	}
	return nil
}

func (c *checker) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// history reads the units of earlier commits that touched module files,
// newest first, for stale units.
func (c *checker) history(ctx context.Context) ([]unitdiff.Revision, error) {
	n := c.opts.History
	if n == 0 {
		return nil, nil
	}
	// One more than asked: the revision itself is in the list when it
	// touched module files.
	revs, err := c.repo.History(ctx, c.rev, c.globs, n+1)
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", c.rev.SHA, err)
	}
	if len(revs) > 0 && revs[len(revs)-1].ShallowBoundary {
		c.note("history: shallow clone, the search for stale units stopped at %s, the oldest commit in the repository (fetch more history to search further)", unitdiff.ShortRev(revs[len(revs)-1].SHA))
	}
	var earlier []*gitrev.Revision
	for _, r := range revs {
		if r.SHA != c.rev.SHA && len(earlier) < n {
			earlier = append(earlier, r)
		}
	}
	read := func() ([]declared.Result, error) { return c.parses.ReadHistory(ctx, earlier, c.globs) }
	if c.host != nil {
		read = func() ([]declared.Result, error) { return c.hostHistory(ctx, earlier) }
	}
	results, err := read()
	if err != nil {
		return nil, err
	}
	var out []unitdiff.Revision
	for i, r := range earlier {
		out = append(out, unitdiff.Revision{Commit: r.SHA, Date: r.Time, Units: results[i].Units})
	}
	return out, nil
}

// ReadHost connects to the system bus at busAddress ("" =
// DBUS_SYSTEM_BUS_ADDRESS, else the default), dialling within
// connectTimeout, and reads what the query asks for: the one
// connect-and-read of check, snapshot and the prune's gate.
func ReadHost(ctx context.Context, busAddress string, q live.Query) (*live.Snapshot, error) {
	addr := live.BusAddress(busAddress, os.Getenv)
	conn, err := dialHost(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return readHostUnits(ctx, conn, addr, q)
}

// dialHost connects to the bus at addr, within connectTimeout.
func dialHost(ctx context.Context, addr string) (*live.Conn, error) {
	dialCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	return live.Connect(dialCtx, addr)
}

// readHostUnits reads what q asks on conn, connected to addr.
func readHostUnits(ctx context.Context, conn *live.Conn, addr string, q live.Query) (*live.Snapshot, error) {
	snap, err := live.Read(ctx, conn, q)
	if err != nil {
		return nil, fmt.Errorf("read units from %s: %w", addr, err)
	}
	return snap, nil
}

func readSnapshotFile(path string) (*live.Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("live snapshot: %w", err)
	}
	defer f.Close()
	snap, err := live.ReadSnapshot(f)
	if err != nil {
		return nil, fmt.Errorf("live snapshot %s: %w", path, err)
	}
	return snap, nil
}

// hygiene gathers the dirty work tree, the deploy source and provenance.
func (c *checker) hygiene(ctx context.Context) (unitdiff.Hygiene, error) {
	var h unitdiff.Hygiene
	h.Dirty, h.DirtyUnread = c.dirty(ctx)
	if c.opts.DeploySource != "" {
		diff, err := c.rev.CompareDir(ctx, c.opts.DeploySource, c.globs)
		if err != nil {
			return h, fmt.Errorf("--deploy-source: %w", err)
		}
		h.DeploySource = c.opts.DeploySource
		h.SourceDiffers = changes(diff.Differing, diff.Missing, diff.Extra)
	}
	h.Provenance = c.provenance(ctx)
	h.Toplevel = c.identity()
	return h, nil
}

// dirty lists uncommitted changes to module files: the work tree against
// HEAD. A failure to compare is a warning (unread says why), not a reason
// to stop.
func (c *checker) dirty(ctx context.Context) (changed []unitdiff.FileChange, unread string) {
	head, err := c.repo.Resolve(ctx, "HEAD")
	if err != nil {
		return nil, fmt.Sprintf("could not resolve HEAD to look for uncommitted changes: %v", err)
	}
	d, err := c.repo.Dirty(ctx, head, c.globs)
	if err != nil {
		return nil, fmt.Sprintf("could not compare the work tree with HEAD: %v", err)
	}
	if d.NoWorkTree {
		c.note("dirty: bare repository, no work tree to compare")
		return nil, ""
	}
	return changes(d.Modified, d.Deleted, d.Untracked), ""
}

func changes(modified, deleted, added []string) []unitdiff.FileChange {
	var out []unitdiff.FileChange
	for _, p := range modified {
		out = append(out, unitdiff.FileChange{Path: p, Change: unitdiff.ChangeModified})
	}
	for _, p := range deleted {
		out = append(out, unitdiff.FileChange{Path: p, Change: unitdiff.ChangeDeleted})
	}
	for _, p := range added {
		out = append(out, unitdiff.FileChange{Path: p, Change: unitdiff.ChangeAdded})
	}
	return out
}

// provenance reads the host's configurationRevision. It is read only when
// it belongs to the host being checked: the local system bus, or an
// explicit --nixos-version. What could not be read is a status too:
// unitdiff decides what it means for the verdict (under --strict, the
// check is incomplete).
func (c *checker) provenance(ctx context.Context) unitdiff.Provenance {
	path := c.opts.NixosVersionPath
	if path == "" {
		if c.opts.LiveFile != "" || c.opts.BusAddress != "" {
			c.note("provenance: not read (the live side is not this host's system bus; pass --nixos-version)")
			return unitdiff.Provenance{Status: unitdiff.ProvenanceNotRead, Reason: "the live side is not this host's system bus"}
		}
		path = provenance.DefaultPath
	}
	host, err := provenance.Read(ctx, path)
	if err != nil {
		return unitdiff.Provenance{Status: unitdiff.ProvenanceUnreadable, Reason: err.Error()}
	}
	if !host.Available {
		c.note("provenance: not available (no %s)", path)
		return unitdiff.Provenance{Status: unitdiff.ProvenanceNotRead, Reason: "no " + path}
	}
	status, err := provenance.Compare(ctx, host, c.repo, c.rev)
	if err != nil {
		reason := fmt.Sprintf("could not relate the host's revision %s to %s: %v", host.Revision, unitdiff.ShortRev(c.rev.SHA), err)
		return unitdiff.Provenance{Status: unitdiff.ProvenanceUnreadable, HostRevision: host.Revision, Reason: reason}
	}
	return unitdiff.Provenance{Status: status, HostRevision: host.Revision}
}
