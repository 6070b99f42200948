-- name: compliance_trend
-- title: Monthly compliance rate
-- description: At the end of each of the months before as_of (and on as_of itself), the share of officers in service
-- description: who were current on each course with a recertification period (mandatory courses: every officer; other
-- description: courses: officers who had completed it), and over all such courses.
-- param: as_of date = today : the last day of the trend
-- param: months int(1..120) = 24 : how many months back
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- param: course text = '' : only this course (blank = all)
-- columns: on_date, course_id, officers, current
-- roles: leadership, evaluator, auditor, admin
WITH days AS (
	SELECT CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL (i) MONTH - INTERVAL 1 DAY AS DATE) AS on_date
	FROM (SELECT unnest(generate_series(0, CAST($months AS INTEGER) - 1)) AS i)
),
want AS (SELECT on_date, year(on_date) * 12 + month(on_date) - 1 AS idx FROM days),
span AS (SELECT min(idx) AS lo, max(idx) AS hi FROM want),
-- Month-ends from the per-unit steps precomputed at import: a step's values hold on the month-ends from its idx
-- to the next step's (until_idx), so each step overlapping the months wanted is spread over those it covers.
held AS (
	SELECT s.course_id, s.officers, s.current,
		unnest(range(greatest(s.idx, span.lo), least(coalesce(s.until_idx, span.hi + 1), span.hi + 1))) AS idx
	FROM compliance_steps s JOIN units u ON u.unit_key = s.unit_key, span
	WHERE s.idx <= span.hi AND coalesce(s.until_idx, span.hi + 1) > span.lo
		AND ($course = '' OR s.course_id = $course) AND ($unit = '' OR u.unit = $unit) AND ($division = '' OR u.division = $division)
),
monthly AS (
	SELECT w.on_date, h.course_id, CAST(sum(h.officers) AS BIGINT) AS officers, CAST(sum(h.current) AS BIGINT) AS current
	FROM held h JOIN want w ON w.idx = h.idx
	GROUP BY ALL HAVING sum(h.officers) > 0
),
-- as_of itself, from the recertification status on that day.
today AS (
	SELECT CAST($as_of AS DATE) AS on_date, course_id, count(*) AS officers, count(*) FILTER (WHERE days_left >= 0) AS current
	FROM compliance_status(CAST($as_of AS DATE))
	WHERE ($unit = '' OR unit = $unit) AND ($division = '' OR division = $division) AND ($course = '' OR course_id = $course)
	GROUP BY ALL
)
SELECT on_date, course_id, officers, current FROM (SELECT * FROM monthly UNION ALL SELECT * FROM today)
ORDER BY on_date, course_id
