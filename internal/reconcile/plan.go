// Package reconcile turns the findings of a check into the steps that end
// them: edits of the revision's module files that adopt the host into git
// (--to git), or the commands that put git back on the host (--to host).
// It is pure: callers hand it the findings, the module files and, when
// they have them, the facts of the check, and it reads nothing else.
//
// A plan made from a check's facts is verified before it is offered: the
// planned files are parsed and their units compared with the same host
// state, as a check of the planned commit would compare them. Findings
// that comparison still reports are left for a person, never claimed.
package reconcile

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/modules"
	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// Schema identifies the plan's JSON format.
const Schema = "driftcheck.reconcile/v1"

// Target says which side is made to agree with the other.
type Target string

const (
	// ToGit adopts the host into git: edits of the module files.
	ToGit Target = "git"
	// ToHost applies git to the host: nixos-rebuild commands.
	ToHost Target = "host"
)

// Input is everything a plan is made from.
type Input struct {
	To       Target
	Rev      string              // full commit id the findings are about
	Findings []unitdiff.Finding  // the check's findings
	Files    []gitrev.File       // the module files at Rev
	Facts    *unitdiff.Input     // the check's inputs; nil when planning from a report (no verification)
	Deploy   map[string][]byte   // --deploy-source: the copy's content of each differing or extra file
	Host     HostTarget          // --to host
	UnitFile map[string]UnitFile // the host's unit files, by unit name, for undeclared and stale units
}

// HostTarget says how the host is rebuilt from the revision.
type HostTarget struct {
	Repo  string // absolute path of the repository
	Host  string // nixosConfigurations attribute; "" = the host's own name
	Flake bool   // the revision has flake.nix at its root
	// Config is the non-flake entry point at the revision
	// (configuration.nix), used without a flake.
	Config string
}

// UnitFile is a host unit file, shown as a reference for what to declare.
type UnitFile struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
}

// Step actions.
const (
	ActionRename  = "rename"     // rename a unit's attribute at every definition site
	ActionSet     = "set"        // write the host's value of a property at its site
	ActionWrite   = "write-file" // take the deploy source's version of a file
	ActionDelete  = "delete-file"
	ActionCommand = "command" // a command for the operator to run on the host
)

// Step is one change, and the findings it ends.
type Step struct {
	Action   string   `json:"action"`
	Unit     string   `json:"unit,omitempty"`
	NewUnit  string   `json:"new_unit,omitempty"`
	Property string   `json:"property,omitempty"`
	Value    string   `json:"value,omitempty"` // Nix syntax
	Command  string   `json:"command,omitempty"`
	Files    []string `json:"files,omitempty"` // files touched
	Sites    []string `json:"sites,omitempty"` // file:line of each edited place
	Detail   string   `json:"detail"`
	// Ends are the findings this step ends, including findings that only
	// appeared once earlier steps were made (Reported false).
	Ends []Ended `json:"ends"`
}

// Ended is a finding a step ends.
type Ended struct {
	unitdiff.Finding
	// Reported is false for a finding the check did not report, found
	// when the plan's earlier steps were compared with the host (the
	// renamed unit's description, for instance).
	Reported bool `json:"reported"`
}

// Left is a finding no step ends.
type Left struct {
	Finding  unitdiff.Finding `json:"finding"`
	Reason   string           `json:"reason"`
	UnitFile *UnitFile        `json:"unit_file,omitempty"` // undeclared, stale: the host's file, as a reference
	Reported bool             `json:"reported"`
}

// FileChange is one file the plan writes.
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"` // modified, added, deleted
	Old    []byte `json:"-"`
	New    []byte `json:"-"`
}

// Plan is what reconcile proposes.
type Plan struct {
	Schema   string       `json:"schema"`
	To       Target       `json:"to"`
	Rev      string       `json:"rev"`
	Findings int          `json:"findings"` // how many findings the check reported
	Steps    []Step       `json:"steps"`
	Left     []Left       `json:"left"`
	Files    []FileChange `json:"files"`
	// Verified is set when the planned tree was compared with the host
	// and only the findings in Left remain.
	Verified bool     `json:"verified"`
	Notes    []string `json:"notes,omitempty"`
}

// Exit codes of the reconcile command.
const (
	ExitNothing = 0 // nothing to reconcile
	ExitPlanned = 1 // a plan ends every finding
	ExitLeft    = 3 // some findings are left for a person
)

