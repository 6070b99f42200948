package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
)

// TreatmentQuery selects the officer-months of a training-effect analysis
// (cohort_officer_months.sql) and says when each officer becomes trained:
// at the first completion of Course, or, when Course is blank, in the first
// month in which the officer's cumulative hours in Category reach MinHours
// (MinHours ≤ 0: the first completion of any course in the category).
type TreatmentQuery struct {
	Outcome  string
	Course   string
	Category string // as contract.NormalizeEnum spells it
	MinHours float64
	Filter
}

func (q TreatmentQuery) args() []any {
	return append(q.Filter.args(), sql.Named("outcome", q.Outcome), sql.Named("course", q.Course),
		sql.Named("category", q.Category), sql.Named("min_hours", q.MinHours))
}

// Window is the calendar months an analysis covers — the requested from and
// to within the months the panel covers — as month indices (year·12 +
// month − 1), with the officers and officer-months selected in it.
type Window struct {
	First, Last   int32 // inclusive; Last < First when the request lies outside the data
	Officers      int64
	OfficerMonths int64
}

// Months is the number of calendar months in the window.
func (w Window) Months() int { return max(0, int(w.Last-w.First)+1) }

// NeverTreated marks an officer never treated in TreatmentPanel.Treated.
const NeverTreated = math.MinInt32

// TreatmentPanel is the officer-month panel of a TreatmentQuery reduced to
// its sufficient statistics: each officer's unit, months and first trained
// month, and the officer-months with a non-zero count. Every other
// officer-month of an officer's months has count 0. Months are offsets from
// Window.First.
type TreatmentPanel struct {
	Window Window
	// Exposure is every officer-month's exposure in officer-years (the
	// panel's is 1/12); the analyses rely on it being the same throughout.
	Exposure float64
	Units    int // 1 + the largest unit_key
	// Officers, by officer_key. An officer's months are First..Last unless
	// Gaps lists them (an officer whose months are not contiguous).
	Officers struct {
		Key, Unit, First, Last []int32
		Treated                []int32 // first trained month; NeverTreated if never
	}
	Gaps map[int32][]int32 // officer index → its months, ascending
	// Events are the officer-months with a non-zero count, by officer
	// (an index into Officers) and month.
	Events struct {
		Officer, Month []int32
		Count          []float64
	}
}

// TrainedFrom returns the first month in which officer i counts as trained,
// clamped to the officer's months: First when trained throughout, Last+1
// when untrained throughout (never trained included).
func (p *TreatmentPanel) TrainedFrom(i int) int32 {
	g, first, last := p.Officers.Treated[i], p.Officers.First[i], p.Officers.Last[i]
	if g == NeverTreated || g > last {
		return last + 1
	}
	return max(g, first)
}

// MonthsOf calls fn for each month of officer i, ascending.
func (p *TreatmentPanel) MonthsOf(i int, fn func(m int32)) {
	if ms, ok := p.Gaps[int32(i)]; ok {
		for _, m := range ms {
			fn(m)
		}
		return
	}
	for m := p.Officers.First[i]; m <= p.Officers.Last[i]; m++ {
		fn(m)
	}
}

