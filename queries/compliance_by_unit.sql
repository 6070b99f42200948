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
WITH per_unit AS (
	SELECT course_id, any_value(title) AS title, any_value(mandatory) AS mandatory, unit_key,
		count(*) AS officers,
		count(*) FILTER (WHERE days_left >= 0) AS current,
		count(*) FILTER (WHERE days_left BETWEEN 0 AND 30) AS due_30,
		count(*) FILTER (WHERE days_left BETWEEN 31 AND 60) AS due_60,
		count(*) FILTER (WHERE days_left BETWEEN 61 AND 90) AS due_90,
		count(*) FILTER (WHERE days_left < 0) AS overdue
	FROM compliance_status(CAST($as_of AS DATE))
	WHERE ($unit = '' OR unit = $unit) AND ($division = '' OR division = $division) AND ($course = '' OR course_id = $course)
	GROUP BY course_id, unit_key
)
SELECT p.course_id, any_value(p.title) AS title, any_value(p.mandatory) AS mandatory,
	CASE WHEN GROUPING(u.unit) = 0 THEN 'unit' WHEN GROUPING(u.division) = 0 THEN 'division' ELSE 'all' END AS level,
	u.division, u.unit,
	CAST(sum(p.officers) AS BIGINT) AS officers, CAST(sum(p.current) AS BIGINT) AS current,
	CAST(sum(p.due_30) AS BIGINT) AS due_30, CAST(sum(p.due_60) AS BIGINT) AS due_60,
	CAST(sum(p.due_90) AS BIGINT) AS due_90, CAST(sum(p.overdue) AS BIGINT) AS overdue
FROM per_unit p JOIN units u ON u.unit_key = p.unit_key
GROUP BY GROUPING SETS ((p.course_id, u.division, u.unit), (p.course_id, u.division), (p.course_id))
ORDER BY p.course_id, u.division NULLS FIRST, u.unit NULLS FIRST
