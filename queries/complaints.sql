-- name: complaints
-- title: Complaints
-- description: Every complaint received in the period, one row per officer named in it, with the officer's unit and
-- description: division, the allegation as recorded and the finding (blank = not recorded).
-- param: from date = '' : first day (blank = the earliest complaint)
-- param: to date = today : last day
-- param: finding enum(any|sustained|not-sustained|unfounded|exonerated|pending) = any : only this finding
-- param: unit text = '' : only this unit (blank = all)
-- param: division text = '' : only this division (blank = all)
-- columns: complaint_id, officer_id, unit, division, received_on, allegation, finding
-- roles: auditor, admin
SELECT c.complaint_id, c.officer_id, o.unit, o.division, c.received_on, c.allegation, c.finding
FROM complaints c JOIN officers o ON o.officer_id = c.officer_id
WHERE ($from = '' OR c.received_on >= CAST(nullif($from, '') AS DATE))
	AND ($to = '' OR c.received_on <= CAST(nullif($to, '') AS DATE))
	AND ($finding = 'any' OR c.finding = $finding)
	AND ($unit = '' OR o.unit = $unit) AND ($division = '' OR o.division = $division)
ORDER BY c.received_on, c.complaint_id, c.officer_id
