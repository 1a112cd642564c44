package reconcile

import (
	"fmt"
	"strings"

	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// planHost lists the commands that rebuild the host from the revision.
// driftcheck never runs them: the operator reviews the dry activation,
// then switches.
func planHost(in Input, p *Plan) {
	dry, switchCmd, prep := rebuildCommands(in.Rev, in.Host)
	if prep != "" {
		p.Steps = append(p.Steps, Step{Action: ActionCommand, Command: prep, Ends: []Ended{},
			Detail: "write the revision's tree to a directory (no flake: nixos-rebuild reads files, not git)"})
	}
	p.Steps = append(p.Steps, Step{Action: ActionCommand, Command: dry, Ends: []Ended{},
		Detail: "show what the switch would start, stop and restart; changes nothing"})
	sw := Step{Action: ActionCommand, Command: switchCmd, Ends: []Ended{},
		Detail: fmt.Sprintf("build and activate %s on the host", unitdiff.ShortRev(in.Rev))}
	var stops []Step
	for _, f := range in.Findings {
		switch f.Kind {
		case unitdiff.KindRenamed, unitdiff.KindMissing, unitdiff.KindMismatch, unitdiff.KindSourceDiffers, unitdiff.KindRevision:
			sw.Ends = append(sw.Ends, Ended{Finding: f, Reported: true})
		case unitdiff.KindStale:
			if isRunningState(f.Host.Active) {
				// NixOS does not always stop a unit it no longer defines
				// (NixOS/nixpkgs#65462).
				stops = append(stops, Step{Action: ActionCommand, Command: "systemctl stop " + ShellQuote(f.Unit),
					Detail: fmt.Sprintf("stop %s, which the switch may leave running", f.Unit),
					Ends:   []Ended{{Finding: f, Reported: true}}})
			} else {
				sw.Ends = append(sw.Ends, Ended{Finding: f, Reported: true})
			}
		default:
			p.Left = append(p.Left, Left{Finding: f, Reported: true, Reason: hostLeftReason(f)})
		}
	}
	p.Steps = append(p.Steps, sw)
	p.Steps = append(p.Steps, stops...)
	if !in.Host.Flake && in.Host.Config == "" {
		p.Notes = append(p.Notes, fmt.Sprintf("%s has neither flake.nix nor configuration.nix at its root: put the host's entry file in place of configuration.nix", unitdiff.ShortRev(in.Rev)))
	}
	p.Notes = append(p.Notes, "driftcheck runs none of these commands; run them on the host, then check again")
}

func hostLeftReason(f unitdiff.Finding) string {
	switch f.Kind {
	case unitdiff.KindUndeclared:
		return "the revision does not declare it, and a switch removes only units NixOS installed: remove it from the host, or declare it (reconcile --to git)"
	case unitdiff.KindDirty:
		return "the work tree is yours: commit or discard the change yourself"
	}
	return f.Fix
}

func isRunningState(active string) bool {
	switch active {
	case "active", "activating", "reloading", "refreshing", "deactivating":
		return true
	}
	return false
}

// rebuildCommands are the dry activation and the switch for the revision:
// with a flake, straight from the repository at the commit; without one,
// from the revision's tree written to a directory.
func rebuildCommands(rev string, h HostTarget) (dry, switchCmd, prep string) {
	if h.Flake {
		ref := fmt.Sprintf("git+file://%s?rev=%s", h.Repo, rev)
		if h.Host != "" {
			ref += "#" + h.Host
		}
		flake := "--flake " + ShellQuote(ref)
		return "nixos-rebuild dry-activate " + flake, "nixos-rebuild switch " + flake, ""
	}
	dir := "/tmp/driftcheck-" + unitdiff.ShortRev(rev)
	prep = fmt.Sprintf("mkdir -p %s && git -C %s archive %s | tar -x -C %s", dir, ShellQuote(h.Repo), rev, dir)
	config := h.Config
	if config == "" {
		config = "configuration.nix"
	}
	arg := "-I " + ShellQuote("nixos-config="+dir+"/"+config)
	return "nixos-rebuild dry-activate " + arg, "nixos-rebuild switch " + arg, prep
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
