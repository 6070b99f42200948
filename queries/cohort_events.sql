-- name: cohort_events
-- title: Officer-months with events of an outcome
-- description: The officer-months of the period with at least one event of the outcome, as month indices (year × 12 +
-- description: month − 1), with the count: the rows of cohort_officer_months whose events are not zero. Every other
-- description: officer-month of cohort_officer_runs has none.
-- param: outcome enum(force|complaints|sustained-complaints|injuries|subject-injuries) = force : the outcome
-- param: from month = '' : first month (blank = the data's first)
-- param: to month = '' : last month (blank = the data's last)
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: officer_key, month_index, events
-- export_order: officer_key, month_index
-- roles: evaluator, auditor, admin
SELECT officer_key, month_index, events FROM outcome_months($outcome, $from, $to, $unit, $division)
WHERE events > 0
ORDER BY officer_key, month_index
