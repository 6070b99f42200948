package analysis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"deesc/internal/demo"
	"deesc/internal/stats"
)

// TestStaggeredMatchesRowLevel checks the balanced panel read from the
// events against one built from every officer-month, for each estimand: a
// service of 9 units (no unit-clustered SE) and one of enough units for it.
func TestStaggeredMatchesRowLevel(t *testing.T) {
	for _, size := range []struct{ officers, years int }{{600, 4}, {3000, 3}} {
		t.Run(fmt.Sprint(size.officers), func(t *testing.T) { staggeredMatchesRowLevel(t, size.officers, size.years) })
	}
}

func staggeredMatchesRowLevel(t *testing.T, officers, years int) {
	st := demoWith(t, demoOptions(officers, years), nil)
	r := request(t, st, "course", demo.DeescalationCourse, "outcome", "complaints", "from", "2022-01")
	d := readOfficerMonths(t, st, r)
	// Officers with a row in every month of the window, rows in month order.
	byOfficer := map[int32][]int{}
	first, last := d.month[0], d.month[0]
	for i, k := range d.officer {
		byOfficer[k] = append(byOfficer[k], i)
		first, last = min(first, d.month[i]), max(last, d.month[i])
	}
	T := int(last-first) + 1
	var keys []int32
	for k, rows := range byOfficer {
		if len(rows) == T {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	p := stats.Panel{N: len(keys), T: T, Y: make([]float64, len(keys)*T), Cohort: make([]int, len(keys)), Never: math.MinInt32,
		Cluster: make([]int, len(keys))}
	for n, k := range keys {
		p.Cohort[n] = p.Never
		p.Cluster[n] = int(d.unit[byOfficer[k][0]])
		for _, i := range byOfficer[k] {
			p.Y[n*T+int(d.month[i]-first)] = d.y[i]
			if d.trained[i] == 1 && (p.Cohort[n] == p.Never || int(d.month[i]-first) < p.Cohort[n]) {
				p.Cohort[n] = int(d.month[i] - first)
			}
		}
		// An officer trained before the window is trained in its first month:
		// cohort ≤ 0 either way, which Staggered drops.
	}
	for _, est := range Estimands {
		r.Estimand = est
		got, err := Staggered(context.Background(), st, r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := stats.Staggered(p, est, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Estimate-want.Estimate) > 1e-12 || rel(got.SE, want.SE) > 1e-9 || got.Officers != want.Units {
			t.Errorf("%s: %.12g (se %.12g, %d officers); rows: %.12g (se %.12g, %d)", est, got.Estimate, got.SE, got.Officers,
				want.Estimate, want.SE, want.Units)
		}
		// The unit-clustered SE from the same panel with the officers' units,
		// shown only with enough units and no cohort within one unit.
		c := want.Clustered
		shown := c.OK && c.Clusters >= MinUnitClusters && c.Lone == 0
		if got.UnitClusters != c.Clusters || got.LoneCohorts != c.Lone || (got.SEUnitClustered != nil) != shown ||
			(shown && rel(*got.SEUnitClustered, c.SE) > 1e-9) || (!shown && got.UnitClusteredWhy == "") {
			t.Errorf("%s: unit-clustered %v over %d units (%d lone), why %q; rows: %+v", est, got.SEUnitClustered, got.UnitClusters,
				got.LoneCohorts, got.UnitClusteredWhy, c)
		}
		if int64(got.Officers)+got.ExcludedOfficers != got.Selection.Officers {
			t.Errorf("%s: %d officers used + %d excluded ≠ %d selected", est, got.Officers, got.ExcludedOfficers, got.Selection.Officers)
		}
		if (est == "event") != (len(got.EventStudy) > 0) {
			t.Errorf("%s: %d event-study rows", est, len(got.EventStudy))
		}
		t.Logf("%s: %.5f [%.5f, %.5f], %d officers in %d cohorts (%d treated), %d excluded; unit-clustered SE %.5g over %d units, %d lone (%s)",
			est, got.Estimate, got.CILow, got.CIHigh, got.Officers, len(got.Cohorts), got.TreatedCohorts, got.ExcludedOfficers, c.SE,
			c.Clusters, c.Lone, got.UnitClusteredWhy)
	}
}

// TestUnitClustered: the unit-clustered SE is given with enough units and no
// cohort within one unit, and otherwise says why.
func TestUnitClustered(t *testing.T) {
	for _, tc := range []struct {
		c    stats.ClusteredSE
		want string // "" = given; else a word of the reason
	}{
		{stats.ClusteredSE{Clusters: 1, Reason: "one"}, "one unit"},
		{stats.ClusteredSE{OK: true, Clusters: MinUnitClusters - 1, SE: 1}, fmt.Sprintf("in %d units", MinUnitClusters-1)},
		{stats.ClusteredSE{OK: true, Clusters: 40, Lone: 2, SE: 1}, "2 of the cohorts"},
		{stats.ClusteredSE{OK: true, Clusters: MinUnitClusters, SE: 0.5, Lo: -1, Hi: 1}, ""},
	} {
		se, lo, hi, why := unitClustered(tc.c)
		if tc.want == "" {
			if se == nil || *se != 0.5 || *lo != -1 || *hi != 1 || why != "" {
				t.Errorf("%+v: %v %v %v %q, want it given", tc.c, se, lo, hi, why)
			}
		} else if se != nil || lo != nil || hi != nil || !strings.Contains(why, tc.want) {
			t.Errorf("%+v: %v, %q, want none and a reason with %q", tc.c, se, why, tc.want)
		}
	}
}

// TestUnitClusteredRatio: a rate ratio's unit-clustered error is the units'
// summed s, squared and added, times G/(G−1)·(N−1)/(N−K); its interval is
// given with MinUnitClusters units or more.
func TestUnitClusteredRatio(t *testing.T) {
	m := newClusterMeat(MinUnitClusters + 2)
	for u := range MinUnitClusters {
		m.add(1, int32(u)) // two officers in each unit: s = 1 and −0.5
		m.add(-0.5, int32(u))
	}
	const n, k, b = 1000, 10, -0.2
	g := float64(MinUnitClusters)
	want := math.Sqrt(g / (g - 1) * (n - 1) / (n - k) * g * 0.25)
	u := unitClusteredRatio(b, m, n, k)
	if u.Units != MinUnitClusters || u.SE == nil || rel(*u.SE, want) > 1e-15 || u.Why != "" ||
		rel(*u.CILow, math.Exp(b-z95*want)) > 1e-15 || rel(*u.CIHigh, math.Exp(b+z95*want)) > 1e-15 {
		t.Errorf("%+v, want SE %v", u, want)
	}
	few := newClusterMeat(3)
	few.add(1, 0)
	few.add(1, 2)
	if u := unitClusteredRatio(b, few, n, k); u.SE != nil || u.Units != 2 || !strings.Contains(u.Why, "2 units") || rel(u.se, math.Sqrt(2*(n-1.0)/(n-k)*2)) > 1e-15 {
		t.Errorf("two units: %+v", u)
	}
	one := newClusterMeat(1)
	one.add(1, 0)
	if u := unitClusteredRatio(b, one, n, k); u.SE != nil || !strings.Contains(u.Why, "one unit") {
		t.Errorf("one unit: %+v", u)
	}
}
