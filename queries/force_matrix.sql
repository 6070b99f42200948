-- name: force_matrix
-- title: IMIM subject behaviour by highest officer response
-- description: Use-of-force incidents counted once each, by the subject's behaviour (IMIM categories) and the highest
-- description: response any officer used, in a period; blank categories are "unknown". An incident belongs to the unit
-- description: recorded on it, else to the unit of its officer.
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: subject_behaviour, response, incidents
-- roles: leadership, evaluator, auditor, admin
WITH f AS (
	SELECT f.incident_id,
		list_position(['cooperative', 'passive-resistant', 'active-resistant', 'assaultive', 'grievous-bodily-harm-or-death'], f.subject_behaviour) AS b,
		list_position(['presence', 'communication', 'physical-control-soft', 'physical-control-hard', 'intermediate-weapon', 'lethal-force'], f.response) AS r
	FROM use_of_force f JOIN officers o ON o.officer_id = f.officer_id
	WHERE ($from = '' OR f.occurred_on >= CAST($from || '-01' AS DATE))
		AND ($to = '' OR f.occurred_on < CAST($to || '-01' AS DATE) + INTERVAL 1 MONTH)
		AND ($unit = '' OR coalesce(f.unit, o.unit) = $unit) AND ($division = '' OR o.division = $division)
),
i AS (SELECT incident_id, max(b) AS b, max(r) AS r FROM f GROUP BY incident_id)
SELECT coalesce(['cooperative', 'passive-resistant', 'active-resistant', 'assaultive', 'grievous-bodily-harm-or-death'][b], 'unknown') AS subject_behaviour,
	coalesce(['presence', 'communication', 'physical-control-soft', 'physical-control-hard', 'intermediate-weapon', 'lethal-force'][r], 'unknown') AS response,
	count(*) AS incidents
FROM i GROUP BY ALL ORDER BY subject_behaviour, response
