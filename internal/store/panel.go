package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"deesc/internal/contract"
)

// PanelOptions configures the officer-month panel built with every import.
type PanelOptions struct {
	// DeescalationCategories are the course categories whose hours count as
	// de-escalation training; UseOfForceCategories those that count as
	// use-of-force training. Compared after contract.NormalizeEnum.
	DeescalationCategories []string
	UseOfForceCategories   []string
}

// DefaultPanelOptions returns the categories deesc assumes when none are configured.
func DefaultPanelOptions() PanelOptions {
	return PanelOptions{
		DeescalationCategories: []string{"de-escalation", "crisis-intervention"},
		UseOfForceCategories:   []string{"use-of-force", "firearms"},
	}
}

// namedArg binds a value to $name.
func namedArg(name string, v any) any { return sql.Named(name, v) }

// normalized returns the categories in their canonical spelling.
func normalized(cats []string) []string {
	out := make([]string, 0, len(cats))
	for _, c := range cats {
		out = append(out, contract.NormalizeEnum(c))
	}
	return out
}

// categoryColumn is a course category and the panel columns that carry its
// hours.
type categoryColumn struct {
	Category string
	Slug     string
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugs names one panel column pair per distinct course category; the names
// are derived from the data but reduced to [a-z0-9_], so they are safe
// identifiers.
func slugs(categories []string) []categoryColumn {
	seen := map[string]int{}
	var out []categoryColumn
	for _, c := range categories {
		s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(c), "_"), "_")
		if s == "" {
			s = "other"
		}
		if n := seen[s]; n > 0 {
			seen[s]++
			s = fmt.Sprintf("%s_%d", s, n+1)
		} else {
			seen[s] = 1
		}
		out = append(out, categoryColumn{Category: c, Slug: s})
	}
	return out
}

