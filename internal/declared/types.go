// Package declared extracts the systemd units that NixOS modules declare,
// statically, from Nix syntax trees. It performs no I/O: callers hand it
// parsed files (see internal/gitrev for reading them at a revision).
package declared

// Scope is the systemd manager a unit belongs to.
type Scope string

const (
	ScopeSystem Scope = "system"
	ScopeUser   Scope = "user"
)

// Unit is one systemd unit that the modules declare. A unit defined in
// several places (partial overrides across attribute paths or files) is one
// Unit; File and Line point at its first declaration in path order, and
// Sites lists every place that contributes to it.
type Unit struct {
	Name        string     `json:"name"` // full unit name, e.g. "docker-prune.timer"
	Type        string     `json:"type"` // service, timer, socket, path, target, slice, mount, automount
	Scope       Scope      `json:"scope"`
	File        string     `json:"file"`
	Line        int        `json:"line"`
	Conditional bool       `json:"conditional"`
	ImpliedBy   string     `json:"implied_by,omitempty"` // "startAt", "virtualisation.docker.enable", …
	Properties  Properties `json:"properties"`
	Sites       []Site     `json:"-"`
}

// Site is one place that contributes to a unit's declaration.
type Site struct {
	File        string
	Line        int
	Conditional bool
	Properties  Properties
}

// Properties are the unit settings known statically. Pointers and nil slices
// mean "not set here", which differs from an explicit false or empty list.
type Properties struct {
	OnCalendar  []string `json:"OnCalendar,omitempty"`
	WantedBy    []string `json:"WantedBy,omitempty"`
	Enable      *bool    `json:"Enable,omitempty"`
	Persistent  *bool    `json:"Persistent,omitempty"`
	Type        string   `json:"Type,omitempty"` // serviceConfig.Type
	Description string   `json:"Description,omitempty"`
	Unit        string   `json:"Unit,omitempty"` // timerConfig.Unit
}

// Unresolved is a declaration the static reader could not resolve, e.g. a
// unit name computed by mapAttrs'. It is never dropped silently.
type Unresolved struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ParseError is a file that did not parse.
type ParseError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// Result is everything read from one revision.
type Result struct {
	Units      []Unit       `json:"units"`
	Unresolved []Unresolved `json:"unresolved"`
	Errors     []ParseError `json:"errors"`
}
