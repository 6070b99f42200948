package analysis

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"testing"
	"time"

	"deesc/internal/demo"
	"deesc/internal/stats"
	"deesc/internal/store"
)

func demoStore(t *testing.T, officers, years int) *store.Store {
	t.Helper()
	dir := t.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.End = officers, years, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		t.Fatal(err)
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

// TestDoseMatchesRowLevelFit checks the sufficient-statistics fit and its
// SQL-computed clustered error against the stats package fitted on every
// officer-month with officer clusters (itself checked against statsmodels).
func TestDoseMatchesRowLevelFit(t *testing.T) {
	st := demoStore(t, 300, 4)
	q := store.DoseQuery{Outcome: "force", Window: 12, Edges: []float64{0, 8, 16, 40}}
	res, err := Dose(context.Background(), st, q)
	if err != nil {
		t.Fatal(err)
	}
	if res.Regression == nil {
		t.Fatalf("no regression: %s", res.RegressionWhy)
	}
	rows, err := st.DB().Query(st.Queries().SQL("dose_officer_months"), sql.Named("outcome", "force"), sql.Named("window", 12),
		sql.Named("from", ""), sql.Named("to", ""), sql.Named("unit", ""), sql.Named("division", ""))
	if err != nil {
		t.Fatal(err)
	}
	var y, off, x []float64
	var month, officer []int32
	var binEvents [5]int64
	for rows.Next() {
		var k, mi int32
		var m time.Time
		var h, e, ex float64
		if err := rows.Scan(&k, &m, &mi, &h, &e, &ex); err != nil {
			t.Fatal(err)
		}
		y, off, x = append(y, e), append(off, math.Log(ex)), append(x, h/8)
		month, officer = append(month, mi), append(officer, k)
		bin := 0
		for _, edge := range q.Edges {
			if h > edge {
				bin++
			}
		}
		binEvents[bin] += int64(e)
	}
	rows.Close()
	// Dense month levels.
	minM := month[0]
	for _, m := range month {
		minM = min(minM, m)
	}
	levels := 0
	for i := range month {
		month[i] -= minM
		levels = max(levels, int(month[i])+1)
	}
	ref, err := stats.FitGLM(stats.Data{Y: y, Offset: off, X: []stats.Column{{Name: "h", Values: x}},
		Factors: []stats.Factor{{Name: "month", Codes: month, Levels: levels}}, Cluster: officer}, stats.Poisson(), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := ref.Coef("h")
	r := res.Regression
	if rel(r.Coefficient, c.Estimate) > 1e-8 || rel(r.SE, c.Robust.SE) > 1e-7 || rel(r.ModelSE, c.Model.SE) > 1e-7 {
		t.Errorf("fast path: coef %.12g se %.12g (model %.12g); row-level: coef %.12g se %.12g (model %.12g)",
			r.Coefficient, r.SE, r.ModelSE, c.Estimate, c.Robust.SE, c.Model.SE)
	}
	if r.OfficerMonths != int64(len(y)) || r.Correction != ref.Correction {
		t.Errorf("N %d vs %d, correction %v vs %v", r.OfficerMonths, len(y), r.Correction, ref.Correction)
	}
	for _, b := range res.Bins {
		idx := 0
		switch b.Label {
		case "no hours":
			idx = 0
		case "up to 8 hours":
			idx = 1
		case "8–16 hours":
			idx = 2
		case "16–40 hours":
			idx = 3
		default:
			idx = 4
		}
		if b.Events != binEvents[idx] {
			t.Errorf("bin %s: %d events, rows say %d", b.Label, b.Events, binEvents[idx])
		}
	}
	// The 12-month window computed at query time equals the panel's column.
	var diff float64
	if err := st.DB().QueryRow(`WITH d AS (`+st.Queries().SQL("dose_officer_months")+`)
		SELECT coalesce(max(abs(d.hours - p.deesc_hours_12m)), 0) FROM d JOIN panel p USING (officer_key, month)`,
		sql.Named("outcome", "force"), sql.Named("window", 12), sql.Named("from", ""), sql.Named("to", ""), sql.Named("unit", ""), sql.Named("division", "")).Scan(&diff); err != nil {
		t.Fatal(err)
	}
	if diff > 1e-9 {
		t.Errorf("trailing 12-month hours differ from the panel's by %v", diff)
	}
}

func rel(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }
