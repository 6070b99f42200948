package stats

import (
	"fmt"
	"math"
	"slices"
)

// WeightedPearson returns the Pearson correlation of x and y with
// observation weights w (e.g. exposure): the weighted covariance over the
// product of weighted standard deviations, as numpy's np.cov with aweights.
// A nil w means equal weights. It returns an error if the lengths differ or
// a value is not finite or a weight is negative, and ErrNotComputable if the
// total weight is zero or x or y has no weighted variance.
func WeightedPearson(x, y, w []float64) (float64, error) {
	if err := checkCorrInput("WeightedPearson", x, y, w); err != nil {
		return 0, err
	}
	return weightedPearson(x, y, w)
}

// WeightedSpearman returns a weighted Spearman rank correlation: the weighted
// Pearson correlation (as WeightedPearson, same weights) of the mid-ranks of
// x and of y. Ranks are the ordinary unweighted ranks 1..n among all n
// observations, ties getting the average of the ranks they span; weights
// enter only the correlation. With equal weights it equals
// scipy.stats.spearmanr. It fails as WeightedPearson.
func WeightedSpearman(x, y, w []float64) (float64, error) {
	if err := checkCorrInput("WeightedSpearman", x, y, w); err != nil {
		return 0, err
	}
	return weightedPearson(midRanks(x), midRanks(y), w)
}

func checkCorrInput(fn string, x, y, w []float64) error {
	if len(x) != len(y) || (w != nil && len(w) != len(x)) {
		return fmt.Errorf("stats.%s: lengths differ (x %d, y %d, w %d)", fn, len(x), len(y), len(w))
	}
	for i := range x {
		if !allFinite(x[i], y[i]) {
			return fmt.Errorf("stats.%s: value %d is not finite", fn, i)
		}
		if w != nil && !finiteNonNeg(w[i]) {
			return fmt.Errorf("stats.%s: weight %d is negative or not finite", fn, i)
		}
	}
	return nil
}

func weightedPearson(x, y, w []float64) (float64, error) {
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	// Two passes: means first, then centred sums, for accuracy.
	var sw, sx, sy float64
	for i := range x {
		wi := weight(i)
		sw += wi
		sx += wi * x[i]
		sy += wi * y[i]
	}
	if !(sw > 0) {
		return 0, notComputable("the total weight is zero")
	}
	mx, my := sx/sw, sy/sw
	var cxx, cyy, cxy float64
	for i := range x {
		wi := weight(i)
		dx, dy := x[i]-mx, y[i]-my
		cxx += wi * dx * dx
		cyy += wi * dy * dy
		cxy += wi * dx * dy
	}
	if !(cxx > 0) || !(cyy > 0) {
		return 0, notComputable("a variable is constant, so its correlation is undefined")
	}
	r := cxy / math.Sqrt(cxx*cyy)
	if !allFinite(r) {
		return 0, notComputable("the correlation overflows floating point")
	}
	return max(-1, min(1, r)), nil
}

// midRanks returns the ranks 1..n of v, ties receiving their average rank.
func midRanks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1..j
		for _, k := range idx[i:j] {
			r[k] = rank
		}
		i = j
	}
	return r
}
