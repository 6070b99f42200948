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
WITH p AS (
	SELECT s.*, u.unit, u.division FROM panel_units s JOIN units u ON u.unit_key = s.unit_key
	WHERE ($from = '' OR s.month >= CAST($from || '-01' AS DATE)) AND ($to = '' OR s.month <= CAST($to || '-01' AS DATE))
		AND ($unit = '' OR u.unit = $unit) AND ($division = '' OR u.division = $division)
		AND s.month BETWEEN outcome_first($outcome) AND outcome_last($outcome)
),
g AS (
	SELECT CASE $group_by WHEN 'division' THEN division WHEN 'unit' THEN division || ' / ' || unit
			WHEN 'year' THEN strftime(month, '%Y') ELSE strftime(month, '%Y-%m') END AS grp,
		CASE $outcome WHEN 'force' THEN n_force WHEN 'complaints' THEN n_complaints WHEN 'sustained-complaints' THEN n_sustained
			WHEN 'injuries' THEN n_injuries ELSE n_subject_injuries END AS events,
		CASE $outcome WHEN 'force' THEN n_force_wc WHEN 'complaints' THEN n_complaints_wc WHEN 'sustained-complaints' THEN n_sustained_wc
			WHEN 'injuries' THEN n_injuries_wc ELSE n_subject_injuries_wc END AS events_wc,
		officer_months, calls, n_force, n_reviewed, n_commendations, n_deesc_commendations
	FROM p
)
SELECT grp, sum(events) AS events, sum(officer_months) AS officer_months, sum(officer_months) / 12.0 AS officer_years,
	coalesce(sum(events_wc), 0) AS events_with_calls, coalesce(sum(calls), 0) AS calls,
	sum(n_force) AS force_incidents, sum(n_reviewed) AS reviewed, sum(n_commendations) AS commendations,
	sum(n_deesc_commendations) AS deescalation_commendations
FROM g GROUP BY grp ORDER BY grp
