package stats

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// handPanel is small enough to work by hand. Periods 0, 1, 2; −1 marks
// never-treated units.
//
//	cohort 1: A [1 3 4], B [3 5 8]   means [2 4 6]
//	cohort 2: C [1 2 6], D [1 2 4]   means [1 2 5]
//	never:    E [2 3 3], F [0 1 3]   means [1 2 3]
func handPanel() Panel {
	return Panel{N: 6, T: 3, Never: -1,
		Y:      []float64{1, 3, 4, 3, 5, 8, 1, 2, 6, 1, 2, 4, 2, 3, 3, 0, 1, 3},
		Cohort: []int{1, 1, 2, 2, -1, -1},
	}
}

// TestStaggeredByHand checks the hand-computed numbers:
//
//	ATT(1,1): comparisons first treated after 1 are cohort 2 and the never
//	          treated, 2 units each: (4−2) − [½(2−1) + ½(2−1)] = 2 − 1 = 1
//	ATT(1,2): comparisons after 2 are the never treated: (6−2) − (3−1) = 2
//	ATT(2,2): base period 1: (5−2) − (3−2) = 2
//	simple   = (2·1 + 2·2 + 2·2) / 6 = 5/3
//	cohort   = (2·(1+2)/2 + 2·2) / 4 = 7/4
//	calendar = (1 + (2+2)/2) / 2 = 3/2
//	event    e=−1: 0, e=0: (1+2)/2 = 3/2, e=1: 2; overall (3/2 + 2)/2 = 7/4
//
// Neyman SE of simple, weight 1/3 per cell; the rows of A = A_θ − A_0:
//
//	cohort 1 [−2/3  1/3  1/3]  Z = 5/3, 7/3     s² = 2/9
//	cohort 2 [ 1/6 −1/2  1/3]  Z = 7/6, 1/2     s² = 2/9
//	never    [ 1/2  1/6 −2/3]  Z = −1/2, −11/6  s² = 8/9
//	Var = (2/9 + 2/9 + 8/9) / 2 = 2/3
//
// Relative change: treated mean (4+6+5)/3 = 5, so (5/3) / (5 − 5/3) = 1/2.
//
// Refined SE: one pre-period (0) before the first cohort. Var(Y₀) within
// cohorts = 2, 0, 2 (pseudo-inverses 1/2, 0, 1/2); rows of A_θ [0 1/3 1/3],
// [0 −1/6 1/3], [0 −1/6 −2/3] give Cov(Y₀, A_θ·Y) = 2, 0, −1/3, so
// β = 1 + 0 − 1/6 = 5/6, the mean Var(Y₀) is 4/3, the adjustment
// (5/6)²·(4/3)/6 = 25/162 and SE² = 2/3 − 25/162 = 83/162.
func TestStaggeredByHand(t *testing.T) {
	want := map[string]float64{"simple": 5. / 3, "cohort": 7. / 4, "calendar": 3. / 2, "event": 7. / 4}
	for est, w := range want {
		r, err := Staggered(handPanel(), est, 0.95)
		if err != nil {
			t.Fatalf("%s: %v", est, err)
		}
		if math.Abs(r.Estimate-w) > 1e-14 {
			t.Errorf("%s = %v, want %v", est, r.Estimate, w)
		}
		var sum float64
		for _, c := range r.Cells {
			sum += c.Weight * c.ATT
		}
		if math.Abs(sum-r.Estimate) > 1e-14 {
			t.Errorf("%s: Σ weight·ATT = %v, estimate %v", est, sum, r.Estimate)
		}
	}

	r, err := Staggered(handPanel(), "simple", 0.95)
	if err != nil {
		t.Fatal(err)
	}
	cells := []StaggeredCell{
		{Cohort: 1, Period: 1, ATT: 1, Weight: 1. / 3, Controls: 4},
		{Cohort: 1, Period: 2, ATT: 2, Weight: 1. / 3, Controls: 2},
		{Cohort: 2, Period: 2, ATT: 2, Weight: 1. / 3, Controls: 2},
	}
	if len(r.Cells) != len(cells) {
		t.Fatalf("cells %+v, want %+v", r.Cells, cells)
	}
	for i, c := range cells {
		g := r.Cells[i]
		if g.Cohort != c.Cohort || g.Period != c.Period || g.Controls != c.Controls ||
			math.Abs(g.ATT-c.ATT) > 1e-14 || math.Abs(g.Weight-c.Weight) > 1e-14 {
			t.Errorf("cell %d = %+v, want %+v", i, g, c)
		}
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"SE", r.SE, math.Sqrt(2. / 3)},
		{"Lo", r.Lo, 5./3 - 1.959963984540054*math.Sqrt(2./3)},
		{"SERefined", r.SERefined, math.Sqrt(83. / 162)},
		{"relative", r.Relative.Estimate, 0.5},
		{"treated mean", r.Relative.TreatedMean, 5},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if r.Units != 6 || len(r.Cohorts) != 3 || !r.Cohorts[2].Never || r.Cohorts[2].Cohort != -1 || r.Cohorts[2].Treated {
		t.Errorf("units %d, cohorts %+v", r.Units, r.Cohorts)
	}

	r, err = Staggered(handPanel(), "event", 0.95)
	if err != nil {
		t.Fatal(err)
	}
	events := []EventEstimate{{E: -1, Cohorts: 2}, {E: 0, Estimate: 1.5, Cohorts: 2}, {E: 1, Estimate: 2, Cohorts: 1}}
	if len(r.Events) != len(events) {
		t.Fatalf("events %+v", r.Events)
	}
	for i, e := range events {
		g := r.Events[i]
		if g.E != e.E || g.Cohorts != e.Cohorts || math.Abs(g.Estimate-e.Estimate) > 1e-14 {
			t.Errorf("event %d = %+v, want %+v", i, g, e)
		}
	}
	if e := r.Events[0]; e.Estimate != 0 || e.SE != 0 || e.SERefined != 0 {
		t.Errorf("e = −1 is %+v, want exactly 0 (the base period)", e)
	}
}

