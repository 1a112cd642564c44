package unitdiff

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/live"
)

// Input is everything one comparison needs. Compare reads nothing else.
type Input struct {
	Rev      string          // full commit id of the revision compared against
	Declared declared.Result // what the revision declares
	Live     live.Snapshot   // what the host runs
	// Scope are globs (path.Match syntax) over live unit names: a live unit
	// that matches and is not declared is "undeclared". Empty means only the
	// declared names are in scope, so no unit is ever reported undeclared.
	Scope   []string
	History []Revision // earlier revisions, newest first, for stale units
	Hygiene Hygiene
	// Strict is the pre-claim check: there, a host whose provenance could
	// not be verified is a finding of its own (incomplete), since the claim
	// "the host runs this revision" cannot be made without it.
	Strict bool
	// Evaluation is what evaluating the declared side with Nix adds
	// (--declared eval or both); zero when it was read statically.
	Evaluation Evaluation
}

// Evaluation is what an evaluation of the declared side could not answer.
type Evaluation struct {
	// Failed says why the evaluation failed when the static reader's units
	// are compared instead (--declared both): the check cannot be in sync.
	Failed string
	// Unresolved are unit properties that did not evaluate: errors in the
	// configuration. File and Line are where the unit is declared.
	Unresolved []declared.Unresolved
}

// Findings are the evaluation's incomplete findings, in the order given.
// `units --declared eval` lists them as unresolved declarations too.
func (e Evaluation) Findings(rev string) []Finding {
	var out []Finding
	if e.Failed != "" {
		out = append(out, Finding{
			Kind: KindUnresolved, Severity: SeverityIncomplete,
			Detail: "evaluation failed, the static reader's units were compared instead: " + e.Failed,
			Fix:    "fix the cause (see docs/eval.md) and run the check again",
		})
	}
	for _, u := range e.Unresolved {
		at := ""
		if u.File != "" {
			at = FileLine(u.File, u.Line)
		}
		out = append(out, Finding{
			Kind: KindUnresolved, Unit: u.Unit, DeclaredAt: at, Severity: SeverityIncomplete,
			Detail: "not compared: " + u.Reason,
			Fix:    fmt.Sprintf("fix the configuration at %s so that it evaluates (nixos-rebuild build), then check again", ShortRev(rev)),
		})
	}
	return out
}

// Revision is the set of units an earlier commit declared.
type Revision struct {
	Commit string
	Date   time.Time
	Units  []declared.Unit
}

// Hygiene are facts about how the host was built, beyond its units.
type Hygiene struct {
	Dirty []FileChange // uncommitted changes to module files in the work tree
	// DirtyUnread says why the work tree could not be compared with HEAD;
	// "" when it was (or there is none).
	DirtyUnread   string
	DeploySource  string       // the directory the host is built from, when it was compared
	SourceDiffers []FileChange // how DeploySource differs from the revision
	Provenance    Provenance
	Toplevel      Toplevel
}

// Toplevel is the system's identity, when the declared side was evaluated:
// the store path the revision builds against the one the host runs.
type Toplevel struct {
	Revision string // system.build.toplevel of the revision; "" when it did not evaluate
	Host     string // the host's current system; "" when not read
	Error    string // why the revision's toplevel did not evaluate
	Compared bool   // Host was read
	Unread   string // why the host's system could not be read; "" when it was, or was not looked at
}

// FileChange is one file that differs, and how.
type FileChange struct {
	Path   string
	Change string // ChangeModified, ChangeDeleted, ChangeAdded
}

// File changes, seen from the work tree or deploy source.
const (
	ChangeModified = "modified" // in both, different content
	ChangeDeleted  = "deleted"  // in the revision only
	ChangeAdded    = "added"    // in the work tree or deploy source only (untracked)
)

// Provenance is the revision the host says it was built from.
type Provenance struct {
	Status       ProvenanceStatus
	HostRevision string // configurationRevision as the host reports it
	Reason       string // why it was not read, or could not be
}

// ProvenanceStatus relates the host's configurationRevision to the
// revision. It is the one status type: internal/provenance returns it.
type ProvenanceStatus string

// Provenance statuses.
const (
	ProvenanceEqual    ProvenanceStatus = "equal"    // the host runs the revision
	ProvenanceOlder    ProvenanceStatus = "older"    // the host runs an ancestor of the revision
	ProvenanceDiverged ProvenanceStatus = "diverged" // the host runs a commit that is no ancestor (newer, or another branch)
	ProvenanceUnknown  ProvenanceStatus = "unknown"  // the host's revision is not in the repository
	ProvenanceDirty    ProvenanceStatus = "dirty"    // the host was built from an uncommitted tree, or records no revision
	// ProvenanceNotRead: not looked at (the live side is not this host's
	// system bus) or nothing to read (no nixos-version). The zero Status
	// means the same.
	ProvenanceNotRead ProvenanceStatus = "not-read"
	// ProvenanceUnreadable: nixos-version failed, hung or answered
	// nonsense, or its revision could not be related to the revision.
	ProvenanceUnreadable ProvenanceStatus = "unreadable"
)

