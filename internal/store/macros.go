package store

import "context"

// complianceStatusMacro defines compliance_status(as_of): for each course with
// a recertification period and each officer in service on as_of, the last
// completion on or before as_of, when it expires (completion + recert_days;
// hire + recert_days if never completed) and the days left (negative when
// overdue), with the officer's unit_key. A mandatory course applies to every officer in service; a
// course that is not mandatory (a weapon qualification, say) applies to the
// officers who have completed it at least once. The rule itself is written
// once, in status_spans at import; this selects the day, and the compliance
// queries in queries/ all read it.
const complianceStatusMacro = `CREATE OR REPLACE MACRO main.compliance_status(as_of) AS TABLE
SELECT s.course_id, c.title, coalesce(c.mandatory, false) AS mandatory, CAST(c.recert_days AS INTEGER) AS recert_days,
	s.officer_id, u.unit, u.division, s.last_completed, s.expires_on,
	CAST(date_diff('day', as_of, s.expires_on) AS INTEGER) AS days_left, s.unit_key
FROM main.status_spans s JOIN main.courses c ON c.course_id = s.course_id JOIN main.units u ON u.unit_key = s.unit_key
WHERE s.from_day <= as_of AND s.to_day >= as_of`

// outcomeSpanMacros define outcome_first(outcome) and outcome_last(outcome):
// the first and last month the file behind an outcome covers (force and
// subject injuries: use of force; complaints and sustained complaints:
// complaints; injuries: injuries). Rates and analyses of an outcome use only
// those months, so a file that ends earlier than the others does not add
// months of zero events.
const outcomeSpanMacros = `CREATE OR REPLACE MACRO main.outcome_first(o) AS (SELECT CASE o WHEN 'force' THEN force_first
	WHEN 'subject-injuries' THEN force_first WHEN 'injuries' THEN injuries_first ELSE complaints_first END FROM main.panel_info);
CREATE OR REPLACE MACRO main.outcome_last(o) AS (SELECT CASE o WHEN 'force' THEN force_last
	WHEN 'subject-injuries' THEN force_last WHEN 'injuries' THEN injuries_last ELSE complaints_last END FROM main.panel_info);`

// outcomeUnitsMacro defines outcome_units(outcome, unit, division): the
// units of the unit and division (blank = any) with their names and keys
// and the first and last month the outcome's file covers. Joined to a
// per-unit table on unit_key with its month between the two, it selects an
// outcome's rows with the months on the units' side of the join: compared
// in a WHERE clause, the outcome_first subqueries hide from DuckDB how many
// rows pass, and it hashed the big side (all the unit-months, or all the
// officer-months) instead of the units.
const outcomeUnitsMacro = `CREATE OR REPLACE MACRO main.outcome_units(outcome_f, unit_f, division_f) AS TABLE
SELECT unit_key, unit, division, division_key, main.outcome_first(outcome_f) AS first_month, main.outcome_last(outcome_f) AS last_month
FROM main.units WHERE (unit_f = '' OR unit = unit_f) AND (division_f = '' OR division = division_f)`

// forceRowsMacro defines force_rows(from_month, to_month, unit, division):
// every row (one per officer) of the use-of-force incidents that occurred in
// the months from..to (YYYY-MM, blank = open) and belong to the unit and
// division (blank = any). An incident belongs to the unit recorded on it
// (and that unit's division), else to its first officer's unit and
// division; it is selected whole, so "the highest response any officer
// used" always looks at all its officers.
const forceRowsMacro = `CREATE OR REPLACE MACRO main.force_rows(from_month, to_month, unit_f, division_f) AS TABLE
WITH f AS (
	SELECT f.*, o.unit AS officer_unit, o.division AS officer_division
	FROM main.use_of_force f JOIN main.officers o ON o.officer_id = f.officer_id
	WHERE (from_month = '' OR f.occurred_on >= CAST(from_month || '-01' AS DATE))
		AND (to_month = '' OR f.occurred_on < CAST(to_month || '-01' AS DATE) + INTERVAL 1 MONTH)
),
inc AS (
	SELECT incident_id, max(unit) AS recorded, arg_min(officer_unit, officer_id) AS o_unit, arg_min(officer_division, officer_id) AS o_div
	FROM f GROUP BY incident_id
),
placed AS (
	SELECT i.incident_id, coalesce(i.recorded, i.o_unit) AS unit,
		CASE WHEN i.recorded IS NULL THEN i.o_div ELSE coalesce(ud.division, i.o_div) END AS division
	FROM inc i LEFT JOIN (SELECT unit, min(division) AS division FROM main.units GROUP BY unit) ud ON ud.unit = i.recorded
)
SELECT f.* EXCLUDE (officer_unit, officer_division), p.unit AS incident_unit, p.division AS incident_division
FROM f JOIN placed p ON p.incident_id = f.incident_id
WHERE (unit_f = '' OR p.unit = unit_f) AND (division_f = '' OR p.division = division_f)`