// staggeredRef is what staggered_reference.py records for one estimand.
type staggeredRef struct {
	Estimand     string
	Estimate, SE float64
	Lo, Hi       float64
	SERefined    float64 `json:"se_refined"`
	Relative     struct {
		OK           bool
		TreatedMean  float64 `json:"treated_mean"`
		Untreated    float64
		Estimate, SE float64
		Lo, Hi       float64
	}
	Units   int
	Cohorts []struct {
		Cohort  *int // null: never treated
		Units   int
		Treated bool
	}
	Excluded []struct {
		Cohorts []int
		Units   int
	}
	Cells []struct {
		Cohort, Period int
		ATT, Weight    float64
		Controls       int
	}
	Events []struct {
		E                    int
		Estimate, SE, Lo, Hi float64
		SERefined            float64 `json:"se_refined"`
		Cohorts              int
	}
}

// staggeredChecker compares estimates to 1e-9 absolute and standard errors
// to 1e-6 relative.
type staggeredChecker struct {
	t             *testing.T
	worstEstimate float64
	worstSE       float64
}

func (c *staggeredChecker) est(what string, got, want float64) {
	c.t.Helper()
	d := math.Abs(got - want)
	c.worstEstimate = max(c.worstEstimate, d)
	if !(d <= 1e-9) {
		c.t.Errorf("%s = %.15g, want %.15g (difference %.2g)", what, got, want, d)
	}
}

func (c *staggeredChecker) se(what string, got, want float64) {
	c.t.Helper()
	e := relErr(got, want, 1e-9)
	c.worstSE = max(c.worstSE, e)
	if !(e <= 1e-6) {
		c.t.Errorf("%s = %.15g, want %.15g (relative error %.2g)", what, got, want, e)
	}
}

func (c *staggeredChecker) compare(r *StaggeredResult, ref staggeredRef, never int) {
	c.t.Helper()
	c.est("estimate", r.Estimate, ref.Estimate)
	c.se("se", r.SE, ref.SE)
	c.se("se_refined", r.SERefined, ref.SERefined)
	c.est("lo", r.Lo, ref.Lo)
	c.est("hi", r.Hi, ref.Hi)
	rel := r.Relative
	if rel.OK != ref.Relative.OK {
		c.t.Errorf("relative OK = %v, want %v (%s)", rel.OK, ref.Relative.OK, rel.Reason)
	}
	c.est("treated mean", rel.TreatedMean, ref.Relative.TreatedMean)
	c.est("untreated mean", rel.UntreatedEstimated, ref.Relative.Untreated)
	if rel.OK {
		c.est("relative", rel.Estimate, ref.Relative.Estimate)
		c.se("relative se", rel.SE, ref.Relative.SE)
		c.est("relative lo", rel.Lo, ref.Relative.Lo)
		c.est("relative hi", rel.Hi, ref.Relative.Hi)
	}
	if r.Units != ref.Units {
		c.t.Errorf("units = %d, want %d", r.Units, ref.Units)
	}
	if len(r.Cohorts) != len(ref.Cohorts) {
		c.t.Fatalf("%d cohorts, want %d", len(r.Cohorts), len(ref.Cohorts))
	}
	for i, w := range ref.Cohorts {
		g := r.Cohorts[i]
		wc, wn := never, true
		if w.Cohort != nil {
			wc, wn = *w.Cohort, false
		}
		if g.Cohort != wc || g.Never != wn || g.Units != w.Units || g.Treated != w.Treated {
			c.t.Errorf("cohort %d = %+v, want %+v", i, g, w)
		}
	}
	if len(r.Excluded) != len(ref.Excluded) {
		c.t.Fatalf("excluded %+v, want %+v", r.Excluded, ref.Excluded)
	}
	for i, w := range ref.Excluded {
		if g := r.Excluded[i]; fmt.Sprint(g.Cohorts) != fmt.Sprint(w.Cohorts) || g.Units != w.Units {
			c.t.Errorf("excluded %d = %+v, want %+v", i, g, w)
		}
	}
	if ref.Cells != nil {
		if len(r.Cells) != len(ref.Cells) {
			c.t.Fatalf("%d cells, want %d", len(r.Cells), len(ref.Cells))
		}
		for i, w := range ref.Cells {
			g := r.Cells[i]
			if g.Cohort != w.Cohort || g.Period != w.Period || g.Controls != w.Controls {
				c.t.Errorf("cell %d = %+v, want %+v", i, g, w)
			}
			c.est(fmt.Sprintf("ATT(%d,%d)", w.Cohort, w.Period), g.ATT, w.ATT)
			c.est(fmt.Sprintf("weight(%d,%d)", w.Cohort, w.Period), g.Weight, w.Weight)
		}
	}
	if len(r.Events) != len(ref.Events) {
		c.t.Fatalf("%d event times, want %d", len(r.Events), len(ref.Events))
	}
	for i, w := range ref.Events {
		g := r.Events[i]
		if g.E != w.E || g.Cohorts != w.Cohorts {
			c.t.Errorf("event %d: e = %d with %d cohorts, want %d with %d", i, g.E, g.Cohorts, w.E, w.Cohorts)
		}
		c.est(fmt.Sprintf("event %d", w.E), g.Estimate, w.Estimate)
		c.se(fmt.Sprintf("event %d se", w.E), g.SE, w.SE)
		c.se(fmt.Sprintf("event %d se_refined", w.E), g.SERefined, w.SERefined)
		c.est(fmt.Sprintf("event %d lo", w.E), g.Lo, w.Lo)
		c.est(fmt.Sprintf("event %d hi", w.E), g.Hi, w.Hi)
	}
}

