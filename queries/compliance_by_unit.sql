-- name: compliance_by_unit
-- title: Recertification compliance by unit and division
-- description: For each course with a recertification period, the officers in service on as_of, and how many are
-- description: current (completed within recert_days before as_of), due within 30, 60 or 90 days, or overdue; per unit,
-- description: per division and in total (level = unit, division or all). Mandatory courses apply to every officer in
-- description: service, other courses to the officers who have completed them; an officer who never completed a
-- description: mandatory course is due recert_days after hire.
-- param: as_of date = today : the day compliance is judged on
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- param: course text = '' : only this course (blank = every course with recert_days)
-- columns: course_id, title, mandatory, level, division, unit, officers, current, due_30, due_60, due_90, overdue
-- roles: leadership, evaluator, auditor, admin
SELECT course_id, any_value(title) AS title, any_value(mandatory) AS mandatory,
	CASE WHEN GROUPING(unit) = 0 THEN 'unit' WHEN GROUPING(division) = 0 THEN 'division' ELSE 'all' END AS level,
	division, unit,
	count(*) AS officers,
	count(*) FILTER (WHERE days_left >= 0) AS current,
	count(*) FILTER (WHERE days_left BETWEEN 0 AND 30) AS due_30,
	count(*) FILTER (WHERE days_left BETWEEN 31 AND 60) AS due_60,
	count(*) FILTER (WHERE days_left BETWEEN 61 AND 90) AS due_90,
	count(*) FILTER (WHERE days_left < 0) AS overdue
FROM compliance_status(CAST($as_of AS DATE))
WHERE ($unit = '' OR unit = $unit) AND ($division = '' OR division = $division) AND ($course = '' OR course_id = $course)
GROUP BY GROUPING SETS ((course_id, division, unit), (course_id, division), (course_id))
ORDER BY course_id, division NULLS FIRST, unit NULLS FIRST
