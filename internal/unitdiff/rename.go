package unitdiff

import (
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/live"
)

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
