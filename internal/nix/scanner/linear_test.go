package scanner

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// linearShapes are inputs whose tokens each start a look-ahead over the
// rest of a long run of bytes (a path or URI may follow an identifier, a
// number or a dot), the shapes that once made scanning quadratic: a 400 KB
// y.a.a.….a took 27 s. Each is head + unit×n + tail.
var linearShapes = []struct{ name, head, unit, tail string }{
	{"dotted select", "{ ... }: { x = y", ".a", "; }"},
	{"dotted, slash at the end", "{ x = y", ".a", "/ ; }"},
	{"dotted, colon at the end", "{ x = y", ".a", ": ; }"},
	{"underscore before colon", "{ x = y", "._a", ": ; }"},
	{"numbers", "{ x = 1", ".1", "; }"},
	{"dashed identifier", "{ x = a", "-a", "/ ; }"},
	{"search path, not closed", "{ x = <a", ".a", "; }"},
	{"path segments", "{ x = ./a", "/a", "; }"},
	{"interpolated path", "{ x = ./a", "/${b}", "; }"},
	{"strings", `{ x = "`, `a\"$`, `"; }`},
	{"indented string", "{ x = ''", "a'b$c\n", "''; }"},
	{"comments", "", "# c\n", "1"},
	{"list", "[", " a.b", " ]"},
}

// TestScanTimeIsLinear checks that scanning time grows linearly with the
// input: 10× the input must take less than 15× the time (a quadratic
// scanner takes ~100×). Time is the CPU time of the scanning thread, not
// wall time: on a loaded machine a long run waits for a CPU more often than
// a short one, which alone made wall-time ratios reach 30×. Each size is
// still timed several times and the fastest run counts, and a failing shape
// is measured again.
func TestScanTimeIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test; skipped with -short")
	}
	for _, s := range linearShapes {
		t.Run(s.name, func(t *testing.T) {
			if ratio, ok := linear(s.head, s.unit, s.tail, 5000/len(s.unit)); !ok {
				t.Fatalf("10× the input took %.1f× the time (want < 15×): scanning is not linear", ratio)
			}
		})
	}
}

// FuzzScanLinear looks for inputs that make scanning time grow faster than
// the input: the fuzzer chooses a head, a unit repeated and a tail.
func FuzzScanLinear(f *testing.F) {
	for _, s := range linearShapes {
		f.Add(s.head, s.unit, s.tail)
	}
	f.Fuzz(func(t *testing.T, head, unit, tail string) {
		if unit == "" || len(head)+len(tail) > 64 || len(unit) > 16 {
			return
		}
		if ratio, ok := linear(head, unit, tail, 5000/len(unit)); !ok {
			t.Fatalf("%q + %q×n + %q: 10× the input took %.1f× the time (want < 15×)", head, unit, tail, ratio)
		}
	})
}

// linear measures how much longer scanning the input with 10n units takes
// than the one with n, up to three times while it is not below 15×.
func linear(head, unit, tail string, n int) (ratio float64, ok bool) {
	small := []byte(head + strings.Repeat(unit, n) + tail)
	large := []byte(head + strings.Repeat(unit, 10*n) + tail)
	for range 3 {
		if ratio = float64(fastestScan(large)) / float64(fastestScan(small)); ratio < 15 {
			return ratio, true
		}
	}
	return ratio, false
}

// fastestScan is the least CPU time of several scans of src to its end
// (or its first error).
func fastestScan(src []byte) time.Duration {
	runtime.LockOSThread() // the thread's CPU time is the scan's
	defer runtime.UnlockOSThread()
	var s Scanner
	best := time.Duration(1<<63 - 1)
	for range 7 {
		runtime.GC()
		start := threadCPUTime()
		s.Init("big.nix", src, ScanComments)
		for lx := s.Scan(); lx.Tok != token.EOF && lx.Tok != token.ILLEGAL; lx = s.Scan() {
		}
		best = min(best, threadCPUTime()-start)
	}
	return max(best, time.Microsecond)
}

// threadCPUTime is the CPU time the calling thread has used.
func threadCPUTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}
