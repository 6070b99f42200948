package analysis

import (
	"context"
	"fmt"
	"math"

	"deesc/internal/stats"
	"deesc/internal/store"
)

// ArmRate is the person-time of the trained or the untrained officer-months
// with its rate per officer-year and exact (Garwood) 95% interval.
type ArmRate struct {
	Events        int64   `json:"events"`
	OfficerMonths int64   `json:"officer_months"`
	OfficerYears  float64 `json:"officer_years"`
	Officers      int64   `json:"officers"`
	Rate          float64 `json:"rate"`
	CILow         float64 `json:"ci_low"`
	CIHigh        float64 `json:"ci_high"`
}

// Crude compares the rates of trained and untrained person-time. It is a
// description, not an effect.
type Crude struct {
	Label       string  `json:"label"`
	Trained     ArmRate `json:"trained"`
	Untrained   ArmRate `json:"untrained"`
	RateRatio   float64 `json:"rate_ratio"`
	CILow       float64 `json:"ci_low"`  // Wald, on the log scale
	CIHigh      float64 `json:"ci_high"` //
	ExactCILow  float64 `json:"exact_ci_low"`
	ExactCIHigh float64 `json:"exact_ci_high"`
	Method      string  `json:"method"`
	Caveat      string  `json:"caveat"`
}

// Adjusted is the Poisson rate ratio of trained to untrained officer-months
// with unit and calendar-month fixed effects and officer-clustered errors,
// with the overdispersion an evaluator should weigh it against.
type Adjusted struct {
	Label       string  `json:"label"`
	RateRatio   float64 `json:"rate_ratio"`
	CILow       float64 `json:"ci_low"`
	CIHigh      float64 `json:"ci_high"`
	PValue      float64 `json:"p_value"`
	Coefficient float64 `json:"coefficient"`
	SE          float64 `json:"se"`
	ModelSE     float64 `json:"model_se"`
	// Overdispersion: Pearson χ²/df of the Poisson fit over officer-months,
	// and the NB2 α (variance μ + αμ²) with the likelihood-ratio test of α = 0.
	PearsonDF  float64 `json:"pearson_chi2_per_df"`
	NB2Alpha   float64 `json:"nb2_alpha"`
	NB2AlphaSE float64 `json:"nb2_alpha_se"`
	NB2LR      float64 `json:"nb2_lr_statistic"`
	NB2P       float64 `json:"nb2_lr_p_value"`
	// What the fit used.
	Officers            int64   `json:"officers"` // clusters
	OfficerMonths       int64   `json:"officer_months"`
	Units               int     `json:"units"`
	UnitsWithoutEvents  int     `json:"units_without_events"`
	Months              int     `json:"months"`
	MonthsWithoutEvents int     `json:"months_without_events"`
	Cells               int     `json:"cells"`
	Parameters          int     `json:"parameters"`
	Correction          float64 `json:"small_sample_factor"`
	UnitClustered
	Method     string `json:"method"`
	Dispersion string `json:"dispersion_method"`
}

// CohortResult is the cohort comparison: crude rates of trained and
// untrained person-time, and the adjusted rate ratio (the headline).
type CohortResult struct {
	Outcome   string    `json:"outcome"`
	Treatment Treatment `json:"treatment"`
	Selection Selection `json:"selection"`
	// SwitchingOfficers counts the officers with both untrained and trained
	// months in the window: trained inside it, after its first month.
	SwitchingOfficers int64    `json:"switching_officers"`
	Crude             Crude    `json:"crude"`
	Adjusted          Adjusted `json:"adjusted"`
}

