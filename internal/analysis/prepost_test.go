package analysis

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"

	"deesc/internal/demo"
	"deesc/internal/stats"
)

// dropActivityRows returns an edit that leaves out every nth row of the
// demo's activity file, so that officers have gaps in service.
func dropActivityRows(t testing.TB, n int) func(dir string) {
	return func(dir string) {
		path := filepath.Join(dir, demo.ActivityFile)
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		w := bufio.NewWriter(out)
		line := 0
		for _, b := range in {
			if line == 0 || line%n != 0 {
				w.WriteByte(b)
			}
			if b == '\n' {
				line++
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

// rowLevelPrepost fits the within-officer model on every officer-month with
// stats.FitPoissonAbsorbed: officers absorbed, month dummies, officer
// clusters; months without events are left out as the fast path leaves
// them out.
func rowLevelPrepost(t testing.TB, d officerMonths, byUnit bool) *stats.Result {
	t.Helper()
	noMonth := withoutEvents(d.month, d.y)
	drop := func(i int) bool { return noMonth[d.month[i]] }
	months, nm, kept := dense(d.month, drop)
	officers, no, _ := dense(d.officer, drop)
	cluster := officers
	if byUnit {
		cluster, _, _ = dense(d.unit, drop)
	}
	res, err := stats.FitPoissonAbsorbed(stats.Data{Y: pick(d.y, kept), X: []stats.Column{{Name: "trained", Values: pick(d.trained, kept)}},
		Factors: []stats.Factor{{Name: "month", Codes: months, Levels: nm}}, Cluster: cluster},
		stats.Factor{Name: "officer", Codes: officers, Levels: no}, stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestPrepostMatchesRowLevelFit checks the pattern fit and its clustered
// error against stats.FitPoissonAbsorbed on every officer-month (itself
// checked against statsmodels with officer dummies), with contiguous
// service and with gaps in the activity file.
func TestPrepostMatchesRowLevelFit(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(string)
	}{{"contiguous", nil}, {"gaps", dropActivityRows(t, 13)}} {
		t.Run(c.name, func(t *testing.T) {
			st := demoWith(t, demoOptions(300, 4), c.edit)
			for _, outcome := range []string{"force", "complaints"} {
				r := request(t, st, "course", demo.DeescalationCourse, "outcome", outcome)
				res, err := Prepost(context.Background(), st, r)
				if err != nil {
					t.Fatal(err)
				}
				d := readOfficerMonths(t, st, r)
				ref := rowLevelPrepost(t, d, false)
				want, _ := ref.Coef("trained")
				if rel(res.Coefficient, want.Estimate) > 1e-8 || rel(res.SE, want.Robust.SE) > 1e-6 || rel(res.ModelSE, want.Model.SE) > 1e-6 {
					t.Errorf("%s: patterns: coef %.12g se %.12g (model %.12g); rows: coef %.12g se %.12g (model %.12g)", outcome,
						res.Coefficient, res.SE, res.ModelSE, want.Estimate, want.Robust.SE, want.Model.SE)
				}
				if res.OfficerMonths != int64(ref.N) || res.Parameters != int64(ref.K) || res.Officers != int64(ref.Clusters) ||
					res.OfficersWithoutEvents != int64(ref.Absorbed.DroppedGroups) || rel(res.Correction, ref.Correction) > 1e-12 {
					t.Errorf("%s: N %d K %d G %d silent %d; rows: N %d K %d G %d silent %d", outcome, res.OfficerMonths, res.Parameters,
						res.Officers, res.OfficersWithoutEvents, ref.N, ref.K, ref.Clusters, ref.Absorbed.DroppedGroups)
				}
				// Clustered by unit instead.
				byUnit := rowLevelPrepost(t, d, true)
				wantU, _ := byUnit.Coef("trained")
				if u := res.UnitClustered; rel(u.se, wantU.Robust.SE) > 1e-6 || u.Units != int64(byUnit.Clusters) || (u.SE != nil) != (u.Units >= MinUnitClusters) {
					t.Errorf("%s: unit-clustered se %.12g over %d units; rows: %.12g over %d", outcome, u.se, u.Units, wantU.Robust.SE, byUnit.Clusters)
				}
				t.Logf("%s: RR %.4f [%.4f, %.4f], %d officers in %d patterns (rel. diff. from rows: coef %.1e, se %.1e)", outcome,
					res.RateRatio, res.CILow, res.CIHigh, res.Officers, res.Patterns, rel(res.Coefficient, want.Estimate), rel(res.SE, want.Robust.SE))
			}
		})
	}
}
