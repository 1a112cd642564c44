package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
)

// Markers a document can carry to silence the documentation check where it
// names units on purpose (examples, history, other hosts).
const (
	markerIgnore     = "<!-- driftcheck-lint: ignore -->"      // this line, or the next line/code block when alone on its line
	markerIgnoreFile = "<!-- driftcheck-lint: ignore-file -->" // the whole file
	markerOff        = "<!-- driftcheck-lint: off -->"         // until markerOn
	markerOn         = "<!-- driftcheck-lint: on -->"
)

var (
	wordPattern = regexp.MustCompile(`[\w@.\-]+`)
	unitPattern = regexp.MustCompile(`^[\w@\-][\w@.\-]*\.(service|timer|socket|path|target|slice|mount|automount)$`)
	codeSpan    = regexp.MustCompile("`+[^`]+`+")
	commandWord = regexp.MustCompile(`\b(systemctl|journalctl)\b`)
	// systemctl VERB NAME… and journalctl -u NAME: a name written without
	// a suffix is a service, as systemctl and journalctl read it.
	systemctlArgs  = regexp.MustCompile(`\bsystemctl\s+(?:--?[\w-]+(?:=\S+)?\s+)*(?:start|stop|restart|reload|try-restart|reload-or-restart|status|enable|disable|reenable|is-active|is-enabled|is-failed|cat|show|kill|mask|unmask|edit|list-dependencies)((?:\s+[^\s;|&<>()$'"` + "`" + `]+)+)`)
	journalctlUnit = regexp.MustCompile(`\bjournalctl\b[^;|&]*?(?:-u\s*|--unit[=\s]+)([\w@.\-]+)`)
	bareName       = regexp.MustCompile(`^[\w@][\w@\-]*$`)
)

// wellKnown are units systemd, the distribution or NixOS itself provide on
// every host; documentation may name them without the repository declaring
// them.
var wellKnown = []string{
	"basic.target", "default.target", "emergency.target", "getty.target", "graphical.target",
	"halt.target", "local-fs.target", "multi-user.target", "network-online.target",
	"network.target", "network-pre.target", "nss-lookup.target", "paths.target", "poweroff.target",
	"reboot.target", "remote-fs.target", "rescue.target", "shutdown.target", "sleep.target",
	"slices.target", "sockets.target", "swap.target", "sysinit.target", "time-sync.target",
	"timers.target",
	"-.mount", "-.slice", "system.slice", "user.slice", "machine.slice", "tmp.mount",
	"dbus.service", "dbus.socket", "docker.service", "docker.socket", "containerd.service",
	"nix-daemon.service", "nix-daemon.socket", "nix-gc.service", "nix-gc.timer",
	"nix-optimise.service", "nix-optimise.timer", "sshd.service", "getty@.service", "user@.service",
	"polkit.service", "cron.service", "nscd.service", "firewall.service",
}

// isWellKnown also admits systemd's own units (systemd-*.service, …).
func isWellKnown(name string, extra []string) bool {
	if strings.HasPrefix(name, "systemd-") {
		return true
	}
	return slices.Contains(wellKnown, name) || slices.Contains(extra, name) ||
		slices.Contains(wellKnown, templateOf(name)) || slices.Contains(extra, templateOf(name))
}

// templateOf maps an instance name (getty@tty1.service) to its template
// (getty@.service); other names map to themselves.
func templateOf(name string) string {
	at := strings.IndexByte(name, '@')
	dot := strings.LastIndexByte(name, '.')
	if at < 0 || dot < at {
		return name
	}
	return name[:at+1] + name[dot:]
}

// docFindings reports unit names in documentation that the revision does
// not declare. Names count where a reader would copy them: inside inline
// code spans, and on any line that runs systemctl or journalctl.
// A document under a host's directory (hosts/web/README.md, next to the
// host's entry file) is about that host: it is checked against the host's
// units only.
func docFindings(docs []Doc, units []declared.Unit, hosts []Host, cfg Config) []Finding {
	var fs []Finding
	for _, d := range docs {
		if cfg.ignoresDoc(d.Path) {
			continue
		}
		against, host, what := units, "", "this revision does not declare"
		if h, ok := docHost(d.Path, hosts); ok {
			against, host, what = h.Declared.Units, h.Name, "host "+h.Name+" does not declare"
		}
		declaredNames := map[string]bool{}
		for _, u := range against {
			declaredNames[u.Name] = true
		}
		for _, ref := range unitRefs(d.Content) {
			if declaredNames[ref.name] || declaredNames[templateOf(ref.name)] || isWellKnown(ref.name, cfg.KnownUnits) {
				continue
			}
			fs = append(fs, Finding{Kind: KindDocUndeclared, File: d.Path, Line: ref.line, Unit: ref.name, Host: host,
				Message: fmt.Sprintf("names %s, which %s%s", ref.name, what, suggestion(ref.name, against))})
		}
	}
	return fs
}

