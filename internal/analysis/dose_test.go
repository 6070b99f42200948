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
}

// TestDoseTrailingHours checks dose_officer_months' trailing de-escalation
// hours — read from the panel for the default twelve months, computed as of
// each month for any other window — against sums over the training rows
// done here, officer-month by officer-month.
func TestDoseTrailingHours(t *testing.T) {
	st := demoStore(t, 200, 4)
	ctx := context.Background()
	type completion struct {
		month int32
		hours float64
	}
	trained := map[int32][]completion{}
	rows, err := st.DB().QueryContext(ctx, `SELECT k.officer_key, CAST(year(t.completed_on) * 12 + month(t.completed_on) - 1 AS INTEGER), t.hours
		FROM training t JOIN courses c USING (course_id) JOIN officer_keys k USING (officer_id)
		WHERE c.category IN ('de-escalation', 'crisis-intervention')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k int32
		var c completion
		if err := rows.Scan(&k, &c.month, &c.hours); err != nil {
			t.Fatal(err)
		}
		trained[k] = append(trained[k], c)
	}
	rows.Close()
	if len(trained) < 50 {
		t.Fatalf("only %d officers with de-escalation training in the demo", len(trained))
	}
	for _, window := range []int{1, 6, 12, 24} {
		rows, err := st.DB().QueryContext(ctx, st.Queries().SQL("dose_officer_months"), sql.Named("outcome", "force"), sql.Named("window", window),
			sql.Named("from", ""), sql.Named("to", ""), sql.Named("unit", ""), sql.Named("division", ""))
		if err != nil {
			t.Fatal(err)
		}
		n, withHours, bad := 0, 0, 0
		for rows.Next() {
			var k, mi int32
			var m time.Time
			var h, e, ex float64
			if err := rows.Scan(&k, &m, &mi, &h, &e, &ex); err != nil {
				t.Fatal(err)
			}
			want := 0.0
			for _, c := range trained[k] {
				if c.month <= mi && c.month > mi-int32(window) {
					want += c.hours
				}
			}
			n++
			if want > 0 {
				withHours++
			}
			if math.Abs(h-want) > 1e-6 && bad < 5 {
				bad++
				t.Errorf("window %d, officer %d, month %d: %v hours, the training rows sum to %v", window, k, mi, h, want)
			}
		}
		rows.Close()
		if n == 0 || withHours == 0 {
			t.Errorf("window %d: %d officer-months, %d with hours", window, n, withHours)
		}
	}
}

func rel(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }
