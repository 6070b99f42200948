package store

import (
	"context"
	"database/sql"
	"fmt"
)

// DoseQuery selects the officer-months of a dose-response analysis.
type DoseQuery struct {
	Outcome string
	Window  int       // trailing months of de-escalation training counted
	Edges   []float64 // upper edges of the hour bins, starting with 0
	Filter
}

// DoseBin is one bin of trailing de-escalation hours.
type DoseBin struct {
	Bin           int // 0 = no hours; i = (Edges[i-1], Edges[i]]; len(Edges) = over the last edge
	Events        int64
	OfficerMonths int64
	OfficerYears  float64
}

// DoseCells are the officer-months grouped by calendar month and hours: the
// sufficient statistics of a Poisson regression of counts on hours with
// calendar-month fixed effects.
type DoseCells struct {
	Month    []int32   // 0 = the first month
	Hours    []float64 // trailing hours
	Events   []float64
	Exposure []float64 // officer-years
}

// DoseOfficer is one officer's mean trailing hours and overall count.
type DoseOfficer struct {
	Hours, Events, OfficerYears []float64
}

// DoseData is what the dose-response analysis reads from the panel.
type DoseData struct {
	Bins          []DoseBin
	Cells         DoseCells
	Officers      DoseOfficer
	Months        int   // calendar months spanned (fixed-effect levels)
	FirstMonth    int32 // month index (year*12+month-1) of Month 0
	OfficerMonths int64
}

// doseBin returns the bin of hours: 0 for none, i for (edges[i-1], edges[i]],
// len(edges) above the last edge.
func doseBin(hours float64, edges []float64) int {
	if hours <= 0 {
		return 0
	}
	n := 0
	for _, e := range edges {
		if e < hours {
			n++
		}
	}
	return n
}

// Scores is the per-row influence of a fitted model on one coefficient, as
// functions of the row's calendar month and hours: weight = W0 + WX·hours +
// WM[month], fitted rate per officer-year = exp(B0 + BX·hours + BM[month]).
type Scores struct {
	W0, WX, B0, BX float64
	WM, BM         []float64
}

// Dose reads the officer-months of q once into a temporary table and
// returns their bins, cells and per-officer sums; fit is then called with
// them and returns the influence Scores of the coefficient of interest, of
// which Dose computes Σ_officers (Σ_months weight·(y − fitted))², the
// cluster-robust "meat", over the same rows. It returns ErrNoDataset before
// the first import.
func (s *Store) Dose(ctx context.Context, q DoseQuery, fit func(DoseData) (*Scores, error)) (DoseData, float64, int64, error) {
	var d DoseData
	if err := s.requireDataset(ctx); err != nil {
		return d, 0, 0, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return d, 0, 0, err
	}
	defer conn.Close()
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS temp.dose_rows")
	args := append(q.Filter.args(), sql.Named("outcome", q.Outcome), sql.Named("window", q.Window))
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE dose_rows AS "+s.q.SQL("dose_officer_months"), args...); err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose: %w", err)
	}
	var first, last sql.NullInt32
	if err := conn.QueryRowContext(ctx, "SELECT min(month_index), max(month_index), count(*) FROM dose_rows").Scan(&first, &last, &d.OfficerMonths); err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose: %w", err)
	}
	if !first.Valid {
		return d, 0, 0, nil
	}
	d.FirstMonth, d.Months = first.Int32, int(last.Int32-first.Int32)+1
	// Cells: officer-months per calendar month and hours; the bins are sums of cells.
	rows, err := conn.QueryContext(ctx, `SELECT month_index - ?, hours, sum(events), count(*) FROM dose_rows GROUP BY ALL ORDER BY 1, 2`, d.FirstMonth)
	if err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose cells: %w", err)
	}
	bins := make([]DoseBin, len(q.Edges)+1)
	for rows.Next() {
		var m int32
		var h, y float64
		var n int64
		if err := rows.Scan(&m, &h, &y, &n); err != nil {
			rows.Close()
			return d, 0, 0, err
		}
		d.Cells.Month, d.Cells.Hours = append(d.Cells.Month, m), append(d.Cells.Hours, h)
		d.Cells.Events, d.Cells.Exposure = append(d.Cells.Events, y), append(d.Cells.Exposure, float64(n)/12)
		b := &bins[doseBin(h, q.Edges)]
		b.Events += int64(y)
		b.OfficerMonths += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose cells: %w", err)
	}
	for i, b := range bins {
		if b.OfficerMonths > 0 {
			b.Bin, b.OfficerYears = i, float64(b.OfficerMonths)/12
			d.Bins = append(d.Bins, b)
		}
	}
	rows, err = conn.QueryContext(ctx, `SELECT avg(hours), sum(events), count(*) / 12.0 FROM dose_rows GROUP BY officer_key ORDER BY officer_key`)
	if err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose officers: %w", err)
	}
	for rows.Next() {
		var h, y, e float64
		if err := rows.Scan(&h, &y, &e); err != nil {
			rows.Close()
			return d, 0, 0, err
		}
		d.Officers.Hours, d.Officers.Events, d.Officers.OfficerYears = append(d.Officers.Hours, h), append(d.Officers.Events, y), append(d.Officers.OfficerYears, e)
	}
	rows.Close()
	sc, err := fit(d)
	if err != nil || sc == nil {
		return d, 0, 0, err
	}
	var meat float64
	var clusters int64
	err = conn.QueryRowContext(ctx, `SELECT coalesce(sum(s * s), 0), count(*) FROM (
		SELECT officer_key, sum(($w0 + $wx * hours + list_extract($wm, month_index - $first + 1))
			* (events - exp($b0 + $bx * hours + list_extract($bm, month_index - $first + 1)) * exposure)) AS s
		FROM dose_rows GROUP BY officer_key)`,
		sql.Named("w0", sc.W0), sql.Named("wx", sc.WX), sql.Named("wm", sc.WM), sql.Named("b0", sc.B0), sql.Named("bx", sc.BX),
		sql.Named("bm", sc.BM), sql.Named("first", d.FirstMonth)).Scan(&meat, &clusters)
	if err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose scores: %w", err)
	}
	return d, meat, clusters, nil
}