// forceIncidentsMacro defines placed_incidents(from_month, to_month, unit,
// division): one row per use-of-force incident, as force_rows would select
// and place it, with the highest behaviour and response positions (b, r),
// the factors, the subject's race and gender and injury — combined from
// the per-month summaries (force_incident_months), never from the rows.
const forceIncidentsMacro = `CREATE OR REPLACE MACRO main.placed_incidents(from_month, to_month, unit_f, division_f) AS TABLE
WITH m AS (
	SELECT * FROM main.force_incident_months
	WHERE (from_month = '' OR month >= CAST(from_month || '-01' AS DATE)) AND (to_month = '' OR month <= CAST(to_month || '-01' AS DATE))
),
-- An incident with rows in one month only is its row (what combining one row gives); the others are combined.
inc AS (
	SELECT incident_id, recorded, first_unit AS o_unit, first_division AS o_div, b, r, mh AS mental_health_crisis,
		su AS substance_use, sw AS subject_weapon, race AS subject_race, gender AS subject_gender, injured AS subject_injured
	FROM m WHERE incident_months = 1
	UNION ALL
	SELECT incident_id, max(recorded) AS recorded, arg_min(first_unit, first_officer) AS o_unit, arg_min(first_division, first_officer) AS o_div,
		max(b) AS b, max(r) AS r, bool_or(mh) AS mental_health_crisis, bool_or(su) AS substance_use, bool_or(sw) AS subject_weapon,
		max(race) AS subject_race, max(gender) AS subject_gender, bool_or(injured) AS subject_injured
	FROM m WHERE incident_months > 1 GROUP BY incident_id
),
placed AS (
	SELECT i.*, coalesce(i.recorded, i.o_unit) AS unit,
		CASE WHEN i.recorded IS NULL THEN i.o_div ELSE coalesce(ud.division, i.o_div) END AS division
	FROM inc i LEFT JOIN (SELECT unit, min(division) AS division FROM main.units GROUP BY unit) ud ON ud.unit = i.recorded
)
SELECT * FROM placed WHERE (unit_f = '' OR unit = unit_f) AND (division_f = '' OR division = division_f)`

// outcomeMonthsMacro defines outcome_months(outcome, from_month, to_month,
// unit, division): the panel's officer-months in the months from..to
// (YYYY-MM, blank = open) within those the outcome's file covers, of the
// unit and division (blank = any), with the month as an index (year·12 +
// month − 1) and the outcome's count as events. The analyses' named
// queries all select their officer-months with it.
const outcomeMonthsMacro = `CREATE OR REPLACE MACRO main.outcome_months(outcome_f, from_month, to_month, unit_f, division_f) AS TABLE
SELECT p.officer_key, p.unit_key, p.month, CAST(year(p.month) * 12 + month(p.month) - 1 AS INTEGER) AS month_index, p.exposure,
	p.deesc_hours_cum, p.deesc_hours_12m,
	CASE outcome_f WHEN 'force' THEN p.n_force WHEN 'complaints' THEN p.n_complaints WHEN 'sustained-complaints' THEN p.n_sustained
		WHEN 'injuries' THEN p.n_injuries ELSE p.n_subject_injuries END AS events
FROM main.panel p JOIN main.outcome_units(outcome_f, unit_f, division_f) u
	ON u.unit_key = p.unit_key AND p.month BETWEEN u.first_month AND u.last_month
WHERE (from_month = '' OR p.month >= CAST(from_month || '-01' AS DATE)) AND (to_month = '' OR p.month <= CAST(to_month || '-01' AS DATE))`

// treatmentStartMacro defines treatment_start(course, category, min_hours):
// each treated officer's first trained month as an index (year·12 + month
// − 1) — the month of the first completion of the course or, when course
// is blank, the first month in which the officer's cumulative hours in the
// category (any spelling of it) reach min_hours (≤ 0: the first completion
// in the category). Officers never treated have no row.
const treatmentStartMacro = `CREATE OR REPLACE MACRO main.treatment_start(course_f, category_f, min_hours_f) AS TABLE
WITH course_first AS (
	SELECT k.officer_key, CAST(year(c.first_month) * 12 + month(c.first_month) - 1 AS INTEGER) AS treated_index
	FROM main.officer_courses c JOIN main.officer_keys k ON k.officer_id = c.officer_id
	WHERE course_f <> '' AND c.course_id = course_f
),
category_hours AS (
	SELECT officer_id, month, sum(sum(hours)) OVER (PARTITION BY officer_id ORDER BY month) AS cum
	FROM main.training_hours
	WHERE course_f = '' AND category_f <> '' AND replace(replace(lower(trim(category)), '_', '-'), ' ', '-') = category_f
	GROUP BY officer_id, month
),
category_first AS (
	SELECT k.officer_key, CAST(min(year(h.month) * 12 + month(h.month) - 1) AS INTEGER) AS treated_index
	FROM category_hours h JOIN main.officer_keys k ON k.officer_id = h.officer_id
	WHERE CAST(min_hours_f AS DOUBLE) <= 0 OR h.cum >= CAST(min_hours_f AS DOUBLE)
	GROUP BY k.officer_key
)
SELECT * FROM course_first UNION ALL SELECT * FROM category_first`

// createMacros (re)defines the macros over the main views; it runs after
// the views exist, inside the import transaction.
func (r *importRun) createMacros(ctx context.Context) error {
	for _, m := range []string{complianceStatusMacro, outcomeSpanMacros, outcomeUnitsMacro, forceRowsMacro, forceIncidentsMacro,
		outcomeMonthsMacro, treatmentStartMacro} {
		if err := r.exec(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