// Compare explains every difference between the revision and the host as a
// finding, sorted worst first. Only system units are compared: the live
// snapshot is read from the system manager.
func Compare(in Input) []Finding {
	c := newComparison(in)
	findings, missing := c.declaredSide()
	findings = append(findings, c.liveSide(missing)...)
	findings = append(findings, c.unread()...)
	findings = append(findings, in.Evaluation.Findings(in.Rev)...)
	findings = append(findings, c.hygiene()...)
	Sort(findings)
	return findings
}

// declaredSide compares each declared unit with its live namesake. Units
// the host lacks are returned, not reported: they may pair with renames.
func (c *comparison) declaredSide() (findings []Finding, missing []declared.Unit) {
	for _, d := range c.declared {
		lu, seen := c.live[d.Name]
		switch {
		case c.unreadable[d.Name]:
			// Only the read error is reported: absent from the snapshot
			// does not mean absent from the host.
		case !seen && !c.snapshotCovers(d.Name):
			findings = append(findings, c.notInSnapshot(d))
		case !isEnabled(d):
			findings = append(findings, c.disabledButLive(d, lu, seen)...)
		case !seen || lu.LoadState == "not-found" || lu.LoadState == "masked":
			missing = append(missing, d)
		default:
			findings = append(findings, c.mismatches(d, lu)...)
		}
	}
	return findings, missing
}

// liveSide pairs missing units with renamed live ones, and explains the
// remaining live units the revision does not declare: stale if an earlier
// revision did, undeclared if in scope.
func (c *comparison) liveSide(missing []declared.Unit) []Finding {
	var findings []Finding
	candidates := c.undeclaredOnHost()
	pairs := pairRenames(missing, candidates)
	paired := map[string]bool{}
	pairedDeclared := map[string]bool{}
	for _, p := range pairs {
		paired[p.live.Name] = true
		pairedDeclared[p.declared.Name] = true
		findings = append(findings, c.renamed(p))
	}
	for _, p := range pairs {
		if f, ok := c.companion(p, paired); ok {
			findings = append(findings, f)
		}
	}
	for _, d := range missing {
		if !pairedDeclared[d.Name] {
			findings = append(findings, c.missing(d))
		}
	}
	for _, lu := range candidates {
		if paired[lu.Name] {
			continue
		}
		if f, ok := c.stale(lu); ok {
			findings = append(findings, f)
		} else if c.inScope(lu.Name) {
			findings = append(findings, c.undeclared(lu))
		}
	}
	return findings
}

type comparison struct {
	in         Input
	rev        string // short form for messages
	declared   []declared.Unit
	isDecl     map[string]bool
	live       map[string]live.Unit
	unreadable map[string]bool // units the live side could not read
	history    map[string]historyEntry
	rebuild    string            // the usual fix
	calendars  map[string]string // normalized forms computed so far ("" = not normalizable)
}

func newComparison(in Input) *comparison {
	c := &comparison{
		in:         in,
		rev:        ShortRev(in.Rev),
		declared:   make([]declared.Unit, 0, len(in.Declared.Units)),
		isDecl:     make(map[string]bool, len(in.Declared.Units)),
		live:       make(map[string]live.Unit, len(in.Live.Units)),
		unreadable: map[string]bool{},
		calendars:  map[string]string{},
	}
	c.rebuild = fmt.Sprintf("rebuild the host from %s (nixos-rebuild switch)", c.rev)
	for _, e := range in.Live.Errors {
		if e.Unit != "" {
			c.unreadable[e.Unit] = true
		}
	}
	for _, d := range in.Declared.Units {
		if d.Scope == declared.ScopeUser || c.isDecl[d.Name] {
			continue
		}
		c.isDecl[d.Name] = true
		c.declared = append(c.declared, d)
	}
	sort.Slice(c.declared, func(i, j int) bool { return c.declared[i].Name < c.declared[j].Name })
	for _, u := range in.Live.Units {
		if _, dup := c.live[u.Name]; !dup {
			c.live[u.Name] = u
		}
	}
	return c
}

