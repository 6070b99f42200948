package analysis

import (
	"context"
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"deesc/internal/demo"
	"deesc/internal/stats"
	"deesc/internal/store"
)

// demoWith imports a demo dataset written with o, after edit (if not nil)
// has changed its files, into a fresh database.
func demoWith(t testing.TB, o demo.Options, edit func(dir string)) *store.Store {
	t.Helper()
	dir := t.TempDir()
	if o.End.IsZero() {
		o.End = time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
	}
	if _, err := demo.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(dir)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "a.duckdb"), store.Options{KeepVersions: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Import(context.Background(), dir, store.ImportOptions{Now: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return st
}

func demoOptions(officers, years int) demo.Options {
	o := demo.DefaultOptions()
	o.Officers, o.Years = officers, years
	return o
}

// request parses a request as the API would from name=value pairs.
func request(t testing.TB, st *store.Store, pairs ...string) Request {
	t.Helper()
	v := map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		v[pairs[i]] = pairs[i+1]
	}
	r, err := ParseRequest(context.Background(), st, func(k string) string { return v[k] })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// officerMonths is the selection of a request row by row, read with
// cohort_officer_months.sql: the reference the fast paths are checked
// against.
type officerMonths struct {
	officer, unit, month []int32
	trained              []float64
	y, exposure          []float64
}

func readOfficerMonths(t testing.TB, st *store.Store, r Request) officerMonths {
	t.Helper()
	q := r.Query()
	rows, err := st.DB().Query(st.Queries().SQL("cohort_officer_months"), sql.Named("outcome", q.Outcome), sql.Named("course", q.Course),
		sql.Named("category", q.Category), sql.Named("min_hours", q.MinHours), sql.Named("from", q.From), sql.Named("to", q.To),
		sql.Named("unit", q.Unit), sql.Named("division", q.Division))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var d officerMonths
	for rows.Next() {
		var k, u, m int32
		var g sql.NullInt32
		var tr bool
		var y, e float64
		if err := rows.Scan(&k, &u, &m, &g, &tr, &y, &e); err != nil {
			t.Fatal(err)
		}
		if tr != (g.Valid && m >= g.Int32) {
			t.Fatalf("officer %d month %d: trained %v with first trained month %v", k, m, tr, g)
		}
		t := 0.0
		if tr {
			t = 1
		}
		d.officer, d.unit, d.month = append(d.officer, k), append(d.unit, u), append(d.month, m)
		d.trained, d.y, d.exposure = append(d.trained, t), append(d.y, y), append(d.exposure, e)
	}
	return d
}

// dense recodes codes as 0..L−1 in order of first appearance, leaving out
// the rows where drop is true, and returns the kept rows' indices.
func dense(codes []int32, drop func(i int) bool) ([]int32, int, []int) {
	level := map[int32]int32{}
	var out []int32
	var kept []int
	for i, c := range codes {
		if drop != nil && drop(i) {
			continue
		}
		l, ok := level[c]
		if !ok {
			l = int32(len(level))
			level[c] = l
		}
		out = append(out, l)
		kept = append(kept, i)
	}
	return out, len(level), kept
}

// withoutEvents returns the codes whose rows have no events.
func withoutEvents(codes []int32, y []float64) map[int32]bool {
	sum := map[int32]float64{}
	for i, c := range codes {
		sum[c] += y[i]
	}
	out := map[int32]bool{}
	for c, s := range sum {
		if s == 0 {
			out[c] = true
		}
	}
	return out
}

func pick[T any](v []T, idx []int) []T {
	out := make([]T, len(idx))
	for j, i := range idx {
		out[j] = v[i]
	}
	return out
}

// rowLevelAdjusted fits the adjusted model on every officer-month with
// stats.FitGLM: unit and month dummies, officer clusters.
func rowLevelAdjusted(t testing.TB, d officerMonths) *stats.Result {
	t.Helper()
	res, err := stats.FitGLM(rowData(d), stats.Poisson(), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rowData is the adjusted model's design over the officer-months of units
// and months with events.
func rowData(d officerMonths) stats.Data {
	noUnit, noMonth := withoutEvents(d.unit, d.y), withoutEvents(d.month, d.y)
	drop := func(i int) bool { return noUnit[d.unit[i]] || noMonth[d.month[i]] }
	units, nu, kept := dense(d.unit, drop)
	months, nm, _ := dense(d.month, drop)
	officers, _, _ := dense(d.officer, drop)
	off := make([]float64, len(kept))
	for j, i := range kept {
		off[j] = math.Log(d.exposure[i])
	}
	var factors []stats.Factor
	if nu > 1 {
		factors = append(factors, stats.Factor{Name: "unit", Codes: units, Levels: nu})
	}
	factors = append(factors, stats.Factor{Name: "month", Codes: months, Levels: nm})
	return stats.Data{Y: pick(d.y, kept), Offset: off, X: []stats.Column{{Name: "trained", Values: pick(d.trained, kept)}},
		Factors: factors, Cluster: officers}
}

// TestCohortsMatchRowLevelFit checks the cell fit and its clustered error
// against stats.FitGLM on every officer-month with officer clusters (itself
// checked against statsmodels), the crude arms against the rows' sums, and
// the NB2 α against a direct maximisation over the rows.
func TestCohortsMatchRowLevelFit(t *testing.T) {
	plain, gaps := demoWith(t, demoOptions(300, 4), nil), demoWith(t, demoOptions(300, 4), dropActivityRows(t, 13))
	for _, c := range []struct {
		name, outcome string
		st            *store.Store
	}{{"force", "force", plain}, {"complaints", "complaints", plain}, {"gaps", "complaints", gaps}} {
		t.Run(c.name, func(t *testing.T) {
			st, outcome := c.st, c.outcome
			r := request(t, st, "course", demo.DeescalationCourse, "outcome", outcome)
			res, err := Cohorts(context.Background(), st, r)
			if err != nil {
				t.Fatal(err)
			}
			d := readOfficerMonths(t, st, r)
			var arms [2]struct{ y, n float64 }
			for i := range d.y {
				arms[int(d.trained[i])].y += d.y[i]
				arms[int(d.trained[i])].n++
			}
			c := res.Crude
			if float64(c.Trained.Events) != arms[1].y || float64(c.Trained.OfficerMonths) != arms[1].n ||
				float64(c.Untrained.Events) != arms[0].y || float64(c.Untrained.OfficerMonths) != arms[0].n {
				t.Errorf("crude arms %+v / %+v; rows say %+v", c.Trained, c.Untrained, arms)
			}
			if want := (arms[1].y / arms[1].n) / (arms[0].y / arms[0].n); rel(c.RateRatio, want) > 1e-12 {
				t.Errorf("crude rate ratio %v, rows say %v", c.RateRatio, want)
			}

			ref := rowLevelAdjusted(t, d)
			want, _ := ref.Coef("trained")
			a := res.Adjusted
			if rel(a.Coefficient, want.Estimate) > 1e-8 || rel(a.SE, want.Robust.SE) > 1e-6 || rel(a.ModelSE, want.Model.SE) > 1e-6 {
				t.Errorf("cells: coef %.12g se %.12g (model %.12g); rows: coef %.12g se %.12g (model %.12g)",
					a.Coefficient, a.SE, a.ModelSE, want.Estimate, want.Robust.SE, want.Model.SE)
			}
			if a.OfficerMonths != int64(ref.N) || a.Parameters != ref.K || a.Officers != int64(ref.Clusters) || rel(a.Correction, ref.Correction) > 1e-12 {
				t.Errorf("N %d K %d G %d corr %v; rows: N %d K %d G %d corr %v", a.OfficerMonths, a.Parameters, a.Officers, a.Correction,
					ref.N, ref.K, ref.Clusters, ref.Correction)
			}
			// Clustered by unit instead: the same fit with unit clusters.
			rows := rowData(d)
			noUnit, noMonth := withoutEvents(d.unit, d.y), withoutEvents(d.month, d.y)
			rows.Cluster, _, _ = dense(d.unit, func(i int) bool { return noUnit[d.unit[i]] || noMonth[d.month[i]] })
			byUnit, err := stats.FitGLM(rows, stats.Poisson(), stats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantU, _ := byUnit.Coef("trained")
			if u := a.UnitClustered; rel(u.se, wantU.Robust.SE) > 1e-6 || u.Units != int64(byUnit.Clusters) || (u.SE != nil) != (u.Units >= MinUnitClusters) {
				t.Errorf("unit-clustered se %.12g over %d units (shown %v); rows: %.12g over %d", u.se, u.Units, u.SE != nil,
					wantU.Robust.SE, byUnit.Clusters)
			}
			if rel(a.PearsonDF, ref.PearsonDF) > 1e-8 {
				t.Errorf("Pearson χ²/df %v, rows say %v", a.PearsonDF, ref.PearsonDF)
			}
			if rel(a.CILow, want.Robust.RRLo) > 1e-6 || rel(a.CIHigh, want.Robust.RRHi) > 1e-6 || math.Abs(a.PValue-want.Robust.P) > 1e-6 {
				t.Errorf("CI [%v, %v] p %v; rows [%v, %v] p %v", a.CILow, a.CIHigh, a.PValue, want.Robust.RRLo, want.Robust.RRHi, want.Robust.P)
			}

			// NB2 α at the Poisson means, by golden-section search over the
			// row-level log-likelihood with lgamma.
			mu := make([]float64, len(d.y))
			fitted := rowMeans(t, d, ref, noUnit, noMonth)
			copy(mu, fitted)
			ll := func(alpha float64) float64 {
				r := 1 / alpha
				var s float64
				for i, y := range d.y {
					if mu[i] == 0 {
						continue
					}
					lg1, _ := math.Lgamma(y + r)
					lg2, _ := math.Lgamma(r)
					s += lg1 - lg2 + r*math.Log(r/(r+mu[i])) + y*math.Log(mu[i]/(r+mu[i]))
				}
				return s
			}
			lo, hi := math.Log(1e-9), math.Log(50.0)
			for range 100 {
				m1, m2 := lo+(hi-lo)*0.382, lo+(hi-lo)*0.618
				if ll(math.Exp(m1)) < ll(math.Exp(m2)) {
					lo = m1
				} else {
					hi = m2
				}
			}
			// The likelihood is flat near its maximum: compare heights.
			alpha := math.Exp((lo + hi) / 2)
			switch {
			case a.NB2Alpha == 0 && alpha > 1e-6:
				t.Errorf("NB2 α 0; row-level maximum at %v", alpha)
			case a.NB2Alpha > 0 && (ll(a.NB2Alpha) < ll(alpha)-1e-9 || rel(a.NB2Alpha, alpha) > 1e-3):
				t.Errorf("NB2 α %v (log-likelihood %.12g); row-level maximum %v (%.12g)", a.NB2Alpha, ll(a.NB2Alpha), alpha, ll(alpha))
			}
			// For comparison, the joint maximum likelihood estimate of α.
			joint := "not computable"
			if nb, err := stats.EstimateNB2Alpha(rowData(d), stats.Options{}); err == nil {
				joint = strconv.FormatFloat(nb.Alpha, 'f', 4, 64)
			}
			t.Logf("%d units: adjusted RR %.4f [%.4f, %.4f] (rel. diff. from rows: coef %.1e, se %.1e), crude %.4f; "+
				"Pearson χ²/df %.3f; NB2 α %.4f (SE %.4f, joint ML %s), LR %.1f", a.Units,
				a.RateRatio, a.CILow, a.CIHigh, rel(a.Coefficient, want.Estimate), rel(a.SE, want.Robust.SE), c.RateRatio,
				a.PearsonDF, a.NB2Alpha, a.NB2AlphaSE, joint, a.NB2LR)
		})
	}
}

// rowMeans returns the row-level fit's mean of every officer-month (0 for
// those left out of it).
func rowMeans(t testing.TB, d officerMonths, ref *stats.Result, noUnit, noMonth map[int32]bool) []float64 {
	t.Helper()
	coef := map[string]float64{}
	for _, c := range ref.Coefs {
		coef[c.Name] = c.Estimate
	}
	drop := func(i int) bool { return noUnit[d.unit[i]] || noMonth[d.month[i]] }
	units, _, kept := dense(d.unit, drop)
	months, _, _ := dense(d.month, drop)
	mu := make([]float64, len(d.y))
	for j, i := range kept {
		eta := coef["Intercept"] + coef["trained"]*d.trained[i] + coef["unit["+strconv.Itoa(int(units[j]))+"]"] +
			coef["month["+strconv.Itoa(int(months[j]))+"]"]
		mu[i] = math.Exp(eta) * d.exposure[i]
	}
	return mu
}

// TestPlantedEffect checks that the effect estimates recover the effect the
// demo generator plants on force (rate × 0.72 from the month of ICAT).
func TestPlantedEffect(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and imports 3,000 officers")
	}
	st := demoWith(t, demoOptions(3000, 6), nil)
	r := request(t, st, "course", demo.DeescalationCourse, "outcome", "force")
	const planted = 0.72
	c, err := Cohorts(context.Background(), st, r)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Adjusted
	if !(a.CILow < planted && planted < a.CIHigh) {
		t.Errorf("adjusted RR %.3f [%.3f, %.3f] misses the planted %v", a.RateRatio, a.CILow, a.CIHigh, planted)
	}
	p, err := Prepost(context.Background(), st, r)
	if err != nil {
		t.Fatal(err)
	}
	if !(p.CILow < planted && planted < p.CIHigh) {
		t.Errorf("within-officer RR %.3f [%.3f, %.3f] misses the planted %v", p.RateRatio, p.CILow, p.CIHigh, planted)
	}
	s, err := Staggered(context.Background(), st, r)
	if err != nil {
		t.Fatal(err)
	}
	// Monthly cohorts of a few thousand officers leave the staggered
	// estimate wide; it must still cover the planted reduction.
	if s.RelativeChange == nil || !(*s.RelativeLow < planted-1 && planted-1 < *s.RelativeHigh) {
		t.Errorf("staggered %.5f [%.5f, %.5f], relative %v [%v, %v] misses a reduction of 28%%", s.Estimate, s.CILow, s.CIHigh,
			deref(s.RelativeChange), deref(s.RelativeLow), deref(s.RelativeHigh))
	}
	t.Logf("planted 0.72: crude %.3f [%.3f, %.3f]; adjusted %.3f [%.3f, %.3f]; within-officer %.3f [%.3f, %.3f]; "+
		"staggered %+.2f%% [%+.2f%%, %+.2f%%] (%d officers balanced of %d)",
		c.Crude.RateRatio, c.Crude.CILow, c.Crude.CIHigh, a.RateRatio, a.CILow, a.CIHigh, p.RateRatio, p.CILow, p.CIHigh,
		100**s.RelativeChange, 100**s.RelativeLow, 100**s.RelativeHigh, s.Officers, c.Selection.Officers)
}

// TestNoEffectWithTrend checks that with no effect but a steep secular
// decline (rates × 0.9 a year) no effect estimate claims one, while the
// crude comparison — trained months being later months — does.
func TestNoEffectWithTrend(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and imports 3,000 officers")
	}
	o := demoOptions(3000, 6)
	o.Effect, o.Trend = demo.NoEffect(), 0.9
	st := demoWith(t, o, nil)
	for _, outcome := range []string{"force", "complaints"} {
		r := request(t, st, "course", demo.DeescalationCourse, "outcome", outcome)
		c, err := Cohorts(context.Background(), st, r)
		if err != nil {
			t.Fatal(err)
		}
		a := c.Adjusted
		if !(a.CILow < 1 && 1 < a.CIHigh) {
			t.Errorf("%s: adjusted RR %.3f [%.3f, %.3f] claims an effect", outcome, a.RateRatio, a.CILow, a.CIHigh)
		}
		// The point of the adjustment: the crude ratio mistakes the trend
		// for an effect.
		if !(c.Crude.CIHigh < 1) {
			t.Errorf("%s: crude RR %.3f [%.3f, %.3f]: expected the secular decline to show as a spurious reduction",
				outcome, c.Crude.RateRatio, c.Crude.CILow, c.Crude.CIHigh)
		}
		p, err := Prepost(context.Background(), st, r)
		if err != nil {
			t.Fatal(err)
		}
		if !(p.CILow < 1 && 1 < p.CIHigh) {
			t.Errorf("%s: within-officer RR %.3f [%.3f, %.3f] claims an effect", outcome, p.RateRatio, p.CILow, p.CIHigh)
		}
		for _, est := range Estimands {
			r.Estimand = est
			s, err := Staggered(context.Background(), st, r)
			if err != nil {
				t.Fatal(err)
			}
			if !(s.CILow < 0 && 0 < s.CIHigh) {
				t.Errorf("%s: staggered %s %.5f [%.5f, %.5f] claims an effect", outcome, est, s.Estimate, s.CILow, s.CIHigh)
			}
			if est == "simple" {
				t.Logf("%s, no effect, trend 0.9/yr: crude %.3f [%.3f, %.3f]; adjusted %.3f [%.3f, %.3f]; within-officer %.3f [%.3f, %.3f]; "+
					"staggered %.5f [%.5f, %.5f]", outcome, c.Crude.RateRatio, c.Crude.CILow, c.Crude.CIHigh, a.RateRatio, a.CILow, a.CIHigh,
					p.RateRatio, p.CILow, p.CIHigh, s.Estimate, s.CILow, s.CIHigh)
			}
		}
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// TestNotComputable checks the refusals: each is a stats.ErrNotComputable
// whose reason says why.
func TestNotComputable(t *testing.T) {
	st := demoWith(t, demoOptions(300, 4), nil)
	ctx := context.Background()
	cases := []struct {
		name  string
		pairs []string
		run   func(Request) error
		why   string
	}{
		{"nobody trained yet", []string{"course", demo.DeescalationCourse, "to", "2021-12"},
			func(r Request) error { _, err := Cohorts(ctx, st, r); return err }, "no officer is trained"},
		{"too few events", []string{"course", demo.DeescalationCourse, "outcome", "injuries", "from", "2025-05"},
			func(r Request) error { _, err := Prepost(ctx, st, r); return err }, "at least 10"},
		{"staggered, one month", []string{"course", demo.DeescalationCourse, "from", "2024-01", "to", "2024-01"},
			func(r Request) error { _, err := Staggered(ctx, st, r); return err }, "events"},
		{"outside the data", []string{"course", demo.DeescalationCourse, "from", "2030-01"},
			func(r Request) error { _, err := Staggered(ctx, st, r); return err }, "no officer-months"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(request(t, st, c.pairs...))
			reason, ok := IsNotComputable(err)
			if !ok {
				t.Fatalf("error %v, want not computable", err)
			}
			if !strings.Contains(reason, c.why) {
				t.Errorf("reason %q does not mention %q", reason, c.why)
			}
			t.Logf("%s", reason)
		})
	}
}

// BenchmarkCohorts times each training-effect analysis on a demo service of
// DEESC_BENCH_OFFICERS officers (default 100,000) over 10 years; setting up
// (writing and importing) takes about a minute per 100,000 officers.
func BenchmarkCohorts(b *testing.B) {
	officers := 100_000
	if v := os.Getenv("DEESC_BENCH_OFFICERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("DEESC_BENCH_OFFICERS=%q: %v", v, err)
		}
		officers = n
	}
	o := demoOptions(officers, 10)
	start := time.Now()
	st := demoWith(b, o, nil)
	var months int64
	st.DB().QueryRow("SELECT count(*) FROM panel").Scan(&months)
	b.Logf("%d officers × 10 years: %d officer-months, written and imported in %.0fs", officers, months, time.Since(start).Seconds())
	ctx := context.Background()
	r := request(b, st, "course", demo.DeescalationCourse, "outcome", "force")
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"cohorts", func() error { _, err := Cohorts(ctx, st, r); return err }},
		{"staggered", func() error { _, err := Staggered(ctx, st, r); return err }},
		{"staggered-event", func() error { e := r; e.Estimand = "event"; _, err := Staggered(ctx, st, e); return err }},
		{"prepost", func() error { _, err := Prepost(ctx, st, r); return err }},
		{"dose", func() error {
			_, err := Dose(ctx, st, store.DoseQuery{Outcome: "force", Window: 12, Edges: []float64{0, 8, 16, 40}})
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
