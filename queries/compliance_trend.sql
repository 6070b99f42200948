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
	SELECT CAST(d AS DATE) AS on_date FROM (
		SELECT unnest(generate_series(0, CAST($months AS INTEGER) - 1)) AS i),
		LATERAL (SELECT CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL (i) MONTH - INTERVAL 1 DAY AS DATE) AS d)
	UNION ALL SELECT CAST($as_of AS DATE)
),
rc AS (SELECT course_id, CAST(recert_days AS INTEGER) AS recert_days, coalesce(mandatory, false) AS mandatory FROM courses
	WHERE recert_days IS NOT NULL AND ($course = '' OR course_id = $course)),
o AS (
	SELECT officer_id, hire_date, coalesce(separation_date, DATE '9999-12-31') AS sep FROM officers
	WHERE ($unit = '' OR unit = $unit) AND ($division = '' OR division = $division)
),
t AS (SELECT t.officer_id, t.course_id, t.completed_on FROM training t JOIN rc USING (course_id) SEMI JOIN o USING (officer_id)),
firsts AS (SELECT officer_id, course_id, min(completed_on) AS first_on FROM t GROUP BY ALL),
-- Each completion covers the days from it until it expires or the next completion, whichever is first, so an
-- officer-course's intervals never overlap; a mandatory course's hire grace covers hire to hire + recert_days or
-- the first completion.
covered AS (
	SELECT t.officer_id, t.course_id, t.completed_on AS s,
		least(coalesce(lead(t.completed_on) OVER (PARTITION BY t.officer_id, t.course_id ORDER BY t.completed_on) - 1, DATE '9999-12-31'),
			CAST(t.completed_on + rc.recert_days AS DATE)) AS e
	FROM t JOIN rc USING (course_id)
	UNION ALL
	SELECT o.officer_id, rc.course_id, o.hire_date AS s,
		least(coalesce(f.first_on - 1, DATE '9999-12-31'), CAST(o.hire_date + rc.recert_days AS DATE)) AS e
	FROM o CROSS JOIN rc LEFT JOIN firsts f ON f.officer_id = o.officer_id AND f.course_id = rc.course_id
	WHERE rc.mandatory
),
in_service AS (
	SELECT d.on_date, count(*) AS officers FROM days d JOIN o ON o.hire_date <= d.on_date AND o.sep >= d.on_date GROUP BY ALL
),
applicable AS (
	SELECT s.on_date, rc.course_id, s.officers FROM in_service s CROSS JOIN rc WHERE rc.mandatory
	UNION ALL
	SELECT d.on_date, f.course_id, count(*) AS officers
	FROM days d JOIN firsts f ON f.first_on <= d.on_date JOIN rc ON rc.course_id = f.course_id AND NOT rc.mandatory
	JOIN o ON o.officer_id = f.officer_id AND o.hire_date <= d.on_date AND o.sep >= d.on_date
	GROUP BY ALL
),
current AS (
	SELECT d.on_date, c.course_id, count(*) AS current
	FROM days d JOIN covered c ON d.on_date BETWEEN c.s AND c.e JOIN o ON o.officer_id = c.officer_id
	WHERE o.hire_date <= d.on_date AND o.sep >= d.on_date
	GROUP BY ALL
)
SELECT a.on_date, a.course_id, a.officers, coalesce(c.current, 0) AS current
FROM applicable a LEFT JOIN current c USING (on_date, course_id)
ORDER BY a.on_date, a.course_id