// buildPanel materialises, inside the import transaction, the officer-month
// panel of the new version and its companions:
//
//   - panel: one row per officer per calendar month of service (the activity
//     file's rows when it has any, else hire to separation within the months
//     the outcome files cover), with unit, division, exposure (1/12
//     officer-year), calls for service (NULL if unknown), cumulative and
//     trailing-12-month training hours (de-escalation, use-of-force, all, and
//     per course category), and the month's outcome counts;
//   - officer_courses: each officer's first completion of each course;
//   - panel_info: the window, the category configuration used, and the
//     events that fell outside any officer-month of service.
//
// Convention: an officer counts as trained from the calendar month in which
// a course was completed, inclusive; hours count in the month completed.
func (r *importRun) buildPanel(ctx context.Context) error {
	S := r.schema
	r.progress("panel", "", 0)
	deesc := normalized(r.opt.Panel.DeescalationCategories)
	uof := normalized(r.opt.Panel.UseOfForceCategories)

	var activityRows int64
	if err := r.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+S+".activity").Scan(&activityRows); err != nil {
		return err
	}
	// The window: the months the outcome files cover (training may reach far
	// back; it counts towards hours, not exposure).
	if err := r.exec(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE pwindow AS
		SELECT coalesce(min(m), date_trunc('month', $today)) AS start_month, coalesce(max(m), date_trunc('month', $today)) AS end_month FROM (
			SELECT date_trunc('month', occurred_on) AS m FROM %[1]s.use_of_force UNION ALL
			SELECT date_trunc('month', received_on) FROM %[1]s.complaints UNION ALL
			SELECT date_trunc('month', occurred_on) FROM %[1]s.injuries UNION ALL
			SELECT date_trunc('month', awarded_on) FROM %[1]s.commendations UNION ALL
			SELECT month FROM %[1]s.activity)`, S), r.dateArgs()[0]); err != nil {
		return err
	}
	r.temp("pwindow")

	// Officer keys: dense integers in officer_id order, for fast grouping.
	// (Inside a transaction new rows' ids start at an offset, hence the min.)
	if err := r.exec(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE pkeys_sorted AS SELECT officer_id FROM %s.officers ORDER BY officer_id`, S)); err != nil {
		return err
	}
	r.temp("pkeys_sorted")
	if err := r.exec(ctx, `CREATE OR REPLACE TEMP TABLE pkeys AS
		SELECT officer_id, CAST(rowid - (SELECT min(rowid) FROM pkeys_sorted) AS INTEGER) AS officer_key FROM pkeys_sorted`); err != nil {
		return err
	}
	r.temp("pkeys")

	base := fmt.Sprintf(`SELECT officer_id, month, calls_for_service AS calls, true AS reported FROM %s.activity`, S)
	if activityRows == 0 {
		base = fmt.Sprintf(`SELECT o.officer_id, CAST(m.month AS DATE) AS month, CAST(NULL AS BIGINT) AS calls, false AS reported
			FROM %s.officers o, pwindow w,
			LATERAL (SELECT unnest(generate_series(
				CAST(greatest(date_trunc('month', o.hire_date), w.start_month) AS TIMESTAMP),
				CAST(least(date_trunc('month', coalesce(o.separation_date, w.end_month)), w.end_month) AS TIMESTAMP),
				INTERVAL 1 MONTH)) AS month) m`, S)
	}
	if err := r.exec(ctx, "CREATE OR REPLACE TEMP TABLE pbase AS "+base); err != nil {
		return err
	}
	r.temp("pbase")

	// Outcome counts per officer-month, from the (small) event tables.
	if err := r.exec(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE pevents AS
		SELECT officer_id, month,
			sum(coalesce(n_force, 0)) AS n_force, sum(coalesce(n_subject_injuries, 0)) AS n_subject_injuries,
			sum(coalesce(n_reviewed, 0)) AS n_reviewed, sum(coalesce(n_deesc_attempted, 0)) AS n_deesc_attempted,
			sum(coalesce(n_complaints, 0)) AS n_complaints, sum(coalesce(n_sustained, 0)) AS n_sustained,
			sum(coalesce(n_injuries, 0)) AS n_injuries, sum(coalesce(n_commendations, 0)) AS n_commendations,
			sum(coalesce(n_deesc_commendations, 0)) AS n_deesc_commendations
		FROM (
			SELECT officer_id, date_trunc('month', occurred_on) AS month, count(DISTINCT incident_id) AS n_force,
				count(DISTINCT incident_id) FILTER (WHERE subject_injured) AS n_subject_injuries,
				count(DISTINCT incident_id) FILTER (WHERE reviewed) AS n_reviewed,
				count(DISTINCT incident_id) FILTER (WHERE de_escalation_attempted) AS n_deesc_attempted
			FROM %[1]s.use_of_force GROUP BY ALL
			UNION ALL BY NAME
			SELECT officer_id, date_trunc('month', received_on) AS month, count(DISTINCT complaint_id) AS n_complaints,
				count(DISTINCT complaint_id) FILTER (WHERE finding = 'sustained') AS n_sustained
			FROM %[1]s.complaints GROUP BY ALL
			UNION ALL BY NAME
			SELECT officer_id, date_trunc('month', occurred_on) AS month, count(DISTINCT injury_id) AS n_injuries
			FROM %[1]s.injuries GROUP BY ALL
			UNION ALL BY NAME
			SELECT officer_id, date_trunc('month', awarded_on) AS month, count(*) AS n_commendations,
				count(*) FILTER (WHERE replace(replace(lower(kind), '_', '-'), ' ', '-') LIKE '%%de-escalation%%') AS n_deesc_commendations
			FROM %[1]s.commendations GROUP BY ALL
		) GROUP BY ALL`, S)); err != nil {
		return err
	}
	r.temp("pevents")

	// Cumulative training hours per officer at each month in which they
	// completed something; the panel looks them up as of each month.
	var cats []string
	rows, err := r.conn.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT category FROM %s.courses ORDER BY category", S))
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		cats = append(cats, c)
	}
	rows.Close()
	catCols := slugs(cats)
	norm := "replace(replace(lower(c.category), '_', '-'), ' ', '-')"
	monthly := []string{
		fmt.Sprintf("sum(t.hours) FILTER (WHERE list_contains($deesc, %s)) AS h_deesc", norm),
		fmt.Sprintf("sum(t.hours) FILTER (WHERE list_contains($uof, %s)) AS h_uof", norm),
		"sum(t.hours) AS h_all",
	}
	cum := []string{"sum(h_deesc) OVER w AS c_deesc", "sum(h_uof) OVER w AS c_uof", "sum(h_all) OVER w AS c_all"}
	args := []any{namedArg("deesc", deesc), namedArg("uof", uof)}
	for i, cc := range catCols {
		monthly = append(monthly, fmt.Sprintf("sum(t.hours) FILTER (WHERE c.category = $cat%d) AS h_%s", i, cc.Slug))
		cum = append(cum, fmt.Sprintf("sum(h_%s) OVER w AS c_%s", cc.Slug, cc.Slug))
		args = append(args, namedArg(fmt.Sprintf("cat%d", i), cc.Category))
	}
	if err := r.exec(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE ptrain AS
		SELECT officer_id, month, %s FROM (
			SELECT t.officer_id, date_trunc('month', t.completed_on) AS month, %s
			FROM %s.training t JOIN %s.courses c ON c.course_id = t.course_id GROUP BY ALL)
		WINDOW w AS (PARTITION BY officer_id ORDER BY month)`,
		strings.Join(cum, ", "), strings.Join(monthly, ", "), S, S), args...); err != nil {
		return err
	}
	r.temp("ptrain")

	hours := func(name, col string) string {
		return fmt.Sprintf("coalesce(t.%[2]s, 0) AS %[1]s_cum, coalesce(t.%[2]s, 0) - coalesce(t12.%[2]s, 0) AS %[1]s_12m", name, col)
	}
	sel := []string{hours("deesc_hours", "c_deesc"), hours("uof_hours", "c_uof"), hours("all_hours", "c_all")}
	for _, cc := range catCols {
		sel = append(sel, hours("hours_"+cc.Slug, "c_"+cc.Slug))
	}
	counts := []string{"n_force", "n_subject_injuries", "n_reviewed", "n_deesc_attempted", "n_complaints", "n_sustained", "n_injuries", "n_commendations", "n_deesc_commendations"}
	var countSel []string
	for _, c := range counts {
		countSel = append(countSel, fmt.Sprintf("CAST(coalesce(e.%s, 0) AS INTEGER) AS %s", c, c))
	}
	if err := r.exec(ctx, fmt.Sprintf(`CREATE TABLE %[1]s.panel AS
		SELECT b.officer_id, k.officer_key, b.month, o.unit, o.division,
			CAST(1.0 / 12 AS DOUBLE) AS exposure, b.calls, b.reported,
			%[2]s,
			%[3]s
		FROM pbase b
		JOIN %[1]s.officers o ON o.officer_id = b.officer_id
		JOIN pkeys k ON k.officer_id = b.officer_id
		LEFT JOIN pevents e ON e.officer_id = b.officer_id AND e.month = b.month
		ASOF LEFT JOIN ptrain t ON t.officer_id = b.officer_id AND t.month <= b.month
		ASOF LEFT JOIN ptrain t12 ON t12.officer_id = b.officer_id AND t12.month <= b.month - INTERVAL 12 MONTH
		ORDER BY b.month, b.officer_id`, S, strings.Join(sel, ",\n\t\t\t"), strings.Join(countSel, ", "))); err != nil {
		return fmt.Errorf("panel: %w", err)
	}

	if err := r.exec(ctx, fmt.Sprintf(`CREATE TABLE %[1]s.officer_courses AS
		SELECT officer_id, course_id, min(completed_on) AS first_completed, CAST(date_trunc('month', min(completed_on)) AS DATE) AS first_month,
			max(completed_on) AS last_completed, count(*) AS completions
		FROM %[1]s.training GROUP BY ALL`, S)); err != nil {
		return err
	}

	var unmatched []string
	for _, c := range counts {
		unmatched = append(unmatched, fmt.Sprintf("CAST(coalesce(sum(%s), 0) AS BIGINT) AS outside_%s", c, c))
	}
	catNames := make([]string, len(catCols))
	catSlugs := make([]string, len(catCols))
	for i, cc := range catCols {
		catNames[i], catSlugs[i] = cc.Category, cc.Slug
	}
	return r.exec(ctx, fmt.Sprintf(`CREATE TABLE %[1]s.panel_info AS
		SELECT w.start_month, w.end_month, $deesc AS deescalation_categories, $uof AS use_of_force_categories,
			$cats AS categories, $slugs AS category_columns, e.*,
			(SELECT count(*) FROM %[1]s.panel) AS officer_months
		FROM pwindow w, (SELECT %[2]s FROM pevents e ANTI JOIN pbase b ON b.officer_id = e.officer_id AND b.month = e.month) e`, S, strings.Join(unmatched, ", ")),
		namedArg("deesc", deesc), namedArg("uof", uof), namedArg("cats", catNames), namedArg("slugs", catSlugs))
}
