package analysis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"deesc/internal/stats"
	"deesc/internal/store"
)

// StaggeredCohort is a cohort of the balanced panel: the officers first
// trained in one month, or never trained.
type StaggeredCohort struct {
	FirstTrained string `json:"first_trained"` // YYYY-MM, or "never"
	Period       *int   `json:"period"`        // months since the window's first (0-based); nil for never
	Officers     int    `json:"officers"`
	Role         string `json:"role"` // treated, or comparison only
}

// Exclusion is a group of officers left out of the balanced panel, and why.
type Exclusion struct {
	Officers int64    `json:"officers"`
	Cohorts  []string `json:"cohorts,omitempty"` // first trained months of the cohorts concerned
	Reason   string   `json:"reason"`
}

// EventTime is one row of the event study: the average effect e months
// after the first trained month (e < 0: a placebo before it).
type EventTime struct {
	E        int     `json:"e"`
	Estimate float64 `json:"estimate"`
	SE       float64 `json:"se"`
	CILow    float64 `json:"ci_low"`
	CIHigh   float64 `json:"ci_high"`
	Cohorts  int     `json:"cohorts"`
}

// StaggeredResult is the Callaway–Sant'Anna estimate of a staggered roll-out.
type StaggeredResult struct {
	Outcome   string    `json:"outcome"`
	Treatment Treatment `json:"treatment"`
	Selection Selection `json:"selection"`
	Estimand  string    `json:"estimand"`
	// Estimate is in events per officer-month; SE is the Neyman (design)
	// standard error, SERefined the package's refined "se".
	Estimate  float64 `json:"estimate"`
	SE        float64 `json:"se"`
	CILow     float64 `json:"ci_low"`
	CIHigh    float64 `json:"ci_high"`
	SERefined float64 `json:"se_refined"`
	// The unit-clustered alternative (stats.ClusteredSE with officers'
	// units as clusters): nil, with the reason, when it cannot be computed.
	SEUnitClustered     *float64 `json:"se_unit_clustered"`
	CILowUnitClustered  *float64 `json:"ci_low_unit_clustered"`
	CIHighUnitClustered *float64 `json:"ci_high_unit_clustered"`
	UnitClusters        int      `json:"unit_clusters"`
	LoneCohorts         int      `json:"cohorts_within_one_unit"`
	UnitClusteredWhy    string   `json:"se_unit_clustered_not_computed,omitempty"`
	Units               string   `json:"units"`
	// Relative change: Estimate over the treated cells' estimated untreated
	// mean (−0.28 for a 28% reduction); nil when that mean is not positive.
	RelativeChange *float64 `json:"relative_change"`
	RelativeLow    *float64 `json:"relative_ci_low"`
	RelativeHigh   *float64 `json:"relative_ci_high"`
	RelativeWhy    string   `json:"relative_not_computed,omitempty"`
	UntreatedMean  *float64 `json:"untreated_mean,omitempty"`
	// What the estimate used.
	Officers         int               `json:"officers"`
	Months           int               `json:"months"`
	Cohorts          []StaggeredCohort `json:"cohorts"`
	TreatedCohorts   int               `json:"treated_cohorts"`
	Cells            int               `json:"cells"`
	ExcludedOfficers int64             `json:"excluded_officers"`
	Exclusions       []Exclusion       `json:"exclusions"`
	EventStudy       []EventTime       `json:"event_study,omitempty"`
	Method           string            `json:"method"`
}

// MinUnitClusters is the fewest units for which Staggered reports the
// unit-clustered standard error: with fewer, a cluster-robust variance is
// too noisy (and too small) to be usable.
const MinUnitClusters = 20

