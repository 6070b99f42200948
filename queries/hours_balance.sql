-- name: hours_balance
-- title: De-escalation and use-of-force training hours per officer-year, by unit
-- description: Hours of de-escalation-category and use-of-force-category training completed by each unit's officers
-- description: in the twelve months to as_of, per officer-year of service in those months (the categories are those
-- description: the dataset's panel was built with).
-- param: as_of date = today : the end of the twelve months
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: division, unit, officer_years, deescalation_hours, use_of_force_hours
-- roles: leadership, evaluator, auditor, admin
WITH span AS (
	SELECT CAST(date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 11 MONTH AS DATE) AS first_month,
		CAST(date_trunc('month', CAST($as_of AS DATE)) AS DATE) AS last_month
),
-- Officer-years per unit from the panel's unit-month sums.
exposure AS (
	SELECT unit_key, sum(officer_months) / 12.0 AS officer_years FROM panel_units, span
	WHERE month BETWEEN span.first_month AND span.last_month GROUP BY ALL
),
-- Hours per unit from the per-unit, per-day sums written at import (unit_training_days).
hours AS (
	SELECT h.unit_key, sum(h.deescalation_hours) AS deescalation_hours, sum(h.use_of_force_hours) AS use_of_force_hours
	FROM unit_training_days h, span
	WHERE h.completed_on BETWEEN span.first_month AND CAST($as_of AS DATE)
	GROUP BY ALL
)
SELECT u.division, u.unit, e.officer_years, coalesce(h.deescalation_hours, 0) AS deescalation_hours,
	coalesce(h.use_of_force_hours, 0) AS use_of_force_hours
FROM units u JOIN exposure e ON e.unit_key = u.unit_key LEFT JOIN hours h ON h.unit_key = u.unit_key
WHERE ($unit = '' OR u.unit = $unit) AND ($division = '' OR u.division = $division)
ORDER BY u.division, u.unit
