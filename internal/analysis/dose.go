// Package analysis turns panel data read by the store into estimates with
// the stats package: the dose-response of de-escalation training and, with
// it, the way deesc fits count regressions on millions of officer-months —
// on sufficient statistics, with cluster-robust errors from one more pass
// over the rows in SQL.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"

	"deesc/internal/stats"
	"deesc/internal/store"
)

// Interval is an estimate with its 95% confidence interval.
type Interval struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"ci_low"`
	High     float64 `json:"ci_high"`
}

// DoseBin is one bin of trailing de-escalation hours with its rate.
type DoseBin struct {
	Label         string   `json:"label"`
	Low           float64  `json:"hours_above"` // the bin holds hours > Low (0 bin: exactly 0)
	High          *float64 `json:"hours_up_to"` // and ≤ High; nil for the last bin
	Events        int64    `json:"events"`
	OfficerMonths int64    `json:"officer_months"`
	OfficerYears  float64  `json:"officer_years"`
	Rate          *float64 `json:"rate"`
	CILow         *float64 `json:"ci_low"`
	CIHigh        *float64 `json:"ci_high"`
}

// Regression is a Poisson rate ratio per 8 hours of de-escalation training
// with calendar-month fixed effects and officer-clustered errors.
type Regression struct {
	RateRatioPer8h float64 `json:"rate_ratio_per_8h"`
	CILow          float64 `json:"ci_low"`
	CIHigh         float64 `json:"ci_high"`
	PValue         float64 `json:"p_value"`
	Coefficient    float64 `json:"coefficient_per_8h"`
	SE             float64 `json:"se"`
	ModelSE        float64 `json:"model_se"`
	OfficerMonths  int64   `json:"officer_months"`
	Officers       int64   `json:"officers"`
	Months         int     `json:"months"`
	MonthsNoEvents int     `json:"months_without_events"`
	Parameters     int     `json:"parameters"`
	Correction     float64 `json:"small_sample_factor"`
	PearsonDF      float64 `json:"pearson_chi2_per_df"`
	Method         string  `json:"method"`
}

// DoseResult is the dose-response analysis.
type DoseResult struct {
	Outcome       string      `json:"outcome"`
	Window        int         `json:"window_months"`
	Bins          []DoseBin   `json:"bins"`
	Pearson       *float64    `json:"pearson"`
	Spearman      *float64    `json:"spearman"`
	Officers      int         `json:"officers"`
	OfficerMonths int64       `json:"officer_months"`
	Regression    *Regression `json:"regression"`
	RegressionWhy string      `json:"regression_not_computed,omitempty"`
	Correlation   string      `json:"correlation_method"`
	Caveat        string      `json:"caveat"`
}

// DefaultDoseBins are the upper edges of the dose-response bins when none
// are configured: 0, up to 8, 8–16, 16–40 and over 40 hours.
var DefaultDoseBins = []float64{0, 8, 16, 40}

// ErrNoData says the selection holds no officer-months.
var ErrNoData = errors.New("no officer-months match the selection")

// Dose runs the dose-response analysis of q: rates by bin of trailing
// de-escalation hours with exact CIs, the exposure-weighted Pearson and
// Spearman correlations between officers' mean trailing hours and their
// rates, and the Poisson regression of monthly counts on hours per 8 with
// calendar-month fixed effects, offset ln(exposure) and officer-clustered
// errors (statsmodels' convention, small-sample factor G/(G−1)·(N−1)/(N−K)).
func Dose(ctx context.Context, st *store.Store, q store.DoseQuery) (*DoseResult, error) {
	if len(q.Edges) == 0 {
		q.Edges = DefaultDoseBins
	}
	res := &DoseResult{Outcome: q.Outcome, Window: q.Window,
		Correlation: "Exposure-weighted correlation, across officers, between each officer's mean trailing de-escalation hours " +
			"and their rate per officer-year; Spearman is the weighted Pearson correlation of mid-ranks.",
		Caveat: "An association, not an effect: officers who take more de-escalation training may differ in assignment, " +
			"tenure or workload. Use the cohort and staggered-rollout analyses for effects."}
	var fitted *stats.Result
	var fitErr error
	var monthsNoEvents int
	var months []int32 // dense level → month offset
	data, meat, clusters, err := st.Dose(ctx, q, func(d store.DoseData) (*store.Scores, error) {
		var sc *store.Scores
		fitted, sc, months, monthsNoEvents, fitErr = fitDose(d)
		return sc, nil
	})
	if err != nil {
		return nil, err
	}
	if data.OfficerMonths == 0 {
		return nil, ErrNoData
	}
	res.OfficerMonths, res.Officers = data.OfficerMonths, len(data.Officers.Hours)
	// Every bin is listed, empty ones with zero counts.
	byBin := map[int]store.DoseBin{}
	for _, b := range data.Bins {
		byBin[b.Bin] = b
	}
	for i := 0; i <= len(q.Edges); i++ {
		b := byBin[i]
		b.Bin = i
		res.Bins = append(res.Bins, doseBin(b, q.Edges))
	}
	rates := make([]float64, len(data.Officers.Events))
	for i := range rates {
		rates[i] = data.Officers.Events[i] / data.Officers.OfficerYears[i]
	}
	if r, err := stats.WeightedPearson(data.Officers.Hours, rates, data.Officers.OfficerYears); err == nil {
		res.Pearson = finite(r)
	}
	if r, err := stats.WeightedSpearman(data.Officers.Hours, rates, data.Officers.OfficerYears); err == nil {
		res.Spearman = finite(r)
	}
	if fitErr != nil {
		res.RegressionWhy = fitErr.Error()
		return res, nil
	}
	c, _ := fitted.Coef("hours_per_8")
	k := fitted.K
	n := data.OfficerMonths - monthRows(data, months, monthsNoEvents)
	g := clusters
	if g < 2 || n <= int64(k) {
		res.RegressionWhy = "too few officers or officer-months for officer-clustered errors"
		return res, nil
	}
	corr := float64(g) / float64(g-1) * float64(n-1) / float64(n-int64(k))
	se := math.Sqrt(corr * meat)
	if !(se > 0) || !allFinite(se, c.Estimate, math.Exp(c.Estimate+z95*se), math.Exp(c.Estimate-z95*se), fitted.PearsonDF) {
		res.RegressionWhy = "the regression's estimate or its standard error is not finite on this selection"
		return res, nil
	}
	z := c.Estimate / se
	res.Regression = &Regression{
		Coefficient: c.Estimate, SE: se, ModelSE: c.Model.SE,
		RateRatioPer8h: math.Exp(c.Estimate), CILow: math.Exp(c.Estimate - z95*se), CIHigh: math.Exp(c.Estimate + z95*se),
		PValue: 2 * normalTail(math.Abs(z)), OfficerMonths: n, Officers: g, Months: len(months), MonthsNoEvents: monthsNoEvents,
		Parameters: k, Correction: corr, PearsonDF: fitted.PearsonDF,
		Method: "Poisson regression of each officer-month's count on trailing de-escalation hours / 8 with calendar-month fixed " +
			"effects and offset ln(officer-years), fitted on its sufficient statistics (calendar month × hours); standard error " +
			"clustered by officer with the small-sample factor G/(G−1)·(N−1)/(N−K), as statsmodels' GLM cov_type='cluster'. " +
			"Months without any event carry no information and are left out.",
	}
	return res, nil
}

// fitDose fits the regression on the cells and returns the scores the store
// needs for the clustered errors.
func fitDose(d store.DoseData) (*stats.Result, *store.Scores, []int32, int, error) {
	// Months with no events have a fixed effect of −∞: drop them.
	events := make([]float64, d.Months)
	for i, m := range d.Cells.Month {
		events[m] += d.Cells.Events[i]
	}
	level := make([]int32, d.Months)
	var months []int32
	empty := 0
	for m := range events {
		if events[m] == 0 {
			level[m] = -1
			empty++
			continue
		}
		level[m] = int32(len(months))
		months = append(months, int32(m))
	}
	if len(months) == 0 {
		return nil, nil, months, empty, &stats.ErrNotComputable{Reason: "no events in the selection"}
	}
	var y, off, x []float64
	var codes []int32
	for i, m := range d.Cells.Month {
		if level[m] < 0 {
			continue
		}
		y = append(y, d.Cells.Events[i])
		off = append(off, math.Log(d.Cells.Exposure[i]))
		x = append(x, d.Cells.Hours[i]/8)
		codes = append(codes, level[m])
	}
	res, err := stats.FitGLM(stats.Data{Y: y, Offset: off, X: []stats.Column{{Name: "hours_per_8", Values: x}},
		Factors: []stats.Factor{{Name: "month", Codes: codes, Levels: len(months)}}}, stats.Poisson(), stats.Options{})
	if err != nil {
		return nil, nil, months, empty, err
	}
	nc := len(res.Coefs)
	ix := -1
	for i, c := range res.Coefs {
		if c.Name == "hours_per_8" {
			ix = i
		}
	}
	row := res.ModelCov[ix*nc : (ix+1)*nc]
	sc := &store.Scores{W0: row[0], WX: row[ix] / 8, B0: res.Coefs[0].Estimate, BX: res.Coefs[ix].Estimate / 8,
		WM: make([]float64, d.Months), BM: make([]float64, d.Months)}
	for m := range d.Months {
		switch l := level[m]; {
		case l < 0:
			sc.BM[m] = -1e300 // no events: fitted rate 0
		case l == 0:
			// the reference month
		default:
			name := fmt.Sprintf("month[%d]", l)
			for i, c := range res.Coefs {
				if c.Name == name {
					sc.BM[m], sc.WM[m] = c.Estimate, row[i]
				}
			}
		}
	}
	return res, sc, months, empty, nil
}

// monthRows counts the officer-months in months left out of the fit.
func monthRows(d store.DoseData, kept []int32, empty int) int64 {
	if empty == 0 {
		return 0
	}
	keep := map[int32]bool{}
	for _, m := range kept {
		keep[m] = true
	}
	var n float64
	for i, m := range d.Cells.Month {
		if !keep[m] {
			n += d.Cells.Exposure[i] * 12
		}
	}
	return int64(math.Round(n))
}

func doseBin(b store.DoseBin, edges []float64) DoseBin {
	out := DoseBin{Events: b.Events, OfficerMonths: b.OfficerMonths, OfficerYears: math.Round(b.OfficerYears*1e6) / 1e6}
	switch {
	case b.Bin == 0:
		out.Label = "no hours"
		out.High = &edges[0]
	case b.Bin >= len(edges):
		out.Low = edges[len(edges)-1]
		out.Label = fmt.Sprintf("over %g hours", out.Low)
	default:
		out.Low, out.High = edges[b.Bin-1], &edges[b.Bin]
		out.Label = fmt.Sprintf("%g–%g hours", out.Low, *out.High)
		if out.Low == 0 {
			out.Label = fmt.Sprintf("up to %g hours", *out.High)
		}
	}
	if b.OfficerYears > 0 {
		lo, hi := stats.PoissonCI(float64(b.Events), 0.95)
		out.Rate, out.CILow, out.CIHigh = finite(float64(b.Events)/b.OfficerYears), finite(lo/b.OfficerYears), finite(hi/b.OfficerYears)
	}
	return out
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// normalTail is P(Z > z) for a standard normal Z.
func normalTail(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }
