package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// tenEntries returns a database holding a valid log of seq 1..10.
func tenEntries(t *testing.T) *sql.DB {
	t.Helper()
	db, _ := openDB(t)
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := openLog(t, db, Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	for i := range 10 {
		e := Entry{User: fmt.Sprintf("user%d", i), Role: "evaluator", Method: "GET", Route: "/api/compliance",
			Params: "unit=U1", Status: 200, Rows: int64(i), Bytes: int64(100 * i)}
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if r := mustVerify(t, db); !r.OK || r.Entries != 10 {
		t.Fatalf("fresh log: %+v", r)
	}
	return db
}

// insertRow stores e as is, bypassing the log.
func insertRow(t *testing.T, db *sql.DB, e Entry) {
	t.Helper()
	exec(t, db, `INSERT INTO main.audit_log VALUES (?, make_timestamp(CAST(? AS BIGINT)), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Time.UnixMicro(), e.User, e.Role, e.Method, e.Route, e.Params, e.Status, e.Rows, e.Bytes,
		e.ExportSHA256, e.Detail, e.PrevHash, e.Hash)
}

// moveRows rewrites the seq of the rows matching where to newSeq (an expression
// in seq), through a temp table because DuckDB checks the key eagerly.
func moveRows(t *testing.T, db *sql.DB, where, newSeq string) {
	t.Helper()
	exec(t, db, `CREATE OR REPLACE TEMP TABLE moved AS SELECT * FROM main.audit_log WHERE `+where)
	exec(t, db, `DELETE FROM main.audit_log WHERE `+where)
	exec(t, db, `INSERT INTO main.audit_log SELECT `+newSeq+` AS seq, * EXCLUDE (seq) FROM moved`)
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(t *testing.T, db *sql.DB)
		firstBad int64
		reason   string
	}{
		{"edited field", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE main.audit_log SET rows = 999 WHERE seq = 4`)
		}, 4, "seq 4: hash does not match"},
		{"edited time", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE main.audit_log SET occurred_at = occurred_at + INTERVAL 1 MICROSECOND WHERE seq = 6`)
		}, 6, "seq 6: hash does not match"},
		{"edited hash", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE main.audit_log SET hash = upper(hash) WHERE seq = 10`)
		}, 10, "seq 10: hash does not match"},
		{"deleted row", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM main.audit_log WHERE seq = 5`)
		}, 6, "seq 6 found where seq 5 was expected"},
		{"deleted first row", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM main.audit_log WHERE seq = 1`)
		}, 2, "seq 2 found where seq 1 was expected"},
		{"rows swapped", func(t *testing.T, db *sql.DB) {
			moveRows(t, db, `seq IN (3, 7)`, `10 - seq`)
		}, 3, "seq 3: prev_hash does not match the hash of seq 2"},
		{"adjacent rows swapped", func(t *testing.T, db *sql.DB) {
			moveRows(t, db, `seq IN (3, 4)`, `7 - seq`)
		}, 3, "seq 3: prev_hash does not match the hash of seq 2"},
		{"row inserted mid-chain with a valid hash", func(t *testing.T, db *sql.DB) {
			moveRows(t, db, `seq > 5`, `seq + 1`)
			forged := readEntry(t, db, 5)
			forged.Seq, forged.User, forged.PrevHash = 6, "forger", forged.Hash
			forged.Hash = hashEntry(forged)
			insertRow(t, db, forged)
		}, 7, "seq 7: prev_hash does not match the hash of seq 6"},
		{"row appended with a bad hash", func(t *testing.T, db *sql.DB) {
			e := readEntry(t, db, 10)
			e.Seq, e.PrevHash, e.Hash = 11, e.Hash, strings.Repeat("ab", 32)
			insertRow(t, db, e)
		}, 11, "seq 11: hash does not match"},
		{"row edited and re-hashed", func(t *testing.T, db *sql.DB) {
			e := readEntry(t, db, 4)
			e.Rows = 999
			exec(t, db, `UPDATE main.audit_log SET rows = ?, hash = ? WHERE seq = 4`, e.Rows, hashEntry(e))
		}, 5, "seq 5: prev_hash does not match the hash of seq 4"},
		{"genesis replaced", func(t *testing.T, db *sql.DB) {
			e := readEntry(t, db, 1)
			e.PrevHash = strings.Repeat("1", 64)
			exec(t, db, `UPDATE main.audit_log SET prev_hash = ?, hash = ? WHERE seq = 1`, e.PrevHash, hashEntry(e))
		}, 1, "seq 1: prev_hash is not the genesis hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := tenEntries(t)
			c.tamper(t, db)
			r := mustVerify(t, db)
			if r.OK || r.FirstBad != c.firstBad || !strings.HasPrefix(r.Reason, c.reason) {
				t.Errorf("Verify = %+v\nwant FirstBad %d, reason starting %q", r, c.firstBad, c.reason)
			}
		})
	}
}

// TestVerifyTruncation documents what the chain cannot see: removing the newest
// entries leaves a valid chain, and only a LastHash recorded elsewhere shows it.
func TestVerifyTruncation(t *testing.T) {
	db := tenEntries(t)
	before := mustVerify(t, db)
	exec(t, db, `DELETE FROM main.audit_log WHERE seq = 10`)
	after := mustVerify(t, db)
	if !after.OK || after.Entries != 9 || after.LastHash == before.LastHash || after.LastHash != readEntry(t, db, 9).Hash {
		t.Errorf("before %+v, after %+v", before, after)
	}
}

// TestVerifyManyEntries appends 20,000 entries through the log and verifies
// them; the timings are logged, not asserted.
func TestVerifyManyEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 20,000 entries")
	}
	db, _ := openDB(t)
	l := openLog(t, db, Options{MaxBatch: 1000})
	const n, workers = 20000, 100
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := range workers {
		wg.Go(func() {
			for i := range n / workers {
				err := l.Append(ctx, Entry{User: fmt.Sprintf("w%d", w), Method: "GET", Route: "/api/outcomes",
					Params: fmt.Sprintf("i=%d", i), Status: 200, Rows: int64(i), Bytes: 1234})
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	appended := time.Since(start)
	start = time.Now()
	r := mustVerify(t, db)
	t.Logf("append %d: %v; verify: %v", n, appended, time.Since(start))
	if !r.OK || r.Entries != n {
		t.Errorf("Verify = %+v", r)
	}
}