// TestStaggeredFixtures compares with the pandas reference on generated
// panels that exercise every exclusion, a panel without never-treated units
// and one with continuous outcomes.
func TestStaggeredFixtures(t *testing.T) {
	var f struct {
		Cases []struct {
			Name    string
			N, T    int
			Never   int
			Y       []float64
			Cohort  []int
			Results map[string]staggeredRef
		}
	}
	readJSON(t, "staggered_fixtures.json", &f)
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range f.Cases {
		p := Panel{N: tc.N, T: tc.T, Y: tc.Y, Cohort: tc.Cohort, Never: tc.Never}
		for _, est := range staggeredEstimands {
			t.Run(tc.Name+"/"+est, func(t *testing.T) {
				ref, ok := tc.Results[est]
				if !ok {
					t.Fatal("no reference")
				}
				r, err := Staggered(p, est, 0.95)
				if err != nil {
					t.Fatal(err)
				}
				c := &staggeredChecker{t: t}
				c.compare(r, ref, tc.Never)
				t.Logf("worst: estimates %.1e absolute, SEs %.1e relative", c.worstEstimate, c.worstSE)
			})
		}
	}
}

// chicagoPath is the Chicago procedural-justice panel (Roth & Sant'Anna's
// pj_officer_level_balanced), read in place and never copied into the repository.
const chicagoPath = "../../../shared/data/real/chicago-pj/pj_officer_level_balanced.csv.gz"

// chicagoPanels reads the Chicago panel once: one Panel per outcome, cohort
// and period 0-based (first_trained − 1, period − 1).
var chicagoPanels = sync.OnceValues(func() (map[string]Panel, error) {
	f, err := os.Open(chicagoPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(zr)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	outcomes := []string{"complaints", "sustained", "force"}
	const T = 72
	units := map[string]int{}
	var cohort []int
	ys := make([][]float64, len(outcomes))
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		atoi := func(name string) int {
			v, e := strconv.Atoi(rec[col[name]])
			if e != nil && err == nil {
				err = fmt.Errorf("line %d: %s: %v", line, name, e)
			}
			return v
		}
		period, first := atoi("period")-1, atoi("first_trained")-1
		if period < 0 || period >= T {
			return nil, fmt.Errorf("line %d: period %d outside 1..%d", line, period+1, T)
		}
		i, ok := units[rec[col["uid"]]]
		if !ok {
			i = len(cohort)
			units[strings.Clone(rec[col["uid"]])] = i
			cohort = append(cohort, first)
			for k := range ys {
				ys[k] = append(ys[k], slices.Repeat([]float64{math.NaN()}, T)...)
			}
		} else if cohort[i] != first {
			return nil, fmt.Errorf("line %d: first_trained differs between months", line)
		}
		for k, o := range outcomes {
			ys[k][i*T+period] = float64(atoi(o))
		}
		if err != nil {
			return nil, err
		}
	}
	out := map[string]Panel{}
	for k, o := range outcomes {
		out[o] = Panel{N: len(cohort), T: T, Y: ys[k], Cohort: cohort, Never: -1}
		// NaN left over means a missing month: Staggered rejects it.
	}
	return out, nil
})