// Cohorts runs the cohort comparison of r: the crude rates of trained and
// untrained officer-months (time-varying: an officer's months from the
// completion month on are trained) with exact intervals and their ratio
// with Wald and exact conditional intervals, and the Poisson regression of
// officer-month counts on the trained indicator with unit and calendar-month
// fixed effects, offset ln(exposure) and officer-clustered errors as
// statsmodels' GLM cov_type="cluster", fitted on unit × month × trained
// cells. It returns ErrNoData for an empty selection and
// stats.ErrNotComputable when there are too few events, no trained or no
// untrained officer-months, or the model is not identified.
func Cohorts(ctx context.Context, st *store.Store, r Request) (*CohortResult, error) {
	p, err := st.Treatment(ctx, r.Query())
	if err != nil {
		return nil, err
	}
	if err := checkWindow(p.Window); err != nil {
		return nil, err
	}
	cells := newCells(p)
	if err := checkArms(cells.arms); err != nil {
		return nil, err
	}
	res := &CohortResult{Outcome: r.Outcome, Treatment: r.treatment(), Selection: selection(r, p.Window),
		SwitchingOfficers: cells.arms[1].Officers + cells.arms[0].Officers - p.Window.Officers}
	if res.Crude, err = crude(cells.arms); err != nil {
		return nil, err
	}
	f, err := fitCells(cells)
	if err != nil {
		return nil, err
	}
	if res.Adjusted, err = f.adjusted(f.meat(p)); err != nil {
		return nil, err
	}
	return res, nil
}

// arm is the person-time of the untrained ([0]) or trained ([1]) officer-months.
type arm struct {
	Events, OfficerMonths, Officers int64
	OfficerYears                    float64
}

// cells are a TreatmentPanel's officer-months grouped by unit, training
// status and calendar month, at index (unit·2 + trained)·months + month: the
// sufficient statistics of a Poisson regression of counts on the trained
// indicator with unit and month fixed effects.
type cells struct {
	units, months int
	exposure      float64
	rows, events  []float64
	squares       []float64 // Σ count²/exposure, for the Pearson statistic
	arms          [2]arm
	// moreThan[j] counts the officer-months with more than j events, for
	// the negative binomial likelihood.
	moreThan []float64
}

func (c *cells) at(u int32, trained bool, m int32) int {
	t := 0
	if trained {
		t = 1
	}
	return (int(u)*2+t)*c.months + int(m)
}

// newCells counts each officer's untrained and trained months into the
// cells (by differences over each contiguous run of months), then adds the
// events.
func newCells(p *store.TreatmentPanel) *cells {
	M := p.Window.Months()
	c := &cells{units: p.Units, months: M, exposure: p.Exposure}
	n := p.Units * 2 * M
	c.rows, c.events, c.squares = make([]float64, n), make([]float64, n), make([]float64, n)
	diff := make([]float64, p.Units*2*(M+1))
	o := &p.Officers
	for i := range o.Key {
		u, first, last, from := o.Unit[i], o.First[i], o.Last[i], p.TrainedFrom(i)
		var months [2]int64
		if _, gaps := p.Gaps[int32(i)]; gaps {
			p.MonthsOf(i, func(m int32) {
				c.rows[c.at(u, m >= from, m)]++
				if m >= from {
					months[1]++
				} else {
					months[0]++
				}
			})
		} else {
			for t, run := range [2][2]int32{{first, from - 1}, {from, last}} {
				if run[0] <= run[1] {
					base := (int(u)*2 + t) * (M + 1)
					diff[base+int(run[0])]++
					diff[base+int(run[1])+1]--
					months[t] += int64(run[1] - run[0] + 1)
				}
			}
		}
		for t := range 2 {
			if months[t] > 0 {
				c.arms[t].Officers++
				c.arms[t].OfficerMonths += months[t]
			}
		}
	}
	for b := range p.Units * 2 {
		var run float64
		for m := range M {
			run += diff[b*(M+1)+m]
			c.rows[b*M+m] += run
		}
	}
	var counts []float64 // counts[y]: officer-months with y events
	e := &p.Events
	for k, i := range e.Officer {
		m, y := e.Month[k], e.Count[k]
		trained := m >= p.TrainedFrom(int(i))
		at := c.at(o.Unit[i], trained, m)
		c.events[at] += y
		c.squares[at] += y * y / p.Exposure
		t := 0
		if trained {
			t = 1
		}
		c.arms[t].Events += int64(y)
		for len(counts) <= int(y) {
			counts = append(counts, 0)
		}
		counts[int(y)]++
	}
	for t := range 2 {
		c.arms[t].OfficerYears = float64(c.arms[t].OfficerMonths) * p.Exposure
	}
	if len(counts) > 0 {
		c.moreThan = make([]float64, len(counts)-1)
		var above float64
		for j := len(counts) - 1; j >= 1; j-- {
			above += counts[j]
			c.moreThan[j-1] = above
		}
	}
	return c
}