// ShortRev abbreviates a commit id for messages.
func ShortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// isConditional reports whether any place that sets the property (by its
// JSON name, e.g. "OnCalendar") does so under mkIf, optionalAttrs or
// if-then-else.
func isConditional(d declared.Unit, prop string) bool {
	for _, s := range d.Sites {
		if set, ok := s.Settings[prop]; ok && set.Conditional {
			return true
		}
	}
	return false
}

func isEnabled(d declared.Unit) bool { return d.Properties.Enable == nil || *d.Properties.Enable }

// onHost reports whether a live unit exists on the host: it has a loadable
// unit file, or it still runs although its file is gone.
func onHost(u live.Unit) bool {
	return (u.LoadState != "not-found" && u.LoadState != "masked") || isRunning(u.ActiveState)
}

func isRunning(active string) bool {
	switch active {
	case "active", "activating", "reloading", "refreshing", "deactivating":
		return true
	}
	return false
}

// isWanted reports whether a unit-file state means something pulls the unit
// in. "" (not read) and states that say nothing about wants links count as
// wanted, so that only a definite "linked" or "disabled" is a mismatch.
func isWanted(fileState string) bool {
	switch fileState {
	case "linked", "linked-runtime", "disabled", "masked", "masked-runtime", "bad":
		return false
	}
	return true
}

func hostState(u live.Unit) HostState {
	return HostState{Load: u.LoadState, Active: u.ActiveState, FileState: u.UnitFileState}
}

