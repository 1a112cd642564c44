// Package benchtest holds what the benchmarks that compare driftcheck with
// a baseline share.
package benchtest

import (
	"testing"
	"time"
)

// Interleave runs every side once per iteration of b.Loop, back to back
// and in order, and returns each side's mean time per iteration. Load from
// elsewhere on the machine then hits every side alike, so the ratio of two
// means is the figure to read even when the absolute times are not.
func Interleave(b *testing.B, sides ...func()) []time.Duration {
	b.Helper()
	total := make([]time.Duration, len(sides))
	n := 0
	for b.Loop() {
		for i, side := range sides {
			start := time.Now()
			side()
			total[i] += time.Since(start)
		}
		n++
	}
	for i := range total {
		total[i] /= time.Duration(max(n, 1))
	}
	return total
}

// Ratio is a/b as a float, for ReportMetric.
func Ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// Nanoseconds is d as a float, for an "…-ns/op" ReportMetric.
func Nanoseconds(d time.Duration) float64 { return float64(d.Nanoseconds()) }

// Milliseconds is d as a float, for an "ms-…/op" ReportMetric.
func Milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