// Staggered runs the Callaway & Sant'Anna estimator with not-yet-treated
// comparisons (staggered_cs of the R package staggered, via
// stats.Staggered) on the balanced panel of r: the officers in service in
// every month of the window, cohorts by first trained month, monthly
// counts. It returns ErrNoData for an empty selection and
// stats.ErrNotComputable when no officer is in service for the whole
// window, there are too few events, or the cohorts leave no comparison.
func Staggered(ctx context.Context, st *store.Store, r Request) (*StaggeredResult, error) {
	tp, err := st.Treatment(ctx, r.Query())
	if err != nil {
		return nil, err
	}
	w := tp.Window
	if err := checkWindow(w); err != nil {
		return nil, err
	}
	p, events := balanced(tp)
	if p.N == 0 {
		return nil, notComputable("no officer of the selection is in service in every month of the window (%s to %s): "+
			"narrow the window", monthLabel(w.First), monthLabel(w.Last))
	}
	if events < MinEvents {
		return nil, notComputable("only %g events among the officers in service for the whole window; at least %d are needed", events, MinEvents)
	}
	incomplete := w.Officers - int64(p.N)
	s, err := stats.Staggered(p, r.Estimand, 0.95)
	if err != nil {
		return nil, err
	}
	res := &StaggeredResult{Outcome: r.Outcome, Treatment: r.treatment(), Selection: selection(r, w), Estimand: r.Estimand,
		Estimate: s.Estimate, SE: s.SE, CILow: s.Lo, CIHigh: s.Hi, SERefined: s.SERefined, Units: "events per officer-month",
		Officers: s.Units, Months: s.Periods, Cells: len(s.Cells), Exclusions: []Exclusion{},
		Method: "Callaway & Sant'Anna (2021) with not-yet-treated comparisons, as staggered_cs in Roth & Sant'Anna's R package " +
			"staggered: each ATT(g,t) compares the change in the mean monthly count of officers first trained in month g " +
			"from month g−1 to month t with that of the officers not yet trained by month t (never trained and trained " +
			"after the window included); estimand simple weights the cells by cohort size, cohort averages each cohort's " +
			"months, calendar each month's cohorts, event each number of months since training. The panel is balanced: " +
			"only officers in service in every month of the window. Standard error and 95% interval are the Neyman " +
			"(design-based) ones (se_neyman); se_refined is the package's refined se. They treat officers' training months " +
			"as assigned independently: when whole units are trained together and units differ in their rates, they " +
			"understate the uncertainty. se_unit_clustered and its interval allow for that: the estimate is linear in the " +
			"cohorts' monthly means, and the officers' influences on it, each scaled by √(k/(k−1)) for the k units its " +
			"cohort spans, are summed within each unit (cluster-robust; with whole units trained together, the stratified " +
			"variance). It is given only with " + fmt.Sprint(MinUnitClusters) + " or more units and when no cohort in the " +
			"estimate has all its officers in one unit (cohorts_within_one_unit), within which differences between units " +
			"cannot be seen. The relative change and the event-study rows keep the Neyman intervals.",
	}
	res.UnitClusters, res.LoneCohorts = s.Clustered.Clusters, s.Clustered.Lone
	res.SEUnitClustered, res.CILowUnitClustered, res.CIHighUnitClustered, res.UnitClusteredWhy = unitClustered(s.Clustered)
	if s.Relative.OK {
		res.RelativeChange, res.RelativeLow, res.RelativeHigh = &s.Relative.Estimate, &s.Relative.Lo, &s.Relative.Hi
		res.UntreatedMean = &s.Relative.UntreatedEstimated
	} else {
		res.RelativeWhy = s.Relative.Reason
	}
	label := func(g int) string {
		if g == store.NeverTreated {
			return "never"
		}
		return monthLabel(w.First + int32(g))
	}
	for _, c := range s.Cohorts {
		sc := StaggeredCohort{FirstTrained: label(c.Cohort), Officers: c.Units, Role: "comparison only"}
		if !c.Never {
			g := c.Cohort
			sc.Period = &g
		}
		if c.Treated {
			sc.Role = "treated"
			res.TreatedCohorts++
		}
		res.Cohorts = append(res.Cohorts, sc)
	}
	if incomplete > 0 {
		res.Exclusions = append(res.Exclusions, Exclusion{Officers: incomplete,
			Reason: fmt.Sprintf("not in service in every month of the window (%s to %s): the estimator needs a balanced panel", monthLabel(w.First), monthLabel(w.Last))})
	}
	for _, e := range s.Excluded {
		ex := Exclusion{Officers: int64(e.Units), Reason: e.Reason}
		for _, g := range e.Cohorts {
			ex.Cohorts = append(ex.Cohorts, label(g))
		}
		if strings.HasPrefix(e.Reason, "treated in the first period") {
			ex.Reason = "trained in the window's first month or before it: no untrained month to difference from"
		}
		res.Exclusions = append(res.Exclusions, ex)
	}
	for _, e := range res.Exclusions {
		res.ExcludedOfficers += e.Officers
	}
	for _, e := range s.Events {
		res.EventStudy = append(res.EventStudy, EventTime{E: e.E, Estimate: e.Estimate, SE: e.SE, CILow: e.Lo, CIHigh: e.Hi, Cohorts: e.Cohorts})
	}
	return res, nil
}

// unitClustered returns the unit-clustered SE and interval of a staggered
// estimate, or nils and why they are not given: fewer than MinUnitClusters
// units, or a cohort of the estimate within one unit.
func unitClustered(c stats.ClusteredSE) (se, lo, hi *float64, why string) {
	switch {
	case !c.OK || c.Clusters < 2:
		return nil, nil, nil, "the officers used are all in one unit (or the dataset records no units): a unit-clustered variance needs two or more"
	case c.Clusters < MinUnitClusters:
		return nil, nil, nil, fmt.Sprintf("the officers used are in %d units: a unit-clustered variance needs %d or more to be usable",
			c.Clusters, MinUnitClusters)
	case c.Lone > 0:
		return nil, nil, nil, fmt.Sprintf("%d of the cohorts in the estimate have all their officers in one unit: differences between "+
			"units cannot be seen within them, so a unit-clustered variance would understate", c.Lone)
	}
	return &c.SE, &c.Lo, &c.Hi, ""
}

// balanced returns the balanced panel of the officers in service in every
// month of the window, ordered by cohort, with their monthly counts and
// their units as clusters, and the events it holds.
func balanced(tp *store.TreatmentPanel) (stats.Panel, float64) {
	T := tp.Window.Months()
	o := &tp.Officers
	var in []int
	for i := range o.Key {
		if _, gaps := tp.Gaps[int32(i)]; !gaps && o.First[i] == 0 && int(o.Last[i]) == T-1 {
			in = append(in, i)
		}
	}
	slices.SortStableFunc(in, func(a, b int) int { return cmp.Compare(o.Treated[a], o.Treated[b]) })
	p := stats.Panel{N: len(in), T: T, Y: make([]float64, len(in)*T), Cohort: make([]int, len(in)), Never: store.NeverTreated,
		Cluster: make([]int, len(in))}
	row := make([]int, len(o.Key))
	for i := range row {
		row[i] = -1
	}
	for r, i := range in {
		row[i] = r
		p.Cohort[r] = int(o.Treated[i])
		p.Cluster[r] = int(o.Unit[i])
	}
	var events float64
	e := &tp.Events
	for k, i := range e.Officer {
		if r := row[i]; r >= 0 {
			p.Y[r*T+int(e.Month[k])] = e.Count[k]
			events += e.Count[k]
		}
	}
	return p, events
}
