-- name: disparities
-- title: Use-of-force incidents by subject race or gender
-- description: Use-of-force incidents counted once each by a subject attribute (blank = "unknown"), with the incidents
-- description: in which the subject was injured, in a period.
-- param: by enum(subject_race|subject_gender) = subject_race : the subject attribute
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: grp, incidents, subject_injured
-- suppress: incidents, subject_injured
-- roles: leadership, evaluator, auditor, admin
WITH i AS (
	SELECT CASE $by WHEN 'subject_race' THEN subject_race ELSE subject_gender END AS grp, subject_injured AS injured
	FROM placed_incidents($from, $to, $unit, $division)
)
SELECT coalesce(grp, 'unknown') AS grp, count(*) AS incidents, count(*) FILTER (WHERE injured) AS subject_injured
FROM i GROUP BY ALL ORDER BY incidents DESC, grp
