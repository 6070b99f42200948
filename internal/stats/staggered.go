package stats

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// This file is the Callaway & Sant'Anna (2021) staggered-adoption estimator
// with not-yet-treated comparisons, computed as staggered_cs in Roth &
// Sant'Anna's R package staggered (github.com/jonathandroth/staggered,
// R/compute_efficient_estimator_and_se.R and R/create_A0_lists.R, as of its
// data.table rewrite). What the package does, and deesc therefore
// does:
//
//   - Units first treated in the first period or earlier have no pre-period
//     and are dropped (staggered_cs); then every cohort with a single unit is
//     dropped, never-treated included (staggered), because its within-cohort
//     variance does not exist. Distinct first-treated values are distinct
//     cohorts, so units treated after the window and never-treated units
//     are separate strata of the variance, both always comparisons.
//   - ATT(g,t) = [Ȳ(g,t) − Ȳ(g,g−1)] − [Ȳ(C,t) − Ȳ(C,g−1)] where C pools the
//     cohorts first treated after max(g,t), weighted by size. For t ≥ g that
//     is "not yet treated at t"; for a placebo t < g it is "treated after g",
//     so that a cohort is never its own comparison. Cells need t < the last
//     cohort's period unless some unit is never treated (or treated after the
//     window); the last cohort is then a comparison only.
//   - Event-time placebos are long differences to g−1, the package's
//     create_Atheta_list_for_event_study; e = −1 is identically 0 with SE 0.
//   - Every estimate is θ = Σ_g Σ_t A[g,t]·Ȳ(g,t) and its Neyman variance is
//     Σ_g A_g S_g A_gᵀ / N_g, S_g the sample covariance (denominator N_g−1)
//     of the cohort's outcome vectors: exactly the sample variance of
//     Z_i = A_{g_i}·Y_i within cohorts, summed over cohorts divided by N_g.
//     Computing S_g once per cohort (N·T²/2 work) makes the many estimands of
//     an event study cheap, where Z would cost N·T per estimand.
//   - The package's headline "se" subtracts a refinement from that Neyman
//     variance (compute_se_Thetahat_beta): with P the earliest treated
//     cohort's pre-periods, β = Σ_g pinv(S_g[pre,pre])·S_g[pre,·]·A_θ,gᵀ
//     summed over cohorts and the adjustment is βᵀ·mean_g(S_g[pre,pre])·β / N,
//     A_θ being the post-period part of A only (the package's A_theta, not
//     A_theta − A_0). deesc reports it as SERefined; SE and the intervals
//     are the Neyman ones (se_neyman).
//
// One deliberate restriction: event times run from −(first cohort's period),
// the earliest placebo every eligible cohort can observe, so that each row
// averages the same set of cohorts the package would. For earlier event
// times the package keeps cohorts whose cell falls before the window in the
// denominator and in A_0 but not in A_θ, which no longer estimates a
// placebo; deesc does not report those rows.

// Panel is a balanced panel for Staggered: N units observed in the same T
// consecutive periods 0..T−1.
type Panel struct {
	N, T int
	// Y holds the outcomes unit by unit: Y[i*T+t] is unit i in period t.
	Y []float64
	// Cohort is each unit's first treated period: ≤ 0 means treated in the
	// first period or before the window (dropped), ≥ T treated after it
	// (always a comparison). Never takes precedence over both.
	Cohort []int
	// Never is the Cohort value of never-treated units. It must lie outside
	// 0..T−1, so the zero value is rejected rather than read as "period 0".
	Never int
	// Cluster, if not nil, is each unit's cluster (officers: their unit),
	// for StaggeredResult.Clustered.
	Cluster []int
}

