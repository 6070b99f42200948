-- name: compliance_overdue
-- title: Officers overdue on recertification
-- description: Officers in service on as_of whose recertification has lapsed, with the course, the last completion
-- description: (blank if never completed), the day it expired and how many days overdue, most overdue first.
-- param: as_of date = today : the day compliance is judged on
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- param: course text = '' : only this course (blank = all)
-- param: mandatory_only enum(false|true) = false : only mandatory courses
-- columns: officer_id, unit, division, course_id, title, mandatory, last_completed, expires_on, days_overdue
-- roles: leadership, auditor, admin
SELECT officer_id, unit, division, course_id, title, mandatory, last_completed, expires_on, -days_left AS days_overdue
FROM compliance_status(CAST($as_of AS DATE))
WHERE days_left < 0
	AND ($unit = '' OR unit = $unit) AND ($division = '' OR division = $division) AND ($course = '' OR course_id = $course)
	AND ($mandatory_only = 'false' OR mandatory)
ORDER BY days_overdue DESC, officer_id, course_id