// checkArms refuses selections without both arms or with too few events.
func checkArms(a [2]arm) error {
	switch events := a[0].Events + a[1].Events; {
	case a[1].OfficerMonths == 0:
		return notComputable("no officer is trained in the window: there is no trained person-time to compare")
	case a[0].OfficerMonths == 0:
		return notComputable("every officer-month in the window is trained: there is no untrained person-time to compare with")
	case events < MinEvents:
		return notComputable("only %d events in the selection; at least %d are needed for a rate ratio", events, MinEvents)
	case a[1].Events == 0:
		return notComputable("no events in trained officer-months: the rate ratio is 0 and its logarithm undefined")
	case a[0].Events == 0:
		return notComputable("no events in untrained officer-months: the rate ratio is infinite")
	}
	return nil
}

func crude(a [2]arm) (Crude, error) {
	c := Crude{
		Label:   "description, not an effect",
		Trained: armRate(a[1]), Untrained: armRate(a[0]),
		Method: "Events per officer-year in trained and untrained officer-months of the window (an officer's months from the " +
			"month of completion on are trained, earlier ones untrained), with exact (Garwood) 95% intervals; the rate ratio " +
			"trained/untrained with the Wald interval exp(log RR ± 1.96·√(1/k₁ + 1/k₀)) and the exact conditional interval " +
			"(Clopper–Pearson on the trained share of events given the total).",
		Caveat: "A description, not an effect: trained months are later in calendar time and may belong to different units " +
			"and officers than untrained ones, so secular trends and selection into training bias this ratio. The adjusted " +
			"rate ratio and the staggered roll-out estimate are the effect estimates.",
	}
	rr, err := stats.RateRatio(float64(a[1].Events), a[1].OfficerYears, float64(a[0].Events), a[0].OfficerYears, 0.95)
	if err != nil {
		return c, err
	}
	c.RateRatio, c.CILow, c.CIHigh, c.ExactCILow, c.ExactCIHigh = rr.Ratio, rr.Wald.Lo, rr.Wald.Hi, rr.Exact.Lo, rr.Exact.Hi
	if !rr.Wald.OK || !allFinite(c.RateRatio, c.CILow, c.CIHigh, c.ExactCILow, c.ExactCIHigh, c.Trained.CIHigh, c.Untrained.CIHigh) {
		return c, notComputable("the crude rate ratio cannot be computed on these counts")
	}
	return c, nil
}

func armRate(a arm) ArmRate {
	r := ArmRate{Events: a.Events, OfficerMonths: a.OfficerMonths, OfficerYears: math.Round(a.OfficerYears*1e6) / 1e6, Officers: a.Officers}
	lo, hi := stats.PoissonCI(float64(a.Events), 0.95)
	r.Rate, r.CILow, r.CIHigh = float64(a.Events)/a.OfficerYears, lo/a.OfficerYears, hi/a.OfficerYears
	return r
}

// cellFit is the adjusted regression fitted on cells, with the influence
// of the trained coefficient: an officer-month in unit u, month m with
// trained t has weight wt·t + wm[m] + wu[u] and fitted count
// exp(bt·t + bm[m] + bu[u])·exposure, unless its unit or month is out of
// the fit (no events).
type cellFit struct {
	c                     *cells
	res                   *stats.Result
	wt, bt                float64
	wm, bm, wu, bu        []float64
	keepM, keepU          []bool
	rows                  int64 // officer-months in the fit
	units, unitsDropped   int
	months, monthsDropped int
	cells                 int
	pearson               float64
	nb                    nb2Result
}