// ExitCode maps the plan to the command's exit code.
func (p *Plan) ExitCode() int {
	switch {
	case p.Findings == 0:
		return ExitNothing
	case len(p.Left) > 0:
		return ExitLeft
	default:
		return ExitPlanned
	}
}

// Make plans the steps that end the findings.
func Make(in Input) (*Plan, error) {
	p := &Plan{Schema: Schema, To: in.To, Rev: in.Rev, Findings: len(in.Findings), Steps: []Step{}, Left: []Left{}, Files: []FileChange{}}
	switch in.To {
	case ToGit:
		if err := planGit(in, p); err != nil {
			return nil, err
		}
	case ToHost:
		planHost(in, p)
	default:
		return nil, fmt.Errorf("reconcile: target %q: want git or host", in.To)
	}
	return p, nil
}

// findingKey identifies a finding across comparisons of different trees:
// line numbers move when a file is edited, the rest does not.
func findingKey(f unitdiff.Finding) string {
	file, _, _ := strings.Cut(f.DeclaredAt, ":")
	return strings.Join([]string{string(f.Kind), f.Unit, f.LiveUnit, f.Property, file, detailWithoutLines(f)}, "|")
}

func detailWithoutLines(f unitdiff.Finding) string {
	if f.Kind == unitdiff.KindMismatch && f.Property != "" {
		return "" // the property and the unit say it
	}
	return f.Detail
}

// isHygiene reports findings about how the host was built rather than
// which units it runs; a re-comparison of units does not produce them.
func isHygiene(k unitdiff.Kind) bool {
	return k == unitdiff.KindDirty || k == unitdiff.KindSourceDiffers || k == unitdiff.KindRevision
}

// gitPlanner holds the state of one --to git plan.
type gitPlanner struct {
	in    Input
	plan  *Plan
	files map[string][]byte // the planned tree's module files
	orig  map[string][]byte
	// candidates are, per step, the keys of findings it would end.
	candidates [][]string
	reported   map[string]unitdiff.Finding
	seen       map[string]unitdiff.Finding // every finding of every comparison, by key
}

func planGit(in Input, p *Plan) error {
	g := &gitPlanner{in: in, plan: p, files: map[string][]byte{}, orig: map[string][]byte{},
		reported: map[string]unitdiff.Finding{}, seen: map[string]unitdiff.Finding{}}
	for _, f := range in.Files {
		if f.Problem != nil {
			continue
		}
		g.files[f.Path] = f.Data
		g.orig[f.Path] = f.Data
	}
	var units []unitdiff.Finding
	for _, f := range in.Findings {
		k := findingKey(f)
		g.reported[k] = f
		g.seen[k] = f
		if !isHygiene(f.Kind) {
			units = append(units, f)
		}
	}
	g.hygiene()
	if len(g.plan.Steps) > 0 && in.Facts != nil {
		units = g.compare()
	}
	for round := 0; round < 4; round++ {
		made, err := g.round(units)
		if err != nil {
			return err
		}
		if !made {
			break
		}
		if in.Facts == nil {
			break // nothing to compare with: one pass over the reported findings
		}
		units = g.compare()
	}
	if err := g.finish(units); err != nil {
		return err
	}
	return nil
}

// hygiene plans the deploy source's files and says what else it leaves.
func (g *gitPlanner) hygiene() {
	for _, f := range g.in.Findings {
		if f.Kind != unitdiff.KindSourceDiffers {
			continue
		}
		path := f.DeclaredAt
		data, inCopy := g.in.Deploy[path]
		_, inRev := g.files[path]
		switch {
		case inCopy:
			g.files[path] = data
			detail := fmt.Sprintf("take the deploy source's %s", path)
			if !inRev {
				detail = fmt.Sprintf("add %s from the deploy source", path)
			}
			g.addStep(Step{Action: ActionWrite, Files: []string{path}, Detail: detail}, []string{findingKey(f)})
		case inRev && g.in.Deploy != nil:
			delete(g.files, path)
			g.addStep(Step{Action: ActionDelete, Files: []string{path}, Detail: fmt.Sprintf("delete %s, which the deploy source does not have", path)}, []string{findingKey(f)})
		}
	}
}

func (g *gitPlanner) addStep(s Step, ends []string) {
	g.plan.Steps = append(g.plan.Steps, s)
	g.candidates = append(g.candidates, ends)
}