// StaggeredResult is a Callaway–Sant'Anna aggregate with its design-based
// inference. All numbers are finite.
type StaggeredResult struct {
	Estimand string // simple, cohort, calendar or event
	Level    float64
	Estimate float64
	// SE is the Neyman standard error (the package's se_neyman); Lo and Hi
	// are Estimate ∓ z·SE.
	SE, Lo, Hi float64
	// SERefined is the package's "se": the Neyman variance less the part
	// explained by the outcomes before the first cohort's treatment.
	SERefined float64
	// Clustered is Estimate's cluster-robust standard error, when the panel
	// has clusters.
	Clustered ClusteredSE
	// Relative is Estimate relative to the untreated level over the same cells.
	Relative RelativeChange
	Units    int // units used
	Periods  int
	Cohorts  []StaggeredCohort
	Excluded []StaggeredExclusion
	// Cells are the (cohort, period) effects that Estimate averages, with
	// their weights (summing to 1).
	Cells []StaggeredCell
	// Events is the event study, for estimand "event" only: placebos e < 0
	// then effects e ≥ 0. Estimate is the equally weighted mean of e ≥ 0.
	Events []EventEstimate
}

// RelativeChange is Estimate / (TreatedMean − Estimate): the effect as a
// fraction of the treated cells' estimated untreated mean, with a
// delta-method interval from the joint Neyman covariance of Estimate and
// TreatedMean (both linear in the cohort means). When OK is false the
// numbers are 0 and Reason says why.
type RelativeChange struct {
	OK                 bool
	Reason             string
	Estimate, SE       float64
	Lo, Hi             float64
	TreatedMean        float64 // Σ weight·Ȳ(g,t) over the cells
	UntreatedEstimated float64 // TreatedMean − the effect
}

// ClusteredSE is a cluster-robust standard error of a Staggered estimate θ,
// which is linear in the cohort means: θ = Σ_g A_g·Ȳ_g, so each unit's
// influence is ψ_i = A_g·(Y_i − Ȳ_g)/N_g (the weights A taken as fixed, as
// the Neyman variance takes them), and
//
//	V = Σ_c (Σ_{i∈c} f_{g_i}·ψ_i)²,  f_g = √(k_g/(k_g−1)),
//
// over the clusters c of the units used, k_g being the clusters cohort g's
// units fall in. Centring within a cohort uses up one of its clusters'
// worth of variation; f_g gives it back, cohort by cohort (a single G/(G−1)
// does not: with two or three clusters per cohort it leaves V a third to a
// half too small). When clusters lie within cohorts (whole clusters
// assigned together) V is the stratified estimator Σ_g k_g/(k_g−1)·Σ_c S_c²;
// with every unit its own cluster it is the Neyman variance. It allows for
// units of a cluster that are assigned together and share shocks, which the
// Neyman variance assumes away. A cohort whose units are all in one cluster
// adds nothing to V (its influences sum to zero there): Lone counts those
// that enter the estimate, with which V understates. OK is false, with
// Reason, when there are fewer than two clusters.
type ClusteredSE struct {
	OK       bool
	Reason   string
	Clusters int
	Lone     int
	SE       float64
	Lo, Hi   float64
}

// StaggeredCohort is a cohort used by Staggered. Treated is false for a
// cohort that serves only as a comparison: never treated, treated after the
// window, or the last cohort when no unit is never treated.
type StaggeredCohort struct {
	Cohort  int // first treated period, or Panel.Never
	Never   bool
	Units   int
	Treated bool
}

// StaggeredExclusion is a group of units left out, and why.
type StaggeredExclusion struct {
	Cohorts []int
	Units   int
	Reason  string
}

// StaggeredCell is one ATT(g,t) with its weight in the aggregate and the
// size of its comparison group.
type StaggeredCell struct {
	Cohort, Period int
	ATT            float64
	Weight         float64
	Controls       int
}

// EventEstimate is the size-weighted average of ATT(g, g+E) over the
// cohorts observed E periods after (or, E < 0, before) treatment.
type EventEstimate struct {
	E                    int
	Estimate, SE, Lo, Hi float64
	SERefined            float64
	Cohorts              int
}

var staggeredEstimands = []string{"simple", "cohort", "calendar", "event"}