// fitCells fits the Poisson regression on the cells with the unit effects
// absorbed (so that any number of units fits) and month dummies, and
// derives the influence of the trained coefficient. With the unit effects
// α_u concentrated out, the inverse information's row for the trained
// coefficient, over all parameters, gives an officer-month the weight
// C·(x − x̄_u), x = (trained, month dummies) and x̄_u its μ-weighted mean
// over the unit: the influence in the dummy-coded model with an intercept,
// of which this is a reparametrisation.
func fitCells(c *cells) (*cellFit, error) {
	M, U := c.months, c.units
	f := &cellFit{c: c, wm: make([]float64, M), bm: make([]float64, M), keepM: make([]bool, M),
		wu: make([]float64, U), bu: make([]float64, U), keepU: make([]bool, U)}
	monthEvents, unitEvents, unitRows := make([]float64, M), make([]float64, U), make([]float64, U)
	for u := range U {
		for t := range 2 {
			for m := range M {
				at := (u*2+t)*M + m
				monthEvents[m] += c.events[at]
				unitEvents[u] += c.events[at]
				unitRows[u] += c.rows[at]
			}
		}
	}
	// Months and units without events have a fixed effect of −∞: out.
	mLevel, uLevel := make([]int32, M), make([]int32, U)
	for m, y := range monthEvents {
		mLevel[m] = -1
		if y > 0 {
			mLevel[m], f.keepM[m] = int32(f.months), true
			f.months++
		} else {
			f.monthsDropped++
		}
	}
	for u, y := range unitEvents {
		uLevel[u] = -1
		switch {
		case y > 0:
			uLevel[u], f.keepU[u] = int32(f.units), true
			f.units++
		case unitRows[u] > 0:
			f.unitsDropped++
		}
	}
	var y, off, x []float64
	var mc, uc []int32
	var keep []int // cell of each fitted row
	for u := range U {
		if !f.keepU[u] {
			continue
		}
		for t := range 2 {
			for m := range M {
				at := (u*2+t)*M + m
				if !f.keepM[m] || c.rows[at] == 0 {
					continue
				}
				y, off, x = append(y, c.events[at]), append(off, math.Log(c.rows[at]*c.exposure)), append(x, float64(t))
				mc, uc = append(mc, mLevel[m]), append(uc, uLevel[u])
				keep = append(keep, at)
				f.rows += int64(c.rows[at])
			}
		}
	}
	f.cells = len(keep)
	var err error
	f.res, err = stats.FitPoissonAbsorbed(stats.Data{Y: y, Offset: off, X: []stats.Column{{Name: "trained", Values: x}},
		Factors: []stats.Factor{{Name: "month", Codes: mc, Levels: f.months}}},
		stats.Factor{Name: "unit", Codes: uc, Levels: f.units}, stats.Options{})
	if err != nil {
		return nil, err
	}
	k := len(f.res.Coefs)
	row := f.res.ModelCov[:k] // the trained coefficient is first
	f.wt, f.bt = row[0], f.res.Coefs[0].Estimate
	for m, l := range mLevel {
		if l > 0 { // level 0 is the reference, absorbed into the unit effects
			f.wm[m], f.bm[m] = row[l], f.res.Coefs[l].Estimate
		}
	}
	// Unit effects at their conditional maximum, and the μ-weighted mean
	// of each unit's weights.
	eta := make([]float64, len(keep))
	sumMu, sumMuW := make([]float64, U), make([]float64, U)
	for j, at := range keep {
		u, m := at/(2*M), at%M
		eta[j] = f.bt*x[j] + f.bm[m]
		mu := math.Exp(eta[j] + off[j])
		sumMu[u] += mu
		sumMuW[u] += mu * (f.wt*x[j] + f.wm[m])
	}
	for u := range U {
		if f.keepU[u] {
			f.bu[u] = math.Log(unitEvents[u] / sumMu[u])
			f.wu[u] = -sumMuW[u] / sumMu[u]
		}
	}
	// Pearson χ² over officer-months: within a cell every officer-month
	// has mean rate·exposure, so Σ (y−μ)²/μ = Σy²/e / rate − 2Σy + rate·Σe.
	var nbCells []nbCell
	for j, at := range keep {
		rate := math.Exp(eta[j] + f.bu[at/(2*M)])
		f.pearson += c.squares[at]/rate - 2*c.events[at] + rate*c.rows[at]*c.exposure
		nbCells = append(nbCells, nbCell{n: c.rows[at], y: c.events[at], mu: rate * c.exposure})
	}
	f.nb = nb2Dispersion(c.moreThan, nbCells)
	return f, nil
}

