// Package textfile writes metrics for node_exporter's textfile collector:
// the text exposition format, written atomically, and reads back the one
// value a new run must carry over from the previous file (the last
// success time).
package textfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Write gathers g and writes it to path with prometheus.WriteToTextfile: a
// temporary file in the same directory (its name does not end in .prom, so
// the collector skips it), then a rename, so the collector reads the old or
// the new file, never half of one. Label values are escaped as the
// exposition format requires. The directory must exist: a mistyped path
// is an error, not a new directory nobody scrapes.
func Write(path string, g prometheus.Gatherer) error {
	if path == "" {
		return errors.New("metrics file: empty path")
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return fmt.Errorf("metrics file %s: directory %s: %w", path, dir, err)
	}
	if err := prometheus.WriteToTextfile(path, g); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// Gauge returns the value of the unlabelled gauge name in the metrics file
// at path, and whether it was there. A missing file is not an error; a file
// that does not parse is.
func Gauge(path, name string) (float64, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("metrics file %s: %w", path, err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(f)
	if err != nil {
		return 0, false, fmt.Errorf("metrics file %s: %w", path, err)
	}
	mf, ok := families[name]
	if !ok {
		return 0, false, nil
	}
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) == 0 && m.GetGauge() != nil {
			return m.GetGauge().GetValue(), true, nil
		}
	}
	return 0, false, nil
}

// Gauges is a registry of gauges, the only metric type a textfile of
// last-run facts needs. NewGauges uses a pedantic registry: a metric that
// breaks the exposition format's rules fails at registration.
type Gauges struct {
	*prometheus.Registry
}

// NewGauges returns an empty registry.
func NewGauges() Gauges { return Gauges{prometheus.NewPedanticRegistry()} }

// Gauge registers and returns an unlabelled gauge.
func (g Gauges) Gauge(name, help string) prometheus.Gauge {
	m := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	g.MustRegister(m)
	return m
}

// Vec registers and returns a gauge with labels.
func (g Gauges) Vec(name, help string, labels ...string) *prometheus.GaugeVec {
	m := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	g.MustRegister(m)
	return m
}
