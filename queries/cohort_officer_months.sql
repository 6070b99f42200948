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
SELECT p.officer_key, p.unit_key, p.month_index, t.treated_index,
	coalesce(p.month_index >= t.treated_index, false) AS trained, p.events, p.exposure
FROM outcome_months($outcome, $from, $to, $unit, $division) p
LEFT JOIN treatment_start($course, $category, $min_hours) t ON t.officer_key = p.officer_key