// meat returns the officer-clustered meat of the trained coefficient,
// Σ_officers (Σ_months weight·(y − μ))², and the number of officers with
// officer-months in the fit. An officer's Σ weight·μ over a run of months
// comes from running sums per unit and training status; Σ weight·y from the
// officer's events.
func (f *cellFit) meat(p *store.TreatmentPanel) clusterMeat {
	M := f.c.months
	wmu := make([]float64, f.c.units*2*(M+1)) // running Σ weight·μ
	kept := make([]int32, M+1)                // running count of months in the fit
	for m := range M {
		kept[m+1] = kept[m]
		if f.keepM[m] {
			kept[m+1]++
		}
	}
	weight := func(u int32, t float64, m int32) float64 { return f.wt*t + f.wm[m] + f.wu[u] }
	mu := func(u int32, t float64, m int32) float64 {
		return math.Exp(f.bt*t+f.bm[m]+f.bu[u]) * f.c.exposure
	}
	for u := range f.c.units {
		if !f.keepU[u] {
			continue
		}
		for t := range 2 {
			b := (u*2 + t) * (M + 1)
			for m := range M {
				wmu[b+m+1] = wmu[b+m]
				if f.keepM[m] {
					wmu[b+m+1] += weight(int32(u), float64(t), int32(m)) * mu(int32(u), float64(t), int32(m))
				}
			}
		}
	}
	meat := newClusterMeat(p.Units)
	o, e := &p.Officers, &p.Events
	k := 0
	for i := range o.Key {
		u, from := o.Unit[i], p.TrainedFrom(i)
		var s float64
		for ; k < len(e.Officer) && e.Officer[k] == int32(i); k++ {
			t := 0.0
			if e.Month[k] >= from {
				t = 1
			}
			s += weight(u, t, e.Month[k]) * e.Count[k]
		}
		if !f.keepU[u] {
			continue
		}
		in := false
		if _, gaps := p.Gaps[int32(i)]; gaps {
			p.MonthsOf(i, func(m int32) {
				if f.keepM[m] {
					t := 0.0
					if m >= from {
						t = 1
					}
					s -= weight(u, t, m) * mu(u, t, m)
					in = true
				}
			})
		} else {
			for t, run := range [2][2]int32{{o.First[i], from - 1}, {from, o.Last[i]}} {
				if run[0] <= run[1] {
					b := (int(u)*2 + t) * (M + 1)
					s -= wmu[b+int(run[1])+1] - wmu[b+int(run[0])]
				}
			}
			in = kept[o.Last[i]+1] > kept[o.First[i]]
		}
		if in {
			meat.add(s, u)
		}
	}
	return meat
}

// clusterMeat is Σ_officers s², s being an officer's sum over the
// officer-months in a fit of influence weight × residual: the
// cluster-robust variance of one coefficient before the small-sample
// factor, over clusters officers; and the same with the officers' s summed
// by unit first (officers stay in one unit).
type clusterMeat struct {
	sum      float64
	clusters int64
	unit     []float64 // by unit key: Σ s over its officers
	inUnit   []bool
}

func newClusterMeat(units int) clusterMeat {
	return clusterMeat{unit: make([]float64, units), inUnit: make([]bool, units)}
}

// add counts an officer's s, the officer being in unit u.
func (m *clusterMeat) add(s float64, u int32) {
	m.sum += s * s
	m.clusters++
	m.unit[u] += s
	m.inUnit[u] = true
}

// byUnit returns Σ_units (Σ s)² and the number of units with officers.
func (m clusterMeat) byUnit() (sum float64, units int64) {
	for u, s := range m.unit {
		if m.inUnit[u] {
			sum += s * s
			units++
		}
	}
	return sum, units
}

// UnitClustered is a rate ratio's standard error and 95% interval with
// errors clustered by unit instead of by officer (the same small-sample
// factor, G/(G−1)·(N−1)/(N−K), over G units): when whole units are trained
// together and share shocks, errors clustered by officer understate. Nil,
// with Why, under MinUnitClusters units.
type UnitClustered struct {
	SE     *float64 `json:"se_unit_clustered"`
	CILow  *float64 `json:"ci_low_unit_clustered"`
	CIHigh *float64 `json:"ci_high_unit_clustered"`
	Units  int64    `json:"unit_clusters"`
	Why    string   `json:"se_unit_clustered_not_computed,omitempty"`
	se     float64  // also under MinUnitClusters units (for tests)
}

