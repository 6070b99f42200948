package store

import (
	"context"
	"database/sql"
	"fmt"
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

// preparePanel computes, before the import transaction (see stageEffective),
// the officer-month panel of the new version and its companions, which
// writePanel then stores:
//
//   - panel: one row per officer per calendar month of service (the activity
//     file's rows when it has any, else hire to separation within the months
//     the outcome files cover), keyed by officer_key with unit_key and
//     division_key, exposure (1/12 officer-year), calls for service (NULL if
//     unknown), cumulative and trailing-12-month training hours
//     (de-escalation, use-of-force and all categories), and the month's
//     outcome counts;
//   - officer_keys, units, divisions: the integer keys and their names;
//   - training_hours (computed by writePanel from the stored training):
//     hours and cumulative hours per officer, category and month of
//     completion (any month's value is the latest at or before it);
//   - officer_courses (likewise): each officer's first completion of each
//     course;
//   - panel_info: the window, the category configuration used, and the
//     events that fell outside any officer-month of service.
//
// Convention: an officer counts as trained from the calendar month in which
// a course was completed, inclusive; hours count in the month completed.
func (r *importRun) preparePanel(ctx context.Context) error {
	r.progress("panel", "", 0)
	deesc := normalized(r.opt.Panel.DeescalationCategories)
	uof := normalized(r.opt.Panel.UseOfForceCategories)
	run := func(what, stmt string, args ...any) error {
		if err := r.exec(ctx, stmt, args...); err != nil {
			return fmt.Errorf("panel %s: %w", what, err)
		}
		return nil
	}

	var activityRows int64
	if err := r.conn.QueryRowContext(ctx, "SELECT count(*) FROM eff_activity").Scan(&activityRows); err != nil {
		return err
	}
	// The window: the months the outcome files cover (training may reach far
	// back; it counts towards hours, not exposure).
	r.temp("pwindow")
	if err := run("window", `CREATE OR REPLACE TEMP TABLE pwindow AS
		WITH f AS (SELECT min(date_trunc('month', occurred_on)) AS a, max(date_trunc('month', occurred_on)) AS b FROM eff_force),
		c AS (SELECT min(date_trunc('month', received_on)) AS a, max(date_trunc('month', received_on)) AS b FROM eff_complaints),
		i AS (SELECT min(date_trunc('month', occurred_on)) AS a, max(date_trunc('month', occurred_on)) AS b FROM eff_injuries),
		o AS (SELECT min(date_trunc('month', awarded_on)) AS a, max(date_trunc('month', awarded_on)) AS b FROM eff_commendations),
		act AS (SELECT min(month) AS a, max(month) AS b FROM eff_activity),
		w AS (SELECT coalesce(least(f.a, c.a, i.a, o.a, act.a), `+thisMonthSQL+`) AS start_month,
				coalesce(greatest(f.b, c.b, i.b, o.b, act.b), `+thisMonthSQL+`) AS end_month
			FROM f, c, i, o, act)
		-- Each outcome is counted only over the months its own file covers:
		-- a file that stops earlier (a partial refresh, a later start) must
		-- not contribute months of zero events.
		SELECT CAST(w.start_month AS DATE) AS start_month, CAST(w.end_month AS DATE) AS end_month,
			CAST(coalesce(f.a, w.start_month) AS DATE) AS force_first, CAST(coalesce(f.b, w.end_month) AS DATE) AS force_last,
			CAST(coalesce(c.a, w.start_month) AS DATE) AS complaints_first, CAST(coalesce(c.b, w.end_month) AS DATE) AS complaints_last,
			CAST(coalesce(i.a, w.start_month) AS DATE) AS injuries_first, CAST(coalesce(i.b, w.end_month) AS DATE) AS injuries_last
		FROM w, f, c, i`, r.dateArgs()[0]); err != nil {
		return err
	}

	// Dense integer keys: the panel is keyed by officer_key and grouped by
	// unit_key and division_key, which makes joins and aggregates over its
	// millions of rows several times faster than text keys. A sorted
	// temporary table's row ids number its rows.
	steps := []struct{ what, stmt string }{
		{"divisions", `CREATE OR REPLACE TEMP TABLE pdiv AS SELECT DISTINCT division FROM eff_officers ORDER BY division`},
		{"divisions", `CREATE OR REPLACE TEMP TABLE pdivisions AS SELECT CAST(rowid AS INTEGER) AS division_key, division FROM pdiv`},
		{"units", `CREATE OR REPLACE TEMP TABLE punit AS SELECT DISTINCT division, unit FROM eff_officers ORDER BY division, unit`},
		{"units", `CREATE OR REPLACE TEMP TABLE punits AS SELECT CAST(u.rowid AS INTEGER) AS unit_key, u.unit, u.division, d.division_key
			FROM punit u JOIN pdivisions d ON d.division = u.division`},
		{"officers", `CREATE OR REPLACE TEMP TABLE pofficer AS SELECT officer_id, unit, division FROM eff_officers ORDER BY officer_id`},
		{"officers", `CREATE OR REPLACE TEMP TABLE pofficer_keys AS
			SELECT CAST(k.rowid AS INTEGER) AS officer_key, k.officer_id, u.unit_key, u.division_key
			FROM pofficer k JOIN punits u ON u.unit = k.unit AND u.division = k.division`},
	}
	for _, st := range steps {
		r.temp(strings.Fields(st.stmt)[5])
		if err := run(st.what, st.stmt); err != nil {
			return err
		}
	}

	// Months as integers (year*12 + month - 1) for the as-of joins.
	monthIndex := func(col string) string {
		return fmt.Sprintf("CAST(year(%[1]s) * 12 + month(%[1]s) - 1 AS INTEGER)", col)
	}
	base := fmt.Sprintf(`SELECT k.officer_key AS k, %s AS m, a.month, CAST(a.calls_for_service AS INTEGER) AS calls, true AS reported
		FROM eff_activity a JOIN pofficer_keys k ON k.officer_id = a.officer_id`, monthIndex("a.month"))
	if activityRows == 0 {
		base = fmt.Sprintf(`SELECT k, %s AS m, month, CAST(NULL AS INTEGER) AS calls, false AS reported FROM (
			SELECT k.officer_key AS k, CAST(unnest(generate_series(
				CAST(greatest(date_trunc('month', o.hire_date), w.start_month) AS TIMESTAMP),
				CAST(least(date_trunc('month', coalesce(o.separation_date, w.end_month)), w.end_month) AS TIMESTAMP),
				INTERVAL 1 MONTH)) AS DATE) AS month
			FROM eff_officers o JOIN pofficer_keys k ON k.officer_id = o.officer_id, pwindow w)`, monthIndex("month"))
	}
	r.temp("pbase")
	if err := run("rows", "CREATE OR REPLACE TEMP TABLE pbase AS "+base); err != nil {
		return err
	}

	// Outcome counts per officer-month, from the (small) event tables.
	r.temp("pevents")
	if err := run("outcomes", fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE pevents AS
		SELECT k.officer_key AS k, %[1]s AS m,
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
			FROM eff_force GROUP BY ALL
			UNION ALL BY NAME
			SELECT officer_id, date_trunc('month', received_on) AS month, count(DISTINCT complaint_id) AS n_complaints,
				count(DISTINCT complaint_id) FILTER (WHERE finding = 'sustained') AS n_sustained
			FROM eff_complaints GROUP BY ALL
			UNION ALL BY NAME
			SELECT officer_id, date_trunc('month', occurred_on) AS month, count(DISTINCT injury_id) AS n_injuries
			FROM eff_injuries GROUP BY ALL
			UNION ALL BY NAME
			SELECT officer_id, date_trunc('month', awarded_on) AS month, count(*) AS n_commendations,
				count(*) FILTER (WHERE replace(replace(lower(kind), '_', '-'), ' ', '-') LIKE '%%de-escalation%%') AS n_deesc_commendations
			FROM eff_commendations GROUP BY ALL
		) e JOIN pofficer_keys k ON k.officer_id = e.officer_id GROUP BY ALL`, monthIndex("CAST(e.month AS DATE)"))); err != nil {
		return err
	}

	// Training hours per officer and month of completion, in the configured
	// classes and in all, which the panel sums up to each month and over the
	// twelve before.
	norm := "replace(replace(lower(c.category), '_', '-'), ' ', '-')"
	r.temp("ptrain")
	if err := run("training", fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE ptrain AS
		SELECT k.officer_key AS k, %[2]s AS m,
			coalesce(sum(t.hours) FILTER (WHERE list_contains($deesc, %[3]s)), 0) AS h_deesc,
			coalesce(sum(t.hours) FILTER (WHERE list_contains($uof, %[3]s)), 0) AS h_uof,
			sum(t.hours) AS h_all
		FROM eff_training t JOIN eff_courses c ON c.course_id = t.course_id
		JOIN pofficer_keys k ON k.officer_id = t.officer_id GROUP BY ALL`, "", monthIndex("t.completed_on"), norm),
		namedArg("deesc", deesc), namedArg("uof", uof)); err != nil {
		return err
	}

	hours := func(name, col string) string {
		return fmt.Sprintf("t.c_%[2]s AS %[1]s_cum, t.y_%[2]s AS %[1]s_12m", name, col)
	}
	sel := []string{hours("deesc_hours", "deesc"), hours("uof_hours", "uof"), hours("all_hours", "all")}
	var countSel, unmatched []string
	for _, c := range panelCounts {
		countSel = append(countSel, fmt.Sprintf("CAST(coalesce(e.%s, 0) AS INTEGER) AS %s", c, c))
		unmatched = append(unmatched, fmt.Sprintf("CAST(coalesce(sum(%s), 0) AS BIGINT) AS outside_%s", c, c))
	}
	// Hours up to and including each month, and in the trailing twelve, as
	// running sums over one row per officer and month: the panel's months
	// with their own month's training, and the months the officer trained
	// outside the panel (before hire, in a gap, after the window). The rows
	// are unique per officer and month, so both frames share one ordering:
	// one sort, and the panel's columns ride through it instead of being
	// joined back.
	r.panelSelect = fmt.Sprintf(`WITH u AS (
			SELECT b.k, b.m, b.month, b.calls, b.reported, TRUE AS is_panel,
				coalesce(t.h_deesc, 0) AS h_deesc, coalesce(t.h_uof, 0) AS h_uof, coalesce(t.h_all, 0) AS h_all
			FROM pbase b LEFT JOIN ptrain t ON t.k = b.k AND t.m = b.m
			UNION ALL
			SELECT t.k, t.m, NULL, NULL, NULL, FALSE, t.h_deesc, t.h_uof, t.h_all
			FROM ptrain t ANTI JOIN pbase b ON b.k = t.k AND b.m = t.m
		), t AS (
			SELECT k, m, month, calls, reported, is_panel,
				sum(h_deesc) OVER cum AS c_deesc, sum(h_uof) OVER cum AS c_uof, sum(h_all) OVER cum AS c_all,
				sum(h_deesc) OVER y12 AS y_deesc, sum(h_uof) OVER y12 AS y_uof, sum(h_all) OVER y12 AS y_all
			FROM u
			WINDOW cum AS (PARTITION BY k ORDER BY m ROWS UNBOUNDED PRECEDING),
				y12 AS (PARTITION BY k ORDER BY m RANGE BETWEEN 11 PRECEDING AND CURRENT ROW)
			QUALIFY is_panel
		)
		SELECT t.k AS officer_key, t.month, k.unit_key, k.division_key,
			CAST(1.0 / 12 AS DOUBLE) AS exposure, t.calls, t.reported,
			%[1]s,
			%[2]s
		FROM t
		JOIN pofficer_keys k ON k.officer_key = t.k
		LEFT JOIN pevents e ON e.k = t.k AND e.m = t.m`, strings.Join(sel, ",\n\t\t\t"), strings.Join(countSel, ", "))
	r.temp("ppanel_info")
	return run("info", fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE ppanel_info AS
		SELECT w.start_month, w.end_month, w.force_first, w.force_last, w.complaints_first, w.complaints_last,
			w.injuries_first, w.injuries_last, $deesc AS deescalation_categories, $uof AS use_of_force_categories, e.*,
			(SELECT count(*) FROM pbase) AS officer_months
		FROM pwindow w, (SELECT %s FROM pevents e ANTI JOIN pbase b ON b.k = e.k AND b.m = e.m) e`, strings.Join(unmatched, ", ")),
		namedArg("deesc", deesc), namedArg("uof", uof))
}

// writePanel stores what preparePanel computed in the new version's schema,
// inside the import transaction.
func (r *importRun) writePanel(ctx context.Context) error {
	for _, t := range [][2]string{{"divisions", "pdivisions"}, {"units", "punits"}, {"officer_keys", "pofficer_keys"},
		{"panel_info", "ppanel_info"}} {
		r.progress("writing", t[0], 0)
		if err := r.exec(ctx, fmt.Sprintf("CREATE TABLE %s.%s AS SELECT * FROM %s", r.schema, t[0], t[1])); err != nil {
			return fmt.Errorf("writing %s: %w", t[0], err)
		}
		if t[1] != "pofficer_keys" { // the panel still reads the keys
			_, _ = r.conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+t[1])
		}
	}
	// Computed straight into storage from the stored training: a temporary
	// copy first would only add a copy. The months are unique per officer
	// and category, so the running sum's frame is rows, not the default
	// range of peers (15% faster).
	for _, t := range []struct{ name, stmt string }{
		{"training_hours", `CREATE TABLE %[1]s.training_hours AS
			SELECT officer_id, month, category, hours,
				sum(hours) OVER (PARTITION BY officer_id, category ORDER BY month ROWS UNBOUNDED PRECEDING) AS hours_cum FROM (
				SELECT t.officer_id, CAST(date_trunc('month', t.completed_on) AS DATE) AS month, c.category, sum(t.hours) AS hours
				FROM %[1]s.training t JOIN %[1]s.courses c ON c.course_id = t.course_id GROUP BY ALL)`},
		{"officer_courses", `CREATE TABLE %[1]s.officer_courses AS
			SELECT officer_id, course_id, min(completed_on) AS first_completed, CAST(date_trunc('month', min(completed_on)) AS DATE) AS first_month,
				max(completed_on) AS last_completed, count(*) AS completions
			FROM %[1]s.training GROUP BY ALL`},
	} {
		r.progress("writing", t.name, 0)
		if err := r.exec(ctx, fmt.Sprintf(t.stmt, r.schema)); err != nil {
			return fmt.Errorf("writing %s: %w", t.name, err)
		}
	}
	// The panel itself, the widest table, is computed straight into storage
	// from the temporary tables settled before the transaction.
	r.progress("writing", "panel", 0)
	if err := r.exec(ctx, fmt.Sprintf("CREATE TABLE %s.panel AS %s", r.schema, r.panelSelect)); err != nil {
		return fmt.Errorf("writing panel: %w", err)
	}
	for _, d := range derivedTables() {
		r.progress("writing", d.name, 0)
		if err := r.exec(ctx, d.create(r.schema)); err != nil {
			return fmt.Errorf("writing %s: %w", d.name, err)
		}
	}
	return r.exec(ctx, fmt.Sprintf(`CREATE VIEW %[1]s.activity AS
		SELECT k.officer_id, p.month, CAST(p.calls AS BIGINT) AS calls_for_service
		FROM %[1]s.panel p JOIN %[1]s.officer_keys k ON k.officer_key = p.officer_key WHERE p.reported`, r.schema))
}

// panelCounts are the panel's outcome count columns.
var panelCounts = []string{"n_force", "n_subject_injuries", "n_reviewed", "n_deesc_attempted", "n_complaints", "n_sustained",
	"n_injuries", "n_commendations", "n_deesc_commendations"}

// derived is a table computed at import from a version's own tables, so
// that dashboards read a summary instead of scanning the detail.
type derived struct {
	name   string
	create func(schema string) string
	// added lists columns an earlier definition lacked: a version whose
	// table lacks one was written by an earlier deesc and is rebuilt.
	added []string
}

// derivedTables lists them in the order they are built.
func derivedTables() []derived {
	return []derived{{"panel_units", unitSummary, nil}, {"force_incident_months", incidentMonths, []string{"incident_months"}}, {"status_spans", statusSpans, nil},
		{"compliance_steps", complianceSteps, []string{"until_idx"}}, {"officer_runs", officerRuns, nil},
		{"unit_training_days", unitTrainingDays, nil}}
}

// retiredTables are summaries an earlier deesc wrote and this one no longer
// reads (recert_spans: status_spans took its place); opening a database
// writable drops them.
var retiredTables = []string{"recert_spans"}

// incidentMonths creates schema.force_incident_months: each use-of-force
// incident's rows summed per calendar month — the unit recorded on it, its
// first officer and that officer's unit and division, the highest subject
// behaviour and officer response (as positions on the IMIM scales), the
// situational factors, the subject's race and gender, and whether the
// subject was injured, and in how many months the incident has rows
// (incident_months). The placed_incidents macro combines the months a
// request selects, exactly as if it had read the rows; an incident of one
// month is its own row.
func incidentMonths(schema string) string {
	return fmt.Sprintf(`CREATE TABLE %[1]s.force_incident_months AS
		SELECT CAST(count(*) OVER (PARTITION BY f.incident_id) AS INTEGER) AS incident_months, f.incident_id, CAST(date_trunc('month', f.occurred_on) AS DATE) AS month, max(f.unit) AS recorded,
			min(f.officer_id) AS first_officer, arg_min(o.unit, f.officer_id) AS first_unit, arg_min(o.division, f.officer_id) AS first_division,
			max(list_position(%[2]s, f.subject_behaviour)) AS b, max(list_position(%[3]s, f.response)) AS r,
			bool_or(f.mental_health_crisis) AS mh, bool_or(f.substance_use) AS su, bool_or(f.subject_weapon) AS sw,
			max(f.subject_race) AS race, max(f.subject_gender) AS gender, bool_or(f.subject_injured) AS injured
		FROM %[1]s.use_of_force f JOIN %[1]s.officers o ON o.officer_id = f.officer_id
		GROUP BY f.incident_id, month ORDER BY month, f.incident_id`, schema, behaviourScale, responseScale)
}

// statusSpans creates schema.status_spans: for each officer and each course
// with a recertification period that applies to them (mandatory: from hire;
// otherwise from the first completion), the spans of days in service
// (from_day..to_day, inclusive) over which their status is fixed — the
// completion in force (last_completed: the latest on or before the day; blank
// before the first, under a mandatory course's hire grace) and the day it
// expires (completion, or hire, + recert_days). The spans of one officer and
// course are contiguous, so on any day an officer in service has at most one
// per course: the compliance status on a day is a filter of this table (the
// compliance_status macro), stored in order of to_day so that a recent day
// reads its last row groups only.
func statusSpans(schema string) string {
	return fmt.Sprintf(`CREATE TABLE %[1]s.status_spans AS
WITH rc AS (SELECT course_id, CAST(recert_days AS INTEGER) AS recert_days, coalesce(mandatory, false) AS mandatory
	FROM %[1]s.courses WHERE recert_days IS NOT NULL),
o AS (SELECT k.officer_key, k.officer_id, k.unit_key, o.hire_date, coalesce(o.separation_date, DATE '9999-12-31') AS sep
	FROM %[1]s.officers o JOIN %[1]s.officer_keys k ON k.officer_id = o.officer_id),
-- Each completion (unique per officer, course and day: the contract's key) is in force until the next.
done AS (
	SELECT k.officer_key, t.course_id, t.completed_on,
		lead(t.completed_on) OVER (PARTITION BY k.officer_key, t.course_id ORDER BY t.completed_on) AS next_on
	FROM %[1]s.training t JOIN %[1]s.officer_keys k ON k.officer_id = t.officer_id
	WHERE t.course_id IN (SELECT course_id FROM rc)
),
seg AS (
	SELECT officer_key, course_id, completed_on AS s_from, coalesce(CAST(next_on - 1 AS DATE), DATE '9999-12-31') AS s_to,
		completed_on AS last_completed
	FROM done
	UNION ALL
	-- A mandatory course's hire grace, until the first completion.
	SELECT o.officer_key, rc.course_id, o.hire_date, coalesce(CAST(f.first_on - 1 AS DATE), DATE '9999-12-31'), NULL
	FROM o CROSS JOIN rc
	LEFT JOIN (SELECT officer_key, course_id, min(completed_on) AS first_on FROM done GROUP BY ALL) f
		ON f.officer_key = o.officer_key AND f.course_id = rc.course_id
	WHERE rc.mandatory
)
SELECT s.course_id, o.officer_key, o.officer_id, o.unit_key, greatest(s.s_from, o.hire_date) AS from_day,
	least(s.s_to, o.sep) AS to_day, s.last_completed,
	CAST(coalesce(s.last_completed, o.hire_date) + rc.recert_days AS DATE) AS expires_on
FROM seg s JOIN o ON o.officer_key = s.officer_key JOIN rc ON rc.course_id = s.course_id
WHERE greatest(s.s_from, o.hire_date) <= least(s.s_to, o.sep)
ORDER BY to_day, officer_key`, schema)
}

// complianceSteps creates schema.compliance_steps: for each course with a
// recertification period and each unit, the officers it applies to and
// those current on it at every month-end, stored only where either changes
// (idx = year*12 + month - 1 of the month-end; a month-end's values are
// those of the step with idx <= it < until_idx, until_idx blank for the
// last). Each status span counts its officer as applicable on the
// month-ends from from_day to to_day and as current on those to the day
// its completion expires: +1 steps at the first, -1 after the last of each
// (three rows per span), summed once at import.
func complianceSteps(schema string) string {
	return fmt.Sprintf(`CREATE TABLE %[1]s.compliance_steps AS
WITH spans AS (
	-- The month-ends a span contains (a..b) and those on which its completion is still current (a..c):
	-- from its own month's end to the last month-end on or before to_day, or on or before the day it expires.
	SELECT course_id, unit_key, year(from_day) * 12 + month(from_day) - 1 AS a,
		year(to_day) * 12 + month(to_day) - 1 - CASE WHEN to_day = last_day(to_day) THEN 0 ELSE 1 END AS b,
		year(least(to_day, expires_on)) * 12 + month(least(to_day, expires_on)) - 1
			- CASE WHEN least(to_day, expires_on) = last_day(least(to_day, expires_on)) THEN 0 ELSE 1 END AS c
	FROM %[1]s.status_spans
),
deltas AS (
	SELECT course_id, unit_key, a AS idx, 1 AS d_app, CASE WHEN a <= c THEN 1 ELSE 0 END AS d_cur FROM spans WHERE a <= b
	UNION ALL
	SELECT course_id, unit_key, b + 1, -1, 0 FROM spans WHERE a <= b
	UNION ALL
	SELECT course_id, unit_key, c + 1, 0, -1 FROM spans WHERE a <= c
),
steps AS (SELECT course_id, unit_key, idx, sum(d_app) AS d_app, sum(d_cur) AS d_cur FROM deltas GROUP BY ALL
	HAVING sum(d_app) <> 0 OR sum(d_cur) <> 0)
SELECT course_id, unit_key, CAST(idx AS INTEGER) AS idx,
	CAST(sum(d_app) OVER w AS BIGINT) AS officers, CAST(sum(d_cur) OVER w AS BIGINT) AS current,
	CAST(lead(idx) OVER w AS INTEGER) AS until_idx
FROM steps WINDOW w AS (PARTITION BY course_id, unit_key ORDER BY idx ROWS UNBOUNDED PRECEDING)
ORDER BY course_id, unit_key, idx`, schema)
}

// unitTrainingDays creates schema.unit_training_days: the hours of
// de-escalation-category and use-of-force-category training each unit's
// officers completed on each day (the classes the panel was built with,
// panel_info), stored in order of day so that the hours balance of the
// twelve months to any day reads those days' rows only.
func unitTrainingDays(schema string) string {
	return fmt.Sprintf(`CREATE TABLE %[1]s.unit_training_days AS
WITH info AS (SELECT deescalation_categories AS dc, use_of_force_categories AS uc FROM %[1]s.panel_info),
-- Each course's class, from its category spelled as the configuration spells it.
classes AS (
	SELECT c.course_id, list_contains(info.dc, replace(replace(lower(c.category), '_', '-'), ' ', '-')) AS deesc,
		list_contains(info.uc, replace(replace(lower(c.category), '_', '-'), ' ', '-')) AS uof
	FROM %[1]s.courses c, info
)
SELECT k.unit_key, t.completed_on,
	coalesce(sum(t.hours) FILTER (WHERE c.deesc), 0) AS deescalation_hours,
	coalesce(sum(t.hours) FILTER (WHERE c.uof), 0) AS use_of_force_hours
FROM %[1]s.training t JOIN classes c ON c.course_id = t.course_id JOIN %[1]s.officer_keys k ON k.officer_id = t.officer_id
WHERE c.deesc OR c.uof
GROUP BY ALL ORDER BY t.completed_on, k.unit_key`, schema)
}

// officerRuns creates schema.officer_runs: each officer's runs of
// consecutive panel months (one for most; a gap in service starts another),
// as month indices (year·12 + month − 1), with the officer's unit and the
// least and greatest exposure of the run's months — so that an analysis
// counts an officer's months in any period from a row or two instead of
// scanning them. Only officers whose months are not contiguous are split
// into islands; the rest are summarised in one pass.
func officerRuns(schema string) string {
	return fmt.Sprintf(`CREATE TABLE %[1]s.officer_runs AS
WITH p AS (SELECT officer_key, unit_key, CAST(year(month) * 12 + month(month) - 1 AS INTEGER) AS m, exposure FROM %[1]s.panel),
o AS (
	SELECT officer_key, any_value(unit_key) AS unit_key, min(m) AS a, max(m) AS b, count(*) AS n,
		min(exposure) AS e_lo, max(exposure) AS e_hi
	FROM p GROUP BY officer_key
),
islands AS (
	SELECT p.officer_key, p.unit_key, p.m, p.exposure, p.m - row_number() OVER (PARTITION BY p.officer_key ORDER BY p.m) AS island
	FROM p SEMI JOIN (SELECT officer_key FROM o WHERE n <> b - a + 1) g ON g.officer_key = p.officer_key
)
SELECT officer_key, CAST(unit_key AS INTEGER) AS unit_key, CAST(a AS INTEGER) AS first_index, CAST(b AS INTEGER) AS last_index,
	e_lo AS exposure_min, e_hi AS exposure_max
FROM o WHERE n = b - a + 1
UNION ALL
SELECT officer_key, CAST(any_value(unit_key) AS INTEGER), CAST(min(m) AS INTEGER), CAST(max(m) AS INTEGER), min(exposure), max(exposure)
FROM islands GROUP BY officer_key, island
ORDER BY officer_key, first_index`, schema)
}

// The IMIM scales, lowest first, as DuckDB lists.
const (
	behaviourScale = `['cooperative', 'passive-resistant', 'active-resistant', 'assaultive', 'grievous-bodily-harm-or-death']`
	responseScale  = `['presence', 'communication', 'physical-control-soft', 'physical-control-hard', 'intermediate-weapon', 'lethal-force']`
)

// unitSummary creates schema.panel_units: the panel summed per unit and
// month — officer-months, calls, and each outcome count in all months and
// in the months whose calls are known (COUNT_wc) — from which the outcome
// rates are read without scanning every officer-month. The counts are summed
// over the officer-months with any event only (a twentieth of them), and the
// sums stored as BIGINT: DuckDB 1.5 scans its bit-packed HUGEINT (what sum of
// an INTEGER gives) about forty times slower.
func unitSummary(schema string) string {
	var sums, cols, anyEvent []string
	for _, c := range panelCounts {
		sums = append(sums, fmt.Sprintf("sum(%[1]s) AS %[1]s, sum(%[1]s) FILTER (WHERE calls IS NOT NULL) AS %[1]s_wc", c))
		cols = append(cols, fmt.Sprintf("CAST(coalesce(e.%[1]s, 0) AS BIGINT) AS %[1]s, CAST(coalesce(e.%[1]s_wc, 0) AS BIGINT) AS %[1]s_wc", c))
		anyEvent = append(anyEvent, c+" <> 0")
	}
	return fmt.Sprintf(`CREATE TABLE %[1]s.panel_units AS
WITH b AS (SELECT unit_key, month, count(*) AS officer_months, CAST(sum(calls) AS BIGINT) AS calls FROM %[1]s.panel GROUP BY unit_key, month),
e AS (SELECT unit_key, month, %[2]s FROM %[1]s.panel WHERE %[3]s GROUP BY unit_key, month)
SELECT b.unit_key, b.month, b.officer_months, b.calls, %[4]s
FROM b LEFT JOIN e ON e.unit_key = b.unit_key AND e.month = b.month ORDER BY b.unit_key, b.month`,
		schema, strings.Join(sums, ", "), strings.Join(anyEvent, " OR "), strings.Join(cols, ", "))
}
