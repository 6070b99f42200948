package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestGolden records the results as the JSON layer will see them, so that
// any change in a reported number shows in review. Refresh the files with
// go test ./internal/stats -run TestGolden -update. (Their accuracy is
// checked against statsmodels by the other tests, not here.)
func TestGolden(t *testing.T) {
	var pois glmPoissonRef
	readJSON(t, "glm_poisson.ref.json", &pois)
	var nb glmNB2Ref
	readJSON(t, "glm_nb2.ref.json", &nb)
	var abs absorbedRef
	readJSON(t, "absorbed.ref.json", &abs)
	p, n, a := &pois.Data, &nb.Data, &abs.Data
	cases := []struct {
		name string
		fit  func() (any, error)
	}{
		{"glm_poisson", func() (any, error) { return FitGLM(p.data(true, p.Officer), Poisson(), Options{}) }},
		{"glm_nb2", func() (any, error) { return FitGLM(n.data(true, n.Officer), NB2(0.5), Options{}) }},
		{"nb2_alpha", func() (any, error) { return EstimateNB2Alpha(n.data(true, n.Officer), Options{}) }},
		{"absorbed", func() (any, error) { return FitPoissonAbsorbed(a.data(false, a.Officer), a.officers(), Options{}) }},
		{"rate_ratio", func() (any, error) { return RateRatio(0, 50, 7, 40, 0.95) }},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.fit()
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(v, "", "\t") // fails on NaN and ±Inf
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			// Last bits may differ across architectures (fused multiply-add).
			if d := jsonDiff("", g, w, 1e-9); d != "" {
				t.Errorf("%s differs from the golden file: %s", tt.name, d)
			}
		})
	}
}

// jsonDiff describes the first difference between decoded JSON values, with
// numbers compared to a relative tolerance.
func jsonDiff(path string, got, want any, tol float64) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return path + ": different objects"
		}
		for k := range w {
			if d := jsonDiff(path+"."+k, g[k], w[k], tol); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + ": different arrays"
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i], tol); d != "" {
				return d
			}
		}
	case float64:
		g, ok := got.(float64)
		if !ok || relErr(g, w, 1e-300) > tol && math.Abs(g-w) > 1e-15 {
			return fmt.Sprintf("%s: %v, want %v", path, got, w)
		}
	default:
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("%s: %v, want %v", path, got, want)
		}
	}
	return ""
}