// unitClusteredRatio returns coefficient b's UnitClustered from the meat, for
// a fit of n officer-months and k parameters.
func unitClusteredRatio(b float64, m clusterMeat, n, k int64) UnitClustered {
	sum, g := m.byUnit()
	u := UnitClustered{Units: g}
	if g < 2 || n <= k {
		u.Why = "the officers are all in one unit (or the dataset records no units): errors clustered by unit need two or more"
		return u
	}
	u.se = math.Sqrt(float64(g) / float64(g-1) * float64(n-1) / float64(n-k) * sum)
	if g < MinUnitClusters {
		u.Why = fmt.Sprintf("the officers are in %d units: errors clustered by unit need %d or more to be usable", g, MinUnitClusters)
		return u
	}
	se, lo, hi := u.se, math.Exp(b-z95*u.se), math.Exp(b+z95*u.se)
	if !allFinite(se, lo, hi) {
		u.Why = "the interval overflows floating point"
		return u
	}
	u.SE, u.CILow, u.CIHigh = &se, &lo, &hi
	return u
}

// adjusted completes the fit with the officer-clustered error.
func (f *cellFit) adjusted(meat clusterMeat) (Adjusted, error) {
	res := f.res
	g, n, k := meat.clusters, f.rows, int64(res.K)
	if g < 2 || n <= k {
		return Adjusted{}, notComputable("too few officers or officer-months for officer-clustered errors (%d officers, %d officer-months, %d parameters)", g, n, k)
	}
	corr := float64(g) / float64(g-1) * float64(n-1) / float64(n-k)
	b := res.Coefs[0].Estimate
	se := math.Sqrt(corr * meat.sum)
	a := Adjusted{
		Label:     "effect estimate (the headline)",
		RateRatio: math.Exp(b), CILow: math.Exp(b - z95*se), CIHigh: math.Exp(b + z95*se),
		PValue: 2 * normalTail(math.Abs(b/se)), Coefficient: b, SE: se, ModelSE: res.Coefs[0].Model.SE,
		PearsonDF: f.pearson / float64(n-k), NB2Alpha: f.nb.alpha, NB2AlphaSE: f.nb.se, NB2LR: f.nb.lr, NB2P: f.nb.p,
		Officers: g, OfficerMonths: n, Units: f.units, UnitsWithoutEvents: f.unitsDropped, Months: f.months,
		MonthsWithoutEvents: f.monthsDropped, Cells: f.cells, Parameters: int(k), Correction: corr,
		Method: "Poisson regression of each officer-month's count on the trained indicator with unit and calendar-month fixed " +
			"effects and offset ln(officer-years), fitted on its sufficient statistics (unit × month × trained cells) with the " +
			"unit effects concentrated out; standard error clustered by officer with the small-sample factor " +
			"G/(G−1)·(N−1)/(N−K) over officer-months, as statsmodels' GLM cov_type='cluster'. Units and months without any " +
			"event carry no information and are left out. se_unit_clustered and its interval cluster by unit instead, " +
			"for when whole units are trained together and share shocks (given with " + fmt.Sprint(MinUnitClusters) +
			" or more units).",
		Dispersion:    f.nb.method,
		UnitClustered: unitClusteredRatio(b, meat, n, k),
	}
	if !allFinite(a.RateRatio, a.CILow, a.CIHigh, a.PValue, a.SE, a.ModelSE, a.PearsonDF, a.NB2Alpha, a.NB2AlphaSE, a.NB2LR, a.NB2P) || !(se > 0) {
		return a, notComputable("the adjusted rate ratio overflows floating point")
	}
	return a, nil
}

// nbCell is a group of officer-months with the same fitted mean.
type nbCell struct{ n, y, mu float64 }

// nb2Result is the NB2 dispersion at the Poisson means.
type nb2Result struct {
	alpha, se, lr, p float64
	method           string
}

