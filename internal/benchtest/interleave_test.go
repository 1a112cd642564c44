package benchtest

import (
	"testing"
	"time"
)

func TestInterleaveRunsEverySideInOrderOncePerIteration(t *testing.T) {
	var order []int
	var mean []time.Duration
	res := testing.Benchmark(func(b *testing.B) {
		order = order[:0]
		mean = Interleave(b, func() { order = append(order, 0) }, func() {
			order = append(order, 1)
			time.Sleep(time.Millisecond)
		})
	})
	if res.N == 0 || len(order) != 2*res.N {
		t.Fatalf("%d side runs for %d iterations", len(order), res.N)
	}
	for i, side := range order {
		if side != i%2 {
			t.Fatalf("side %d ran at position %d: %v", side, i, order[:min(len(order), 8)])
		}
	}
	if len(mean) != 2 || mean[1] < time.Millisecond || mean[0] >= mean[1] {
		t.Fatalf("means %v: the sleeping side must take at least 1 ms and longer than the empty one", mean)
	}
}

func TestRatioAndUnits(t *testing.T) {
	if r := Ratio(3*time.Second, 2*time.Second); r != 1.5 {
		t.Errorf("Ratio = %v, want 1.5", r)
	}
	if ms := Milliseconds(1500 * time.Microsecond); ms != 1.5 {
		t.Errorf("Milliseconds = %v, want 1.5", ms)
	}
	if ns := Nanoseconds(2 * time.Microsecond); ns != 2000 {
		t.Errorf("Nanoseconds = %v, want 2000", ns)
	}
}
