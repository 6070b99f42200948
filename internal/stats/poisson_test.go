package stats

import (
	"errors"
	"math"
	"testing"
)

func TestPoissonCIByHand(t *testing.T) {
	tests := []struct {
		k, lo, hi float64
	}{
		{0, 0, 3.6889},
		{1, 0.0253, 5.5716},
		{10, 4.7954, 18.3904},
	}
	for _, tt := range tests {
		lo, hi := PoissonCI(tt.k, 0.95)
		if math.Abs(lo-tt.lo) > 1e-4 || math.Abs(hi-tt.hi) > 1e-4 {
			t.Errorf("PoissonCI(%v) = (%.4f, %.4f), want (%.4f, %.4f)", tt.k, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestPoissonCIScipy(t *testing.T) {
	var ref struct {
		Cases []struct{ K, Level, Lo, Hi float64 }
	}
	readJSON(t, "poisson_ci.ref.json", &ref)
	tr := newTracker(t, 1e-9)
	for _, c := range ref.Cases {
		lo, hi := PoissonCI(c.K, c.Level)
		tr.check("lo", "", lo, c.Lo)
		tr.check("hi", "", hi, c.Hi)
	}
	tr.report()
}

func TestPoissonCIPanics(t *testing.T) {
	for _, tt := range []struct{ k, level float64 }{{-1, 0.95}, {math.NaN(), 0.95}, {math.Inf(1), 0.95}, {1, 1}, {1, 0}, {1, math.NaN()}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PoissonCI(%v, %v) did not panic", tt.k, tt.level)
				}
			}()
			PoissonCI(tt.k, tt.level)
		}()
	}
}

func TestRateRatioScipy(t *testing.T) {
	var ref struct {
		Cases []struct {
			K1, T1, K0, T0, Level float64
			Ratio                 float64
			Wald, Exact           []float64
		}
	}
	readJSON(t, "rate_ratio.ref.json", &ref)
	tr := newTracker(t, 1e-9)
	for _, c := range ref.Cases {
		r, err := RateRatio(c.K1, c.T1, c.K0, c.T0, c.Level)
		if err != nil {
			t.Fatalf("RateRatio(%v, %v, %v, %v): %v", c.K1, c.T1, c.K0, c.T0, err)
		}
		tr.check("ratio", "", r.Ratio, c.Ratio)
		if c.Wald == nil {
			if r.Wald.OK || r.Wald.Reason == "" || r.Wald.Lo != 0 || r.Wald.Hi != 0 {
				t.Errorf("k1 = 0: Wald = %+v, want not OK with a reason", r.Wald)
			}
		} else {
			tr.check("wald", "lo", r.Wald.Lo, c.Wald[0])
			tr.check("wald", "hi", r.Wald.Hi, c.Wald[1])
		}
		if !r.Exact.OK {
			t.Errorf("Exact not OK: %s", r.Exact.Reason)
		}
		tr.check("exact", "lo", r.Exact.Lo, c.Exact[0])
		tr.check("exact", "hi", r.Exact.Hi, c.Exact[1])
	}
	tr.report()
}

func TestRateRatioNotComputable(t *testing.T) {
	tests := []struct {
		name           string
		k1, t1, k0, t0 float64
	}{
		{"no reference events", 4, 10, 0, 10},
		{"no events", 0, 10, 0, 10},
		{"zero time", 4, 0, 3, 10},
		{"zero reference time", 4, 10, 3, 0},
		{"negative count", -1, 10, 3, 10},
		{"infinite time", 4, math.Inf(1), 3, 10},
		{"NaN count", math.NaN(), 10, 3, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := RateRatio(tt.k1, tt.t1, tt.k0, tt.t0, 0.95)
			var nc ErrNotComputable
			if !errors.As(err, &nc) || nc.Reason == "" {
				t.Fatalf("err = %v, want ErrNotComputable", err)
			}
			if r != (RateRatioResult{}) {
				t.Errorf("result = %+v, want zero", r)
			}
		})
	}
}
