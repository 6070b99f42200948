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
-- suppress: incidents
-- roles: leadership, evaluator, auditor, admin
SELECT coalesce(['cooperative', 'passive-resistant', 'active-resistant', 'assaultive', 'grievous-bodily-harm-or-death'][b], 'unknown') AS subject_behaviour,
	coalesce(['presence', 'communication', 'physical-control-soft', 'physical-control-hard', 'intermediate-weapon', 'lethal-force'][r], 'unknown') AS response,
	count(*) AS incidents
FROM placed_incidents($from, $to, $unit, $division) GROUP BY ALL ORDER BY subject_behaviour, response
