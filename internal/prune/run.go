package prune

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Engine is the Docker side as the executor needs it. It deliberately has
// no method that prunes volumes, networks or the whole system: the executor
// cannot call what does not exist (structure_test.go checks the sources
// too).
type Engine interface {
	Inventory(ctx context.Context) (*Inventory, error)
	// Disk measures the filesystem holding the Docker root now.
	Disk(ctx context.Context, rootDir string) (Disk, error)
	RemoveContainer(ctx context.Context, id string) error
	RemoveImage(ctx context.Context, id string) error
	// RemoveBuildCache deletes one record; deleted is false when the daemon
	// kept it (e.g. it became in use or shared).
	RemoveBuildCache(ctx context.Context, id string) (deleted bool, err error)
	Close() error
}

// Errors an Engine wraps so the executor can tell a skip from a failure.
var (
	ErrConflict = errors.New("conflict") // 409: in use, or a prune operation is already running
	ErrNotFound = errors.New("not found")
)

// Connector builds the Engine. Run calls it only after the drift gate and
// the locks are open, so a blocked run contacts no daemon at all.
type Connector func(ctx context.Context) (Engine, error)

// DriftGate evaluates "git and host agree". An error means the check could
// not run; the gate is then closed too.
type DriftGate func(ctx context.Context) (Gate, error)

// Steps of a run, as named in StepCheck.Before.
const (
	StepContainers = "containers"
	StepImages     = "images"
	StepBuildCache = "build-cache"
)

// Options configure Run.
type Options struct {
	Policy      Policy
	DryRun      bool
	NoDriftGate bool
	Drift       DriftGate
	Connect     Connector
	DeployLock  string // --lock; "" = none
	StateDir    string // holds the state file and the prune's own lock
	Now         func() time.Time
}

// Run evaluates the gates, plans, and executes the plan. It always returns a
// report; the error is set when the run could not complete (exit 2).
func Run(ctx context.Context, opts Options) (*Report, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	r := &Report{Schema: ReportSchema, DryRun: opts.DryRun, StartedAt: now().UTC()}
	err := run(ctx, opts, r, now)
	if err != nil {
		if r.Outcome != OutcomeBlocked { // a drift check that cannot run still blocks
			r.Outcome = OutcomeError
		}
		r.Error = err.Error()
	}
	r.DurationSeconds = now().Sub(r.StartedAt).Seconds()
	return r, err
}

func run(ctx context.Context, opts Options, r *Report, now func() time.Time) error {
	// A deploy lock in a missing directory is a configuration error, found
	// before the drift check so that it is reported on every run.
	if opts.DeployLock != "" {
		if err := CheckLockDir(opts.DeployLock); err != nil {
			return fmt.Errorf("deploy lock: %w", err)
		}
	}
	if open, err := driftGate(ctx, opts, r); err != nil || !open {
		return err
	}
	release, open, err := takeLocks(opts, r)
	if err != nil || !open {
		return err
	}
	defer release()

	eng, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	defer eng.Close()

	inv, err := inventory(ctx, eng, opts)
	if err != nil {
		return err
	}
	r.Store, r.StoreNote, r.APIVersion = inv.Store, StoreNote(inv.Store), inv.APIVersion
	r.Disk = DiskReport{Path: inv.Disk.Path, BeforePct: inv.Disk.BytesPct, InodesBeforePct: inv.Disk.InodesPct,
		AfterPct: inv.Disk.BytesPct, InodesAfterPct: inv.Disk.InodesPct}
	// Plan (and record first-seen-unused times) even when a gate closes:
	// the image clocks must run while there is no pressure, or the first
	// run under pressure could delete nothing.
	plan, err := observe(inv, opts, now())
	if err != nil {
		return err
	}
	gates := dockerGates(inv, opts.Policy)
	r.Gates = append(r.Gates, gates...)
	if g, closed := firstClosed(gates); closed {
		r.Outcome = OutcomeSkipped
		r.Reason = g.Reason
		return nil
	}
	r.Protected = plan.Protected
	if opts.DryRun {
		for _, c := range plan.All() {
			r.Actions = append(r.Actions, actionOf(c, ResultPlanned, c.Reason))
		}
		r.Outcome = OutcomeNothingToDo
		if len(r.Actions) > 0 {
			r.Outcome = OutcomePruned
		}
		return nil
	}
	stopped, err := execute(ctx, eng, opts, plan, r)
	if err != nil {
		return err
	}
	return measureAfter(ctx, eng, opts, inv.RootDir, stopped, r)
}