// TestRowOrder checks that the order of the rows does not matter: the
// Poisson fixture is sorted by officer, the absorbed one shuffled.
func TestRowOrder(t *testing.T) {
	var pois glmPoissonRef
	readJSON(t, "glm_poisson.ref.json", &pois)
	var abs absorbedRef
	readJSON(t, "absorbed.ref.json", &abs)
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := permuteFixture(&pois.Data, rng.Perm(len(pois.Data.Y)))
	sortedAbs := permuteFixture(&abs.Data, orderBy(abs.Data.Officer))
	type fit func(f *fixture) (*Result, error)
	glm := func(f *fixture) (*Result, error) { return FitGLM(f.data(true, f.Officer), Poisson(), Options{}) }
	nb2 := func(f *fixture) (*Result, error) { return FitGLM(f.data(true, f.Unit), NB2(0.3), Options{}) }
	absorbed := func(f *fixture) (*Result, error) {
		return FitPoissonAbsorbed(f.data(false, f.Unit), f.officers(), Options{})
	}
	tests := []struct {
		name string
		a, b *fixture
		fit  fit
	}{
		{"glm", &pois.Data, shuffled, glm},
		{"nb2 clustered on unit", &pois.Data, shuffled, nb2},
		{"absorbed", &abs.Data, sortedAbs, absorbed},
	}
	for _, tt := range tests {
		ra, err := tt.fit(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := tt.fit(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		for j, c := range ra.Coefs {
			d := rb.Coefs[j]
			if relErr(c.Estimate, d.Estimate, 1e-9) > 1e-10 || relErr(c.Robust.SE, d.Robust.SE, 1e-9) > 1e-10 {
				t.Errorf("%s: %s = %v ± %v after reordering, was %v ± %v", tt.name, c.Name, d.Estimate, d.Robust.SE, c.Estimate, c.Robust.SE)
			}
		}
	}
}

func permuteFixture(f *fixture, perm []int) *fixture {
	g := *f
	g.Y, g.Offset, g.Treated, g.Hours8 = permute(f.Y, perm), permute(f.Offset, perm), permute(f.Treated, perm), permute(f.Hours8, perm)
	g.Unit, g.Month, g.Officer = permute(f.Unit, perm), permute(f.Month, perm), permute(f.Officer, perm)
	return &g
}

func permute[T any](v []T, perm []int) []T {
	out := make([]T, len(perm))
	for i, j := range perm {
		out[i] = v[j]
	}
	return out
}

func orderBy(codes []int32) []int {
	perm := make([]int, len(codes))
	for i := range perm {
		perm[i] = i
	}
	for i := 1; i < len(perm); i++ { // insertion sort: stable, small input
		for j := i; j > 0 && codes[perm[j]] < codes[perm[j-1]]; j-- {
			perm[j], perm[j-1] = perm[j-1], perm[j]
		}
	}
	return perm
}

// TestWorkers checks that the number of goroutines does not change a bit of
// the result (partial sums are added in a fixed order).
func TestWorkers(t *testing.T) {
	var abs absorbedRef
	readJSON(t, "absorbed.ref.json", &abs)
	f := &abs.Data
	var first *Result
	for _, w := range []int{1, 2, 3, 16} {
		r, err := FitGLM(f.data(true, f.Officer), Poisson(), Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		ra, err := FitPoissonAbsorbed(f.data(false, f.Officer), f.officers(), Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		r.RobustCov = append(r.RobustCov, ra.RobustCov...)
		if first == nil {
			first = r
		} else if !reflect.DeepEqual(r, first) {
			t.Errorf("Workers %d changes the result", w)
		}
	}
}

func TestResultCoef(t *testing.T) {
	d, _ := synth(30, 6, 3)
	r, err := FitGLM(d, Poisson(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Coef("treated")
	if err != nil || c.Name != "treated" || c.Estimate != r.Coefs[1].Estimate {
		t.Errorf("Coef(treated) = %+v, %v", c, err)
	}
	if _, err := r.Coef("month[1]"); err != nil {
		t.Error(err)
	}
	if _, err := r.Coef("nope"); err == nil {
		t.Error("Coef(nope) found something")
	}
	if math.Abs(c.RR-math.Exp(c.Estimate)) > 1e-15 || math.Abs(c.Robust.RRLo-math.Exp(c.Robust.Lo)) > 1e-15 {
		t.Errorf("rate ratios %+v", c)
	}
	if !r.Robust || r.Clusters != 30 || r.K != len(r.Coefs) {
		t.Errorf("Robust %v, Clusters %d, K %d", r.Robust, r.Clusters, r.K)
	}
}

func TestNoClusterNoOffset(t *testing.T) {
	d, _ := synth(30, 6, 3)
	d.Cluster, d.Offset = nil, nil
	for _, fam := range []Family{Poisson(), NB2(0.2)} {
		r, err := FitGLM(d, fam, Options{Level: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		if r.Robust || r.RobustCov != nil || r.Clusters != 0 || r.Coefs[1].Robust != (Inference{}) {
			t.Errorf("%s: robust output without clusters: %+v", fam.Name, r.Coefs[1])
		}
		c := r.Coefs[1]
		if z := (c.Model.Hi - c.Estimate) / c.Model.SE; math.Abs(z-1.6448536269514722) > 1e-12 {
			t.Errorf("90%% interval uses z = %v", z)
		}
		if !r.Converged || r.N != len(d.Y) || r.K != len(r.Coefs) || r.DFResid != r.N-r.K {
			t.Errorf("%+v", r)
		}
	}
}

func TestFactorLabels(t *testing.T) {
	d, _ := synth(30, 3, 3)
	d.Factors[0].Labels = []string{"2024-01", "2024-02", "2024-03"}
	r, err := FitGLM(d, Poisson(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Coef("month[2024-03]"); err != nil {
		t.Error(err)
	}
}
