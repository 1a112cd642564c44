package parser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

// oracleBatchSize is how many files one nix-instantiate call parses; start-up
// (~35 ms) dominates a single parse, so batching makes the oracle cheap.
const oracleBatchSize = 200

// verdictKind classifies what nix-instantiate --parse said about a file.
type verdictKind int

const (
	nixAccepted  verdictKind = iota
	nixUndefined             // "undefined variable": a scope error, so the syntax was accepted
	nixDuplicate             // "already defined": thrown while parsing, may hide a later syntax error
	nixRejected              // syntax error or another parse-time error
)

type verdict struct {
	kind verdictKind
	msg  string // first "error:" line
	show string // for accepted files: Nix's one-line normal form (ExprShow)
}

// syntaxOK reports whether Nix's verdict means the file is syntactically
// valid. A duplicate attribute is an accept for a syntax parser.
func (v verdict) syntaxOK() bool { return v.kind != nixRejected }

func classify(stderr string) verdict {
	msg := stderr
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "error:") {
			msg = strings.TrimSpace(line)
			break
		}
	}
	switch {
	case strings.Contains(msg, "undefined variable"):
		return verdict{kind: nixUndefined, msg: msg}
	case strings.Contains(msg, "already defined"):
		return verdict{kind: nixDuplicate, msg: msg}
	}
	return verdict{kind: nixRejected, msg: msg}
}

// runOracle runs `nix-instantiate --store dummy:// --parse` over files in
// batches. A batch stops at its first failing file; the failing file is
// identified from the "at FILE:LINE:COL" of the error, the files before it
// are accepted, and the next batch resumes after it. If the failing file
// cannot be identified, the batch is re-run one file per process.
func runOracle(ctx context.Context, nix string, files []string) ([]verdict, error) {
	// Two workers: every rejected file costs one process start.
	half := len(files) / 2
	var (
		wg       sync.WaitGroup
		first    []verdict
		errFirst error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		first, errFirst = runOracleSerial(ctx, nix, files[:half])
	}()
	second, err := runOracleSerial(ctx, nix, files[half:])
	wg.Wait()
	if err := errors.Join(errFirst, err); err != nil {
		return nil, err
	}
	return append(first, second...), nil
}

func runOracleSerial(ctx context.Context, nix string, files []string) ([]verdict, error) {
	out := make([]verdict, len(files))
	for start := 0; start < len(files); {
		batch := files[start:min(start+oracleBatchSize, len(files))]
		stdout, stderr, err := nixParse(ctx, nix, batch)
		lines := strings.Split(stdout, "\n")
		if err == nil {
			for i := range batch {
				if i < len(lines) {
					out[start+i].show = lines[i]
				}
			}
			start += len(batch)
			continue
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, err
		}
		failed := -1
		for i, f := range batch {
			if strings.Contains(stderr, f+":") {
				failed = i
				break
			}
		}
		if failed < 0 || strings.Count(stdout, "\n") != failed {
			for i, f := range batch {
				stdout, stderr, err := nixParse(ctx, nix, []string{f})
				out[start+i].show = strings.TrimSuffix(stdout, "\n")
				if err != nil {
					if !errors.As(err, &exit) {
						return nil, err
					}
					out[start+i] = classify(stderr)
				}
			}
			start += len(batch)
			continue
		}
		for i := range failed {
			out[start+i].show = lines[i]
		}
		out[start+failed] = classify(stderr)
		start += failed + 1
	}
	return out, nil
}

func nixParse(ctx context.Context, nix string, files []string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	args := append([]string{"--store", "dummy://", "--parse"}, files...)
	cmd := exec.CommandContext(ctx, nix, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		return "", "", fmt.Errorf("nix-instantiate --parse: %w", ctx.Err())
	}
	return o.String(), e.String(), err
}

// differential parses every file with ParseFile and with the oracle and
// reports disagreements.
func differential(t *testing.T, files []string) (accepted, rejected int) {
	t.Helper()
	nix := testreq.Command(t, "nix-instantiate", "nix-bin")
	verdicts, err := runOracle(context.Background(), nix, files)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	mismatches, masked := 0, 0
	for i, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, perr := ParseFile(f, src)
		v := verdicts[i]
		switch {
		case v.kind == nixDuplicate && perr != nil:
			masked++ // Nix stopped at the duplicate before any later syntax error
			continue
		case (perr == nil) != v.syntaxOK():
			mismatches++
			if mismatches <= 15 {
				t.Errorf("%s: disagreement\n  nix: %s\n  ours: %v\n  source:\n%s", filepath.Base(f), orAccepted(v), perr, clip(string(src)))
			}
		}
		if v.syntaxOK() {
			accepted++
		} else {
			rejected++
		}
	}
	t.Logf("%d files: nix accepted %d, rejected %d; %d masked by duplicate attributes; %d disagreements",
		len(files), accepted, rejected, masked, mismatches)
	return accepted, rejected
}

func orAccepted(v verdict) string {
	if v.kind == nixAccepted {
		return "accepted"
	}
	return v.msg
}

func clip(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}

func TestOracleFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.nix")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for i, f := range files {
		files[i], _ = filepath.Abs(f)
	}
	_, rejected := differential(t, files)
	if rejected != 0 {
		t.Errorf("nix rejected %d fixtures; fixtures must be valid Nix", rejected)
	}
}

func execLookPath(name string) (string, error) { return exec.LookPath(name) }

func testreqNix(t *testing.T) string { return testreq.Command(t, "nix-instantiate", "nix-bin") }

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