// TestStaggeredChicago compares with the pandas reference on the real
// Chicago panel, and with the output of the R package itself printed in its
// README (staggered_cs, complaints, simple).
func TestStaggeredChicago(t *testing.T) {
	panels, err := chicagoPanels()
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("the Chicago panel is not at %s; skipping the real-data comparison", chicagoPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Units, Periods int
		Outcomes       map[string]map[string]staggeredRef
	}
	readJSON(t, "staggered_chicago.json", &ref)
	for _, o := range []string{"complaints", "sustained", "force"} {
		p := panels[o]
		if p.N != ref.Units || p.T != ref.Periods {
			t.Fatalf("panel %d×%d, reference %d×%d", p.N, p.T, ref.Units, ref.Periods)
		}
		for _, est := range staggeredEstimands {
			t.Run(o+"/"+est, func(t *testing.T) {
				r, err := Staggered(p, est, 0.95)
				if err != nil {
					t.Fatal(err)
				}
				c := &staggeredChecker{t: t}
				c.compare(r, ref.Outcomes[o][est], -1)
				t.Logf("estimate %.6g  se %.6g  se_refined %.6g  95%% CI [%.6g, %.6g]  relative %.4g [%.4g, %.4g]  (worst: %.1e, %.1e)",
					r.Estimate, r.SE, r.SERefined, r.Lo, r.Hi, r.Relative.Estimate, r.Relative.Lo, r.Relative.Hi, c.worstEstimate, c.worstSE)
			})
		}
	}

	// README.md of jonathandroth/staggered, printed by R:
	//   staggered_cs(df, i = "uid", t = "period", g = "first_trained",
	//                y = "complaints", estimand = "simple")
	//   estimate -0.005176818  se 0.003928735  se_neyman 0.003930919
	r, err := Staggered(panels["complaints"], "simple", 0.95)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"estimate", r.Estimate, -0.005176818},
		{"se (refined)", r.SERefined, 0.003928735},
		{"se_neyman", r.SE, 0.003930919},
	} {
		if relErr(c.got, c.want, 0) > 1e-6 {
			t.Errorf("R package README: %s = %.9f, R printed %.9f", c.what, c.got, c.want)
		}
	}
}

// TestStaggeredErrors checks the refusals: malformed input is an error,
// data that cannot support an estimate ErrNotComputable.
func TestStaggeredErrors(t *testing.T) {
	hand := handPanel()
	with := func(f func(p *Panel)) Panel {
		p := hand
		p.Y = append([]float64(nil), hand.Y...)
		p.Cohort = append([]int(nil), hand.Cohort...)
		f(&p)
		return p
	}
	cases := []struct {
		name       string
		p          Panel
		estimand   string
		computable bool // false: ErrNotComputable; true: another error
		reason     string
	}{
		{"unknown estimand", hand, "dynamic", true, "unknown estimand"},
		{"short Y", with(func(p *Panel) { p.Y = p.Y[1:] }), "simple", true, "len(Y)"},
		{"short Cohort", with(func(p *Panel) { p.Cohort = p.Cohort[1:] }), "simple", true, "len(Cohort)"},
		{"Never is a period", with(func(p *Panel) { p.Never = 0 }), "simple", true, "Never = 0"},
		{"NaN outcome", with(func(p *Panel) { p.Y[4] = math.NaN() }), "simple", true, "unit 1 in period 1"},
		{"no units", Panel{T: 3, Never: -1}, "simple", false, "no units"},
		{"one period", Panel{N: 2, T: 1, Y: []float64{1, 2}, Cohort: []int{-1, -1}, Never: -1}, "simple", false, "two periods"},
		{"all never treated", with(func(p *Panel) { p.Cohort = []int{-1, -1, -1, -1, -1, -1} }), "simple", false, "no cohort is first treated"},
		{"all treated after the window", with(func(p *Panel) { p.Cohort = []int{3, 3, 7, 7, -1, -1} }), "cohort", false, "no cohort is first treated"},
		{"all treated in the first period", with(func(p *Panel) { p.Cohort = []int{0, 0, 0, -5, -5, 0} }), "simple", false, "no cohort of two"},
		{"one cohort, nobody untreated", with(func(p *Panel) { p.Cohort = []int{1, 1, 1, 1, 0, 0} }), "event", false, "only one cohort"},
		{"singletons only", with(func(p *Panel) { p.Cohort = []int{1, 2, 0, 0, 0, -1} }), "simple", false, "no cohort of two"},
		{"never-treated singleton dropped", with(func(p *Panel) { p.Cohort = []int{2, 2, 2, 2, 0, -1} }), "calendar", false, "only one cohort"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Staggered(tc.p, tc.estimand, 0.95)
			if err == nil {
				t.Fatal("no error")
			}
			var nc ErrNotComputable
			if errors.As(err, &nc) == tc.computable {
				t.Errorf("error %q: ErrNotComputable is %v", err, !tc.computable)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not mention %q", err, tc.reason)
			}
		})
	}

	// A negative untreated level leaves the relative change undefined but
	// not the estimate.
	p := with(func(p *Panel) {
		for i := range p.Y {
			p.Y[i] -= 100
		}
	})
	r, err := Staggered(p, "simple", 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if r.Relative.OK || r.Relative.Reason == "" || r.Relative.Estimate != 0 || math.Abs(r.Estimate-5./3) > 1e-12 {
		t.Errorf("estimate %v, relative %+v", r.Estimate, r.Relative)
	}
}

