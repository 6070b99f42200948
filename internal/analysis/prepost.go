package analysis

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"deesc/internal/stats"
	"deesc/internal/store"
)

// PrepostResult is the within-officer comparison: the rate ratio of an
// officer's trained to untrained months, with officer and calendar-month
// fixed effects.
type PrepostResult struct {
	Outcome     string    `json:"outcome"`
	Treatment   Treatment `json:"treatment"`
	Selection   Selection `json:"selection"`
	RateRatio   float64   `json:"rate_ratio"`
	CILow       float64   `json:"ci_low"`
	CIHigh      float64   `json:"ci_high"`
	PValue      float64   `json:"p_value"`
	Coefficient float64   `json:"coefficient"`
	SE          float64   `json:"se"`
	ModelSE     float64   `json:"model_se"`
	// What the fit used. Officers without any event in the window carry no
	// information once their own effect is fitted; only officers trained
	// inside the window (switching) identify the rate ratio, the others the
	// month effects.
	Officers                   int64   `json:"officers"`
	OfficerMonths              int64   `json:"officer_months"`
	SwitchingOfficers          int64   `json:"switching_officers"`
	OfficersWithoutEvents      int64   `json:"officers_without_events"`
	OfficerMonthsWithoutEvents int64   `json:"officer_months_without_events"`
	Months                     int     `json:"months"`
	MonthsWithoutEvents        int     `json:"months_without_events"`
	Patterns                   int     `json:"patterns"`
	Parameters                 int64   `json:"parameters"`
	Correction                 float64 `json:"small_sample_factor"`
	UnitClustered
	Method string `json:"method"`
}

// Prepost runs the within-officer analysis of r: Poisson regression of
// officer-month counts on the trained indicator with officer and
// calendar-month fixed effects (the officer effects concentrated out, i.e.
// conditional on each officer's total) and officer-clustered errors as
// statsmodels' GLM with officer dummies and cov_type="cluster". Officers
// sharing first month, last month and first trained month are fitted as
// one, which leaves the likelihood and its derivatives unchanged. It
// returns ErrNoData for an empty selection and stats.ErrNotComputable when
// there are too few events or no officer's training status changes.
func Prepost(ctx context.Context, st *store.Store, r Request) (*PrepostResult, error) {
	p, err := st.Treatment(ctx, r.Query())
	if err != nil {
		return nil, err
	}
	if err := checkWindow(p.Window); err != nil {
		return nil, err
	}
	f, err := fitPatterns(p)
	if err != nil {
		return nil, err
	}
	meat := f.meat(p)
	g, n := meat.clusters, f.rows
	k := g + int64(f.months)
	if g < 2 || n <= k {
		return nil, notComputable("too few officers with events or officer-months for officer-clustered errors (%d officers, %d officer-months, %d parameters)", g, n, k)
	}
	corr := float64(g) / float64(g-1) * float64(n-1) / float64(n-k)
	b := f.res.Coefs[0].Estimate
	se := math.Sqrt(corr * meat.sum)
	res := &PrepostResult{Outcome: r.Outcome, Treatment: r.treatment(), Selection: selection(r, p.Window),
		RateRatio: math.Exp(b), CILow: math.Exp(b - z95*se), CIHigh: math.Exp(b + z95*se), PValue: 2 * normalTail(math.Abs(b/se)),
		Coefficient: b, SE: se, ModelSE: f.res.Coefs[0].Model.SE,
		Officers: g, OfficerMonths: n, SwitchingOfficers: f.switching, OfficersWithoutEvents: f.silent,
		OfficerMonthsWithoutEvents: f.silentMonths, Months: f.months, MonthsWithoutEvents: f.monthsDropped,
		Patterns: len(f.a), Parameters: k, Correction: corr,
		Method: "Poisson regression of each officer-month's count on the trained indicator with officer and calendar-month " +
			"fixed effects (the officer effects concentrated out: conditional on each officer's total count), so each " +
			"officer is compared with themself before and after training, net of the months' common level. Standard error " +
			"clustered by officer with the small-sample factor G/(G−1)·(N−1)/(N−K), K counting the officer effects, as " +
			"statsmodels' GLM with officer dummies and cov_type='cluster'. Officers without events and months without " +
			"events carry no information and are left out; officers sharing first month, last month and first trained " +
			"month are fitted together, which leaves the likelihood unchanged. se_unit_clustered and its interval cluster " +
			"by unit instead, for when whole units are trained together and share shocks (given with " +
			fmt.Sprint(MinUnitClusters) + " or more units).",
		UnitClustered: unitClusteredRatio(b, meat, n, k),
	}
	if !allFinite(res.RateRatio, res.CILow, res.CIHigh, res.PValue, res.SE, res.ModelSE) || !(se > 0) {
		return nil, notComputable("the within-officer rate ratio overflows floating point")
	}
	return res, nil
}

