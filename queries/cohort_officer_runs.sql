-- name: cohort_officer_runs
-- title: Officers of a training-effect analysis and their months
-- description: One row per officer and run of consecutive officer-months in the period (most officers have one run;
-- description: a gap in service starts another), as month indices (year × 12 + month − 1), with the officer's unit,
-- description: the month the officer was first treated (NULL if never) and the run's exposure per officer-month.
-- description: Treatment is as in cohort_officer_months, whose rows these runs number exactly; the analyses read
-- description: these and cohort_events instead of every officer-month.
-- param: outcome enum(force|complaints|sustained-complaints|injuries|subject-injuries) = force : the outcome
-- param: course text = '' : treatment = first completion of this course (blank = use category)
-- param: category text = '' : treatment = hours in this course category, lower case with hyphens (blank = use course)
-- param: min_hours number(0..10000) = 0 : cumulative category hours that make an officer trained (0 = any completion)
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: officer_key, unit_key, first_index, last_index, treated_index, exposure_min, exposure_max
-- export_order: officer_key, first_index
-- roles: evaluator, auditor, admin
WITH w AS (
	SELECT CAST(year(f) * 12 + month(f) - 1 AS INTEGER) AS lo, CAST(year(l) * 12 + month(l) - 1 AS INTEGER) AS hi FROM (
		SELECT CASE WHEN $from = '' THEN outcome_first($outcome) ELSE greatest(outcome_first($outcome), CAST($from || '-01' AS DATE)) END AS f,
			CASE WHEN $to = '' THEN outcome_last($outcome) ELSE least(outcome_last($outcome), CAST($to || '-01' AS DATE)) END AS l)
),
r AS (
	SELECT r.officer_key, r.unit_key, greatest(r.first_index, w.lo) AS first_index, least(r.last_index, w.hi) AS last_index,
		r.exposure_min, r.exposure_max
	FROM officer_runs r JOIN units u ON u.unit_key = r.unit_key, w
	WHERE ($unit = '' OR u.unit = $unit) AND ($division = '' OR u.division = $division)
		AND greatest(r.first_index, w.lo) <= least(r.last_index, w.hi)
)
SELECT r.officer_key, r.unit_key, r.first_index, r.last_index, t.treated_index, r.exposure_min, r.exposure_max
FROM r LEFT JOIN treatment_start($course, $category, $min_hours) t ON t.officer_key = r.officer_key
ORDER BY r.officer_key, r.first_index
