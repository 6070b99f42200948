-- name: force_incidents
-- title: Use-of-force reports
-- description: Every use-of-force report in the period, one row per officer per incident, with the IMIM subject
-- description: behaviour and the officer's response, the situational factors, injuries, review and the subject's
-- description: recorded race, gender and age. incident_unit and incident_division are where the incident belongs (the
-- description: unit recorded on it, else its first officer's), as in every force dashboard; officer_unit and
-- description: officer_division are the officer's. The unit and division filters select whole incidents.
-- param: from date = '' : first day (blank = the earliest incident)
-- param: to date = today : last day
-- param: unit text = '' : only incidents of this unit (blank = all)
-- param: division text = '' : only incidents of this division (blank = all)
-- columns: incident_id, occurred_on, officer_id, officer_unit, officer_division, incident_unit, incident_division, subject_behaviour, response, weapon, subject_injured, officer_injured, mental_health_crisis, substance_use, subject_weapon, de_escalation_attempted, reviewed, subject_race, subject_gender, subject_age
-- roles: auditor, admin
SELECT f.incident_id, f.occurred_on, f.officer_id, o.unit AS officer_unit, o.division AS officer_division,
	f.incident_unit, f.incident_division, f.subject_behaviour, f.response, f.weapon, f.subject_injured, f.officer_injured,
	f.mental_health_crisis, f.substance_use, f.subject_weapon, f.de_escalation_attempted, f.reviewed,
	f.subject_race, f.subject_gender, f.subject_age
FROM force_rows('', '', $unit, $division) f JOIN officers o ON o.officer_id = f.officer_id
WHERE ($from = '' OR f.occurred_on >= CAST(nullif($from, '') AS DATE))
	AND ($to = '' OR f.occurred_on <= CAST(nullif($to, '') AS DATE))
ORDER BY f.occurred_on, f.incident_id, f.officer_id
