package server

import (
	"math"

	"deesc/internal/stats"
)

// Rate is an event count over officer-years with its exact (Garwood) 95%
// interval. Rate and the interval are nil when there is no exposure; Why
// then says so. JSON never carries NaN or Inf.
type Rate struct {
	Events       int64    `json:"events"`
	OfficerYears float64  `json:"officer_years"`
	Rate         *float64 `json:"rate"`
	CILow        *float64 `json:"ci_low"`
	CIHigh       *float64 `json:"ci_high"`
	Unstable     bool     `json:"unstable,omitempty"` // fewer events than the stability threshold
	Why          string   `json:"why,omitempty"`
}

// newRate computes a rate per officer-year and its exact 95% CI (from cis).
func newRate(cis *stats.PoissonCIs, events int64, officerYears float64, unstableBelow int64) Rate {
	r := Rate{Events: events, OfficerYears: round(officerYears, 6), Unstable: events < unstableBelow}
	if officerYears <= 0 {
		r.Why = "no officer-years of exposure"
		return r
	}
	lo, hi := cis.CI(events)
	r.Rate, r.CILow, r.CIHigh = ptr(float64(events)/officerYears), ptr(lo/officerYears), ptr(hi/officerYears)
	return r
}

// ratio returns a/b, or nil when b is zero.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	return ptr(a / b)
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// round rounds to d decimals, for figures whose last digits are noise of
// floating-point sums.
func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// rounded rounds a possibly absent figure to d decimals.
func rounded(v *float64, d int) *float64 {
	if v == nil {
		return nil
	}
	return ptr(round(*v, d))
}
