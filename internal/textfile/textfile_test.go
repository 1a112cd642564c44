package textfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteAndReadBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.prom")
	g := NewGauges()
	g.Gauge("x_last_success_timestamp_seconds", "When.").Set(1234.5)
	g.Vec("x_info", "Info.", "host").WithLabelValues("a\"b").Set(1)
	if err := Write(path, g); err != nil {
		t.Fatal(err)
	}
	v, found, err := Gauge(path, "x_last_success_timestamp_seconds")
	if err != nil || !found || v != 1234.5 {
		t.Fatalf("read back %v %v %v, want 1234.5", v, found, err)
	}
	if _, found, _ := Gauge(path, "x_info"); found {
		t.Fatal("a labelled gauge read as the unlabelled one")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the metrics file (no temporary left)", len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644 (node_exporter reads it)", fi.Mode().Perm())
	}
}

func TestWriteNeedsItsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := Write(filepath.Join(dir, "x.prom"), NewGauges())
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Write into a missing directory: %v, want an error naming %s", err, dir)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("Write created the directory")
	}
}

func TestGaugeOfMissingOrBrokenFile(t *testing.T) {
	if _, found, err := Gauge(filepath.Join(t.TempDir(), "none.prom"), "x"); found || err != nil {
		t.Fatalf("missing file: found %v err %v, want neither", found, err)
	}
	broken := filepath.Join(t.TempDir(), "broken.prom")
	os.WriteFile(broken, []byte("x{ 1\n"), 0o644)
	if _, _, err := Gauge(broken, "x"); err == nil {
		t.Fatal("a file that does not parse read without error")
	}
}
