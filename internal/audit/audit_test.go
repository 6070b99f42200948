package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// openDB opens a fresh on-disk DuckDB in a temp dir.
func openDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// openLog opens a Log on db and closes it when the test ends.
func openLog(t testing.TB, db *sql.DB, opt Options) *Log {
	t.Helper()
	l, err := Open(context.Background(), db, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// readEntry reads the stored row seq back into an Entry.
func readEntry(t testing.TB, db *sql.DB, seq int64) Entry {
	t.Helper()
	var e Entry
	var us int64
	err := db.QueryRow(`SELECT seq, epoch_us(occurred_at), user_name, role, method, route, params, status,
		rows, bytes, export_sha256, detail, prev_hash, hash FROM main.audit_log WHERE seq = $seq`, sql.Named("seq", seq)).
		Scan(&e.Seq, &us, &e.User, &e.Role, &e.Method, &e.Route, &e.Params, &e.Status,
			&e.Rows, &e.Bytes, &e.ExportSHA256, &e.Detail, &e.PrevHash, &e.Hash)
	if err != nil {
		t.Fatalf("reading seq %d: %v", seq, err)
	}
	e.Time = time.UnixMicro(us).UTC()
	return e
}

func exec(t testing.TB, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func mustVerify(t testing.TB, db *sql.DB) Report {
	t.Helper()
	r, err := Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHashGolden pins the canonical encoding and hash of one entry; the hash
// was computed independently with
//
//	printf '%s' '1|1709294400123456|ana\|b\\c|auditor|GET|/api/compliance|from=2024-01&unit=U1|200|12|3456||dataset version 4|0000…0000' | sha256sum
func TestHashGolden(t *testing.T) {
	e := Entry{
		Seq: 1, Time: time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC),
		User: `ana|b\c`, Role: "auditor", Method: "GET", Route: "/api/compliance",
		Params: "from=2024-01&unit=U1", Status: 200, Rows: 12, Bytes: 3456,
		Detail: "dataset version 4", PrevHash: Genesis,
	}
	wantCanon := `1|1709294400123456|ana\|b\\c|auditor|GET|/api/compliance|from=2024-01&unit=U1|200|12|3456||dataset version 4|`
	if got := canonical(e); got != wantCanon {
		t.Errorf("canonical:\n got %s\nwant %s", got, wantCanon)
	}
	if got, want := hashEntry(e), "e84feaf3acd96d01f774aef268c81c2332c17584b7f1e3b5db727adfd34cf3bb"; got != want {
		t.Errorf("hash = %s, want %s", got, want)
	}
}

// TestCanonicalGoMatchesSQL writes awkward entries through the log and checks
// that DuckDB's canonical encoding and hash of each stored row equal Go's.
func TestCanonicalGoMatchesSQL(t *testing.T) {
	db, _ := openDB(t)
	now := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 5*3600))
	l := openLog(t, db, Options{Now: func() time.Time { return now }})
	awkward := []Entry{
		{User: "ana", Role: "auditor", Method: "GET", Route: "/api/x", Params: "a=1&b=2", Status: 200, Rows: 3, Bytes: 99},
		{User: `pipe|and\back\\slash\|`, Route: "|", Params: `\`, Status: -1, Rows: -5},
		{User: "é ünïcødé 警察 🚓", Detail: "line1\nline2\ttab\r\x00nul"},
		{User: "bad utf8 \xff\xfe", Detail: "import v3"},
		{},
		{ExportSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Status: 2147483647, Rows: 1 << 62, Bytes: -1 << 63},
	}
	for _, e := range awkward {
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatalf("Append %+v: %v", e, err)
		}
	}
	rows, err := db.Query(`SELECT seq, ` + canonicalSQL + `, sha256(` + canonicalSQL + ` || prev_hash) FROM main.audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var seq int64
		var canonSQL, hashSQL string
		if err := rows.Scan(&seq, &canonSQL, &hashSQL); err != nil {
			t.Fatal(err)
		}
		e := readEntry(t, db, seq)
		if got := canonical(e); got != canonSQL {
			t.Errorf("seq %d canonical:\n Go  %q\n SQL %q", seq, got, canonSQL)
		}
		if got := hashEntry(e); got != hashSQL || got != e.Hash {
			t.Errorf("seq %d hash: Go %s, SQL %s, stored %s", seq, got, hashSQL, e.Hash)
		}
		if want := time.Date(2024, 3, 1, 7, 0, 0, 123456000, time.UTC); !e.Time.Equal(want) {
			t.Errorf("seq %d time = %v, want %v (UTC, truncated to µs)", seq, e.Time, want)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(awkward) {
		t.Fatalf("%d rows, want %d", n, len(awkward))
	}
	if e := readEntry(t, db, 4); e.User != "bad utf8 \uFFFD" {
		t.Errorf("invalid UTF-8 stored as %q, want it replaced", e.User)
	}
	if r := mustVerify(t, db); !r.OK || r.Entries != int64(len(awkward)) {
		t.Errorf("Verify = %+v", r)
	}
}

func TestConcurrentAppend(t *testing.T) {
	for _, opt := range []Options{{MaxBatch: 16}, {MaxBatch: 256, MaxDelay: 2 * time.Millisecond}} {
		t.Run(fmt.Sprintf("batch%d_delay%s", opt.MaxBatch, opt.MaxDelay), func(t *testing.T) {
			db, _ := openDB(t)
			l := openLog(t, db, opt)
			const goroutines, each = 50, 20
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			errs := make(chan error, goroutines*each)
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						errs <- l.Append(ctx, Entry{User: fmt.Sprintf("u%d", g), Method: "GET", Route: "/api/r",
							Params: fmt.Sprintf("i=%d", i), Status: 200, Rows: int64(i)})
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var n, minSeq, maxSeq, users, perUser int64
			err := db.QueryRow(`SELECT count(*), min(seq), max(seq), count(DISTINCT user_name),
				count(DISTINCT user_name || params) FROM main.audit_log`).Scan(&n, &minSeq, &maxSeq, &users, &perUser)
			if err != nil {
				t.Fatal(err)
			}
			if n != goroutines*each || minSeq != 1 || maxSeq != n || users != goroutines || perUser != n {
				t.Errorf("count %d, seq %d..%d, users %d, distinct entries %d; want %d, 1..%d, %d, %d",
					n, minSeq, maxSeq, users, perUser, goroutines*each, goroutines*each, goroutines, goroutines*each)
			}
			if r := mustVerify(t, db); !r.OK || r.Entries != goroutines*each {
				t.Errorf("Verify = %+v", r)
			}
		})
	}
}

// TestOneBadEntryFailsAlone: when the database refuses one entry of a
// batch (here a CHECK the test adds), that entry's Append fails and the
// others, committed alone, succeed, with the chain intact.
func TestOneBadEntryFailsAlone(t *testing.T) {
	db, _ := openDB(t)
	if _, err := db.Exec(`CREATE TABLE main.audit_log (seq BIGINT PRIMARY KEY, occurred_at TIMESTAMP NOT NULL,
		user_name VARCHAR NOT NULL, role VARCHAR NOT NULL, method VARCHAR NOT NULL, route VARCHAR NOT NULL CHECK (route <> '/refused'),
		params VARCHAR NOT NULL, status INTEGER NOT NULL, rows BIGINT NOT NULL, bytes BIGINT NOT NULL, export_sha256 VARCHAR NOT NULL,
		detail VARCHAR NOT NULL, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	// A long delay gathers every entry into one batch.
	l := openLog(t, db, Options{MaxBatch: 64, MaxDelay: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		route := "/api/r"
		if i == 5 {
			route = "/refused"
		}
		wg.Go(func() {
			errs[i] = l.Append(ctx, Entry{User: fmt.Sprintf("u%d", i), Method: "GET", Route: route, Status: 200})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 5) {
			t.Errorf("entry %d: %v", i, err)
		}
	}
	var stored int64
	if err := db.QueryRow(`SELECT count(*) FROM main.audit_log`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != n-1 {
		t.Errorf("%d entries stored, want %d", stored, n-1)
	}
	if r := mustVerify(t, db); !r.OK || r.Entries != n-1 {
		t.Errorf("Verify = %+v", r)
	}
}

func TestReopenContinuesChain(t *testing.T) {
	db, path := openDB(t)
	ctx := context.Background()
	l, err := Open(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := l.Append(ctx, Entry{User: "a", Rows: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	db.Close()

	db2, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	l2 := openLog(t, db2, Options{})
	for i := range 2 {
		if err := l2.Append(ctx, Entry{User: "b", Rows: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if e3, e4 := readEntry(t, db2, 3), readEntry(t, db2, 4); e4.PrevHash != e3.Hash || e4.User != "b" {
		t.Errorf("seq 4 prev_hash %s user %s; want %s, b", e4.PrevHash, e4.User, e3.Hash)
	}
	r := mustVerify(t, db2)
	if !r.OK || r.Entries != 5 || r.LastHash != readEntry(t, db2, 5).Hash {
		t.Errorf("Verify = %+v", r)
	}
}

func TestAppendAfterClose(t *testing.T) {
	db, _ := openDB(t)
	l := openLog(t, db, Options{})
	if err := l.Append(context.Background(), Entry{User: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(context.Background(), Entry{User: "a"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestAppendFailsWhenUnwritable checks that a write failure reaches the caller
// rather than being dropped.
func TestAppendFailsWhenUnwritable(t *testing.T) {
	db, _ := openDB(t)
	l := openLog(t, db, Options{})
	if err := l.Append(context.Background(), Entry{User: "a"}); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `DROP TABLE main.audit_log`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Append(ctx, Entry{User: "b"}); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Append to a dropped table = %v, want the database's error", err)
	}
	if err := l.Append(ctx, Entry{Status: 1 << 40}); err == nil {
		t.Error("Append with status 1<<40 succeeded")
	}
}

func TestEmptyLogVerifies(t *testing.T) {
	db, _ := openDB(t)
	if err := EnsureSchema(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if r := mustVerify(t, db); !r.OK || r.Entries != 0 || r.LastHash != Genesis || r.FirstBad != 0 {
		t.Errorf("Verify of empty log = %+v", r)
	}
}

// BenchmarkAppend measures Append latency under parallel load, where group
// commit batches concurrent entries into one transaction.
func BenchmarkAppend(b *testing.B) {
	db, _ := openDB(b)
	l := openLog(b, db, Options{})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append(ctx, Entry{User: "bench", Method: "GET", Route: "/api/compliance", Status: 200}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
