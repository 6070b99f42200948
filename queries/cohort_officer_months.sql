-- name: cohort_officer_months
-- title: Officer-months with a training treatment
-- description: One row per officer-month of the panel in the period, with the month the officer was first treated
-- description: and whether the officer counts as trained in that month, and the month's count of the outcome. Treatment
-- description: is the first completion of a course, or the first month in which the officer's cumulative hours in a
-- description: course category reach min_hours (0 = any completion in the category). An officer counts as trained from
-- description: the calendar month of completion, inclusive; treated_index is NULL for officers never treated. The
-- description: input of the cohort comparison, the staggered roll-out and the pre/post analyses.
-- param: outcome enum(force|complaints|sustained-complaints|injuries|subject-injuries) = force : the outcome
-- param: course text = '' : treatment = first completion of this course (blank = use category)
-- param: category text = '' : treatment = hours in this course category, lower case with hyphens (blank = use course)
-- param: min_hours number(0..10000) = 0 : cumulative category hours that make an officer trained (0 = any completion)
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: officer_key, unit_key, month_index, treated_index, trained, events, exposure
-- export_order: officer_key, month_index
-- roles: evaluator, auditor, admin
WITH course_first AS (
	SELECT k.officer_key, CAST(year(c.first_month) * 12 + month(c.first_month) - 1 AS INTEGER) AS treated_index
	FROM officer_courses c JOIN officer_keys k ON k.officer_id = c.officer_id
	WHERE $course <> '' AND c.course_id = $course
),
category_hours AS (
	-- Cumulative hours over every spelling of the category (training_hours keeps them apart).
	SELECT officer_id, month, sum(sum(hours)) OVER (PARTITION BY officer_id ORDER BY month) AS cum
	FROM training_hours
	WHERE $category <> '' AND replace(replace(lower(trim(category)), '_', '-'), ' ', '-') = $category
	GROUP BY officer_id, month
),
category_first AS (
	SELECT k.officer_key, CAST(min(year(h.month) * 12 + month(h.month) - 1) AS INTEGER) AS treated_index
	FROM category_hours h JOIN officer_keys k ON k.officer_id = h.officer_id
	WHERE CAST($min_hours AS DOUBLE) <= 0 OR h.cum >= CAST($min_hours AS DOUBLE)
	GROUP BY k.officer_key
),
treat AS (
	SELECT * FROM course_first UNION ALL SELECT * FROM category_first
),
p AS (
	SELECT p.officer_key, p.unit_key, CAST(year(p.month) * 12 + month(p.month) - 1 AS INTEGER) AS month_index, p.exposure,
		CASE $outcome WHEN 'force' THEN n_force WHEN 'complaints' THEN n_complaints WHEN 'sustained-complaints' THEN n_sustained
			WHEN 'injuries' THEN n_injuries ELSE n_subject_injuries END AS events
	FROM panel p JOIN units u ON u.unit_key = p.unit_key
	WHERE ($from = '' OR p.month >= CAST($from || '-01' AS DATE)) AND ($to = '' OR p.month <= CAST($to || '-01' AS DATE))
		AND ($unit = '' OR u.unit = $unit) AND ($division = '' OR u.division = $division)
		AND p.month BETWEEN outcome_first($outcome) AND outcome_last($outcome)
)
SELECT p.officer_key, p.unit_key, p.month_index, t.treated_index,
	coalesce(p.month_index >= t.treated_index, false) AS trained, p.events, p.exposure
FROM p LEFT JOIN treat t ON t.officer_key = p.officer_key
