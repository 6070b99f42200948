package audit

import (
	"context"
	"database/sql"
	"fmt"
)

// Report is the outcome of Verify.
type Report struct {
	Entries  int64  // rows in the log
	OK       bool   // the whole chain verifies
	FirstBad int64  // seq of the first row that fails a check; 0 when OK
	Reason   string // why FirstBad fails; "" when OK
	LastHash string // hash of the newest row (Genesis for an empty log); record it elsewhere to detect truncation
}

// verifySQL checks every row at once, in seq order: seq must equal its row
// number, prev_hash the previous row's hash (Genesis for the first), and hash
// the SHA-256 of the row's canonical encoding and prev_hash. It returns one row:
// the count, the newest hash, and the first failing row with the check it
// failed (NULLs when none fails).
const verifySQL = `WITH chain AS (
	SELECT seq, prev_hash, hash,
		row_number() OVER w AS want_seq,
		lag(seq) OVER w AS prior_seq,
		coalesce(lag(hash) OVER w, $genesis) AS want_prev,
		sha256(` + canonicalSQL + ` || prev_hash) AS want_hash
	FROM main.audit_log
	WINDOW w AS (ORDER BY seq)
), bad AS (
	SELECT seq, want_seq, prior_seq,
		CASE WHEN seq <> want_seq THEN 'seq'
		     WHEN prev_hash IS DISTINCT FROM want_prev THEN 'prev_hash'
		     ELSE 'hash' END AS fault
	FROM chain
	WHERE seq <> want_seq OR prev_hash IS DISTINCT FROM want_prev OR hash IS DISTINCT FROM want_hash
	ORDER BY seq
	LIMIT 1
)
SELECT (SELECT count(*) FROM chain),
	coalesce((SELECT arg_max(hash, seq) FROM chain), $genesis),
	bad.seq, bad.want_seq, bad.prior_seq, bad.fault
FROM (SELECT 1) AS one LEFT JOIN bad ON true`

// Verify checks the whole chain in one set-based query and reports the first
// row that breaks it. A broken chain is a Report with OK false, not an error;
// Verify fails only when the log cannot be read (no audit_log table, a closed
// handle).
func Verify(ctx context.Context, db *sql.DB) (Report, error) {
	var (
		r                         Report
		badSeq, wantSeq, priorSeq sql.NullInt64
		fault                     sql.NullString
	)
	err := db.QueryRowContext(ctx, verifySQL, sql.Named("genesis", Genesis)).
		Scan(&r.Entries, &r.LastHash, &badSeq, &wantSeq, &priorSeq, &fault)
	if err != nil {
		return Report{}, fmt.Errorf("audit.Verify: %w", err)
	}
	if !fault.Valid {
		r.OK = true
		return r, nil
	}
	r.FirstBad = badSeq.Int64
	switch fault.String {
	case "seq":
		r.Reason = fmt.Sprintf("seq %d found where seq %d was expected: entries were deleted, inserted or renumbered",
			badSeq.Int64, wantSeq.Int64)
	case "prev_hash":
		if priorSeq.Valid {
			r.Reason = fmt.Sprintf("seq %d: prev_hash does not match the hash of seq %d: that entry was altered and re-hashed, or an entry was inserted or removed between them",
				badSeq.Int64, priorSeq.Int64)
		} else {
			r.Reason = fmt.Sprintf("seq %d: prev_hash is not the genesis hash", badSeq.Int64)
		}
	default:
		r.Reason = fmt.Sprintf("seq %d: hash does not match the entry's contents: the entry was altered", badSeq.Int64)
	}
	return r, nil
}