// patternFit is the within-officer regression fitted on patterns, with the
// influence of the trained coefficient: officer i's clustered score is
// Σ_t (wt·trained + wm[t])·y_it − Y_i·a[pattern of i], the second term
// being the weights averaged over the fitted shares π_t of the officer's
// total Y_i.
type patternFit struct {
	res                   *stats.Result
	wt                    float64
	wm                    []float64
	a                     []float64 // by pattern
	pattern               []int32   // by officer; −1 for officers without events
	rows                  int64     // officer-months of officers with events, in months with events
	months, monthsDropped int
	switching             int64
	silent, silentMonths  int64 // officers without events, and their officer-months
}

// patternKey identifies officers with contiguous months sharing first
// month, last month and first trained month.
type patternKey struct{ first, last, from int32 }

// fitPatterns fits the conditional Poisson regression with one pseudo-officer
// per pattern, whose count in a month is the sum of its officers' counts:
// the concentrated likelihood Σ_i Σ_t y_it·log π_it, π being an officer's
// fitted shares of their total, is unchanged, since the officers of a
// pattern share π. Officers with gaps in service are patterns of their own.
func fitPatterns(p *store.TreatmentPanel) (*patternFit, error) {
	M := p.Window.Months()
	o, e := &p.Officers, &p.Events
	total := make([]float64, len(o.Key))
	monthEvents := make([]float64, M)
	var events float64
	for k, i := range e.Officer {
		total[i] += e.Count[k]
		monthEvents[e.Month[k]] += e.Count[k]
		events += e.Count[k]
	}
	if events < MinEvents {
		return nil, notComputable("only %g events in the selection; at least %d are needed for a rate ratio", events, MinEvents)
	}
	f := &patternFit{wm: make([]float64, M), pattern: make([]int32, len(o.Key))}
	level := make([]int32, M)
	for m, y := range monthEvents {
		level[m] = -1
		if y > 0 {
			level[m] = int32(f.months)
			f.months++
		} else {
			f.monthsDropped++
		}
	}
	// Patterns: contiguous ones in key order, then officers with gaps.
	ids := map[patternKey]int32{}
	var keys []patternKey
	var gapped []int
	for i := range o.Key {
		f.pattern[i] = -1
		switch _, gaps := p.Gaps[int32(i)]; {
		case total[i] == 0:
			f.silent++
			p.MonthsOf(i, func(int32) { f.silentMonths++ })
		case gaps:
			gapped = append(gapped, i)
		default:
			key := patternKey{o.First[i], o.Last[i], p.TrainedFrom(i)}
			if _, ok := ids[key]; !ok {
				ids[key] = 0
				keys = append(keys, key)
			}
		}
	}
	slices.SortFunc(keys, func(a, b patternKey) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.last, b.last), cmp.Compare(a.from, b.from))
	})
	for j, key := range keys {
		ids[key] = int32(j)
	}
	nPat := len(keys) + len(gapped)
	months := make([][]int32, nPat) // each pattern's months, in the fit or not
	from := make([]int32, nPat)
	officers := make([]int64, nPat)
	for j, key := range keys {
		for m := key.first; m <= key.last; m++ {
			months[j] = append(months[j], m)
		}
		from[j] = key.from
	}
	for j, i := range gapped {
		months[len(keys)+j], from[len(keys)+j] = p.Gaps[int32(i)], p.TrainedFrom(i)
		f.pattern[i] = int32(len(keys) + j)
	}
	for i := range o.Key {
		if total[i] > 0 && f.pattern[i] < 0 {
			f.pattern[i] = ids[patternKey{o.First[i], o.Last[i], p.TrainedFrom(i)}]
		}
		if f.pattern[i] >= 0 {
			officers[f.pattern[i]]++
		}
	}
	// Counts by pattern and month, at offset start[pattern] + the month's
	// position among the pattern's months.
	start := make([]int, nPat+1)
	for j := range nPat {
		start[j+1] = start[j] + len(months[j])
	}
	ysum := make([]float64, start[nPat])
	for k, i := range e.Officer {
		j := f.pattern[i]
		pos, _ := slices.BinarySearch(months[j], e.Month[k])
		ysum[start[j]+pos] += e.Count[k]
	}
	var y, x []float64
	var mc, pc, rowMonth []int32
	var anyBefore, anyAfter bool
	for j := range nPat {
		var kept int64
		before, after := false, false
		for pos, m := range months[j] {
			if level[m] < 0 {
				continue
			}
			t := 0.0
			if m >= from[j] {
				t, after = 1, true
			} else {
				before = true
			}
			y, x, mc, pc, rowMonth = append(y, ysum[start[j]+pos]), append(x, t), append(mc, level[m]), append(pc, int32(j)), append(rowMonth, m)
			kept++
		}
		f.rows += kept * officers[j]
		if before && after {
			f.switching += officers[j]
		}
		anyBefore, anyAfter = anyBefore || before, anyAfter || after
	}
	switch {
	case !anyAfter:
		return nil, notComputable("no officer with events is trained in the window: there are no trained months to compare")
	case !anyBefore:
		return nil, notComputable("every officer with events is trained throughout the window: there are no untrained months to compare")
	case f.switching == 0:
		return nil, notComputable("no officer is trained inside the window, so no officer has months both before and after training to compare")
	}
	var err error
	f.res, err = stats.FitPoissonAbsorbed(stats.Data{Y: y, X: []stats.Column{{Name: "trained", Values: x}},
		Factors: []stats.Factor{{Name: "month", Codes: mc, Levels: f.months}}},
		stats.Factor{Name: "officer", Codes: pc, Levels: nPat}, stats.Options{})
	if err != nil {
		return nil, err
	}
	k := len(f.res.Coefs)
	row := f.res.ModelCov[:k]
	f.wt = row[0]
	bm := make([]float64, M)
	for m, l := range level {
		if l > 0 {
			f.wm[m], bm[m] = row[l], f.res.Coefs[l].Estimate
		}
	}
	// a[pattern] = Σ_t w_t·π_t over the pattern's months in the fit.
	bt := f.res.Coefs[0].Estimate
	f.a = make([]float64, nPat)
	for lo := 0; lo < len(y); {
		hi := lo
		for hi < len(y) && pc[hi] == pc[lo] {
			hi++
		}
		top := math.Inf(-1)
		for r := lo; r < hi; r++ {
			top = max(top, bt*x[r]+bm[rowMonth[r]])
		}
		var se, sw float64
		for r := lo; r < hi; r++ {
			ex := math.Exp(bt*x[r] + bm[rowMonth[r]] - top)
			se += ex
			sw += ex * (f.wt*x[r] + f.wm[rowMonth[r]])
		}
		f.a[pc[lo]] = sw / se
		lo = hi
	}
	return f, nil
}

// meat returns the officer-clustered meat of the trained coefficient over
// the officers with events.
func (f *patternFit) meat(p *store.TreatmentPanel) clusterMeat {
	meat := newClusterMeat(p.Units)
	o, e := &p.Officers, &p.Events
	k := 0
	for i := range o.Key {
		from := p.TrainedFrom(i)
		var s, total float64
		for ; k < len(e.Officer) && e.Officer[k] == int32(i); k++ {
			t := 0.0
			if e.Month[k] >= from {
				t = 1
			}
			s += (f.wt*t + f.wm[e.Month[k]]) * e.Count[k]
			total += e.Count[k]
		}
		if j := f.pattern[i]; j >= 0 {
			s -= total * f.a[j]
			meat.add(s, o.Unit[i])
		}
	}
	return meat
}
