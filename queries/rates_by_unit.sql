-- name: rates_by_unit
-- title: Force, complaint and injury rates per officer-year, by unit
-- description: For each unit, from the officer-month panel (summed per unit and month) in the months from..to:
-- description: officer-years of service, and the use-of-force involvements (an incident with two officers counts once
-- description: for each), complaints and officer injuries with their rates per officer-year. Each rate counts only
-- description: the months its own file covers (outcome_first..outcome_last), so when the files cover different spans a
-- description: rate can differ from the count divided by officer_years; a rate is blank when the unit has no such months.
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: division text = '' : only this division (blank = all)
-- columns: division, unit, officer_years, n_force, force_rate, n_complaints, complaint_rate, n_injuries, injury_rate
-- suppress: n_force(force_rate), n_complaints(complaint_rate), n_injuries(injury_rate)
-- roles: leadership, evaluator, auditor, admin
WITH spans AS (
	SELECT outcome_first('force') AS f1, outcome_last('force') AS f2, outcome_first('complaints') AS c1,
		outcome_last('complaints') AS c2, outcome_first('injuries') AS i1, outcome_last('injuries') AS i2
),
-- The panel summed per unit and month (panel_units): a few thousand rows rather than every officer-month.
p AS (
	SELECT u.division, u.unit, p.month, p.officer_months, p.n_force, p.n_complaints, p.n_injuries
	FROM panel_units p JOIN units u ON u.unit_key = p.unit_key
	WHERE ($from = '' OR p.month >= CAST(nullif($from, '') || '-01' AS DATE))
		AND ($to = '' OR p.month <= CAST(nullif($to, '') || '-01' AS DATE))
		AND ($division = '' OR u.division = $division)
),
g AS (
	SELECT division, unit, sum(officer_months) / 12.0 AS officer_years,
		CAST(coalesce(sum(n_force) FILTER (WHERE month BETWEEN f1 AND f2), 0) AS BIGINT) AS n_force,
		coalesce(sum(officer_months) FILTER (WHERE month BETWEEN f1 AND f2), 0) / 12.0 AS force_years,
		CAST(coalesce(sum(n_complaints) FILTER (WHERE month BETWEEN c1 AND c2), 0) AS BIGINT) AS n_complaints,
		coalesce(sum(officer_months) FILTER (WHERE month BETWEEN c1 AND c2), 0) / 12.0 AS complaint_years,
		CAST(coalesce(sum(n_injuries) FILTER (WHERE month BETWEEN i1 AND i2), 0) AS BIGINT) AS n_injuries,
		coalesce(sum(officer_months) FILTER (WHERE month BETWEEN i1 AND i2), 0) / 12.0 AS injury_years
	FROM p, spans GROUP BY division, unit
)
SELECT division, unit, officer_years, n_force, n_force / nullif(force_years, 0) AS force_rate,
	n_complaints, n_complaints / nullif(complaint_years, 0) AS complaint_rate,
	n_injuries, n_injuries / nullif(injury_years, 0) AS injury_rate
FROM g ORDER BY division, unit