func describeHost(u live.Unit) string { return hostState(u).String() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// declaredAt is where a unit is declared, "" when nowhere (a unit built
// for a message).
func declaredAt(d declared.Unit) string {
	if d.File == "" {
		return ""
	}
	return FileLine(d.File, d.Line)
}

func unitBase(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}

func (c *comparison) inScope(name string) bool {
	for _, glob := range c.in.Scope {
		if ok, err := path.Match(glob, name); err == nil && ok {
			return true
		}
	}
	return false
}

// undeclaredOnHost lists the live units the revision does not declare and
// the host has, sorted by name: the candidates for renamed, stale and
// undeclared.
func (c *comparison) undeclaredOnHost() []live.Unit {
	var out []live.Unit
	for name, u := range c.live {
		if !c.isDecl[name] && onHost(u) {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// snapshotCovers reports whether the snapshot's listing globs match name,
// so that its absence means systemd does not know it. A snapshot read
// over D-Bus by check always holds every declared name; one taken
// elsewhere holds only what it was asked for.
func (c *comparison) snapshotCovers(name string) bool {
	for _, glob := range c.in.Live.Scope {
		if ok, err := path.Match(glob, name); err == nil && ok {
			return true
		}
	}
	return false
}

func (c *comparison) notInSnapshot(d declared.Unit) Finding {
	return Finding{
		Kind: KindUnresolved, Unit: d.Name, DeclaredAt: declaredAt(d), Severity: SeverityIncomplete,
		Detail: "the live snapshot does not hold this unit and its listing globs do not cover it, so the host was not asked about it",
		Fix:    fmt.Sprintf("take the snapshot with driftcheck snapshot --unit %s (or a --scope glob matching it), or check over D-Bus", d.Name),
	}
}

func (c *comparison) missing(d declared.Unit) Finding {
	lu := c.live[d.Name]
	f := Finding{
		Kind:       KindMissing,
		Unit:       d.Name,
		DeclaredAt: declaredAt(d),
		Host:       hostState(lu),
		Severity:   SeverityDrift,
		Detail:     fmt.Sprintf("declared at %s, but the host has no such unit (%s)", c.rev, describeHost(lu)),
		Fix:        fmt.Sprintf("rebuild the host from %s (nixos-rebuild switch), or remove the declaration from %s", c.rev, d.File),
	}
	if lu.LoadState == "" {
		f.Host.Load = "not-found"
		f.Detail = fmt.Sprintf("declared at %s, but the host has no such unit", c.rev)
	}
	if sites := overrideSites(d); sites != "" {
		// NixOS creates the unit from a module outside the repository;
		// the repository only adjusts it.
		f.Detail += "; the repository only overrides it (" + sites + "): the module that defines it is outside the repository"
		f.Fix = fmt.Sprintf("rebuild the host from %s (nixos-rebuild switch) with the module that defines it enabled, or remove the overrides at %s", c.rev, sites)
	}
	if lu.LoadState == "masked" {
		f.Fix = fmt.Sprintf("unmask it (systemctl unmask %s) and rebuild the host from %s, or remove the declaration from %s", d.Name, c.rev, d.File)
	}
	if d.Conditional || isConditional(d, "Enable") {
		// The declaration sits under a condition (mkIf, optionalAttrs) the
		// static reader cannot evaluate: it may be off on this host.
		f.Severity = SeverityIncomplete
		f.Detail += "; it is declared under a condition driftcheck cannot evaluate, so it may be off on this host"
		f.Fix = fmt.Sprintf("if the condition in %s holds on this host, rebuild the host from %s; otherwise nothing to do", declaredAt(d), c.rev)
	}
	return f
}

func (c *comparison) disabledButLive(d declared.Unit, lu live.Unit, seen bool) []Finding {
	if !seen || !onHost(lu) || (!isRunning(lu.ActiveState) && lu.UnitFileState != "enabled" && lu.UnitFileState != "enabled-runtime") {
		return nil
	}
	f := Finding{
		Kind:       KindMismatch,
		Unit:       d.Name,
		DeclaredAt: declaredAt(d),
		Host:       hostState(lu),
		Severity:   SeverityDrift,
		Detail:     fmt.Sprintf("declared with enable = false at %s, but the host has it (%s)", c.rev, describeHost(lu)),
		Fix:        fmt.Sprintf("rebuild the host from %s so that it drops the unit, or declare it enabled in %s", c.rev, d.File),
	}
	if isConditional(d, "Enable") {
		f.Kind, f.Severity = KindUnresolved, SeverityIncomplete
		f.Detail += "; enable is set under a condition driftcheck cannot evaluate"
		f.Fix = "check by hand whether the condition holds on this host; if it does, " + f.Fix
	}
	return []Finding{f}
}

// mismatches compares a declared unit with the live unit of the same name.
func (c *comparison) mismatches(d declared.Unit, lu live.Unit) []Finding {
	mismatch := func(prop, detail, fix string) Finding {
		f := Finding{Kind: KindMismatch, Unit: d.Name, DeclaredAt: declaredAt(d), Host: hostState(lu), Severity: SeverityDrift, Detail: detail, Fix: fix}
		if prop != "" && isConditional(d, prop) {
			// mkIf or optionalAttrs around the setting: the host may
			// legitimately differ, so the difference proves nothing.
			f.Kind, f.Severity = KindUnresolved, SeverityIncomplete
			f.Detail += fmt.Sprintf("; %s is set under a condition driftcheck cannot evaluate", prop)
			f.Fix = "check by hand whether the condition holds on this host; if it does, " + fix
		}
		return f
	}
	rebuild := c.rebuild
	if lu.LoadState == "bad-setting" || lu.LoadState == "error" {
		detail := fmt.Sprintf("systemd cannot load it: %s", lu.LoadState)
		if lu.LoadError != "" {
			detail += " (" + lu.LoadError + ")"
		}
		return []Finding{mismatch("", detail, fmt.Sprintf("fix the unit's settings at %s and %s", declaredAt(d), rebuild))}
	}
	var out []Finding
	if lu.NeedDaemonReload {
		out = append(out, mismatch("", "its unit file changed on disk since systemd loaded it (NeedDaemonReload=yes)",
			"finish the switch: systemctl daemon-reload, or "+rebuild))
	}
	if f, ok := c.enablement(d, lu, mismatch); ok {
		out = append(out, f)
	}
	if p := d.Properties; p.Description != "" && lu.Description != "" && p.Description != lu.Description {
		out = append(out, withHostValue(mismatch("Description", fmt.Sprintf("description is %q on the host, %q at %s: the host runs another definition", lu.Description, p.Description, c.rev), rebuild), "Description", lu.Description))
	}
	if declared.UnitType(d.Name) == "timer" {
		out = append(out, c.timerMismatches(d, lu, mismatch, rebuild)...)
	}
	return out
}

// withHostValue records which declared property differs and the host's
// value of it, so that reconcile can write the host's value at the site.
func withHostValue(f Finding, prop string, value any) Finding {
	if f.Kind != KindMismatch {
		return f
	}
	if raw, err := json.Marshal(value); err == nil { // strings, bools and string lists always encode
		f.Property, f.HostValue = prop, raw
	}
	return f
}

// enablement checks a unit declared with wantedBy: something must want it,
// and a timer, socket or path unit must be running.
func (c *comparison) enablement(d declared.Unit, lu live.Unit, mismatch func(prop, detail, fix string) Finding) (Finding, bool) {
	wantedBy := d.Properties.WantedBy
	if len(wantedBy) == 0 {
		return Finding{}, false
	}
	var problems []string
	if !isWanted(lu.UnitFileState) {
		problems = append(problems, fmt.Sprintf("its file state is %s (nothing wants it)", lu.UnitFileState))
	}
	switch declared.UnitType(d.Name) {
	case "timer", "socket", "path":
		if !isRunning(lu.ActiveState) {
			problems = append(problems, fmt.Sprintf("it is %s", orDash(lu.ActiveState)))
		}
	}
	if len(problems) == 0 {
		return Finding{}, false
	}
	detail := fmt.Sprintf("declared wantedBy %s, but %s", strings.Join(wantedBy, ", "), strings.Join(problems, " and "))
	return mismatch("WantedBy", detail, fmt.Sprintf("rebuild the host from %s (nixos-rebuild switch) so that %s wants and starts it", c.rev, strings.Join(wantedBy, ", "))), true
}

func (c *comparison) timerMismatches(d declared.Unit, lu live.Unit, mismatch func(prop, detail, fix string) Finding, rebuild string) []Finding {
	p := d.Properties
	var out []Finding
	if len(p.OnCalendar) > 0 {
		if lu.Timer == nil {
			out = append(out, c.inconclusive(d, lu, "the host's timer settings were not read, so OnCalendar could not be compared"))
		} else if equal, why := sameCalendar(p.OnCalendar, lu.Timer.Calendar, c.normalize); why != "" {
			out = append(out, c.inconclusive(d, lu, why))
		} else if !equal {
			out = append(out, withHostValue(mismatch("OnCalendar", fmt.Sprintf("OnCalendar is %s on the host, %s at %s",
				quoteList(lu.Timer.Calendar), quoteList(p.OnCalendar), c.rev), rebuild), "OnCalendar", lu.Timer.Calendar))
		}
	}
	if lu.Timer == nil {
		return out
	}
	if p.Persistent != nil && *p.Persistent != lu.Timer.Persistent {
		out = append(out, withHostValue(mismatch("Persistent", fmt.Sprintf("Persistent is %t on the host, %t at %s", lu.Timer.Persistent, *p.Persistent, c.rev), rebuild), "Persistent", lu.Timer.Persistent))
	}
	if p.Unit != "" && lu.Timer.Unit != "" && p.Unit != lu.Timer.Unit {
		out = append(out, withHostValue(mismatch("Unit", fmt.Sprintf("it activates %s on the host, %s at %s", lu.Timer.Unit, p.Unit, c.rev), rebuild), "Unit", lu.Timer.Unit))
	}
	return out
}

// inconclusive is a comparison that could not be made: the check becomes
// incomplete rather than reporting a mismatch it cannot prove.
func (c *comparison) inconclusive(d declared.Unit, lu live.Unit, why string) Finding {
	return Finding{
		Kind: KindUnresolved, Unit: d.Name, DeclaredAt: declaredAt(d), Host: hostState(lu), Severity: SeverityIncomplete,
		Detail: why,
		Fix:    fmt.Sprintf("compare by hand: systemctl show -p TimersCalendar %s; systemd-analyze calendar '<spec>'", d.Name),
	}
}

// sameCalendar compares calendar specs in their normalized forms. why is
// set when a declared spec cannot be normalized and differs textually, so
// the answer is unknown.
func sameCalendar(declaredSpecs, liveSpecs []string, normalize func(string) (string, error)) (equal bool, why string) {
	want := make([]string, 0, len(declaredSpecs))
	for _, s := range declaredSpecs {
		n, err := normalize(s)
		if err != nil {
			if slices.Contains(liveSpecs, s) {
				n = s // systemd kept it verbatim; nothing to normalize
			} else {
				return false, fmt.Sprintf("OnCalendar %q cannot be normalized (%v), so it could not be compared with the host's %s", s, err, quoteList(liveSpecs))
			}
		}
		want = append(want, n)
	}
	got := make([]string, 0, len(liveSpecs))
	for _, s := range liveSpecs {
		if n, err := normalize(s); err == nil {
			s = n
		}
		got = append(got, s)
	}
	return sameSet(want, got), ""
}

// normalize is NormalizeCalendar, remembered per spec: a host has many
// timers on few distinct calendars.
func (c *comparison) normalize(spec string) (string, error) {
	if n, ok := c.calendars[spec]; ok {
		if n == "" {
			return NormalizeCalendar(spec) // for the error
		}
		return n, nil
	}
	n, err := NormalizeCalendar(spec)
	c.calendars[spec] = n
	return n, err
}

func sameSet(a, b []string) bool {
	set := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range l {
			m[s] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	if len(sa) != len(sb) {
		return false
	}
	for s := range sa {
		if !sb[s] {
			return false
		}
	}
	return true
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "nothing"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func (c *comparison) renamed(p renamePair) Finding {
	d, lu := p.declared, p.live
	detail := fmt.Sprintf("declared %s is not on the host, which runs %s instead (%s)", d.Name, lu.Name, describeHost(lu))
	if rev, _, ok := c.lastDeclared(lu.Name); ok {
		detail += fmt.Sprintf("; %s was last declared at %s", lu.Name, ShortRev(rev.Commit))
	}
	return Finding{
		Kind: KindRenamed, Unit: d.Name, LiveUnit: lu.Name, DeclaredAt: declaredAt(d), Host: hostState(lu), Severity: SeverityDrift,
		Detail: detail,
		Fix:    fmt.Sprintf("commit the rename: declare %s in %s, or rebuild the host from %s", lu.Name, d.File, c.rev),
	}
}

// companion reports the service a renamed timer activates on the host when
// it is undeclared too: the declared timer's service may exist (NixOS
// defines a stock docker-prune.service), but the host's timer runs another.
func (c *comparison) companion(p renamePair, paired map[string]bool) (Finding, bool) {
	if declared.UnitType(p.declared.Name) != "timer" || p.live.Timer == nil {
		return Finding{}, false
	}
	liveTarget := p.live.Timer.Unit
	if liveTarget == "" {
		liveTarget = unitBase(p.live.Name) + ".service"
	}
	declTarget := p.declared.Properties.Unit
	if declTarget == "" {
		declTarget = unitBase(p.declared.Name) + ".service"
	}
	lu, ok := c.live[liveTarget]
	if !ok || paired[liveTarget] || c.isDecl[liveTarget] || !onHost(lu) || !c.isDecl[declTarget] {
		return Finding{}, false
	}
	paired[liveTarget] = true
	var d declared.Unit
	for _, u := range c.declared {
		if u.Name == declTarget {
			d = u
		}
	}
	return Finding{
		Kind: KindRenamed, Unit: declTarget, LiveUnit: liveTarget, DeclaredAt: declaredAt(d), Host: hostState(lu), Severity: SeverityDrift,
		Detail: fmt.Sprintf("the host's %s activates %s (%s), which %s does not declare; the declared %s activates %s",
			p.live.Name, liveTarget, describeHost(lu), c.rev, p.declared.Name, declTarget),
		Fix: fmt.Sprintf("commit the rename: declare %s in %s, or rebuild the host from %s", liveTarget, d.File, c.rev),
	}, true
}

// lastDeclared finds the newest earlier revision that declared name.
func (c *comparison) lastDeclared(name string) (Revision, declared.Unit, bool) {
	if c.history == nil {
		c.history = map[string]historyEntry{}
		for i := len(c.in.History) - 1; i >= 0; i-- { // oldest first, so newer ones overwrite
			rev := c.in.History[i]
			for _, u := range rev.Units {
				// Only units on the host that the revision does not
				// declare are ever looked up.
				if _, onHost := c.live[u.Name]; onHost && !c.isDecl[u.Name] && u.Scope != declared.ScopeUser {
					c.history[u.Name] = historyEntry{rev: i, unit: u}
				}
			}
		}
	}
	e, ok := c.history[name]
	if !ok {
		return Revision{}, declared.Unit{}, false
	}
	return c.in.History[e.rev], e.unit, true
}

type historyEntry struct {
	rev  int // index into Input.History
	unit declared.Unit
}

func (c *comparison) stale(lu live.Unit) (Finding, bool) {
	rev, u, ok := c.lastDeclared(lu.Name)
	if !ok {
		return Finding{}, false
	}
	when := ShortRev(rev.Commit)
	if !rev.Date.IsZero() {
		when += " (" + rev.Date.UTC().Format("2006-01-02") + ")"
	}
	fix := fmt.Sprintf("rebuild the host from %s (nixos-rebuild switch) so that it drops the unit, or declare it again", c.rev)
	if isRunning(lu.ActiveState) {
		fix = fmt.Sprintf("rebuild the host from %s and stop it if it keeps running (systemctl stop %s), or declare it again", c.rev, lu.Name)
	}
	return Finding{
		Kind: KindStale, Unit: lu.Name, DeclaredAt: declaredAt(u), Host: hostState(lu), Severity: SeverityDrift,
		Detail: fmt.Sprintf("last declared at %s, not at %s, but the host still has it (%s)", when, c.rev, describeHost(lu)),
		Fix:    fix,
	}, true
}

func (c *comparison) undeclared(lu live.Unit) Finding {
	return Finding{
		Kind: KindUndeclared, Unit: lu.Name, Host: hostState(lu), Severity: SeverityDrift,
		Detail: fmt.Sprintf("the host has it (%s), but %s does not declare it", describeHost(lu), c.rev),
		Fix:    "declare it in the modules and commit, or remove it from the host",
	}
}

// unread carries what the declared or the live side could not read.
func (c *comparison) unread() []Finding {
	var out []Finding
	for _, u := range c.in.Declared.Unresolved {
		f := Finding{
			Kind: KindUnresolved, Unit: u.Unit, DeclaredAt: FileLine(u.File, u.Line), Severity: SeverityIncomplete,
			Detail: "declaration not resolved statically: " + u.Reason,
			Fix:    "write the unit name literally, or check the units it declares by hand",
		}
		if u.Unit != "" {
			// The unit is known and compared; only some property is not.
			f.Fix = "write the property literally, or compare it by hand (systemctl show " + u.Unit + ")"
		}
		out = append(out, f)
	}
	for _, e := range c.in.Declared.Errors {
		out = append(out, Finding{
			Kind: KindUnresolved, DeclaredAt: FileLine(e.File, e.Line), Severity: SeverityIncomplete,
			Detail: "module does not parse: " + e.Message,
			Fix:    fmt.Sprintf("fix the syntax error (nix-instantiate --parse %s)", e.File),
		})
	}
	at := map[string]string{}
	if len(c.in.Live.Errors) > 0 {
		for _, d := range c.declared {
			at[d.Name] = declaredAt(d)
		}
	}
	for _, e := range c.in.Live.Errors {
		out = append(out, Finding{
			Kind: KindUnresolved, Unit: e.Unit, DeclaredAt: at[e.Unit], Severity: SeverityIncomplete,
			Detail: "could not be read from systemd: " + e.Message,
			Fix:    "run the check again; if it persists, inspect it with systemctl show",
		})
	}
	return out
}

// FileLine is "file:line", or the file alone when the line is unknown
// (0): how findings name a place.
func FileLine(file string, line int) string {
	if line <= 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, line)
}

func (c *comparison) hygiene() []Finding {
	h := c.in.Hygiene
	var out []Finding
	if h.DirtyUnread != "" {
		// A warning like the fact itself: under --strict it fails the
		// check, because the pre-claim check must not pass what it could
		// not verify.
		out = append(out, Finding{
			Kind: KindDirty, Severity: SeverityWarning, Detail: h.DirtyUnread,
			Fix: "fix the cause and run the check again",
		})
	}
	for _, ch := range h.Dirty {
		out = append(out, Finding{
			Kind: KindDirty, DeclaredAt: ch.Path, Severity: SeverityWarning,
			Detail: fmt.Sprintf("%s is %s in the work tree and not committed", ch.Path, dirtyWording(ch.Change)),
			Fix:    "commit the change (or discard it) and rebuild the host from the new commit",
		})
	}
	for _, ch := range h.SourceDiffers {
		out = append(out, Finding{
			Kind: KindSourceDiffers, DeclaredAt: ch.Path, Severity: SeverityWarning,
			Detail: fmt.Sprintf("%s %s: the host may be built from an uncommitted copy", ch.Path, sourceWording(ch.Change, h.DeploySource, c.rev)),
			Fix:    fmt.Sprintf("commit the deploy source's changes, or rebuild the host from %s", c.rev),
		})
	}
	if f, ok := c.provenance(); ok {
		out = append(out, f)
	}
	if f, ok := c.toplevel(); ok {
		out = append(out, f)
	}
	return out
}

// toplevel reports a host that does not run what the revision builds (a
// warning, like the other identity facts), and a revision whose system
// does not evaluate: then the host cannot run it, and the check cannot
// confirm anything, so the check is incomplete.
func (c *comparison) toplevel() (Finding, bool) {
	t := c.in.Hygiene.Toplevel
	switch {
	case t.Error != "":
		return Finding{
			Kind: KindToplevel, Severity: SeverityIncomplete,
			Detail: fmt.Sprintf("the system %s builds (system.build.toplevel) does not evaluate, so the host cannot run it: %s", c.rev, t.Error),
			Fix:    fmt.Sprintf("fix the configuration at %s so that it evaluates (nixos-rebuild build), then rebuild the host from the fix", c.rev),
		}, true
	case t.Unread != "":
		// A warning like the fact itself: under --strict it fails the
		// check, which must not pass what it could not verify.
		return Finding{
			Kind: KindToplevel, Severity: SeverityWarning, Detail: t.Unread,
			Fix: "fix the cause and run the check again",
		}, true
	case t.Compared && t.Revision != t.Host:
		return Finding{
			Kind: KindToplevel, Severity: SeverityWarning,
			Detail: fmt.Sprintf("the host runs %s, but %s builds %s: the host was not built from this revision", t.Host, c.rev, t.Revision),
			Fix:    fmt.Sprintf("rebuild the host from %s (nixos-rebuild switch), or check against the revision the host was built from", c.rev),
		}, true
	}
	return Finding{}, false
}

func dirtyWording(change string) string {
	switch change {
	case ChangeDeleted:
		return "deleted"
	case ChangeAdded:
		return "untracked"
	}
	return "modified"
}

func sourceWording(change, dir, rev string) string {
	switch change {
	case ChangeDeleted:
		return fmt.Sprintf("is in %s but missing from the deploy source %s", rev, dir)
	case ChangeAdded:
		return fmt.Sprintf("is in the deploy source %s but not in %s", dir, rev)
	}
	return fmt.Sprintf("differs between the deploy source %s and %s", dir, rev)
}

func (c *comparison) provenance() (Finding, bool) {
	p := c.in.Hygiene.Provenance
	f := Finding{Kind: KindRevision, Severity: SeverityWarning}
	host := p.HostRevision
	switch p.Status {
	case ProvenanceOlder:
		f.Detail = fmt.Sprintf("the host runs %s, an ancestor of %s: the revision is not deployed yet", ShortRev(host), c.rev)
		f.Fix = fmt.Sprintf("deploy %s (nixos-rebuild switch), or check against --rev %s", c.rev, ShortRev(host))
	case ProvenanceDiverged:
		f.Detail = fmt.Sprintf("the host runs %s, which is not an ancestor of %s (newer, or another branch)", ShortRev(host), c.rev)
		f.Fix = fmt.Sprintf("check against --rev %s, or rebuild the host from %s", ShortRev(host), c.rev)
	case ProvenanceUnknown:
		f.Detail = fmt.Sprintf("the host runs %s, which is not in this repository", host)
		f.Fix = fmt.Sprintf("fetch the host's revision, or rebuild the host from %s", c.rev)
	case ProvenanceDirty:
		if host == "" {
			f.Detail = "the host records no configurationRevision: it was built from an uncommitted tree, or without system.configurationRevision"
		} else {
			f.Detail = fmt.Sprintf("the host was built from an uncommitted tree (configurationRevision %s)", host)
		}
		f.Fix = "commit the changes and rebuild the host from the commit; set system.configurationRevision = self.rev or self.dirtyRev or null"
	case ProvenanceUnreadable:
		// A warning like the fact itself; the pre-claim check cannot pass
		// what it could not verify, and could not look: incomplete.
		f.Detail = "could not read the host's configurationRevision: " + p.Reason
		f.Fix = "fix the cause and run the check again"
		if c.in.Strict {
			f.Severity = SeverityIncomplete
		}
	case ProvenanceEqual:
		return Finding{}, false
	default: // not read
		if !c.in.Strict {
			return Finding{}, false // a note says so; provenance is a warning-level fact
		}
		reason := p.Reason
		if reason == "" {
			reason = "not read"
		}
		f.Severity = SeverityIncomplete
		f.Detail = fmt.Sprintf("the host's configurationRevision was not read (%s), so --strict cannot verify that the host was built from %s", reason, c.rev)
		f.Fix = "run the check on the host itself (its system bus), or pass --nixos-version PATH with the host's nixos-version"
	}
	return f, true
}

var severityRank = map[Severity]int{SeverityDrift: 0, SeverityIncomplete: 1, SeverityWarning: 2}

var kindRank = map[Kind]int{
	KindRenamed: 0, KindMissing: 1, KindStale: 2, KindUndeclared: 3, KindMismatch: 4, KindUnresolved: 5, KindRevision: 6, KindToplevel: 7, KindSourceDiffers: 8, KindDirty: 9,
}

// Sort orders findings worst first: by severity, then kind, then names, so
// that the output is deterministic.
func Sort(findings []Finding) {
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if severityRank[a.Severity] != severityRank[b.Severity] {
			return severityRank[a.Severity] < severityRank[b.Severity]
		}
		if kindRank[a.Kind] != kindRank[b.Kind] {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		for _, cmp := range [][2]string{{a.Unit, b.Unit}, {a.LiveUnit, b.LiveUnit}, {a.DeclaredAt, b.DeclaredAt}, {a.Detail, b.Detail}} {
			if cmp[0] != cmp[1] {
				return cmp[0] < cmp[1]
			}
		}
		return false
	})
}

// overrideSites lists the sites of a unit the repository only overrides
// (no site declares it), "" when some site declares it.
func overrideSites(d declared.Unit) string {
	var sites []string
	for _, def := range d.Definitions {
		switch def.Role {
		case declared.RoleDeclares:
			return ""
		case declared.RoleOverrides:
			sites = append(sites, fmt.Sprintf("%s:%d", def.File, def.Line))
		}
	}
	if d.ImpliedBy != "" {
		return ""
	}
	return strings.Join(sites, ", ")
}