// docHost is the host whose directory holds the document: the deepest
// entry-file directory that contains it (the repository root belongs to
// no host).
func docHost(doc string, hosts []Host) (Host, bool) {
	best, found, depth := Host{}, false, -1
	for _, h := range hosts {
		for _, dir := range h.Dirs {
			if dir == "" || dir == "." || !strings.HasPrefix(doc, dir+"/") {
				continue
			}
			if d := strings.Count(dir, "/"); d > depth {
				best, found, depth = h, true, d
			}
		}
	}
	return best, found
}

// suggestion names declared units that look like what the text meant, e.g.
// ci-docker-prune.timer for a stale docker-prune.timer.
func suggestion(name string, units []declared.Unit) string {
	var near []string
	for _, u := range units {
		if u.Name != name && (strings.HasSuffix(u.Name, "-"+name) || strings.HasSuffix(name, "-"+u.Name)) {
			near = append(near, u.Name)
		}
	}
	if len(near) == 0 {
		return ""
	}
	slices.Sort(near)
	return " (declared: " + strings.Join(slices.Compact(near), ", ") + ")"
}

type unitRef struct {
	name string
	line int
}

// unitRefs finds the unit names one Markdown document refers to, one per
// name and line, honouring the ignore markers. Markers count only outside
// code: a document that shows a marker in a code span or block (like
// docs/lint.md) is not silenced by it.
func unitRefs(content []byte) []unitRef {
	var (
		refs        []unitRef
		fence       fenceState
		off         bool // between markerOff and markerOn
		ignoreNext  bool // a lone ignore marker preceded this line
		ignoreBlock bool // the ignored line opened a fence: ignore the block
		lineNo      int
		seen        = map[string]bool{}
		sc          = bufio.NewScanner(bytes.NewReader(content))
	)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if fence.open() {
			if fence.closes(trimmed) {
				fence, ignoreBlock = fenceState{}, false
				continue
			}
			if !off && !ignoreBlock {
				refs = appendRefs(refs, seen, lineNo, namesOnLine(line, true))
			}
			continue
		}
		bare := strings.TrimSpace(codeSpan.ReplaceAllString(line, ""))
		switch {
		case strings.Contains(bare, markerIgnoreFile):
			return nil
		case strings.Contains(bare, markerOff):
			off = true
			continue
		case strings.Contains(bare, markerOn):
			off = false
			continue
		case bare == markerIgnore:
			ignoreNext = true
			continue
		}
		ignored := off || strings.Contains(bare, markerIgnore)
		if ignoreNext && trimmed != "" {
			ignored, ignoreNext = true, false
		}
		if f, ok := openFence(trimmed); ok {
			fence, ignoreBlock = f, ignored
			continue
		}
		if !ignored {
			refs = appendRefs(refs, seen, lineNo, namesOnLine(line, false))
		}
	}
	return refs
}

func appendRefs(refs []unitRef, seen map[string]bool, line int, names []string) []unitRef {
	clear(seen)
	for _, name := range names {
		if !seen[name] {
			seen[name] = true
			refs = append(refs, unitRef{name, line})
		}
	}
	return refs
}

// fenceState is an open fenced code block: its character and length, which
// a closing fence must repeat (CommonMark), so ```` can show ``` inside.
type fenceState struct {
	char byte
	n    int
}

func (f fenceState) open() bool { return f.n > 0 }

func (f fenceState) closes(trimmed string) bool {
	return len(trimmed) >= f.n && strings.Trim(trimmed, string(f.char)) == ""
}

func openFence(trimmed string) (fenceState, bool) {
	if len(trimmed) < 3 || (trimmed[0] != '`' && trimmed[0] != '~') {
		return fenceState{}, false
	}
	n := len(trimmed) - len(strings.TrimLeft(trimmed, trimmed[:1]))
	if n < 3 {
		return fenceState{}, false
	}
	return fenceState{char: trimmed[0], n: n}, true
}

// namesOnLine returns unit names in code on one line: the whole line when it
// runs systemctl or journalctl, else only its inline code spans (which do not
// exist inside fenced blocks).
func namesOnLine(line string, inFence bool) []string {
	var texts []string
	switch {
	case commandWord.MatchString(line):
		texts = []string{line}
	case !inFence:
		texts = codeSpan.FindAllString(line, -1)
	}
	var names []string
	for _, t := range texts {
		for _, w := range wordPattern.FindAllString(t, -1) {
			w = strings.TrimRight(w, ".")
			if unitPattern.MatchString(w) {
				names = append(names, w)
			}
		}
		names = append(names, commandServices(t)...)
	}
	return names
}

// commandServices are the names a systemctl or journalctl command line
// gives without a suffix (systemctl restart ci-runner,
// journalctl -u ci-runner): services.
func commandServices(text string) []string {
	var out []string
	for _, m := range systemctlArgs.FindAllStringSubmatch(text, -1) {
		for _, arg := range strings.Fields(m[1]) {
			arg = strings.Trim(arg, "`'\"")
			if strings.HasPrefix(arg, "-") {
				continue
			}
			if bareName.MatchString(arg) {
				out = append(out, arg+".service")
			}
		}
	}
	for _, m := range journalctlUnit.FindAllStringSubmatch(text, -1) {
		if bareName.MatchString(m[1]) {
			out = append(out, m[1]+".service")
		}
	}
	return out
}