// compare re-compares the planned tree with the host, as a check of the
// planned commit would: the revision becomes the newest earlier revision.
func (g *gitPlanner) compare() []unitdiff.Finding {
	in := *g.in.Facts
	in.Declared = modules.Extract(g.treeFiles())
	prev := unitdiff.Revision{Commit: in.Rev, Units: g.in.Facts.Declared.Units}
	in.History = append([]unitdiff.Revision{prev}, in.History...)
	in.Hygiene = unitdiff.Hygiene{}
	found := unitdiff.Compare(in)
	for _, f := range found {
		if _, ok := g.seen[findingKey(f)]; !ok {
			g.seen[findingKey(f)] = f
		}
	}
	return found
}

func (g *gitPlanner) treeFiles() []gitrev.File {
	paths := make([]string, 0, len(g.files))
	for p := range g.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out := make([]gitrev.File, 0, len(paths))
	for _, p := range paths {
		out = append(out, gitrev.File{Path: p, Data: g.files[p]})
	}
	return out
}

// round plans renames first; mismatches are planned once no rename is
// pending, because a rename changes which host unit a declaration is
// compared with.
func (g *gitPlanner) round(findings []unitdiff.Finding) (bool, error) {
	renames := map[string]string{}
	var renameFindings []unitdiff.Finding
	for _, f := range findings {
		if f.Kind == unitdiff.KindRenamed && f.LiveUnit != "" && declared.UnitType(f.Unit) == declared.UnitType(f.LiveUnit) {
			if _, dup := renames[f.Unit]; !dup {
				renames[f.Unit] = f.LiveUnit
				renameFindings = append(renameFindings, f)
			}
		}
	}
	made := false
	if len(renames) > 0 {
		var err error
		if made, err = g.renameAll(renameFindings, findings); err != nil || g.in.Facts != nil {
			return made, err
		}
	}
	for _, f := range findings {
		if f.Kind != unitdiff.KindMismatch || f.Property == "" {
			continue
		}
		if _, renamed := renames[f.Unit]; renamed {
			continue // compared with another host unit once renamed
		}
		ok, err := g.setProperty(f)
		if err != nil {
			return false, err
		}
		made = made || ok
	}
	return made, nil
}

func unitBase(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}

// sitesOf finds every segment naming each unit, in every planned file.
func (g *gitPlanner) sitesOf() (map[string][]nameSite, error) {
	out := map[string][]nameSite{}
	for _, f := range g.treeFiles() {
		ast, err := parseFile(f.Path, f.Data)
		if err != nil {
			continue // a file that does not parse declares nothing reconcile can edit
		}
		for _, s := range findNameSites(f.Path, ast.Expr) {
			out[s.Unit] = append(out[s.Unit], s)
		}
	}
	return out, nil
}

// renameAll renames every paired unit at every site that names it. A
// timer and its service renamed together are one step each; a unit with
// a site that cannot be rewritten (inherit) is not renamed at all.
func (g *gitPlanner) renameAll(renamed, all []unitdiff.Finding) (bool, error) {
	sites, err := g.sitesOf()
	if err != nil {
		return false, err
	}
	edits := map[string][]edit{}
	bindings := bindingRenames(sites, renamed)
	edited := map[*ast.String]bool{}
	made := false
	for _, f := range renamed {
		us := sites[f.Unit]
		if len(us) == 0 || hasInherit(us) {
			continue
		}
		newBase := unitBase(f.LiveUnit)
		step := Step{Action: ActionRename, Unit: f.Unit, NewUnit: f.LiveUnit,
			Detail: fmt.Sprintf("rename %s to %s at every definition site", f.Unit, f.LiveUnit)}
		files := map[string]bool{}
		for _, s := range us {
			src := g.files[s.File]
			e := nodeEdit(s.File, s.Node, attrName(newBase))
			if s.Bound != nil && bindings[s.Bound] {
				// The let binding names only units renamed alike: rename
				// it there, once, and keep ${var} as written.
				e = nodeEdit(s.File, s.Bound, nixString(newBase))
				if edited[s.Bound] {
					step.Sites = append(step.Sites, fmt.Sprintf("%s:%d", s.File, lineOf(src, e.start)))
					files[s.File] = true
					continue
				}
				edited[s.Bound] = true
			}
			edits[s.File] = append(edits[s.File], e)
			step.Sites = append(step.Sites, fmt.Sprintf("%s:%d", s.File, lineOf(src, e.start)))
			files[s.File] = true
		}
		step.Files = sortedKeys(files)
		ends := []string{findingKey(f)}
		for _, o := range all {
			// Whatever was compared under the old name ends with it.
			if o.Unit == f.Unit && o.Kind != unitdiff.KindRenamed {
				ends = append(ends, findingKey(o))
			}
		}
		g.addStep(step, ends)
		made = true
	}
	return made, g.applyAll(edits)
}