// Staggered returns the Callaway–Sant'Anna estimate with not-yet-treated
// comparisons for estimand "simple" (cells weighted by cohort size),
// "cohort" (each cohort's mean over its periods, weighted by size),
// "calendar" (each period's size-weighted mean, periods equally weighted) or
// "event" (event study), as staggered_cs in the R package staggered, with
// Neyman standard errors and normal intervals at level (0.95 for 95%).
// It returns an error for an unknown estimand or a malformed panel, and
// ErrNotComputable when no cohort has both a pre-period and a comparison
// group. It panics if level is not in (0, 1).
func Staggered(p Panel, estimand string, level float64) (*StaggeredResult, error) {
	checkLevel("Staggered", level)
	if !slices.Contains(staggeredEstimands, estimand) {
		return nil, fmt.Errorf("stats.Staggered: unknown estimand %q (want simple, cohort, calendar or event)", estimand)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	d, err := newStaggered(p)
	if err != nil {
		return nil, err
	}
	z := normalQuantile(1 - (1-level)/2)
	r := &StaggeredResult{Estimand: estimand, Level: level, Units: d.units, Periods: p.T, Excluded: d.excluded}
	for _, c := range d.coh {
		sc := StaggeredCohort{Cohort: c.g, Never: c.never, Units: c.n, Treated: d.treated(c)}
		if c.never {
			sc.Cohort = p.Never
		}
		r.Cohorts = append(r.Cohorts, sc)
	}

	var cells []cellW
	switch estimand {
	case "simple":
		cells = d.simpleCells()
	case "cohort":
		cells = d.cohortCells()
	case "calendar":
		cells = d.calendarCells()
	case "event":
		eMin, eMax := -d.coh[0].g, d.tEnd-1-d.coh[0].g
		var l linearWeights
		for e := eMin; e <= eMax; e++ {
			ec := d.eventCells(e)
			d.linear(ec, &l)
			v := d.designCov(l.comb)
			ev := EventEstimate{E: e, Estimate: l.estimate(d), Cohorts: len(ec)}
			ev.SE = math.Sqrt(max(v[0], 0))
			ev.Lo, ev.Hi = ev.Estimate-z*ev.SE, ev.Estimate+z*ev.SE
			ev.SERefined = d.refinedSE(l.atheta, v[0])
			r.Events = append(r.Events, ev)
			if e >= 0 {
				for _, c := range ec {
					c.w /= float64(eMax + 1)
					cells = append(cells, c)
				}
			}
		}
	}

	var l linearWeights
	d.linear(cells, &l)
	v := d.designCov(l.comb, l.mu)
	r.Estimate = l.estimate(d)
	r.SE = math.Sqrt(max(v[0], 0))
	r.Lo, r.Hi = r.Estimate-z*r.SE, r.Estimate+z*r.SE
	r.SERefined = d.refinedSE(l.atheta, v[0])
	r.Relative = relativeChange(r.Estimate, floats.Dot(l.mu, d.mean), v, z)
	if p.Cluster != nil {
		if r.Clustered = d.clustered(l.comb, p.Y, p.Cluster); r.Clustered.OK {
			r.Clustered.Lo, r.Clustered.Hi = r.Estimate-z*r.Clustered.SE, r.Estimate+z*r.Clustered.SE
		}
	}
	for _, c := range cells {
		att, controls := d.att(c.k, c.t)
		r.Cells = append(r.Cells, StaggeredCell{Cohort: d.coh[c.k].g, Period: c.t, ATT: att, Weight: c.w, Controls: controls})
	}
	slices.SortFunc(r.Cells, func(a, b StaggeredCell) int {
		return cmp.Or(cmp.Compare(a.Cohort, b.Cohort), cmp.Compare(a.Period, b.Period))
	})

	ok := allFinite(r.Estimate, r.SE, r.Lo, r.Hi, r.SERefined, r.Relative.Estimate, r.Relative.SE, r.Relative.Lo, r.Relative.Hi,
		r.Clustered.SE, r.Clustered.Lo, r.Clustered.Hi)
	for _, e := range r.Events {
		ok = ok && allFinite(e.Estimate, e.SE, e.Lo, e.Hi, e.SERefined)
	}
	if !ok {
		return nil, notComputable("the outcomes are too large for floating-point arithmetic")
	}
	return r, nil
}

// relativeChange forms θ/(μ−θ) and its delta-method interval from the 2×2
// Neyman covariance v of (θ, μ): the gradient is (μ, −θ)/(μ−θ)².
func relativeChange(theta, mu float64, v []float64, z float64) RelativeChange {
	u := mu - theta
	rc := RelativeChange{TreatedMean: mu, UntreatedEstimated: u}
	if !(u > 0) {
		rc.Reason = "the estimated untreated mean of the treated cells is not positive, so a relative change is undefined"
		return rc
	}
	gt, gm := mu/(u*u), -theta/(u*u)
	rc.OK = true
	rc.Estimate = theta / u
	rc.SE = math.Sqrt(max(gt*gt*v[0]+2*gt*gm*v[1]+gm*gm*v[3], 0))
	rc.Lo, rc.Hi = rc.Estimate-z*rc.SE, rc.Estimate+z*rc.SE
	return rc
}

func (p Panel) check() error {
	switch {
	case p.N < 0 || p.T < 0:
		return fmt.Errorf("stats.Staggered: negative dimensions N = %d, T = %d", p.N, p.T)
	case len(p.Y) != p.N*p.T:
		return fmt.Errorf("stats.Staggered: len(Y) = %d, want N·T = %d", len(p.Y), p.N*p.T)
	case len(p.Cohort) != p.N:
		return fmt.Errorf("stats.Staggered: len(Cohort) = %d, want N = %d", len(p.Cohort), p.N)
	case p.Cluster != nil && len(p.Cluster) != p.N:
		return fmt.Errorf("stats.Staggered: len(Cluster) = %d, want N = %d", len(p.Cluster), p.N)
	case p.Never >= 0 && p.Never < p.T:
		return fmt.Errorf("stats.Staggered: Never = %d is a period of the window 0..%d; mark never-treated units with a negative value or one ≥ T", p.Never, p.T-1)
	}
	for i, v := range p.Y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("stats.Staggered: Y of unit %d in period %d is not finite", i/p.T, i%p.T)
		}
	}
	return nil
}