// TestStaggeredChunks checks the parallel, chunked covariances against the
// per-unit Z_i = A_{g_i}·Y_i route on cohorts larger than one chunk.
func TestStaggeredChunks(t *testing.T) {
	p := staggeredBenchPanel(20_000, 12, 3)
	d, err := newStaggered(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, cells := range [][]cellW{d.simpleCells(), d.calendarCells(), d.eventCells(-2)} {
		var l linearWeights
		d.linear(cells, &l)
		index := map[int]int{}
		for k, c := range d.coh {
			if !c.never {
				index[c.g] = k
			}
		}
		zs := make([][]float64, len(d.coh))
		for i, g := range p.Cohort {
			k, ok := index[g]
			if g == p.Never {
				k, ok = len(d.coh)-1, true
			}
			if !ok {
				continue
			}
			zs[k] = append(zs[k], dot(l.comb[k*p.T:(k+1)*p.T], p.Y[i*p.T:(i+1)*p.T]))
		}
		var want float64
		for _, z := range zs {
			var m, ss float64
			for _, v := range z {
				m += v
			}
			m /= float64(len(z))
			for _, v := range z {
				ss += (v - m) * (v - m)
			}
			want += ss / float64(len(z)-1) / float64(len(z))
		}
		if got := d.designCov(l.comb)[0]; relErr(got, want, 1e-300) > 1e-10 {
			t.Errorf("Neyman variance %v, per-unit route %v", got, want)
		}
	}
}

// staggeredBenchPanel is n units × T periods of Poisson counts: 15% never
// treated, the rest first treated uniformly from period `first` to a few
// periods after the window.
func staggeredBenchPanel(n, T, first int) Panel {
	rng := rand.New(rand.NewPCG(7, 11))
	p := Panel{N: n, T: T, Y: make([]float64, n*T), Cohort: make([]int, n), Never: -1}
	for i := range n {
		g := -1
		if rng.Float64() > 0.15 {
			g = first + rng.IntN(T-first+T/12)
		}
		p.Cohort[i] = g
		frailty := 0.5 * rng.NormFloat64()
		for t := range T {
			mu := math.Exp(-2 + frailty + 0.1*math.Sin(float64(t)/6))
			if g >= 0 && t >= g {
				mu *= 0.8
			}
			p.Y[i*T+t] = float64(poisson(rng, mu))
		}
	}
	return p
}

// BenchmarkStaggered runs deesc's production shape, 100,000 officers × 120
// months with about 120 cohorts from month 6 on.
func BenchmarkStaggered(b *testing.B) {
	p := staggeredBenchPanel(100_000, 120, 6)
	for _, est := range staggeredEstimands {
		b.Run(est, func(b *testing.B) {
			var r *StaggeredResult
			for b.Loop() {
				var err error
				if r, err = Staggered(p, est, 0.95); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(r.Cohorts)), "cohorts")
			b.ReportMetric(float64(len(r.Cells)), "cells")
		})
	}
}