// observe plans against the state file and saves the updated state.
func observe(inv *Inventory, opts Options, now time.Time) (PlanResult, error) {
	state, err := LoadState(opts.StateDir)
	if err != nil {
		return PlanResult{}, err
	}
	plan := Plan(inv, opts.Policy, state, now)
	if err := SaveState(opts.StateDir, plan.State); err != nil {
		return PlanResult{}, err
	}
	return plan, nil
}

func driftGate(ctx context.Context, opts Options, r *Report) (bool, error) {
	if opts.NoDriftGate {
		r.Gates = append(r.Gates, Gate{Name: GateDrift, Open: true, Reason: "DISABLED by --no-drift-gate: pruning without checking that git and host agree"})
		r.Warnings = append(r.Warnings, "drift gate disabled (--no-drift-gate): this prune does not know whether git and host agree")
		return true, nil
	}
	if opts.Drift == nil {
		return false, errors.New("no drift gate configured")
	}
	g, err := opts.Drift(ctx)
	g.Name = GateDrift
	if err != nil {
		g.Open, g.Reason = false, "drift check could not run: "+err.Error()
	}
	r.Gates = append(r.Gates, g)
	if !g.Open {
		r.Outcome, r.Reason = OutcomeBlocked, g.Reason
	}
	if err != nil {
		return false, fmt.Errorf("drift gate: %w", err)
	}
	return g.Open, nil
}

// takeLocks takes the prune's own lock (two prunes never overlap) and the
// deploy lock, both without waiting.
func takeLocks(opts Options, r *Report) (release func(), open bool, err error) {
	// The state directory is the prune's own (StateDirectory= in the NixOS
	// module); create it. The deploy lock's directory belongs to the
	// deploy tooling and must exist (TryLock).
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return nil, false, fmt.Errorf("state directory: %w", err)
	}
	paths := []string{filepath.Join(opts.StateDir, "prune.lock")}
	if opts.DeployLock != "" {
		paths = append(paths, opts.DeployLock)
	}
	var held []*Lock
	release = func() {
		for _, l := range held {
			l.Release()
		}
	}
	for i, p := range paths {
		l, err := TryLock(p)
		if errors.Is(err, ErrLockHeld) {
			release()
			what := "another driftcheck prune is running"
			if i > 0 {
				what = "deploy lock held"
			}
			g := Gate{Name: GateLock, Reason: fmt.Sprintf("%s (%s)", what, p)}
			r.Gates = append(r.Gates, g)
			r.Outcome, r.Reason = OutcomeSkipped, g.Reason
			return nil, false, nil
		}
		if err != nil {
			release()
			return nil, false, err
		}
		held = append(held, l)
	}
	r.Gates = append(r.Gates, Gate{Name: GateLock, Open: true, Reason: "took " + strings.Join(paths, ", ")})
	return release, true, nil
}

func inventory(ctx context.Context, eng Engine, opts Options) (*Inventory, error) {
	inv, err := eng.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	if inv.Disk, err = eng.Disk(ctx, inv.RootDir); err != nil {
		return nil, err
	}
	return inv, nil
}

func dockerGates(inv *Inventory, pol Policy) []Gate {
	return []Gate{
		PressureGate(inv.Disk, pol.ThresholdPct),
		BusyGate(inv, pol.BusyPattern),
		ConvergingGate(inv),
	}
}

func firstClosed(gates []Gate) (Gate, bool) {
	for _, g := range gates {
		if !g.Open {
			return g, true
		}
	}
	return Gate{}, false
}

