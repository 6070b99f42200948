-- name: audit_log
-- title: Audit log
-- description: The entries of the audit log recorded in the period, in order: who (user and role) asked what (method,
-- description: route, parameters), the answer's status, rows and bytes, the SHA-256 of an export, and the hash chain
-- description: (each entry's hash covers the previous entry's hash, so a removed or altered entry breaks the chain).
-- param: from date = '' : first day (blank = the first entry)
-- param: to date = today : last day
-- param: user text = '' : only this user (blank = all)
-- columns: seq, occurred_at, user_name, role, method, route, params, status, rows, bytes, export_sha256, detail, prev_hash, hash
-- roles: auditor, admin
SELECT seq, occurred_at, user_name, role, method, route, params, status, "rows", bytes, export_sha256, detail, prev_hash, hash
FROM main.audit_log
WHERE ($from = '' OR occurred_at >= CAST(nullif($from, '') AS DATE))
	AND ($to = '' OR occurred_at < CAST(nullif($to, '') AS DATE) + INTERVAL 1 DAY)
	AND ($user = '' OR user_name = $user)
ORDER BY seq
