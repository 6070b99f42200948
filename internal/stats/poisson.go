package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// PoissonCI returns the exact (Garwood) two-sided confidence interval for the
// mean of a Poisson count k at the given level (0.95 for 95%):
// lo = χ²(α/2; 2k)/2, 0 when k = 0, and hi = χ²(1−α/2; 2k+2)/2.
// Non-integer k is allowed (the formula is continuous in k).
// It panics if k is negative or not finite, or level is not in (0, 1),
// as these are programming errors.
func PoissonCI(k, level float64) (lo, hi float64) {
	if !(k >= 0) || math.IsInf(k, 1) {
		panic(fmt.Sprintf("stats.PoissonCI: count %v is not a non-negative finite number", k))
	}
	checkLevel("PoissonCI", level)
	a := 1 - level
	if k > 0 {
		lo = distuv.ChiSquared{K: 2 * k}.Quantile(a/2) / 2
	}
	hi = distuv.ChiSquared{K: 2*k + 2}.Quantile(1-a/2) / 2
	return lo, hi
}

func checkLevel(fn string, level float64) {
	if !(level > 0 && level < 1) {
		panic(fmt.Sprintf("stats.%s: level %v is not in (0, 1)", fn, level))
	}
}

// Interval is a confidence interval that may be unavailable: when OK is false,
// Lo and Hi are 0 and Reason says why.
type Interval struct {
	Lo, Hi float64
	OK     bool
	Reason string
}

// RateRatioResult compares the rate k1/t1 of a group with the rate k0/t0 of
// a reference group.
type RateRatioResult struct {
	Rate1, Rate0 float64 // events per unit of person-time
	Ratio        float64 // Rate1 / Rate0
	// Wald is exp(log Ratio ± z·se) with se = sqrt(1/k1 + 1/k0); it is not
	// available when k1 = 0.
	Wald Interval
	// Exact is the conditional interval: Clopper–Pearson for
	// p = k1/(k1+k0) given k1+k0 events, mapped by RR = p/(1−p)·t0/t1.
	// When k1 = 0 its lower limit is 0.
	Exact Interval
}

// RateRatio returns the ratio of two Poisson rates with its Wald and exact
// conditional confidence intervals at the given level.
// It returns ErrNotComputable when a count is negative or not finite, a
// person-time is not positive and finite, or k0 = 0 (the ratio would be
// infinite or undefined). It panics if level is not in (0, 1).
func RateRatio(k1, t1, k0, t0, level float64) (RateRatioResult, error) {
	checkLevel("RateRatio", level)
	switch {
	case !finiteNonNeg(k1) || !finiteNonNeg(k0):
		return RateRatioResult{}, notComputable("event counts must be non-negative numbers")
	case !(t1 > 0) || !(t0 > 0) || math.IsInf(t1, 0) || math.IsInf(t0, 0):
		return RateRatioResult{}, notComputable("person-time must be positive in both groups")
	case k0 == 0 && k1 == 0:
		return RateRatioResult{}, notComputable("no events in either group")
	case k0 == 0:
		return RateRatioResult{}, notComputable("no events in the reference group: the rate ratio is infinite")
	}
	r := RateRatioResult{Rate1: k1 / t1, Rate0: k0 / t0}
	r.Ratio = r.Rate1 / r.Rate0
	a := 1 - level
	z := normalQuantile(1 - a/2)
	if k1 > 0 {
		se := math.Sqrt(1/k1 + 1/k0)
		lr := math.Log(r.Ratio)
		r.Wald = Interval{Lo: math.Exp(lr - z*se), Hi: math.Exp(lr + z*se), OK: true}
	} else {
		r.Wald.Reason = "no events in the compared group: the log rate ratio is −∞"
	}
	var plo float64
	if k1 > 0 {
		plo = mathext.InvRegIncBeta(k1, k0+1, a/2)
	}
	phi := mathext.InvRegIncBeta(k1+1, k0, 1-a/2)
	odds := func(p float64) float64 { return p / (1 - p) * t0 / t1 }
	r.Exact = Interval{Lo: odds(plo), Hi: odds(phi), OK: true}
	if !allFinite(r.Rate1, r.Rate0, r.Ratio, r.Wald.Lo, r.Wald.Hi, r.Exact.Lo, r.Exact.Hi) {
		return RateRatioResult{}, notComputable("the rate ratio overflows floating point")
	}
	return r, nil
}

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }

func allFinite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// normalQuantile is the standard normal quantile, as scipy's norm.ppf.
func normalQuantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// normalTwoSided returns P(|Z| > |z|) for a standard normal Z.
func normalTwoSided(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }
