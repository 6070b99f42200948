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
-- Incidents counted per highest response and combination of factors first (a few hundred rows), then one row per
-- factor: the incidents are read once, not once per factor.
WITH i AS MATERIALIZED (
	SELECT r, mental_health_crisis AS mh, substance_use AS su, subject_weapon AS sw, count(*) AS n
	FROM placed_incidents($from, $to, $unit, $division) GROUP BY ALL
),
u AS (
	SELECT 'mental_health_crisis' AS factor, mh AS v, r, n FROM i
	UNION ALL SELECT 'substance_use', su, r, n FROM i
	UNION ALL SELECT 'subject_weapon', sw, r, n FROM i
)
SELECT factor, CASE WHEN v THEN 'yes' WHEN NOT v THEN 'no' ELSE 'unknown' END AS value,
	coalesce(['presence', 'communication', 'physical-control-soft', 'physical-control-hard', 'intermediate-weapon', 'lethal-force'][r], 'unknown') AS response,
	CAST(sum(n) AS BIGINT) AS incidents
FROM u GROUP BY ALL ORDER BY factor, value, response
