package prune

import (
	"context"
	"fmt"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// DriftCheck runs a drift check; drift.Check with fixed options is one.
type DriftCheck func(ctx context.Context) (*drift.Report, error)

// DriftGateOf turns a drift check into the drift gate with strict
// semantics: only "in sync" opens it. A dirty work tree, a host built from
// another copy or another revision block as much as drift does, because the
// prune must never run while git and host disagree.
func DriftGateOf(check DriftCheck) DriftGate {
	return func(ctx context.Context) (Gate, error) {
		rep, err := check(ctx)
		if err != nil {
			return Gate{Name: GateDrift}, err
		}
		return GateFromDriftReport(rep), nil
	}
}

// GateFromDriftReport is the drift gate's verdict on one report: the
// verdict the check computed, which opens the gate only when it is in sync
// and was computed under strict semantics.
func GateFromDriftReport(rep *drift.Report) Gate {
	g := Gate{Name: GateDrift}
	verdict := rep.Verdict
	if !rep.Strict && verdict == unitdiff.VerdictInSync {
		verdict = "in-sync, but not checked strictly"
	}
	if rep.Strict && verdict == unitdiff.VerdictInSync {
		g.Open, g.Reason = true, fmt.Sprintf("in sync with %s (strict)", orNone(rep.Rev))
		return g
	}
	var items []string
	for _, f := range rep.Findings {
		items = append(items, fmt.Sprintf("%s %s", f.Kind, f.Unit))
	}
	g.Reason = fmt.Sprintf("%s at %s (strict): %s", verdict, orNone(rep.Rev), summarize(items))
	if len(items) == 0 {
		g.Reason = fmt.Sprintf("%s at %s (strict)", verdict, orNone(rep.Rev))
	}
	return g
}
