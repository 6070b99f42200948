-- name: outcome_rates
-- title: Outcome rates per officer-year
-- description: Events of one outcome per officer-year of service, grouped by division, unit, year or month, from the
-- description: officer-month panel. Force counts each officer's involvement (an incident with two officers counts once
-- description: for each). Calls for service and events in months with known calls give the rate per 1,000 calls; the
-- description: share of force incidents reviewed and commendations per officer-year come with every group.
-- param: outcome enum(force|complaints|sustained-complaints|injuries|subject-injuries) = force : the outcome
-- param: group_by enum(division|unit|year|month) = division : how to group
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: grp, events, officer_months, officer_years, events_with_calls, calls, force_incidents, reviewed, commendations, deescalation_commendations
-- suppress: events, events_with_calls, force_incidents, reviewed
-- roles: leadership, evaluator, auditor, admin
-- Summed per division, unit, month or year by integer key or date, then named: formatting or grouping by text
-- before summing would do it for every unit-month.
WITH g AS (
	SELECT CASE $group_by WHEN 'division' THEN u.division_key WHEN 'unit' THEN s.unit_key END AS key,
		CASE WHEN $group_by IN ('division', 'unit') THEN NULL WHEN $group_by = 'year' THEN date_trunc('year', s.month) ELSE s.month END AS m,
		sum(CASE $outcome WHEN 'force' THEN n_force WHEN 'complaints' THEN n_complaints WHEN 'sustained-complaints' THEN n_sustained
			WHEN 'injuries' THEN n_injuries ELSE n_subject_injuries END) AS events,
		sum(CASE $outcome WHEN 'force' THEN n_force_wc WHEN 'complaints' THEN n_complaints_wc WHEN 'sustained-complaints' THEN n_sustained_wc
			WHEN 'injuries' THEN n_injuries_wc ELSE n_subject_injuries_wc END) AS events_wc,
		sum(officer_months) AS officer_months, sum(calls) AS calls, sum(n_force) AS n_force, sum(n_reviewed) AS n_reviewed,
		sum(n_commendations) AS n_commendations, sum(n_deesc_commendations) AS n_deesc_commendations
	-- The units selected, with the months the outcome's file covers (see the outcome_units macro).
	FROM panel_units s JOIN outcome_units($outcome, $unit, $division) u ON u.unit_key = s.unit_key AND s.month BETWEEN u.first_month AND u.last_month
	WHERE ($from = '' OR s.month >= CAST($from || '-01' AS DATE)) AND ($to = '' OR s.month <= CAST($to || '-01' AS DATE))
	GROUP BY ALL
),
names AS (
	SELECT division_key AS key, division AS name FROM divisions WHERE $group_by = 'division'
	UNION ALL
	SELECT unit_key, division || ' / ' || unit FROM units WHERE $group_by = 'unit'
)
-- Counts as BIGINT: sum() gives HUGEINT, which the Go driver reads through math/big.
SELECT coalesce(n.name, strftime(g.m, CASE $group_by WHEN 'year' THEN '%Y' ELSE '%Y-%m' END)) AS grp,
	CAST(events AS BIGINT) AS events, CAST(officer_months AS BIGINT) AS officer_months, officer_months / 12.0 AS officer_years,
	CAST(coalesce(events_wc, 0) AS BIGINT) AS events_with_calls, CAST(coalesce(calls, 0) AS BIGINT) AS calls,
	CAST(n_force AS BIGINT) AS force_incidents, CAST(n_reviewed AS BIGINT) AS reviewed,
	CAST(n_commendations AS BIGINT) AS commendations, CAST(n_deesc_commendations AS BIGINT) AS deescalation_commendations
-- Two units may read alike (unit 'A / B' of X and unit 'B' of 'X / A'): they stay two rows, in a fixed order.
FROM g LEFT JOIN names n ON n.key = g.key ORDER BY grp, g.key