// Categories returns the course categories of the current dataset, spelled
// as contract.NormalizeEnum spells them.
func (s *Store) Categories(ctx context.Context) ([]string, error) {
	if _, err := s.CurrentVersion(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT replace(replace(lower(trim(category)), '_', '-'), ' ', '-') FROM courses ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("store.Categories: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("store.Categories: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Treatment reads the officer-months of q (cohort_officer_months.sql) as a
// TreatmentPanel: the officers' runs of months (cohort_officer_runs.sql) and
// the officer-months with events (cohort_events.sql), never the millions of
// officer-months themselves. It returns ErrNoDataset before the first
// import, an empty panel when nothing is selected, and an error when
// officer-months differ in exposure.
func (s *Store) Treatment(ctx context.Context, q TreatmentQuery) (*TreatmentPanel, error) {
	p, err := s.treatment(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store.Treatment: %w", err)
	}
	return p, nil
}

func (s *Store) treatment(ctx context.Context, q TreatmentQuery) (*TreatmentPanel, error) {
	if _, err := s.CurrentVersion(ctx); err != nil {
		return nil, err
	}
	// One transaction: every read sees the same dataset version even if an
	// import commits meanwhile.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p := &TreatmentPanel{Gaps: map[int32][]int32{}}
	err = tx.QueryRowContext(ctx, `SELECT
			CAST(year(f) * 12 + month(f) - 1 AS INTEGER), CAST(year(l) * 12 + month(l) - 1 AS INTEGER) FROM (
			SELECT CASE WHEN $from = '' THEN s ELSE greatest(s, CAST($from || '-01' AS DATE)) END AS f,
				CASE WHEN $to = '' THEN e ELSE least(e, CAST($to || '-01' AS DATE)) END AS l
			FROM (SELECT outcome_first($outcome) AS s, outcome_last($outcome) AS e))`,
		sql.Named("from", q.From), sql.Named("to", q.To), sql.Named("outcome", q.Outcome)).Scan(&p.Window.First, &p.Window.Last)
	if err != nil {
		return nil, err
	}
	args := append(q.args(), sql.Named("first", p.Window.First))

	// Officers: their runs of consecutive months in the window
	// (cohort_officer_runs.sql), ordered by officer and month.
	rows, err := tx.QueryContext(ctx, `SELECT officer_key, unit_key, first_index - $first, last_index - $first,
			coalesce(treated_index - $first, $never), exposure_min, exposure_max FROM (`+s.q.SQL("cohort_officer_runs")+`)`,
		append(args, sql.Named("never", NeverTreated))...)
	if err != nil {
		return nil, err
	}
	o := &p.Officers
	lo, hi := math.Inf(1), math.Inf(-1)
	scan := newScanner(7)
	for rows.Next() {
		if err := scan.next(rows); err != nil {
			rows.Close()
			return nil, err
		}
		key, unit, first, last, g := scan.int32(0), scan.int32(1), scan.int32(2), scan.int32(3), scan.int32(4)
		elo, ehi := scan.float64(5), scan.float64(6)
		lo, hi = min(lo, elo), max(hi, ehi)
		p.Window.OfficerMonths += int64(last - first + 1)
		if n := len(o.Key) - 1; n >= 0 && o.Key[n] == key {
			// Another run of the same officer: list the officer's months.
			if _, ok := p.Gaps[int32(n)]; !ok {
				for m := o.First[n]; m <= o.Last[n]; m++ {
					p.Gaps[int32(n)] = append(p.Gaps[int32(n)], m)
				}
			}
			for m := first; m <= last; m++ {
				p.Gaps[int32(n)] = append(p.Gaps[int32(n)], m)
			}
			o.Last[n] = last
			continue
		}
		o.Key, o.Unit, o.First, o.Last, o.Treated = append(o.Key, key), append(o.Unit, unit), append(o.First, first), append(o.Last, last), append(o.Treated, g)
		p.Units = max(p.Units, int(unit)+1)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := scan.err(); err != nil {
		return nil, fmt.Errorf("cohort_officer_runs: %w", err)
	}
	p.Window.Officers = int64(len(o.Key))
	if p.Window.OfficerMonths == 0 {
		return p, nil
	}
	if lo != hi || !(lo > 0) {
		return nil, fmt.Errorf("officer-months differ in exposure (%g to %g officer-years): the analyses need it equal", lo, hi)
	}
	p.Exposure = lo
	index := make([]int32, o.Key[len(o.Key)-1]+1) // officer_key → index
	for i, k := range o.Key {
		index[k] = int32(i)
	}

	// Officer-months with events (cohort_events.sql).
	rows, err = tx.QueryContext(ctx, `SELECT officer_key, month_index - $first, events FROM (`+s.q.SQL("cohort_events")+`)`,
		append(q.Filter.args(), sql.Named("outcome", q.Outcome), sql.Named("first", p.Window.First))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	e := &p.Events
	scan = newScanner(3)
	for rows.Next() {
		if err := scan.next(rows); err != nil {
			return nil, err
		}
		key, m, y := scan.int32(0), scan.int32(1), scan.float64(2)
		e.Officer, e.Month, e.Count = append(e.Officer, index[key]), append(e.Month, m), append(e.Count, y)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := scan.err(); err != nil {
		return nil, fmt.Errorf("cohort_events: %w", err)
	}
	return p, nil
}