// maxStaggeredCov bounds the cohort covariance matrices (G·T² floats, 8 MiB
// for 70 cohorts over 120 months) at 1 GiB.
const maxStaggeredCov = 1 << 27

// scohort is a cohort: units sharing a first treated period g.
type scohort struct {
	g     int
	never bool
	n     int
}

// after reports whether the cohort is still untreated in period t.
func (c scohort) after(t int) bool { return c.never || c.g > t }

// staggered holds a panel reduced to cohorts: sizes, means and covariances.
type staggered struct {
	T        int
	coh      []scohort // ascending g, never-treated last
	nsuffix  []int     // nsuffix[k] = units in cohorts k..
	units    int
	excluded []StaggeredExclusion
	tEnd     int       // cells need t < tEnd
	members  [][]int32 // each cohort's units
	mean     []float64 // G×T cohort means Ȳ(g,t)
	cov      []float64 // G×T×T cohort covariance matrices S_g
	refiners map[int]*refiner
}

func newStaggered(p Panel) (*staggered, error) {
	if p.N == 0 {
		return nil, notComputable("the panel has no units")
	}
	if p.T < 2 {
		return nil, notComputable("at least two periods are needed: one before treatment and one after")
	}
	counts, earlyCounts := map[int]int{}, map[int]int{}
	nNever := 0
	for _, g := range p.Cohort {
		switch {
		case g == p.Never:
			nNever++
		case g <= 0:
			earlyCounts[g]++
		default:
			counts[g]++
		}
	}
	d := &staggered{T: p.T, refiners: map[int]*refiner{}}
	if len(earlyCounts) > 0 {
		early, nEarly := []int{}, 0
		for g, n := range earlyCounts {
			early = append(early, g)
			nEarly += n
		}
		slices.Sort(early)
		d.excluded = append(d.excluded, StaggeredExclusion{Cohorts: early, Units: nEarly,
			Reason: "treated in the first period or before it: no pre-treatment period to difference from"})
	}
	var single []int
	for g, n := range counts {
		if n == 1 {
			single = append(single, g)
			continue
		}
		d.coh = append(d.coh, scohort{g: g, n: n})
	}
	slices.SortFunc(d.coh, func(a, b scohort) int { return cmp.Compare(a.g, b.g) })
	slices.Sort(single)
	if nNever == 1 {
		single = append(single, p.Never)
	} else if nNever > 1 {
		d.coh = append(d.coh, scohort{never: true, n: nNever})
	}
	if len(single) > 0 {
		d.excluded = append(d.excluded, StaggeredExclusion{Cohorts: single, Units: len(single),
			Reason: "the only unit of its cohort: the package drops single-unit cohorts, whose variance is undefined"})
	}
	if len(d.coh) == 0 {
		return nil, notComputable("no cohort of two or more units is left after dropping the units treated in the first period or before and the single-unit cohorts")
	}
	if g := len(d.coh); g*p.T*p.T > maxStaggeredCov {
		return nil, notComputable(fmt.Sprintf("%d cohorts over %d periods need more than 1 GiB of covariance matrices; use coarser periods (months)", g, p.T))
	}

	last := d.coh[len(d.coh)-1]
	d.tEnd = p.T
	if !last.after(p.T - 1) {
		d.tEnd = last.g
	}
	if !d.treated(d.coh[0]) {
		if d.coh[0].after(p.T - 1) {
			return nil, notComputable("no cohort is first treated inside the window after its first period")
		}
		return nil, notComputable("only one cohort is treated inside the window and no unit is never treated or treated after it, so there is no comparison group")
	}

	index := make(map[int]int, len(d.coh))
	d.nsuffix = make([]int, len(d.coh)+1)
	for k := len(d.coh) - 1; k >= 0; k-- {
		d.nsuffix[k] = d.nsuffix[k+1] + d.coh[k].n
		if !d.coh[k].never {
			index[d.coh[k].g] = k
		}
	}
	d.units = d.nsuffix[0]
	members := make([][]int32, len(d.coh))
	for k, c := range d.coh {
		members[k] = make([]int32, 0, c.n)
	}
	for i, g := range p.Cohort {
		k, ok := index[g]
		switch {
		case g == p.Never && nNever > 1:
			k = len(d.coh) - 1
		case g == p.Never || !ok:
			continue
		}
		members[k] = append(members[k], int32(i))
	}
	d.members = members
	d.moments(p.Y, members)
	return d, nil
}

