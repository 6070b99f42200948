// Package audit keeps deesc's append-only, hash-chained audit log in the main
// schema of the data's DuckDB database: every API read, export, refusal and
// import is one entry, and each entry carries the hash of the one before it,
// so an edited, deleted, inserted or reordered entry breaks the chain that
// Verify checks.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Entry is one audited event. Callers fill the request fields; the log sets
// Seq, Time, PrevHash and Hash when it writes the entry.
type Entry struct {
	Seq  int64
	Time time.Time

	User, Role, Method, Route string
	Params                    string // canonical query string, keys sorted: "from=2024-01&unit=U1"
	Status                    int
	Rows, Bytes               int64
	ExportSHA256              string
	Detail                    string // e.g. "import v3", "dataset version 4"

	PrevHash, Hash string
}

// Genesis is the prev_hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// EnsureSchema creates main.audit_log if it does not exist. It fails only when
// the statement fails (a read-only database, a closed handle).
func EnsureSchema(ctx context.Context, db *sql.DB) error {
	// Qualified with main. so that a connection whose search_path points at a
	// dataset schema still finds the log where it belongs.
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS main.audit_log (
		seq           BIGINT PRIMARY KEY,
		occurred_at   TIMESTAMP NOT NULL,
		user_name     VARCHAR NOT NULL,
		role          VARCHAR NOT NULL,
		method        VARCHAR NOT NULL,
		route         VARCHAR NOT NULL,
		params        VARCHAR NOT NULL,
		status        INTEGER NOT NULL,
		rows          BIGINT NOT NULL,
		bytes         BIGINT NOT NULL,
		export_sha256 VARCHAR NOT NULL,
		detail        VARCHAR NOT NULL,
		prev_hash     VARCHAR NOT NULL,
		hash          VARCHAR NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("audit.EnsureSchema: %w", err)
	}
	return nil
}

// The canonical encoding of an entry is its fields in table order, each
// followed by '|': seq, occurred_at as microseconds since the Unix epoch,
// user_name, role, method, route, params, status, rows, bytes, export_sha256,
// detail. Integers are in decimal; in text fields '\' becomes '\\' and '|'
// becomes '\|', so the encoding is unambiguous. The hash of an entry is the
// lower-case hex SHA-256 of canonical + prev_hash.
//
// canonical (Go) and canonicalSQL (DuckDB) must produce identical strings;
// TestCanonicalGoMatchesSQL checks that they do.
func canonical(e Entry) string {
	var b strings.Builder
	b.Grow(128 + len(e.Params) + len(e.Detail) + len(e.Route))
	num := func(n int64) {
		b.WriteString(strconv.FormatInt(n, 10))
		b.WriteByte('|')
	}
	text := func(s string) {
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' || s[i] == '|' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('|')
	}
	num(e.Seq)
	num(e.Time.UnixMicro())
	text(e.User)
	text(e.Role)
	text(e.Method)
	text(e.Route)
	text(e.Params)
	num(int64(e.Status))
	num(e.Rows)
	num(e.Bytes)
	text(e.ExportSHA256)
	text(e.Detail)
	return b.String()
}

// canonicalSQL is canonical as a DuckDB expression over an audit_log row. Any
// NULL makes it NULL, and so never equal to a stored hash.
const canonicalSQL = `CAST(seq AS VARCHAR) || '|' ||
	CAST(epoch_us(occurred_at) AS VARCHAR) || '|' ||
	replace(replace(user_name, '\', '\\'), '|', '\|') || '|' ||
	replace(replace(role, '\', '\\'), '|', '\|') || '|' ||
	replace(replace(method, '\', '\\'), '|', '\|') || '|' ||
	replace(replace(route, '\', '\\'), '|', '\|') || '|' ||
	replace(replace(params, '\', '\\'), '|', '\|') || '|' ||
	CAST(status AS VARCHAR) || '|' ||
	CAST(rows AS VARCHAR) || '|' ||
	CAST(bytes AS VARCHAR) || '|' ||
	replace(replace(export_sha256, '\', '\\'), '|', '\|') || '|' ||
	replace(replace(detail, '\', '\\'), '|', '\|') || '|'`

// hashEntry returns the hex SHA-256 of the entry's canonical encoding followed
// by its PrevHash.
func hashEntry(e Entry) string {
	sum := sha256.Sum256([]byte(canonical(e) + e.PrevHash))
	return hex.EncodeToString(sum[:])
}