// nb2Dispersion estimates the NB2 dispersion α (variance μ + αμ²) by
// maximum likelihood with the means held at the Poisson fit (Poisson
// estimates of the means are consistent under NB2), and tests α = 0 by the
// likelihood ratio, half χ²₁ on the boundary. The likelihood depends on the
// data only through moreThan (officer-months with more than j events) and
// each cell's officer-months, events and mean: relative to the Poisson,
// ℓ(α) − ℓ₀ = Σ_j H_j log(1+jα) + Σ_c [n·μ − (n/α + y)·log(1+αμ)].
func nb2Dispersion(moreThan []float64, cells []nbCell) nb2Result {
	r := nb2Result{method: "NB2 dispersion α (variance μ + αμ² per officer-month) by maximum likelihood with the means " +
		"held at the Poisson fit; its standard error treats the means as known. The likelihood-ratio test of α = 0 is " +
		"referred to ½χ²₁. α near 0 and Pearson χ²/df near 1 mean little overdispersion; the clustered errors are " +
		"valid either way."}
	// score is dℓ/dα; info is −d²ℓ/dα². f is log1p(x) − x/(1+x) and g (in
	// scoreInfo) x²/(1+x)² − 2f(x), by series when small to avoid cancellation.
	f := func(x float64) float64 {
		if x < 1e-2 {
			return x * x * (0.5 - x*(2.0/3-x*(0.75-x*0.8)))
		}
		return math.Log1p(x) - x/(1+x)
	}
	// scoreInfo returns dℓ/dα and −d²ℓ/dα² in one pass over the cells.
	scoreInfo := func(a float64) (score, info float64) {
		for j := 1; j < len(moreThan); j++ {
			jj := float64(j)
			d := 1 + jj*a
			score += moreThan[j] * jj / d
			info += moreThan[j] * jj * jj / (d * d)
		}
		a2 := a * a
		for _, c := range cells {
			x := a * c.mu
			fx := f(x)
			d := 1 + x
			score += c.n/a2*fx - c.y*c.mu/d
			var gx float64
			if x < 1e-2 {
				gx = x * x * x * (-2.0/3 + x*(1.5-x*(2.4-x*10.0/3)))
			} else {
				gx = x*x/(d*d) - 2*fx
			}
			info -= c.n*gx/(a2*a) + c.y*c.mu*c.mu/(d*d)
		}
		return score, info
	}
	score := func(a float64) float64 { s, _ := scoreInfo(a); return s }
	info := func(a float64) float64 { _, in := scoreInfo(a); return in }
	gain := func(a float64) float64 {
		var s float64
		for j := 1; j < len(moreThan); j++ {
			s += moreThan[j] * math.Log1p(float64(j)*a)
		}
		for _, c := range cells {
			s += c.n*c.mu - (c.n/a+c.y)*math.Log1p(a*c.mu)
		}
		return s
	}
	lo, hi := math.Log(1e-10), math.Log(1e4)
	if score(math.Exp(lo)) <= 0 {
		r.p = 1
		return r // no overdispersion: α = 0
	}
	if score(math.Exp(hi)) > 0 {
		r.method += " Here α exceeds 10⁴ and is reported at that bound."
		r.alpha = math.Exp(hi)
		r.lr = max(0, 2*gain(r.alpha))
		r.p = 0.5 * math.Erfc(math.Sqrt(r.lr/2))
		return r
	}
	// The root of the score in u = log α: Newton steps (dS/du = −info·α),
	// kept inside the bracket [lo, hi] where the score changes sign, and
	// bisection whenever a step would leave it.
	u := (lo + hi) / 2
	for range 200 {
		sc, in := scoreInfo(math.Exp(u))
		if sc > 0 {
			lo = u
		} else {
			hi = u
		}
		next := (lo + hi) / 2
		if in > 0 {
			if step := u + sc/(in*math.Exp(u)); step > lo && step < hi {
				next = step
			}
		}
		if math.Abs(next-u) < 1e-13 || hi-lo < 1e-12 {
			u = next
			break
		}
		u = next
	}
	r.alpha = math.Exp(u)
	if in := info(r.alpha); in > 0 {
		r.se = 1 / math.Sqrt(in)
	}
	r.lr = max(0, 2*gain(r.alpha))
	r.p = 0.5 * math.Erfc(math.Sqrt(r.lr/2))
	return r
}
