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
// Unit; File and Line point at its first declaration in path order (the
// first explicit one when NixOS also implies the unit), and Sites lists
// every place that contributes to it.
type Unit struct {
	Name  string `json:"name"` // full unit name, e.g. "docker-prune.timer"
	Type  string `json:"type"` // service, timer, socket, path, target, slice, mount, automount
	Scope Scope  `json:"scope"`
	// User is the home-manager user whose configuration declares the unit
	// (home-manager.users.<user>), "" otherwise.
	User        string     `json:"user,omitempty"`
	File        string     `json:"file"`
	Line        int        `json:"line"`
	Conditional bool       `json:"conditional"`
	ImpliedBy   string     `json:"implied_by,omitempty"` // "startAt", "virtualisation.docker.enable", …
	Properties  Properties `json:"properties"`
	// Notes are facts about how the unit was read that a reader should
	// know, e.g. "name from option default services.x.unitName": a host
	// may set that option outside the repository and so name it otherwise.
	Notes []string `json:"notes,omitempty"`
	// Definitions lists every place that defines the unit, in path order,
	// with what it does there; File and Line are the first that declares
	// it.
	Definitions []Definition `json:"definitions,omitempty"`
	Sites       []Site       `json:"-"`
}

// Roles of a definition site.
const (
	// RoleDeclares: the site sets what makes the unit (ExecStart or
	// script, timerConfig, wantedBy, …), or NixOS derives the unit there.
	RoleDeclares = "declares"
	// RoleOverrides: the site only adjusts a unit something else defines
	// (systemd.services.telegraf.path = … for NixOS's telegraf module).
	RoleOverrides = "overrides"
	// RoleDisables: the site sets enable = false.
	RoleDisables = "disables"
)

// Definition is one place that defines a unit.
type Definition struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Role string `json:"role"`
}

// Site is one place that contributes to a unit's declaration.
type Site struct {
	File        string
	Line        int
	Conditional bool
	ImpliedBy   string // set when NixOS derives the unit from this place (startAt, an option)
	Role        string // RoleDeclares, RoleOverrides or RoleDisables
	// NameDefaults are the options whose mkOption default gave the unit
	// its name here (systemd.services.${cfg.unitName}, no definition of
	// cfg.unitName in the modules read).
	NameDefaults []string
	// DecidedElsewhere are the definition sites ("file:line") in other
	// files that the condition around the unit here would be decided by,
	// when every file is read rather than one host's (ExtractEveryFile):
	// the unit stays, conditional.
	DecidedElsewhere []string
	Properties       Properties
	// Settings says how each property in Properties was set here, keyed by
	// its JSON name ("OnCalendar", "Type", …).
	Settings map[string]Setting
}

// Setting is how one site sets one property.
type Setting struct {
	Line        int
	Priority    int  // module-system priority: 100 plain, 1000 mkDefault, 50 mkForce
	Conditional bool // under mkIf, optionalAttrs or if-then-else
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
	// Unit is set when the unit's name is known and only some of its
	// properties could not be read; the unit itself is in Result.Units.
	Unit string `json:"unit,omitempty"`
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
