-- name: dose_officer_months
-- title: Officer-months with trailing de-escalation hours
-- description: One row per officer-month of the panel in the period: the officer's de-escalation training hours
-- description: completed in the trailing window of months (the month itself and the window-1 before it), and the month's
-- description: count of the outcome. The input of the dose-response analysis.
-- param: outcome enum(force|complaints|sustained-complaints|injuries|subject-injuries) = force : the outcome
-- param: window int(1..120) = 12 : trailing months of training counted
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: officer_key, month, month_index, hours, events, exposure
-- export_order: officer_key, month_index
-- roles: evaluator, auditor, admin
WITH info AS (SELECT deescalation_categories AS dc FROM panel_info),
p AS (SELECT * FROM outcome_months($outcome, $from, $to, $unit, $division)),
-- Any other window: the cumulative hours less those up to window months before, as of each month.
deesc AS (
	SELECT k.officer_key, h.month, sum(sum(h.hours)) OVER (PARTITION BY k.officer_key ORDER BY h.month) AS cum
	FROM training_hours h JOIN officer_keys k ON k.officer_id = h.officer_id, info
	WHERE $window <> 12 AND list_contains(info.dc, replace(replace(lower(h.category), '_', '-'), ' ', '-'))
	GROUP BY k.officer_key, h.month
),
windowed AS (
	-- Twelve months, the default, are stored in the panel (the month and the eleven before it).
	SELECT officer_key, month, month_index, exposure, events, deesc_hours_12m AS hours FROM p WHERE $window = 12
	UNION ALL
	SELECT p.officer_key, p.month, p.month_index, p.exposure, p.events, p.deesc_hours_cum - coalesce(d.cum, 0)
	FROM p ASOF LEFT JOIN deesc d ON d.officer_key = p.officer_key AND d.month <= p.month - to_months(CAST($window AS INTEGER))
	WHERE $window <> 12
)
-- Hours to six decimals, so sums that differ in their last bits fall in one cell: round(x * 1e6) / 1e6 is how
-- DuckDB computes round(x, 6), without working out 10^6 again for every row (half the time of the query).
SELECT officer_key, month, month_index, round(hours * 1000000) / 1000000 AS hours, events, exposure
FROM windowed
