-- name: training_completions
-- title: Training completions
-- description: Every course completion in the period, one row each, with the officer's unit and division (as the
-- description: officers file now records them) and the course's title and category. Hours are those reported, else the
-- description: course's; delivery is as reported.
-- param: from date = '' : first day (blank = the earliest completion)
-- param: to date = today : last day
-- param: course text = '' : only this course (blank = all)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: officer_id, unit, division, course_id, title, category, completed_on, hours, delivery
-- roles: auditor, admin
SELECT t.officer_id, o.unit, o.division, t.course_id, c.title, c.category, t.completed_on, t.hours, t.delivery
FROM training t JOIN officers o ON o.officer_id = t.officer_id JOIN courses c ON c.course_id = t.course_id
WHERE ($from = '' OR t.completed_on >= CAST(nullif($from, '') AS DATE))
	AND ($to = '' OR t.completed_on <= CAST(nullif($to, '') AS DATE))
	AND ($course = '' OR t.course_id = $course) AND ($unit = '' OR o.unit = $unit) AND ($division = '' OR o.division = $division)
ORDER BY t.completed_on, t.officer_id, t.course_id
