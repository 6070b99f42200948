package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Filter narrows a dashboard query. Blank fields mean "all".
type Filter struct {
	From, To       string // months YYYY-MM, inclusive
	Unit, Division string
}

func (f Filter) args() []any {
	return []any{sql.Named("from", f.From), sql.Named("to", f.To), sql.Named("unit", f.Unit), sql.Named("division", f.Division)}
}

// readAll runs a named query and scans each row with scan. It returns
// ErrNoDataset before the first import.
func readAll[T any](ctx context.Context, s *Store, name string, args []any, scan func(*sql.Rows, *T) error) ([]T, error) {
	return readText(ctx, s, name, s.q.SQL(name), args, scan)
}

// readText is readAll of text, a form of the named query name.
func readText[T any](ctx context.Context, s *Store, name, text string, args []any, scan func(*sql.Rows, *T) error) ([]T, error) {
	if err := s.requireDataset(ctx); err != nil {
		return nil, err
	}
	st, err := s.prepared(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("store.%s: %w", name, err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("store.%s: %w", name, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, fmt.Errorf("store.%s: %w", name, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store.%s: %w", name, err)
	}
	return out, nil
}

// ComplianceRow is one row of compliance_by_unit.sql.
type ComplianceRow struct {
	CourseID, Title                        string
	Mandatory                              bool
	Level                                  string // unit, division or all
	Division, Unit                         string
	Officers, Current, Due30, Due60, Due90 int64
	Overdue                                int64
}

// ComplianceByUnit returns recertification status counts per course and
// unit, division and overall on asOf (compliance_by_unit.sql).
func (s *Store) ComplianceByUnit(ctx context.Context, asOf time.Time, f Filter, course string) ([]ComplianceRow, error) {
	return readAll(ctx, s, "compliance_by_unit", []any{sql.Named("as_of", asOf), sql.Named("unit", f.Unit), sql.Named("division", f.Division), sql.Named("course", course)},
		func(r *sql.Rows, v *ComplianceRow) error {
			var div, unit sql.NullString
			err := r.Scan(&v.CourseID, &v.Title, &v.Mandatory, &v.Level, &div, &unit, &v.Officers, &v.Current, &v.Due30, &v.Due60, &v.Due90, &v.Overdue)
			v.Division, v.Unit = div.String, unit.String
			return err
		})
}

// OverdueRow is one row of compliance_overdue.sql.
type OverdueRow struct {
	OfficerID, Unit, Division, CourseID, Title string
	Mandatory                                  bool
	LastCompleted                              *time.Time
	ExpiresOn                                  time.Time
	DaysOverdue                                int64
}

// ComplianceOverdue lists officers overdue on asOf, most overdue first
// (compliance_overdue.sql): the first limit of them, or all when limit < 0.
func (s *Store) ComplianceOverdue(ctx context.Context, asOf time.Time, f Filter, course string, mandatoryOnly bool, limit int) ([]OverdueRow, error) {
	text, args := s.q.SQL("compliance_overdue"), []any{sql.Named("as_of", asOf), sql.Named("unit", f.Unit), sql.Named("division", f.Division),
		sql.Named("course", course), sql.Named("mandatory_only", fmt.Sprint(mandatoryOnly))}
	if limit >= 0 {
		text, args = LimitedSQL(text, args, limit)
	}
	return readText(ctx, s, "compliance_overdue", text, args,
		func(r *sql.Rows, v *OverdueRow) error {
			var last sql.NullTime
			err := r.Scan(&v.OfficerID, &v.Unit, &v.Division, &v.CourseID, &v.Title, &v.Mandatory, &last, &v.ExpiresOn, &v.DaysOverdue)
			if last.Valid {
				v.LastCompleted = &last.Time
			}
			return err
		})
}

// TrendRow is one row of compliance_trend.sql.
type TrendRow struct {
	OnDate            time.Time
	CourseID          string
	Officers, Current int64
}

// ComplianceTrend returns, for each of the months months before asOf and
// asOf itself, officers in service and current per recertified course.
func (s *Store) ComplianceTrend(ctx context.Context, asOf time.Time, months int, f Filter, course string) ([]TrendRow, error) {
	return readAll(ctx, s, "compliance_trend", []any{sql.Named("as_of", asOf), sql.Named("months", months), sql.Named("unit", f.Unit),
		sql.Named("division", f.Division), sql.Named("course", course)},
		func(r *sql.Rows, v *TrendRow) error { return r.Scan(&v.OnDate, &v.CourseID, &v.Officers, &v.Current) })
}

// BalanceRow is one row of hours_balance.sql.
type BalanceRow struct {
	Division, Unit                string
	OfficerYears                  float64
	DeescalationHours, ForceHours float64
}

// HoursBalance returns de-escalation and use-of-force hours in the twelve
// months to asOf, per unit, with the unit's officer-years.
func (s *Store) HoursBalance(ctx context.Context, asOf time.Time, f Filter) ([]BalanceRow, error) {
	return readAll(ctx, s, "hours_balance", []any{sql.Named("as_of", asOf), sql.Named("unit", f.Unit), sql.Named("division", f.Division)},
		func(r *sql.Rows, v *BalanceRow) error {
			return r.Scan(&v.Division, &v.Unit, &v.OfficerYears, &v.DeescalationHours, &v.ForceHours)
		})
}

// RateRow is one row of outcome_rates.sql.
type RateRow struct {
	Group                                string
	Events, OfficerMonths                int64
	OfficerYears                         float64
	EventsWithCalls, Calls               int64
	ForceIncidents, Reviewed             int64
	Commendations, DeescalationCommended int64
}

// OutcomeRates returns events and exposure of an outcome per group
// (outcome_rates.sql).
func (s *Store) OutcomeRates(ctx context.Context, outcome, groupBy string, f Filter) ([]RateRow, error) {
	return readAll(ctx, s, "outcome_rates", append(f.args(), sql.Named("outcome", outcome), sql.Named("group_by", groupBy)),
		func(r *sql.Rows, v *RateRow) error {
			return r.Scan(&v.Group, &v.Events, &v.OfficerMonths, &v.OfficerYears, &v.EventsWithCalls, &v.Calls, &v.ForceIncidents, &v.Reviewed,
				&v.Commendations, &v.DeescalationCommended)
		})
}

// MatrixCell is one row of force_matrix.sql.
type MatrixCell struct {
	Behaviour, Response string
	Incidents           int64
}

// ForceMatrix returns incidents by subject behaviour and highest response.
func (s *Store) ForceMatrix(ctx context.Context, f Filter) ([]MatrixCell, error) {
	return readAll(ctx, s, "force_matrix", f.args(), func(r *sql.Rows, v *MatrixCell) error {
		return r.Scan(&v.Behaviour, &v.Response, &v.Incidents)
	})
}

// FactorCell is one row of force_factors.sql.
type FactorCell struct {
	Factor, Value, Response string
	Incidents               int64
}

// ForceFactors returns incidents by situational factor and highest response.
func (s *Store) ForceFactors(ctx context.Context, f Filter) ([]FactorCell, error) {
	return readAll(ctx, s, "force_factors", f.args(), func(r *sql.Rows, v *FactorCell) error {
		return r.Scan(&v.Factor, &v.Value, &v.Response, &v.Incidents)
	})
}

// GroupCount is one row of disparities.sql.
type GroupCount struct {
	Group                    string
	Incidents, SubjectInjury int64
}

// Disparities returns incidents by a subject attribute (disparities.sql).
func (s *Store) Disparities(ctx context.Context, by string, f Filter) ([]GroupCount, error) {
	return readAll(ctx, s, "disparities", append(f.args(), sql.Named("by", by)), func(r *sql.Rows, v *GroupCount) error {
		return r.Scan(&v.Group, &v.Incidents, &v.SubjectInjury)
	})
}

// Names lists the distinct units and divisions of the current dataset, and
// the months its panel covers, for validating request parameters.
type Names struct {
	Units, Divisions []string
	Courses          []string
	First, Last      time.Time
	// spans holds OutcomeSpan's answer for each outcome the macros name.
	spans map[string][2]time.Time
}

// cachedNames is Names of the dataset current at a generation.
type cachedNames struct {
	generation int64
	names      Names
}

// Names returns what a request may name; the lists are shared, not to be
// changed. They are remembered while the current dataset stays.
func (s *Store) Names(ctx context.Context) (Names, error) {
	g := s.Generation()
	if c, ok := s.names.Load().(cachedNames); ok && g%2 == 0 && c.generation == g {
		return c.names, nil
	}
	n, err := s.readNames(ctx)
	if err == nil && g%2 == 0 && s.Generation() == g {
		s.names.Store(cachedNames{generation: g, names: n})
	}
	return n, err
}

func (s *Store) readNames(ctx context.Context) (Names, error) {
	var n Names
	if err := s.requireDataset(ctx); err != nil {
		return n, err
	}
	var err error
	if n.Units, err = queryStrings(ctx, s.db, "SELECT DISTINCT unit FROM units ORDER BY 1"); err != nil {
		return n, fmt.Errorf("store.Names: %w", err)
	}
	if n.Divisions, err = queryStrings(ctx, s.db, "SELECT division FROM divisions ORDER BY 1"); err != nil {
		return n, fmt.Errorf("store.Names: %w", err)
	}
	if n.Courses, err = queryStrings(ctx, s.db, "SELECT course_id FROM courses ORDER BY 1"); err != nil {
		return n, fmt.Errorf("store.Names: %w", err)
	}
	err = s.db.QueryRowContext(ctx, "SELECT start_month, end_month FROM panel_info").Scan(&n.First, &n.Last)
	if errors.Is(err, sql.ErrNoRows) {
		return n, ErrNoDataset
	}
	if err != nil {
		return n, fmt.Errorf("store.Names: %w", err)
	}
	n.spans = map[string][2]time.Time{}
	for _, o := range []string{"force", "complaints", "sustained-complaints", "injuries", "subject-injuries"} {
		var span [2]time.Time
		if span[0], span[1], err = s.outcomeSpan(ctx, o); err != nil {
			return n, fmt.Errorf("store.Names: %w", err)
		}
		n.spans[o] = span
	}
	return n, err
}

// OutcomeSpan returns the first and last month the file behind an outcome
// covers (see the outcome_first macro); rates of the outcome use only those.
// It is read once per dataset, with Names.
func (s *Store) OutcomeSpan(ctx context.Context, outcome string) (first, last time.Time, err error) {
	n, err := s.Names(ctx)
	if err != nil {
		return first, last, err
	}
	if span, ok := n.spans[outcome]; ok {
		return span[0], span[1], nil
	}
	if first, last, err = s.outcomeSpan(ctx, outcome); err != nil {
		err = fmt.Errorf("store.OutcomeSpan: %w", err)
	}
	return first, last, err
}

// outcomeSpan reads outcome's span from the outcome_first and outcome_last macros.
func (s *Store) outcomeSpan(ctx context.Context, outcome string) (first, last time.Time, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT outcome_first($o), outcome_last($o)`, sql.Named("o", outcome)).Scan(&first, &last)
	return first, last, err
}
