-- name: compliance_trend
-- title: Monthly compliance rate
-- description: At the end of each of the months before as_of (and on as_of itself), the share of officers in service
-- description: who were current on each course with a recertification period (mandatory courses: every officer; other
-- description: courses: officers who had completed it), and over all such courses.
-- param: as_of date = today : the last day of the trend
-- param: months int = 24 : how many months back
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- param: course text = '' : only this course (blank = all)
-- columns: on_date, course_id, officers, current
-- roles: leadership, evaluator, auditor, admin
WITH days AS (
	SELECT CAST(d AS DATE) AS on_date FROM (
		SELECT unnest(generate_series(0, CAST($months AS INTEGER) - 1)) AS i),
		LATERAL (SELECT CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL (i) MONTH - INTERVAL 1 DAY AS DATE) AS d)
	UNION ALL SELECT CAST($as_of AS DATE)
),
rc AS (SELECT course_id, CAST(recert_days AS INTEGER) AS recert_days, coalesce(mandatory, false) AS mandatory FROM courses
	WHERE recert_days IS NOT NULL AND ($course = '' OR course_id = $course)),
grid AS (
	SELECT d.on_date, rc.course_id, rc.recert_days, rc.mandatory, o.officer_id, o.hire_date
	FROM days d, rc, officers o
	WHERE o.hire_date <= d.on_date AND (o.separation_date IS NULL OR o.separation_date >= d.on_date)
		AND ($unit = '' OR o.unit = $unit) AND ($division = '' OR o.division = $division)
),
done AS (SELECT officer_id, course_id, completed_on FROM training WHERE course_id IN (SELECT course_id FROM rc))
SELECT g.on_date, g.course_id, count(*) AS officers,
	count(*) FILTER (WHERE coalesce(t.completed_on, g.hire_date) + g.recert_days >= g.on_date) AS current
FROM grid g ASOF LEFT JOIN done t ON t.officer_id = g.officer_id AND t.course_id = g.course_id AND t.completed_on <= g.on_date
WHERE g.mandatory OR t.completed_on IS NOT NULL
GROUP BY ALL
ORDER BY g.on_date, g.course_id
