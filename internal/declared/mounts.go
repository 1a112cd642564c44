package declared

import (
	"fmt"
	"github.com/driftcheck/driftcheck/internal/nix/eval"
	"strings"
)

// mountList reads systemd.mounts / systemd.automounts: lists of mount
// definitions whose unit name is derived from where, as systemd does.
func (x *extractor) mountList(vs []eval.Value, typ, path string) {
	r := propertyReader{ev: x.ev}
	for _, v := range vs {
		switch v.Kind {
		case eval.Unknown:
			x.unresolved(posOrZero(v.At), describe(path+": mount points", v.Why))
			continue
		case eval.List:
		default:
			continue
		}
		for _, t := range v.Elems {
			defs := x.ev.Force(t)
			where := r.lookup(defs, []string{"where"})
			if len(where) != 1 || where[0].v.Kind != eval.String {
				x.unresolved(eval.PosOf(t, nil), fmt.Sprintf("%s: mount point (where) is not a constant", path))
				continue
			}
			name := escapePath(where[0].v.Str) + "." + typ
			x.definition(name, typ, ScopeSystem, where[0].pos, v.Cond, defaultsOf(where[0].v.Meta), facetsOf(v.Meta).decidedAt, x.ev.EncloseAll(defs, withPrio(facetsOf(v.Meta).prio)))
		}
	}
}

// escapePath is systemd-escape --path: the unit name of a mount point.
func escapePath(p string) string {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	var b strings.Builder
	for i, part := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		for j := 0; j < len(part); j++ {
			c := part[j]
			switch {
			case c == '.' && i == 0 && j == 0:
				fmt.Fprintf(&b, `\x%02x`, c)
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == ':', c == '_', c == '.':
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
	}
	return b.String()
}
