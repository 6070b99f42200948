package stats

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// benchPanel is deesc's production shape: 100,000 officers × 106 months
// (10.6 M rows), sorted by officer, each officer in one of 50 units and
// observed for 106 consecutive months of a 120-month calendar, with a
// staggered binary treatment and an exposure offset.
var benchPanel = sync.OnceValue(func() *fixture {
	const officers, months, calendar, units = 100_000, 106, 120, 50
	n := officers * months
	f := &fixture{
		Y: make([]float64, n), Offset: make([]float64, n), Treated: make([]float64, n),
		Unit: make([]int32, n), Month: make([]int32, n), Officer: make([]int32, n),
	}
	f.Levels.Officer, f.Levels.Unit, f.Levels.Month = officers, units, calendar
	rng := rand.New(rand.NewPCG(42, 42))
	i := 0
	for o := range officers {
		unit := int32(rng.IntN(units))
		first := rng.IntN(calendar - months + 1)
		start := rng.IntN(2 * months)
		frailty := 0.5 * rng.NormFloat64()
		for m := range months {
			tr := 0.0
			if m >= start {
				tr = 1
			}
			lexp := math.Log(0.5 + 0.5*rng.Float64())
			mu := math.Exp(-1.5 - 0.2*tr + 0.01*float64(unit%7) + 0.1*math.Sin(float64(first+m)/6) + frailty + lexp)
			f.Y[i], f.Offset[i], f.Treated[i] = float64(poisson(rng, mu)), lexp, tr
			f.Unit[i], f.Month[i], f.Officer[i] = unit, int32(first+m), int32(o)
			i++
		}
	}
	return f
})

func (f *fixture) benchData(withUnit bool) Data {
	d := Data{Y: f.Y, Offset: f.Offset, Cluster: f.Officer, X: []Column{{Name: "treated", Values: f.Treated}}}
	if withUnit {
		d.Factors = append(d.Factors, Factor{Name: "unit", Codes: f.Unit, Levels: f.Levels.Unit})
	}
	d.Factors = append(d.Factors, Factor{Name: "month", Codes: f.Month, Levels: f.Levels.Month})
	return d
}

// BenchmarkPoissonFE fits Poisson with intercept, treatment, unit and month
// dummies (170 parameters) and officer-clustered covariance on 10.6 M rows.
func BenchmarkPoissonFE(b *testing.B) {
	d := benchPanel().benchData(true)
	b.ResetTimer()
	var r *Result
	for b.Loop() {
		var err error
		if r, err = FitGLM(d, Poisson(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Iterations), "iterations")
	b.ReportMetric(float64(r.N), "rows")
}

// BenchmarkPoissonAbsorbed fits the same panel with the 100,000 officer
// effects absorbed, month dummies and treatment, clustered on officer.
func BenchmarkPoissonAbsorbed(b *testing.B) {
	f := benchPanel()
	d := f.benchData(false)
	b.ResetTimer()
	var r *Result
	for b.Loop() {
		var err error
		if r, err = FitPoissonAbsorbed(d, f.officers(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Iterations), "iterations")
	b.ReportMetric(float64(r.Absorbed.Groups), "groups")
}