// TestStaggeredClusteredByHand works the cluster-robust SE of the simple
// estimate on handPanel. Each unit's influence is (Z_i − Z̄_g)/N_g with the
// Z of TestStaggeredByHand: A −1/6, B 1/6; C 1/6, D −1/6; E 1/3, F −1/3,
// scaled by √(k_g/(k_g−1)) for the k_g clusters of its cohort.
func TestStaggeredClusteredByHand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster []int
		se      float64
		lone    int
	}{
		// Each cohort in two clusters (f = √2): {A,C,E} sums to √2/3, {B,D,F}
		// to −√2/3: V = 2/9 + 2/9 = 4/9.
		{"two clusters across cohorts", []int{7, 9, 7, 9, 7, 9}, 2.0 / 3, 0},
		// Every unit its own cluster: 2·(4/36 + 2/9) = 2/3, the Neyman variance.
		{"one unit per cluster", []int{0, 1, 2, 3, 4, 5}, math.Sqrt(2.0 / 3), 0},
		// Clusters that are the cohorts: each sums to zero.
		{"clusters are the cohorts", []int{0, 0, 1, 1, 2, 2}, 0, 3},
	} {
		p := handPanel()
		p.Cluster = tc.cluster
		r, err := Staggered(p, "simple", 0.95)
		if err != nil {
			t.Fatal(err)
		}
		c := r.Clustered
		if !c.OK || c.Clusters != len(slices.Compact(slices.Sorted(slices.Values(tc.cluster)))) || c.Lone != tc.lone ||
			math.Abs(c.SE-tc.se) > 1e-12 || math.Abs(c.Lo-(r.Estimate-1.959963984540054*c.SE)) > 1e-12 ||
			math.Abs(c.Hi-(r.Estimate+1.959963984540054*c.SE)) > 1e-12 {
			t.Errorf("%s: %+v, want SE %v, %d lone", tc.name, c, tc.se, tc.lone)
		}
	}
	p := handPanel()
	if r, _ := Staggered(p, "simple", 0.95); r.Clustered != (ClusteredSE{}) {
		t.Errorf("no clusters given: %+v", r.Clustered)
	}
	p.Cluster = []int{4, 4, 4, 4, 4, 4}
	if r, _ := Staggered(p, "simple", 0.95); r.Clustered.OK || r.Clustered.Reason == "" || r.Clustered.Clusters != 1 {
		t.Errorf("one cluster: %+v", r.Clustered)
	}
	p.Cluster = []int{1, 2}
	if _, err := Staggered(p, "simple", 0.95); err == nil || !strings.Contains(err.Error(), "Cluster") {
		t.Errorf("short Cluster: %v", err)
	}
}