// execute deletes the plan step by step, re-checking every gate right
// before each step; a gate that closed stops the run there.
func execute(ctx context.Context, eng Engine, opts Options, plan PlanResult, r *Report) (stopped bool, err error) {
	steps := []step{
		{StepContainers, plan.Containers},
		{StepImages, plan.Images},
		{StepBuildCache, plan.BuildCache},
	}
	for i, st := range steps {
		if len(st.items) == 0 {
			continue
		}
		check, err := recheck(ctx, eng, opts, st.name)
		if err != nil {
			skipRest(r, steps[i:], "not run: "+err.Error())
			return false, fmt.Errorf("re-check gates before %s: %w", st.name, err)
		}
		r.Rechecks = append(r.Rechecks, check)
		if g, closed := firstClosed(check.Gates); closed {
			skipRest(r, steps[i:], fmt.Sprintf("gate %s closed before %s: %s", g.Name, st.name, g.Reason))
			r.Reason = fmt.Sprintf("stopped before %s: gate %s closed", st.name, g.Name)
			stopped = true
			break
		}
		for j, c := range st.items {
			a, err := remove(ctx, eng, c)
			r.Actions = append(r.Actions, a)
			if err != nil {
				rest := append([]step{{st.name, st.items[j+1:]}}, steps[i+1:]...)
				skipRest(r, rest, "not run: an earlier deletion failed")
				return false, fmt.Errorf("delete %s %s: %w", c.Kind, c.ID, err)
			}
		}
	}
	r.Outcome = OutcomeNothingToDo
	for _, a := range r.Actions {
		if a.Result == ResultDeleted {
			r.Outcome = OutcomePruned
			r.BytesReclaimed += a.Bytes
			r.ObjectsDeleted++
		}
	}
	if r.Outcome == OutcomeNothingToDo && len(r.Actions) > 0 {
		r.Outcome = OutcomeSkipped
	}
	return stopped, nil
}

func recheck(ctx context.Context, eng Engine, opts Options, step string) (StepCheck, error) {
	check := StepCheck{Before: step}
	if !opts.NoDriftGate {
		g, err := opts.Drift(ctx)
		g.Name = GateDrift
		if err != nil {
			return check, fmt.Errorf("drift gate: %w", err)
		}
		check.Gates = append(check.Gates, g)
	}
	inv, err := inventory(ctx, eng, opts)
	if err != nil {
		return check, err
	}
	check.Gates = append(check.Gates, dockerGates(inv, opts.Policy)...)
	return check, nil
}

func remove(ctx context.Context, eng Engine, c Candidate) (Action, error) {
	var err error
	deleted := true
	switch c.Kind {
	case KindContainer:
		err = eng.RemoveContainer(ctx, c.ID)
	case KindImage:
		err = eng.RemoveImage(ctx, c.ID)
	case KindBuildCache:
		deleted, err = eng.RemoveBuildCache(ctx, c.ID)
	default:
		return actionOf(c, ResultSkipped, "unknown kind"), nil
	}
	switch {
	case errors.Is(err, ErrConflict):
		return actionOf(c, ResultSkipped, "daemon refused (conflict): "+err.Error()), nil
	case errors.Is(err, ErrNotFound):
		return actionOf(c, ResultSkipped, "already gone"), nil
	case err != nil:
		return actionOf(c, ResultFailed, err.Error()), err
	case !deleted:
		return actionOf(c, ResultSkipped, "daemon kept it"), nil
	}
	return actionOf(c, ResultDeleted, c.Reason), nil
}

// step is one destructive step: its name and its candidates.
type step struct {
	name  string
	items []Candidate
}

func skipRest(r *Report, steps []step, reason string) {
	for _, s := range steps {
		for _, c := range s.items {
			r.Actions = append(r.Actions, actionOf(c, ResultSkipped, reason))
		}
	}
}

// measureAfter measures the disk again. Still at or above the threshold
// after every step ran is "still under pressure" (exit 4): alert, never
// escalate. A run a gate stopped keeps its outcome.
func measureAfter(ctx context.Context, eng Engine, opts Options, rootDir string, stopped bool, r *Report) error {
	d, err := eng.Disk(ctx, rootDir)
	if err != nil {
		return fmt.Errorf("measure disk after prune: %w", err)
	}
	r.Disk.AfterPct, r.Disk.InodesAfterPct = d.BytesPct, d.InodesPct
	if !stopped && (d.BytesPct >= opts.Policy.ThresholdPct || d.InodesPct >= opts.Policy.ThresholdPct) {
		r.Reason = fmt.Sprintf("still at or above %.1f%% after pruning (bytes %.1f%%, inodes %.1f%%): not escalating",
			opts.Policy.ThresholdPct, d.BytesPct, d.InodesPct)
		r.Outcome = OutcomeUnderPressure
	}
	return nil
}
