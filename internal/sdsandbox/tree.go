package sdsandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Layout decides how the admin unit directory (/etc/systemd/system) is
// built, because systemd derives install states (enabled, linked, …) from it.
type Layout int

const (
	// DebianLike: /etc/systemd/system is a real directory; units are regular
	// files unless Unit.Store asks for a store symlink.
	DebianLike Layout = iota
	// NixOSLike: /etc/systemd/system is a symlink to <store>/<hash>-system-units,
	// every unit in it is a symlink to <store>/<hash>-unit-<name>/<name>,
	// wants links are relative (../foo.service) and the admin preset file is
	// `ignore *`, as NixOS's systemd module generates them.
	NixOSLike
)

func (l Layout) String() string {
	if l == NixOSLike {
		return "nixos-like"
	}
	return "debian-like"
}

// Unit is a unit file to install in the sandbox.
type Unit struct {
	Name    string // e.g. "docker-prune.timer"
	Content string // unit file text; ignored when Masked or Missing
	// WantedBy lists targets whose .wants directory gets a link to the
	// unit, e.g. "multi-user.target" or "timers.target": that is what makes
	// a unit "enabled".
	WantedBy []string
	// Store puts the file into the fake Nix store and links it from the
	// admin directory. Always true in the NixOS-like layout. Without
	// WantedBy the unit is "linked", like NixOS's stock docker-prune.service.
	Store bool
	// Vendor installs the file into /usr/lib/systemd/system instead of the
	// admin directory; its wants links are absolute, as on Debian.
	Vendor bool
	// Masked links the unit to /dev/null in the admin directory.
	Masked bool
	// Missing writes only the wants links, no unit file: a dangling link
	// (systemd lists the unit as not-found).
	Missing bool
}

// LinkedUnit returns a store unit that is linked but wanted by nothing, the
// state NixOS leaves its stock docker-prune.service in.
func LinkedUnit(name, content string) Unit {
	return Unit{Name: name, Content: content, Store: true}
}

// tree is the on-disk part of a sandbox, all paths on the host.
type tree struct {
	root   string // D/root
	layout Layout
}

func (t tree) adminDir() string  { return filepath.Join(t.root, "etc/systemd/system") }
func (t tree) vendorDir() string { return filepath.Join(t.root, "usr/lib/systemd/system") }
func (t tree) storeDir() string  { return filepath.Join(t.root, "nix/store") }

// unitDir is where u's file or link lives on the host.
func (t tree) unitDir(u Unit) string {
	if u.Vendor {
		return t.vendorDir()
	}
	return t.adminDir()
}

// stubTargets are the targets the sandbox's multi-user.target pulls in,
// without the host's conditions and dependencies.
var stubTargets = map[string]string{
	"sysinit.target": "[Unit]\nDescription=System Initialization\n",
	"basic.target": "[Unit]\nDescription=Basic System\nRequires=sysinit.target\n" +
		"Wants=sockets.target timers.target paths.target\n" +
		"After=sysinit.target sockets.target timers.target paths.target\n",
	"sockets.target":  "[Unit]\nDescription=Sockets\n",
	"timers.target":   "[Unit]\nDescription=Timers\n",
	"paths.target":    "[Unit]\nDescription=Paths\n",
	"local-fs.target": "[Unit]\nDescription=Local File Systems\n",
	"shutdown.target": "[Unit]\nDescription=Shutdown\nDefaultDependencies=no\n",
	"umount.target":   "[Unit]\nDescription=Unmount All Filesystems\nDefaultDependencies=no\n",
	"multi-user.target": "[Unit]\nDescription=Multi-User System\nRequires=basic.target\n" +
		"After=basic.target\nAllowIsolate=yes\n",
}

// build creates the directory tree systemd sees through the bind mounts.
func (t tree) build(units []Unit) error {
	dirs := []string{
		"etc/systemd/system-preset",
		"usr/lib/systemd/system/sockets.target.wants",
		"usr/lib/systemd/system/multi-user.target.wants",
		"usr/lib/systemd/system-preset",
		"var/lib/systemd/timers", "var/cache", "var/log", "var/spool", "var/tmp",
		"nix/store",
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(t.root, d), 0o755); err != nil {
			return fmt.Errorf("create sandbox dir: %w", err)
		}
	}
	if err := os.Chmod(filepath.Join(t.root, "var/tmp"), 0o1777|os.ModeSticky); err != nil {
		return fmt.Errorf("chmod var/tmp: %w", err)
	}
	for link, target := range map[string]string{"var/run": "/run", "var/lock": "/run/lock"} {
		if err := os.Symlink(target, filepath.Join(t.root, link)); err != nil {
			return fmt.Errorf("create %s: %w", link, err)
		}
	}
	if err := t.buildAdminDir(); err != nil {
		return err
	}
	if err := t.buildVendorDir(); err != nil {
		return err
	}
	for _, u := range units {
		if err := t.install(u); err != nil {
			return err
		}
	}
	return nil
}