// clustered returns the cluster-robust standard error of comb·mean (see
// ClusteredSE), without its interval. Clusters are summed in the order their
// first unit appears, so the result does not depend on map order.
func (d *staggered) clustered(comb, y []float64, cluster []int) ClusteredSE {
	T := d.T
	at := map[int]int{}
	var sums []float64
	lone := 0
	for k, m := range d.members {
		row := comb[k*T : (k+1)*T]
		base := floats.Dot(row, d.mean[k*T:(k+1)*T])
		in := map[int]bool{}
		for _, i := range m {
			in[cluster[i]] = true
		}
		f := 1.0 // a lone cohort's influences sum to zero in its cluster
		if kg := float64(len(in)); kg > 1 {
			f = math.Sqrt(kg / (kg - 1))
		} else if !allZero(row) {
			lone++
		}
		f /= float64(len(m))
		for _, i := range m {
			c, ok := at[cluster[i]]
			if !ok {
				c = len(sums)
				at[cluster[i]] = c
				sums = append(sums, 0)
			}
			sums[c] += f * (floats.Dot(row, y[int(i)*T:(int(i)+1)*T]) - base)
		}
	}
	g := len(sums)
	if g < 2 {
		return ClusteredSE{Clusters: g, Lone: lone, Reason: "the units used are all in one cluster: a cluster-robust variance needs two or more"}
	}
	var v float64
	for _, s := range sums {
		v += s * s
	}
	return ClusteredSE{OK: true, Clusters: g, Lone: lone, SE: math.Sqrt(v)}
}

// treated reports whether cohort c has cells: first treated inside the
// window, before the last period that still has a comparison group.
func (d *staggered) treated(c scohort) bool { return !c.never && c.g < d.tEnd }

// moments computes the cohort means and covariance matrices. The N·T²/2
// cross-products are split into chunks of units run in parallel; each chunk
// sums into its own matrix and the chunks are added in a fixed order, so the
// result does not depend on scheduling.
func (d *staggered) moments(y []float64, members [][]int32) {
	T, G := d.T, len(d.coh)
	d.mean = make([]float64, G*T)
	for k, m := range members {
		row := d.mean[k*T : (k+1)*T]
		for _, i := range m {
			floats.Add(row, y[int(i)*T:(int(i)+1)*T])
		}
		floats.Scale(1/float64(len(m)), row)
	}

	d.cov = make([]float64, G*T*T)
	workers := runtime.GOMAXPROCS(0)
	chunk := max(1024, d.units/(4*workers)+1)
	type task struct {
		k     int
		units []int32
		dst   []float64
	}
	var tasks []task
	extra := make([][][]float64, G)
	for k, m := range members {
		for part := 0; len(m) > 0; part++ {
			n := min(len(m), chunk)
			dst := d.cov[k*T*T : (k+1)*T*T]
			if part > 0 {
				dst = make([]float64, T*T)
				extra[k] = append(extra[k], dst)
			}
			tasks = append(tasks, task{k, m[:n], dst})
			m = m[n:]
		}
	}
	ch := make(chan task)
	var wg sync.WaitGroup
	for range min(workers, len(tasks)) {
		wg.Go(func() {
			dev := make([]float64, T)
			for tk := range ch {
				mean := d.mean[tk.k*T : (tk.k+1)*T]
				for _, i := range tk.units {
					floats.SubTo(dev, y[int(i)*T:(int(i)+1)*T], mean)
					for t, v := range dev {
						if v != 0 { // columns constant within the cohort (often all zero counts) cost nothing
							floats.AddScaled(tk.dst[t*T+t:(t+1)*T], v, dev[t:])
						}
					}
				}
			}
		})
	}
	for _, tk := range tasks {
		ch <- tk
	}
	close(ch)
	wg.Wait()

	for k, c := range d.coh {
		s := d.cov[k*T*T : (k+1)*T*T]
		for _, e := range extra[k] {
			floats.Add(s, e)
		}
		f := 1 / float64(c.n-1)
		for t := range T {
			for u := t; u < T; u++ {
				s[t*T+u] *= f
				s[u*T+t] = s[t*T+u]
			}
		}
	}
}

// firstAfter returns the index of the first cohort still untreated in t;
// that cohort and all later ones form the comparison group of period t.
func (d *staggered) firstAfter(t int) int {
	return sort.Search(len(d.coh), func(k int) bool { return d.coh[k].after(t) })
}

// cellW is cell ATT(coh[k].g, t) with its weight in an aggregate.
type cellW struct {
	k, t int
	w    float64
}

func (d *staggered) simpleCells() []cellW {
	var cells []cellW
	var total float64
	for k, c := range d.coh {
		if !d.treated(c) {
			continue
		}
		for t := c.g; t < d.tEnd; t++ {
			cells = append(cells, cellW{k, t, float64(c.n)})
			total += float64(c.n)
		}
	}
	for i := range cells {
		cells[i].w /= total
	}
	return cells
}

func (d *staggered) cohortCells() []cellW {
	var cells []cellW
	var total float64
	for _, c := range d.coh {
		if d.treated(c) {
			total += float64(c.n)
		}
	}
	for k, c := range d.coh {
		if !d.treated(c) {
			continue
		}
		periods := float64(d.tEnd - c.g)
		for t := c.g; t < d.tEnd; t++ {
			cells = append(cells, cellW{k, t, float64(c.n) / total / periods})
		}
	}
	return cells
}

func (d *staggered) calendarCells() []cellW {
	var cells []cellW
	periods := float64(d.tEnd - d.coh[0].g)
	for t := d.coh[0].g; t < d.tEnd; t++ {
		var total float64
		for _, c := range d.coh {
			if !c.never && c.g <= t {
				total += float64(c.n)
			}
		}
		for k, c := range d.coh {
			if !c.never && c.g <= t {
				cells = append(cells, cellW{k, t, float64(c.n) / total / periods})
			}
		}
	}
	return cells
}

// eventCells are the cells ATT(g, g+e) of the treated cohorts that observe
// g+e: before tEnd for e ≥ 0; inside the window for placebos (every treated
// cohort, given e ≥ −first cohort's period).
func (d *staggered) eventCells(e int) []cellW {
	var cells []cellW
	var total float64
	for k, c := range d.coh {
		if t := c.g + e; d.treated(c) && t >= 0 && t < d.tEnd {
			cells = append(cells, cellW{k, t, float64(c.n)})
			total += float64(c.n)
		}
	}
	for i := range cells {
		cells[i].w /= total
	}
	return cells
}

// linearWeights are an aggregate's weights on the G×T cohort means: atheta
// is the package's A_θ (the period-t terms), comb is A_θ − A_0 (the
// estimator), mu the treated mean of the post-period cells.
type linearWeights struct {
	atheta, comb, mu []float64
}

func (l linearWeights) estimate(d *staggered) float64 { return floats.Dot(l.comb, d.mean) }

// linear sets l to the cells' weights on the cohort means, reusing its
// storage: each cell puts +w on Ȳ(g,t) and −w on Ȳ(g,g−1), and for each
// comparison cohort c, −w·N_c/N_C on Ȳ(c,t) and +w·N_c/N_C on Ȳ(c,g−1).
func (d *staggered) linear(cells []cellW, l *linearWeights) {
	T, G := d.T, len(d.coh)
	for _, s := range []*[]float64{&l.atheta, &l.comb, &l.mu} {
		if len(*s) != G*T {
			*s = make([]float64, G*T)
		}
		clear(*s)
	}
	for _, c := range cells {
		g := d.coh[c.k].g
		b := g - 1
		first := d.firstAfter(max(g, c.t))
		nc := float64(d.nsuffix[first])
		l.atheta[c.k*T+c.t] += c.w
		l.comb[c.k*T+c.t] += c.w
		l.comb[c.k*T+b] -= c.w
		if c.t >= g {
			l.mu[c.k*T+c.t] += c.w
		}
		for j := first; j < G; j++ {
			f := c.w * float64(d.coh[j].n) / nc
			l.atheta[j*T+c.t] -= f
			l.comb[j*T+c.t] -= f
			l.comb[j*T+b] += f
		}
	}
}

// att returns ATT(coh[k].g, t) and the size of its comparison group.
func (d *staggered) att(k, t int) (float64, int) {
	T := d.T
	g := d.coh[k].g
	b := g - 1
	first := d.firstAfter(max(g, t))
	nc := float64(d.nsuffix[first])
	att := d.mean[k*T+t] - d.mean[k*T+b]
	for j := first; j < len(d.coh); j++ {
		att -= float64(d.coh[j].n) / nc * (d.mean[j*T+t] - d.mean[j*T+b])
	}
	return att, d.nsuffix[first]
}

// designCov returns the Neyman covariance of the estimates w_a·Ȳ for the
// given G×T weight vectors, Σ_g w_a,g S_g w_b,gᵀ / N_g, as a row-major
// len(ws)² matrix.
func (d *staggered) designCov(ws ...[]float64) []float64 {
	T, m := d.T, len(ws)
	v := make([]float64, m*m)
	sw := make([][]float64, m)
	for a := range sw {
		sw[a] = make([]float64, T)
	}
	for k, c := range d.coh {
		s := d.cov[k*T*T : (k+1)*T*T]
		for a, w := range ws {
			row := w[k*T : (k+1)*T]
			if allZero(row) {
				clear(sw[a])
				continue
			}
			for t := range T {
				sw[a][t] = floats.Dot(s[t*T:(t+1)*T], row)
			}
		}
		for a := range m {
			for b := a; b < m; b++ {
				v[a*m+b] += floats.Dot(ws[a][k*T:(k+1)*T], sw[b]) / float64(c.n)
			}
		}
	}
	for a := range m {
		for b := range a {
			v[a*m+b] = v[b*m+a]
		}
	}
	return v
}

