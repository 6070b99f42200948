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
// TreatmentPanel: one aggregate row per officer and one row per officer-month
// with events, never the millions of officer-months themselves. It returns
// ErrNoDataset before the first import, an empty panel when nothing is
// selected, and an error when officer-months differ in exposure.
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
	base := s.q.SQL("cohort_officer_months")
	args := func(extra ...any) []any {
		return append(append(q.args(), sql.Named("first", p.Window.First)), extra...)
	}

	// Officers.
	rows, err := tx.QueryContext(ctx, `SELECT officer_key, any_value(unit_key), min(month_index) - $first, max(month_index) - $first,
			count(*), coalesce(any_value(treated_index) - $first, $never), min(exposure), max(exposure)
		FROM (`+base+`) GROUP BY officer_key ORDER BY officer_key`, args(sql.Named("never", NeverTreated))...)
	if err != nil {
		return nil, err
	}
	o := &p.Officers
	var irregular []int32 // officer_keys
	lo, hi := math.Inf(1), math.Inf(-1)
	for rows.Next() {
		var key, unit, first, last, n, g int32
		var elo, ehi float64
		if err := rows.Scan(&key, &unit, &first, &last, &n, &g, &elo, &ehi); err != nil {
			rows.Close()
			return nil, err
		}
		o.Key, o.Unit, o.First, o.Last, o.Treated = append(o.Key, key), append(o.Unit, unit), append(o.First, first), append(o.Last, last), append(o.Treated, g)
		if n != last-first+1 {
			irregular = append(irregular, key)
		}
		p.Units = max(p.Units, int(unit)+1)
		p.Window.OfficerMonths += int64(n)
		lo, hi = min(lo, elo), max(hi, ehi)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
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

	// The months of officers with gaps in service.
	if len(irregular) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT b.officer_key, b.month_index - $first FROM (`+base+`) b
			SEMI JOIN (SELECT unnest($keys) AS officer_key) k ON k.officer_key = b.officer_key ORDER BY ALL`,
			args(sql.Named("keys", irregular))...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var key, m int32
			if err := rows.Scan(&key, &m); err != nil {
				rows.Close()
				return nil, err
			}
			p.Gaps[index[key]] = append(p.Gaps[index[key]], m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}

	// Officer-months with events.
	rows, err = tx.QueryContext(ctx, `SELECT officer_key, month_index - $first, events FROM (`+base+`)
		WHERE events > 0 ORDER BY officer_key, month_index`, args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	e := &p.Events
	for rows.Next() {
		var key, m int32
		var y float64
		if err := rows.Scan(&key, &m, &y); err != nil {
			return nil, err
		}
		e.Officer, e.Month, e.Count = append(e.Officer, index[key]), append(e.Month, m), append(e.Count, y)
	}
	return p, rows.Err()
}