// bindingRenames are the let-bound strings that may be renamed in place:
// every unit name read from them is renamed, to the same new name, and the
// variable is used nowhere else.
func bindingRenames(sites map[string][]nameSite, renamed []unitdiff.Finding) map[*ast.String]bool {
	newBase := map[string]string{}
	for _, f := range renamed {
		newBase[f.Unit] = unitBase(f.LiveUnit)
	}
	targets := map[*ast.String]map[string]bool{}
	uses := map[*ast.String]int{}
	info := map[*ast.String]nameSite{}
	for unit, us := range sites {
		for _, s := range us {
			if s.Bound == nil {
				continue
			}
			if targets[s.Bound] == nil {
				targets[s.Bound] = map[string]bool{}
			}
			nb, ok := newBase[unit]
			if !ok {
				nb = "" // a unit that keeps its name reads it too
			}
			targets[s.Bound][nb] = true
			uses[s.Bound]++
			info[s.Bound] = s
		}
	}
	out := map[*ast.String]bool{}
	for str, t := range targets {
		s := info[str]
		if len(t) == 1 && !t[""] && references(s.BoundIn, s.Var) == uses[str]+1 {
			out[str] = true
		}
	}
	return out
}

func hasInherit(sites []nameSite) bool {
	for _, s := range sites {
		if s.Inherit {
			return true
		}
	}
	return false
}

func (g *gitPlanner) applyAll(edits map[string][]edit) error {
	for _, path := range sortedKeys(edits) {
		out, err := applyEdits(g.files[path], edits[path])
		if err != nil {
			return err
		}
		if err := reparse(path, out); err != nil {
			return err
		}
		g.files[path] = out
	}
	return nil
}

// propertyPaths are where a unit's property is written in a NixOS module.
var propertyPaths = map[string][][]string{
	"Description": {{"description"}, {"unitConfig", "Description"}},
	"OnCalendar":  {{"timerConfig", "OnCalendar"}},
	"Persistent":  {{"timerConfig", "Persistent"}},
	"Unit":        {{"timerConfig", "Unit"}},
}

// setProperty writes the host's value at the one site that sets the
// property with a literal. Anything else (no site, several, a computed
// value) is left for a person.
func (g *gitPlanner) setProperty(f unitdiff.Finding) (bool, error) {
	value, ok := hostValue(f)
	if !ok {
		return false, nil
	}
	sites, err := g.sitesOf()
	if err != nil {
		return false, err
	}
	var found []propSite
	for _, path := range propertyPaths[f.Property] {
		found = append(found, propertySites(sites[f.Unit], path)...)
	}
	if len(found) != 1 || found[0].Conditional || !isLiteral(found[0].Value) {
		return false, nil
	}
	s := found[0]
	e := nodeEdit(s.File, s.Value, value)
	line := lineOf(g.files[s.File], e.start)
	if err := g.applyAll(map[string][]edit{s.File: {e}}); err != nil {
		return false, err
	}
	g.addStep(Step{
		Action: ActionSet, Unit: f.Unit, Property: f.Property, Value: value,
		Files: []string{s.File}, Sites: []string{fmt.Sprintf("%s:%d", s.File, line)},
		Detail: fmt.Sprintf("set %s of %s to the host's %s", f.Property, f.Unit, value),
	}, []string{findingKey(f)})
	return true, nil
}

// finish decides which findings the steps end and which are left, and
// records the files the plan changes.
func (g *gitPlanner) finish(remaining []unitdiff.Finding) error {
	left := map[string]bool{}
	if g.in.Facts != nil {
		for _, f := range remaining {
			left[findingKey(f)] = true
		}
		g.plan.Verified = true
	} else {
		g.plan.Notes = append(g.plan.Notes, "planned from a report: not compared with the host; run check on the result")
	}
	claimed := map[string]bool{}
	for i := range g.plan.Steps {
		for _, k := range g.candidates[i] {
			if left[k] || claimed[k] {
				continue
			}
			claimed[k] = true
			_, reported := g.reported[k]
			g.plan.Steps[i].Ends = append(g.plan.Steps[i].Ends, Ended{Finding: g.seen[k], Reported: reported})
		}
	}
	// A finding that is gone although no step named it ended with the
	// plan as a whole (a renamed unit whose file the deploy source
	// replaced): it goes to the first step touching its file.
	for _, k := range sortedKeys(g.seen) {
		f := g.seen[k]
		if claimed[k] || left[k] || isHygiene(f.Kind) || g.in.Facts == nil {
			continue
		}
		if i := g.stepFor(f); i >= 0 {
			claimed[k] = true
			_, reported := g.reported[k]
			g.plan.Steps[i].Ends = append(g.plan.Steps[i].Ends, Ended{Finding: f, Reported: reported})
		} else {
			left[k] = true
		}
	}
	var leftOrder []unitdiff.Finding
	for _, f := range g.in.Findings {
		if !claimed[findingKey(f)] {
			leftOrder = append(leftOrder, f)
		}
	}
	for _, f := range remaining {
		if _, reported := g.reported[findingKey(f)]; !reported {
			leftOrder = append(leftOrder, f)
		}
	}
	for _, f := range leftOrder {
		_, reported := g.reported[findingKey(f)]
		g.plan.Left = append(g.plan.Left, g.leave(f, reported))
	}
	return g.changes()
}

func (g *gitPlanner) stepFor(f unitdiff.Finding) int {
	file, _, _ := strings.Cut(f.DeclaredAt, ":")
	for i, s := range g.plan.Steps {
		for _, p := range s.Files {
			if p == file {
				return i
			}
		}
	}
	return -1
}

// leave says why no step ends f, and what a person can do.
func (g *gitPlanner) leave(f unitdiff.Finding, reported bool) Left {
	l := Left{Finding: f, Reported: reported}
	switch f.Kind {
	case unitdiff.KindDirty:
		l.Reason = "the work tree is yours: reconcile commits only the revision; commit or discard the change yourself"
	case unitdiff.KindRevision:
		l.Reason = "the host runs another revision: check against that revision, or rebuild the host (reconcile --to host)"
	case unitdiff.KindSourceDiffers:
		l.Reason = "the deploy source's files were not read: pass --deploy-source"
	case unitdiff.KindUndeclared:
		l.Reason = fmt.Sprintf("no automatic step: declare %s in a module (systemd.%s.%s), written from the host's unit file below, or remove it from the host",
			f.Unit, kindAttr(f.Unit), attrName(unitBase(f.Unit)))
		l.UnitFile = g.unitFile(f.Unit)
	case unitdiff.KindStale:
		l.Reason = fmt.Sprintf("no automatic step: declare %s again (as at %s, the last revision that declared it), or rebuild the host so that it drops the unit",
			f.Unit, f.DeclaredAt)
		l.UnitFile = g.unitFile(f.Unit)
	case unitdiff.KindRenamed:
		l.Reason = fmt.Sprintf("%s could not be renamed at every site (a name that is computed or inherited): rename it to %s by hand", f.Unit, f.LiveUnit)
	case unitdiff.KindMismatch:
		if f.Property != "" {
			l.Reason = fmt.Sprintf("%s of %s is not set by exactly one literal in the modules: set it to the host's value by hand", f.Property, f.Unit)
		} else {
			l.Reason = "not a declared value reconcile can write: " + f.Fix
		}
	default:
		l.Reason = f.Fix
	}
	return l
}

func (g *gitPlanner) unitFile(unit string) *UnitFile {
	if uf, ok := g.in.UnitFile[unit]; ok {
		return &uf
	}
	return nil
}

// kindAttr is the attribute under systemd for a unit's type.
func kindAttr(unit string) string {
	t := declared.UnitType(unit)
	for attr, typ := range unitKindAttrs {
		if typ == t {
			return attr
		}
	}
	return t + "s"
}

// changes records every file whose planned content differs from the
// revision's, after checking that each still parses.
func (g *gitPlanner) changes() error {
	paths := map[string]bool{}
	for p := range g.files {
		paths[p] = true
	}
	for p := range g.orig {
		paths[p] = true
	}
	for _, p := range sortedKeys(paths) {
		old, inOld := g.orig[p]
		cur, inNew := g.files[p]
		switch {
		case inOld && inNew && bytes.Equal(old, cur):
			continue
		case inOld && !inNew:
			g.plan.Files = append(g.plan.Files, FileChange{Path: p, Change: unitdiff.ChangeDeleted, Old: old})
			continue
		case !inOld:
			g.plan.Files = append(g.plan.Files, FileChange{Path: p, Change: unitdiff.ChangeAdded, New: cur})
		default:
			g.plan.Files = append(g.plan.Files, FileChange{Path: p, Change: unitdiff.ChangeModified, Old: old, New: cur})
		}
		if err := reparse(p, cur); err != nil {
			return err
		}
	}
	return nil
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