func (t tree) buildAdminDir() error {
	if t.layout == NixOSLike {
		units := filepath.Join(t.storeDir(), storeHash("system-units")+"-system-units")
		if err := os.MkdirAll(units, 0o755); err != nil {
			return fmt.Errorf("create store system-units: %w", err)
		}
		if err := os.Symlink(units, t.adminDir()); err != nil {
			return fmt.Errorf("link system-units: %w", err)
		}
		preset := filepath.Join(t.root, "etc/systemd/system-preset/00-nixos.preset")
		if err := os.WriteFile(preset, []byte("ignore *\n"), 0o644); err != nil {
			return fmt.Errorf("write nixos preset: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(t.adminDir(), 0o755); err != nil {
		return fmt.Errorf("create admin unit dir: %w", err)
	}
	return nil
}

// buildVendorDir installs the host's dbus units and the stub targets.
func (t tree) buildVendorDir() error {
	for _, name := range []string{"dbus.service", "dbus.socket"} {
		data, err := os.ReadFile(filepath.Join("/usr/lib/systemd/system", name))
		if err != nil {
			return fmt.Errorf("copy host %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(t.vendorDir(), name), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	for name, content := range stubTargets {
		if err := os.WriteFile(filepath.Join(t.vendorDir(), name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	links := map[string]string{
		"sockets.target.wants/dbus.socket":     "../dbus.socket",
		"multi-user.target.wants/dbus.service": "../dbus.service",
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(t.vendorDir(), link)); err != nil {
			return fmt.Errorf("link %s: %w", link, err)
		}
	}
	return nil
}

// install writes u's file or link and its wants links.
func (t tree) install(u Unit) error {
	if err := checkUnitName(u.Name); err != nil {
		return err
	}
	dir := t.unitDir(u)
	path := filepath.Join(dir, u.Name)
	switch {
	case u.Missing:
	case u.Masked:
		if err := os.Symlink("/dev/null", path); err != nil {
			return fmt.Errorf("mask %s: %w", u.Name, err)
		}
	case u.Store || (t.layout == NixOSLike && !u.Vendor):
		file, err := t.writeStoreFile(u.Name, u.Content)
		if err != nil {
			return err
		}
		if err := os.Symlink(file, path); err != nil {
			return fmt.Errorf("link %s into store: %w", u.Name, err)
		}
	default:
		if err := os.WriteFile(path, []byte(u.Content), 0o644); err != nil {
			return fmt.Errorf("write unit %s: %w", u.Name, err)
		}
	}
	for _, target := range u.WantedBy {
		if err := t.want(u, target); err != nil {
			return err
		}
	}
	return nil
}

// writeStoreFile writes content to <store>/<hash>-unit-<name>/<name>, a new
// store path for every distinct content, and returns the file's path.
func (t tree) writeStoreFile(name, content string) (string, error) {
	dir := filepath.Join(t.storeDir(), storeHash(name+"\x00"+content)+"-unit-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create store path for %s: %w", name, err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(content), 0o444); err != nil {
		return "", fmt.Errorf("write store file for %s: %w", name, err)
	}
	return file, nil
}

// want links unit from target's .wants directory in the admin directory,
// as `systemctl enable` and NixOS do: relative for admin units, absolute
// (Debian's /lib path) for vendor units. Links in the vendor directory's
// .wants would make the unit static-ish "vendor enabled", not "enabled".
func (t tree) want(u Unit, target string) error {
	if err := checkUnitName(target); err != nil {
		return err
	}
	wants := filepath.Join(t.adminDir(), target+".wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return fmt.Errorf("create %s.wants: %w", target, err)
	}
	dest := "../" + u.Name
	if u.Vendor {
		dest = "/lib/systemd/system/" + u.Name
	}
	if err := os.Symlink(dest, filepath.Join(wants, u.Name)); err != nil {
		return fmt.Errorf("link %s from %s.wants: %w", u.Name, target, err)
	}
	return nil
}

// storeHash imitates a Nix store hash: 32 characters derived from s.
func storeHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func checkUnitName(name string) error {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return fmt.Errorf("invalid unit name %q", name)
	}
	return nil
}