func allZero(s []float64) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}

// refiner holds, for the cohorts from the earliest one with nonzero A_θ
// on, the pseudo-inverses of their pre-period covariance blocks and the
// blocks' mean: what compute_se_Thetahat_beta needs besides A_θ.
type refiner struct {
	from, p int
	pinv    [][]float64 // per cohort from..G−1, p×p
	avg     []float64
}

// refinedSE returns the package's se from the Neyman variance: the
// variance less βᵀ·avg·β/N, floored at zero as the package does.
func (d *staggered) refinedSE(atheta []float64, neymanVar float64) float64 {
	T := d.T
	seN := math.Sqrt(max(neymanVar, 0))
	from := -1 // the package's gMin: the earliest cohort with a nonzero A_θ row
	for k := range d.coh {
		if !allZero(atheta[k*T : (k+1)*T]) {
			from = k
			break
		}
	}
	if from < 0 || d.coh[from].never || d.coh[from].g <= 0 {
		return seN
	}
	r := d.refiner(from)
	p := r.p
	beta := make([]float64, p)
	c := make([]float64, p)
	for j := from; j < len(d.coh); j++ {
		s := d.cov[j*T*T : (j+1)*T*T]
		row := atheta[j*T : (j+1)*T]
		for q := range p {
			c[q] = floats.Dot(s[q*T:(q+1)*T], row)
		}
		pi := r.pinv[j-from]
		for q := range p {
			beta[q] += floats.Dot(pi[q*p:(q+1)*p], c)
		}
	}
	var adj float64
	for q := range p {
		adj += beta[q] * floats.Dot(r.avg[q*p:(q+1)*p], beta)
	}
	adj /= float64(d.units)
	if v := seN*seN - adj; v > 0 {
		return math.Sqrt(v)
	}
	return 0
}

func (d *staggered) refiner(from int) *refiner {
	if r, ok := d.refiners[from]; ok {
		return r
	}
	T, p := d.T, d.coh[from].g
	r := &refiner{from: from, p: p, avg: make([]float64, p*p)}
	block := mat.NewSymDense(p, nil)
	for j := from; j < len(d.coh); j++ {
		s := d.cov[j*T*T : (j+1)*T*T]
		for q := range p {
			for u := q; u < p; u++ {
				block.SetSym(q, u, s[q*T+u])
			}
			floats.Add(r.avg[q*p:(q+1)*p], s[q*T:q*T+p])
		}
		r.pinv = append(r.pinv, pinvSym(block))
	}
	floats.Scale(1/float64(len(d.coh)-from), r.avg)
	d.refiners[from] = r
	return r
}

// pinvSym is the Moore–Penrose inverse of a symmetric matrix as
// MASS::ginv computes it: components with |eigenvalue| (= singular value)
// at most √ε times the largest are dropped. It returns a row-major n×n
// slice; a zero matrix, or one whose decomposition fails, gives zeros.
func pinvSym(a *mat.SymDense) []float64 {
	n := a.SymmetricDim()
	out := make([]float64, n*n)
	var es mat.EigenSym
	if !es.Factorize(a, true) {
		return out
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	var top float64
	for _, v := range vals {
		top = max(top, math.Abs(v))
	}
	cut := math.Sqrt(0x1p-52) * top
	col := make([]float64, n)
	for k, v := range vals {
		if !(math.Abs(v) > cut) {
			continue
		}
		mat.Col(col, k, &vecs)
		for q := range n {
			floats.AddScaled(out[q*n:(q+1)*n], col[q]/v, col)
		}
	}
	return out
}
