package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
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

// DoseSQL returns the two statements Dose runs over dose_officer_months.sql
// (its parameters bound as named): grouped, the cells (officer-months per
// month and hours) and then the officers (by officer_key), each with its
// events, officer-months and mean hours; and scores, the clustered "meat"
// Σ_officers (Σ_months weight·(events − rate·exposure))², the number of
// officers and of officer-months matched to a cell, given each cell's weight and fitted rate per officer-year as
// lists ($months as month indices, $hours, $weights, $rates). Both group by
// the month itself, not its index: the officer-months' index is not then
// computed for millions of rows.
func (s *Store) DoseSQL() (grouped, scores string) {
	base := s.q.SQL("dose_officer_months")
	grouped = `SELECT GROUPING(officer_key) = 0 AS by_officer, officer_key, month, hours, sum(events), count(*), avg(hours)
		FROM (` + base + `) GROUP BY GROUPING SETS ((month, hours), (officer_key))
		ORDER BY by_officer, officer_key, month, hours`
	scores = `WITH cells AS (
			SELECT make_date(CAST(m // 12 AS INTEGER), CAST(m % 12 + 1 AS INTEGER), 1) AS month, hours, weight, rate FROM (
				SELECT unnest($months) AS m, unnest($hours) AS hours, unnest($weights) AS weight, unnest($rates) AS rate)
		)
		SELECT coalesce(sum(s * s), 0), count(*), coalesce(sum(n), 0) FROM (
			SELECT r.officer_key, sum(c.weight * (r.events - c.rate * r.exposure)) AS s, count(*) AS n
			FROM (` + base + `) r JOIN cells c ON c.month = r.month AND c.hours = r.hours GROUP BY r.officer_key)`
	return grouped, scores
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

// Dose reads the officer-months of q (dose_officer_months.sql) in one pass
// as their bins, cells and per-officer sums; fit is then called with them
// and returns the influence Scores of the coefficient of interest, of which
// Dose computes Σ_officers (Σ_months weight·(y − fitted))², the
// cluster-robust "meat", in a second pass over the same officer-months of
// the same snapshot. It returns ErrNoDataset before the first import.
func (s *Store) Dose(ctx context.Context, q DoseQuery, fit func(DoseData) (*Scores, error)) (DoseData, float64, int64, error) {
	var d DoseData
	if err := s.requireDataset(ctx); err != nil {
		return d, 0, 0, err
	}
	// One transaction: both passes read the same dataset version.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return d, 0, 0, err
	}
	defer tx.Rollback()
	args := append(q.Filter.args(), sql.Named("outcome", q.Outcome), sql.Named("window", q.Window))
	// Cells (officer-months per calendar month and hours) and officers, in
	// that order; the bins are sums of cells.
	grouped, scores := s.DoseSQL()
	rows, err := tx.QueryContext(ctx, grouped, args...)
	if err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose: %w", err)
	}
	bins := make([]DoseBin, len(q.Edges)+1)
	scan := newScanner(7)
	for rows.Next() {
		if err := scan.next(rows); err != nil {
			rows.Close()
			return d, 0, 0, fmt.Errorf("store.Dose: %w", err)
		}
		m, h, y, n, mean := scan.monthIndex(2), scan.float64(3), scan.float64(4), scan.int64(5), scan.float64(6)
		if scan.bool(0) {
			d.Officers.Hours, d.Officers.Events = append(d.Officers.Hours, mean), append(d.Officers.Events, y)
			d.Officers.OfficerYears = append(d.Officers.OfficerYears, float64(n)/12)
			continue
		}
		if len(d.Cells.Month) == 0 {
			d.FirstMonth = m
		}
		month := m - d.FirstMonth
		d.Months = int(month) + 1
		d.OfficerMonths += n
		d.Cells.Month, d.Cells.Hours = append(d.Cells.Month, month), append(d.Cells.Hours, h)
		d.Cells.Events, d.Cells.Exposure = append(d.Cells.Events, y), append(d.Cells.Exposure, float64(n)/12)
		b := &bins[doseBin(h, q.Edges)]
		b.Events += int64(y)
		b.OfficerMonths += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose: %w", err)
	}
	if err := scan.err(); err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose: %w", err)
	}
	if d.OfficerMonths == 0 {
		return d, 0, 0, nil
	}
	for i, b := range bins {
		if b.OfficerMonths > 0 {
			b.Bin, b.OfficerYears = i, float64(b.OfficerMonths)/12
			d.Bins = append(d.Bins, b)
		}
	}
	sc, err := fit(d)
	if err != nil || sc == nil {
		return d, 0, 0, err
	}
	// Each cell's weight and fitted rate, so that the pass over the
	// officer-months joins them rather than evaluating the model per row.
	c := d.Cells
	months, weights, rates := make([]int32, len(c.Month)), make([]float64, len(c.Month)), make([]float64, len(c.Month))
	for i, m := range c.Month {
		months[i] = m + d.FirstMonth
		weights[i] = sc.W0 + sc.WX*c.Hours[i] + sc.WM[m]
		rates[i] = math.Exp(sc.B0 + sc.BX*c.Hours[i] + sc.BM[m])
	}
	var meat float64
	var clusters, joined int64
	err = tx.QueryRowContext(ctx, scores, append(args, sql.Named("months", months), sql.Named("hours", c.Hours),
		sql.Named("weights", weights), sql.Named("rates", rates))...).Scan(&meat, &clusters, &joined)
	if err != nil {
		return d, 0, 0, fmt.Errorf("store.Dose scores: %w", err)
	}
	if joined != d.OfficerMonths {
		// Both passes read the same snapshot with the same expressions; a
		// difference would leave officer-months out of the clustered error.
		return d, 0, 0, fmt.Errorf("store.Dose scores: %d officer-months matched a cell of the %d counted", joined, d.OfficerMonths)
	}
	return d, meat, clusters, nil
}
