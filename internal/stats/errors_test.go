package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// synth is a small officer-by-month panel built in Go for the error cases.
func synth(officers, months int, seed uint64) (Data, Factor) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var y, off, treated, hours []float64
	var month, officer []int32
	for o := range officers {
		start := rng.IntN(months + 3)
		for mo := range months {
			tr := 0.0
			if mo >= start {
				tr = 1
			}
			h := 0.5 + 1.5*rng.Float64()
			lo := math.Log(0.3 + 0.7*rng.Float64())
			mu := math.Exp(0.3 - 0.3*tr + 0.2*h + lo + 0.1*float64(mo%4))
			y = append(y, float64(poisson(rng, mu)))
			off, treated, hours = append(off, lo), append(treated, tr), append(hours, h)
			month, officer = append(month, int32(mo)), append(officer, int32(o))
		}
	}
	d := Data{
		Y: y, Offset: off,
		X:       []Column{{Name: "treated", Values: treated}, {Name: "hours8", Values: hours}},
		Factors: []Factor{{Name: "month", Codes: month, Levels: months}},
		Cluster: officer,
	}
	return d, Factor{Name: "officer", Codes: officer, Levels: officers}
}

func poisson(rng *rand.Rand, mu float64) int {
	l, k, p := math.Exp(-mu), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func TestFitNotComputable(t *testing.T) {
	base := func() (Data, Factor) { return synth(40, 6, 5) }
	tests := []struct {
		name   string
		change func(d *Data, g *Factor)
		absorb bool
		reason string
	}{
		{"no events", func(d *Data, _ *Factor) { d.Y = make([]float64, len(d.Y)) }, false, "no events"},
		{"level without events", func(d *Data, _ *Factor) {
			d.Y = clone(d.Y)
			for i, m := range d.Factors[0].Codes {
				if m == 3 {
					d.Y[i] = 0
				}
			}
		}, false, "month 3 has no events"},
		{"level without rows", func(d *Data, _ *Factor) { d.Factors[0].Levels = 7 }, false, "month 6 has no rows"},
		{"duplicate column", func(d *Data, _ *Factor) {
			d.X = append(d.X, Column{Name: "treated again", Values: d.X[0].Values})
		}, false, "singular: treated again"},
		{"constant column", func(d *Data, _ *Factor) {
			d.X = append(d.X, Column{Name: "one", Values: fill(len(d.Y), 1)})
		}, false, "one is constant"},
		{"separation on treatment", func(d *Data, _ *Factor) {
			d.Y = clone(d.Y)
			for i, tr := range d.X[0].Values {
				if tr == 1 {
					d.Y[i] = 0
				}
			}
		}, false, "perfect separation: there are no events where treated > 0"},
		{"separation on untreated", func(d *Data, _ *Factor) {
			d.Y = clone(d.Y)
			for i, tr := range d.X[0].Values {
				if tr == 0 {
					d.Y[i] = 0
				}
			}
		}, false, "perfect separation: there are no events where treated < 1"},
		{"separation by a combination", func(d *Data, _ *Factor) {
			// z1 and z2 each have events at both ends, but z1+z2 ≥ 0 and
			// every row with z1+z2 > 0 has no events.
			d.Y = clone(d.Y)
			z1, z2 := make([]float64, len(d.Y)), make([]float64, len(d.Y))
			for i := range d.Y {
				switch i % 10 {
				case 0:
					z1[i], d.Y[i] = 1, 0
				case 1:
					z2[i], d.Y[i] = 1, 0
				case 2:
					z1[i], z2[i], d.Y[i] = 1, -1, 1
				case 3:
					z1[i], z2[i], d.Y[i] = -1, 1, 1
				}
			}
			d.X = append(d.X, Column{Name: "z1", Values: z1}, Column{Name: "z2", Values: z2})
		}, false, "not identified"},
		{"one cluster", func(d *Data, _ *Factor) { d.Cluster = make([]int32, len(d.Y)) }, false, "at least two clusters"},
		{"officer-level regressor", func(d *Data, g *Factor) {
			v := make([]float64, len(d.Y))
			for i, o := range g.Codes {
				v[i] = float64(o % 3)
			}
			d.X = append(d.X, Column{Name: "tenure", Values: v})
		}, true, "singular: tenure is a linear combination of the officer effects"},
		{"absorbed month without events in kept groups", func(d *Data, _ *Factor) {
			d.Y = clone(d.Y)
			for i, m := range d.Factors[0].Codes {
				if m == 0 {
					d.Y[i] = 0
				}
			}
		}, true, "month 0 has no events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, g := base()
			tt.change(&d, &g)
			var r *Result
			var err error
			if tt.absorb {
				r, err = FitPoissonAbsorbed(d, g, Options{})
			} else {
				r, err = FitGLM(d, Poisson(), Options{})
			}
			var nc ErrNotComputable
			if !errors.As(err, &nc) {
				t.Fatalf("err = %v, want ErrNotComputable", err)
			}
			t.Log(nc.Reason)
			if !strings.Contains(nc.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", nc.Reason, tt.reason)
			}
			if r != nil {
				t.Errorf("result %v with error", r)
			}
		})
	}
}

func TestFitNonConvergence(t *testing.T) {
	d, _ := synth(40, 6, 5)
	r, err := FitGLM(d, Poisson(), Options{MaxIter: 1})
	var nc ErrNotComputable
	if !errors.As(err, &nc) || !strings.Contains(nc.Reason, "did not converge") {
		t.Fatalf("err = %v, want non-convergence", err)
	}
	if r == nil || r.Converged || !r.finite() {
		t.Fatalf("want the last iterate, finite and not converged; got %+v", r)
	}
}

func TestFitInvalidInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Data, g *Factor)
		absorb bool
	}{
		{"short offset", func(d *Data, _ *Factor) { d.Offset = d.Offset[1:] }, false},
		{"negative outcome", func(d *Data, _ *Factor) { d.Y = clone(d.Y); d.Y[3] = -1 }, false},
		{"NaN regressor", func(d *Data, _ *Factor) {
			v := clone(d.X[1].Values)
			v[2] = math.NaN()
			d.X[1].Values = v
		}, false},
		{"code out of range", func(d *Data, _ *Factor) { d.Factors[0].Levels = 3 }, false},
		{"negative cluster", func(d *Data, _ *Factor) {
			c := append([]int32(nil), d.Cluster...)
			c[0] = -2
			d.Cluster = c
		}, false},
		{"groups not nested in clusters", func(d *Data, _ *Factor) { d.Cluster = d.Factors[0].Codes }, true},
		{"officers dummy-coded", func(d *Data, g *Factor) {
			big := *g
			big.Levels = 3000
			d.Factors = append(d.Factors, big)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, g := synth(20, 6, 9)
			tt.change(&d, &g)
			var err error
			if tt.absorb {
				_, err = FitPoissonAbsorbed(d, g, Options{})
			} else {
				_, err = FitGLM(d, Poisson(), Options{})
			}
			var nc ErrNotComputable
			if err == nil || errors.As(err, &nc) {
				t.Fatalf("err = %v, want a plain input error", err)
			}
		})
	}
	d, _ := synth(20, 6, 9)
	for _, fam := range []Family{NB2(0), NB2(math.Inf(1)), {Name: "gamma"}} {
		if _, err := FitGLM(d, fam, Options{}); err == nil {
			t.Errorf("family %+v accepted", fam)
		}
	}
	if _, err := FitGLM(d, Poisson(), Options{Level: 1.5}); err == nil {
		t.Error("level 1.5 accepted")
	}
}

func TestEstimateNB2AlphaNoOverdispersion(t *testing.T) {
	d, _ := synth(40, 6, 5)
	// Underdispersed counts: the rounded mean itself.
	d.Y = clone(d.Y)
	for i := range d.Y {
		d.Y[i] = math.Round(math.Exp(0.3 + d.Offset[i]))
	}
	_, err := EstimateNB2Alpha(d, Options{})
	var nc ErrNotComputable
	if !errors.As(err, &nc) || !strings.Contains(nc.Reason, "no overdispersion") {
		t.Fatalf("err = %v, want no overdispersion", err)
	}
}

func clone(v []float64) []float64 { return append([]float64(nil), v...) }

func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
