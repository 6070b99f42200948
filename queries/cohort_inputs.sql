-- name: cohort_inputs
-- title: Officer-months behind the cohort analyses
-- description: The rows of cohort_officer_months with the officers and months named: one row per officer-month of
-- description: the panel in the period (within the months the outcome's file covers), the officer's unit and division,
-- description: the month the officer was first treated (blank if never), whether the officer counts as trained that
-- description: month, the month's count of the outcome and its exposure in officer-years. Treatment is the first
-- description: completion of a course, or the first month in which the officer's cumulative hours in a course category
-- description: reach min_hours (0 = any completion in the category); trained from the month of completion, inclusive.
-- param: outcome enum(force|complaints|sustained-complaints|injuries|subject-injuries) = force : the outcome
-- param: course text = '' : treatment = first completion of this course (blank = use category)
-- param: category text = '' : treatment = hours in this course category, lower case with hyphens (blank = use course)
-- param: min_hours number(0..10000) = 0 : cumulative category hours that make an officer trained (0 = any completion)
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: officer_id, unit, division, month, treated_month, trained, events, exposure
-- roles: auditor, admin
WITH course_first AS (
	SELECT officer_id, first_month AS treated_month FROM officer_courses WHERE $course <> '' AND course_id = $course
),
category_hours AS (
	-- Cumulative hours over every spelling of the category (training_hours keeps them apart).
	SELECT officer_id, month, sum(sum(hours)) OVER (PARTITION BY officer_id ORDER BY month) AS cum
	FROM training_hours
	WHERE $category <> '' AND replace(replace(lower(trim(category)), '_', '-'), ' ', '-') = $category
	GROUP BY officer_id, month
),
category_first AS (
	SELECT officer_id, min(month) AS treated_month FROM category_hours
	WHERE CAST($min_hours AS DOUBLE) <= 0 OR cum >= CAST($min_hours AS DOUBLE)
	GROUP BY officer_id
),
treat AS (
	SELECT officer_id, min(treated_month) AS treated_month
	FROM (SELECT * FROM course_first UNION ALL SELECT * FROM category_first) GROUP BY officer_id
),
p AS (
	SELECT k.officer_id, u.unit, u.division, p.month, p.exposure,
		CASE $outcome WHEN 'force' THEN n_force WHEN 'complaints' THEN n_complaints WHEN 'sustained-complaints' THEN n_sustained
			WHEN 'injuries' THEN n_injuries ELSE n_subject_injuries END AS events
	FROM panel p
	-- The units selected, with the months the outcome's file covers (see the outcome_units macro).
	JOIN outcome_units($outcome, $unit, $division) u ON u.unit_key = p.unit_key AND p.month BETWEEN u.first_month AND u.last_month
	JOIN officer_keys k ON k.officer_key = p.officer_key
	WHERE ($from = '' OR p.month >= CAST(nullif($from, '') || '-01' AS DATE))
		AND ($to = '' OR p.month <= CAST(nullif($to, '') || '-01' AS DATE))
)
SELECT p.officer_id, p.unit, p.division, p.month, t.treated_month,
	coalesce(p.month >= t.treated_month, false) AS trained, p.events, p.exposure
FROM p LEFT JOIN treat t ON t.officer_id = p.officer_id
ORDER BY p.officer_id, p.month