// TestStaggeredClusteredStatsmodels: with one treated cohort and one
// post-period the estimate is a difference in differences, and with whole
// clusters assigned (k per cohort) its cluster-robust SE is that of the OLS
// coefficient on treatment in statsmodels times √(k/(k−1)); on a roll-out
// of three cohorts whose clusters mix cohorts, it is the SE worked from
// scratch in numpy (testdata/staggered_cluster_reference.py).
func TestStaggeredClusteredStatsmodels(t *testing.T) {
	var ref struct {
		Multi struct {
			N, T    int
			Y       []float64
			Cohort  []int
			Cluster []int
			Results map[string]struct {
				Estimate, SE float64
				Clusters     int
			}
		}
		Cases []struct {
			N, T, G    int
			Y          []float64
			Cohort     []int
			Cluster    []int
			Estimate   float64
			Clusters   int
			SEExpected float64 `json:"se_expected"`
		}
	}
	readJSON(t, "staggered_cluster.json", &ref)
	if len(ref.Cases) != 3 {
		t.Fatalf("%d cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		r, err := Staggered(Panel{N: c.N, T: c.T, Y: c.Y, Cohort: c.Cohort, Cluster: c.Cluster, Never: -1}, "simple", 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Cells) != 1 || math.Abs(r.Estimate-c.Estimate) > 1e-12 {
			t.Errorf("N=%d: estimate %v over %d cells, want %v over one", c.N, r.Estimate, len(r.Cells), c.Estimate)
		}
		if cl := r.Clustered; !cl.OK || cl.Clusters != c.Clusters || cl.Lone != 0 || math.Abs(cl.SE/c.SEExpected-1) > 1e-10 {
			t.Errorf("N=%d: clustered %+v, want SE %v over %d clusters", c.N, cl, c.SEExpected, c.Clusters)
		}
	}
	m := ref.Multi
	if len(m.Results) != 2 {
		t.Fatalf("multi: %d results", len(m.Results))
	}
	for est, want := range m.Results {
		r, err := Staggered(Panel{N: m.N, T: m.T, Y: m.Y, Cohort: m.Cohort, Cluster: m.Cluster, Never: -1}, est, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if cl := r.Clustered; math.Abs(r.Estimate/want.Estimate-1) > 1e-10 || !cl.OK || cl.Clusters != want.Clusters ||
			math.Abs(cl.SE/want.SE-1) > 1e-10 {
			t.Errorf("multi %s: %v, clustered %+v; want %v, SE %v over %d clusters", est, r.Estimate, cl, want.Estimate, want.SE, want.Clusters)
		}
	}
}

// TestStaggeredClusteredCoverage simulates roll-outs in which whole units
// (15 officers each) are trained together, 2, 3 or 10 units per monthly
// cohort, officers of a unit sharing a shock each month, and no effect. Over
// 400 draws per design (fixed seeds) the unit-clustered variance averages the
// estimate's true variance and its 95% interval covers zero about 95% of the
// time, where the Neyman interval, which assumes officers trained
// independently, covers it about half the time.
func TestStaggeredClusteredCoverage(t *testing.T) {
	const per, T, reps = 15, 8, 400
	for _, upc := range []int{2, 3, 10} {
		rng := rand.New(rand.NewPCG(1, uint64(upc)))
		cohorts := max(30/upc, 3)
		units := (cohorts + 1) * upc // the last upc units are never trained
		var est, vhat []float64
		covered, neyman := 0, 0
		for range reps {
			n := units * per
			p := Panel{N: n, T: T, Y: make([]float64, n*T), Cohort: make([]int, n), Cluster: make([]int, n), Never: -1}
			shock := make([]float64, T)
			for u := range units {
				g := -1
				if u/upc < cohorts {
					g = 2 + (u/upc)%(T-3)
				}
				for s := range shock {
					shock[s] = rng.NormFloat64()
				}
				for j := range per {
					i := u*per + j
					p.Cohort[i], p.Cluster[i] = g, u
					for s := range T {
						p.Y[i*T+s] = shock[s] + rng.NormFloat64()
					}
				}
			}
			r, err := Staggered(p, "simple", 0.95)
			if err != nil {
				t.Fatal(err)
			}
			est, vhat = append(est, r.Estimate), append(vhat, r.Clustered.SE*r.Clustered.SE)
			if r.Clustered.Lo <= 0 && 0 <= r.Clustered.Hi {
				covered++
			}
			if r.Lo <= 0 && 0 <= r.Hi {
				neyman++
			}
		}
		var mean, v, mv float64
		for i := range est {
			mean += est[i] / reps
			mv += vhat[i] / reps
		}
		for _, e := range est {
			v += (e - mean) * (e - mean) / (reps - 1)
		}
		ratio, cover, ney := mv/v, float64(covered)/reps, float64(neyman)/reps
		t.Logf("%d units per cohort: mean V̂ / variance %.2f, coverage %.3f (Neyman %.3f)", upc, ratio, cover, ney)
		if ratio < 0.85 || ratio > 1.2 || cover < 0.86 || ney > 0.7 {
			t.Errorf("%d units per cohort: mean V̂ / variance %.2f, coverage %.3f, Neyman %.3f", upc, ratio, cover, ney)
		}
	}
}
