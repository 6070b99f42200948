-- name: force_factors
-- title: Situational factors of use-of-force incidents by highest response
-- description: Use-of-force incidents counted once each, by whether the subject was in a mental-health crisis, had used
-- description: substances or had a weapon (yes, no, unknown), and by the highest response any officer used.
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: factor, value, response, incidents
-- suppress: incidents
-- roles: leadership, evaluator, auditor, admin
WITH u AS (
	UNPIVOT (SELECT incident_id, r, coalesce(CAST(mental_health_crisis AS VARCHAR), 'unknown') AS mental_health_crisis,
		coalesce(CAST(substance_use AS VARCHAR), 'unknown') AS substance_use, coalesce(CAST(subject_weapon AS VARCHAR), 'unknown') AS subject_weapon
		FROM placed_incidents($from, $to, $unit, $division))
	ON mental_health_crisis, substance_use, subject_weapon INTO NAME factor VALUE v
)
SELECT factor, CASE v WHEN 'true' THEN 'yes' WHEN 'false' THEN 'no' ELSE 'unknown' END AS value,
	coalesce(['presence', 'communication', 'physical-control-soft', 'physical-control-hard', 'intermediate-weapon', 'lethal-force'][r], 'unknown') AS response,
	count(*) AS incidents
FROM u GROUP BY ALL ORDER BY factor, value, response
