package unitdiff

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/live"
)

// LiveQuery is what a comparison of in needs from systemd: the declared
// and formerly declared system units by name (whatever their state), the
// scope, and the rename probes. The probes and the pairing (pairRenames)
// are decided here, together, so that a rename the pairing would accept is
// on the snapshot whether or not the scope covers it.
func LiveQuery(in Input) live.Query {
	names := map[string]bool{}
	globs := map[string]bool{}
	for _, g := range in.Scope {
		globs[g] = true
	}
	for _, u := range in.Declared.Units {
		if u.Scope == declared.ScopeUser {
			continue
		}
		names[u.Name] = true
		for _, p := range renameProbes(u.Name) {
			globs[p] = true
		}
	}
	for _, r := range in.History {
		for _, u := range r.Units {
			if u.Scope != declared.ScopeUser {
				names[u.Name] = true
			}
		}
	}
	return live.Query{Names: slices.Sorted(maps.Keys(names)), ScopeGlobs: slices.Sorted(maps.Keys(globs))}
}

// renameProbes are the listing globs that find the units renameScore pairs
// by containment with a declared name, with the same type: the names that
// contain it ("*docker-prune*.timer": ci-docker-prune.timer) and the
// shorter names it contains at word boundaries ("docker-prune.timer" for a
// declared ci-docker-prune.timer). Names merely similar (a misspelling)
// cannot be listed by a glob short of every unit of the type; they are
// paired when the scope brings them in.
func renameProbes(name string) []string {
	i := strings.LastIndexByte(name, '.')
	if i < 3 || strings.ContainsAny(name, `*?[]\`) {
		return nil
	}
	base, suffix := name[:i], name[i:]
	probes := []string{"*" + base + "*" + suffix}
	for _, part := range wordRuns(base) {
		probes = append(probes, part+suffix)
	}
	return probes
}

// wordRuns lists the proper runs of whole words of base (words separated
// by '-', '_', '.', '@') at least 3 bytes long: what containsWord accepts
// as a shorter name inside base.
func wordRuns(base string) []string {
	var starts, ends []int
	start := 0
	for k := 0; k <= len(base); k++ {
		if k == len(base) || isNameSeparator(base[k]) {
			starts, ends = append(starts, start), append(ends, k)
			start = k + 1
		}
	}
	var out []string
	for a := range starts {
		for b := a; b < len(ends); b++ {
			run := base[starts[a]:ends[b]]
			if len(run) >= 3 && len(run) < len(base) {
				out = append(out, run)
			}
		}
	}
	return out
}

// minSimilarity is the least similarity (1 - edit distance / longer
// length) for two names to pair without one containing the other.
const minSimilarity = 0.75

type renamePair struct {
	declared declared.Unit
	live     live.Unit
	score    float64
}

// pairRenames pairs missing declared units with live undeclared units of the
// same type whose names contain or closely resemble each other. Pairing is
// greedy, best score first, ties broken by name; each unit pairs at most
// once. The result is sorted by declared name.
func pairRenames(missing []declared.Unit, candidates []live.Unit) []renamePair {
	var all []renamePair
	for _, d := range missing {
		for _, lu := range candidates {
			if score, ok := renameScore(d.Name, lu.Name); ok {
				all = append(all, renamePair{declared: d, live: lu, score: score})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.declared.Name != b.declared.Name {
			return a.declared.Name < b.declared.Name
		}
		return a.live.Name < b.live.Name
	})
	usedDeclared, usedLive := map[string]bool{}, map[string]bool{}
	var pairs []renamePair
	for _, p := range all {
		if usedDeclared[p.declared.Name] || usedLive[p.live.Name] {
			continue
		}
		usedDeclared[p.declared.Name], usedLive[p.live.Name] = true, true
		pairs = append(pairs, p)
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].declared.Name < pairs[j].declared.Name })
	return pairs
}

// renameScore rates how likely live is declared under another name. A name
// containing the other at a word boundary ("ci-docker-prune" ⊃
// "docker-prune") scores above any mere similarity.
func renameScore(declaredName, liveName string) (float64, bool) {
	if declaredName == liveName || declared.UnitType(declaredName) != declared.UnitType(liveName) {
		return 0, false
	}
	a, b := unitBase(declaredName), unitBase(liveName)
	sim := similarity(a, b)
	if containsWord(a, b) || containsWord(b, a) {
		return 1 + sim, true
	}
	if sim >= minSimilarity && min(len(a), len(b)) >= 5 {
		return sim, true
	}
	return 0, false
}

// containsWord reports whether long contains short (at least 3 bytes)
// delimited by the string's ends or by '-', '_', '.', '@'.
func containsWord(long, short string) bool {
	if len(short) < 3 || len(short) >= len(long) {
		return false
	}
	for from := 0; from <= len(long)-len(short); {
		i := strings.Index(long[from:], short)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(short)
		if (i == 0 || isNameSeparator(long[i-1])) && (end == len(long) || isNameSeparator(long[end])) {
			return true
		}
		from = i + 1
	}
	return false
}

func isNameSeparator(c byte) bool { return c == '-' || c == '_' || c == '.' || c == '@' }

// similarity is 1 - Levenshtein distance / length of the longer string.
func similarity(a, b string) float64 {
	longer := max(len(a), len(b))
	if longer == 0 {
		return 1
	}
	return 1 - float64(levenshtein(a, b))/float64(longer)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
