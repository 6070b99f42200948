package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDerivedTablesAddedToOlderVersions: a database written before the
// summaries existed (simulated by dropping them) gets them at the next
// start, and the dashboards answer exactly as before.
func TestDerivedTablesAddedToOlderVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	s, err := Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, writeFiles(t, minimal()), ImportOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	read := func(s *Store) []any {
		rates, err := s.OutcomeRates(ctx, "force", "month", Filter{})
		if err != nil {
			t.Fatal(err)
		}
		matrix, err := s.ForceMatrix(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		trend, err := s.ComplianceTrend(ctx, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), 12, Filter{}, "")
		if err != nil {
			t.Fatal(err)
		}
		return []any{rates, matrix, trend}
	}
	before := read(s)
	v, err := s.CurrentVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range derivedTables() {
		for _, stmt := range []string{"DROP VIEW main." + d.name, "DROP TABLE " + v.Schema + "." + d.name} {
			if _, err := s.DB().ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Close()
	s, err = Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatalf("reopening a database without the summaries: %v", err)
	}
	defer s.Close()
	if after := read(s); !reflect.DeepEqual(before, after) {
		t.Errorf("answers differ after the summaries were rebuilt:\nbefore %v\nafter  %v", before, after)
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('panel_units', 'force_incident_months', 'compliance_steps')").Scan(&n); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d summary tables after reopening, want 3", n)
	}
}

// TestDerivedTablesRebuiltFromHugeint: a summary written by an earlier
// definition, with HUGEINT sums (DuckDB scans them tens of times slower),
// is rebuilt with BIGINT at the next start, and answers the same.
func TestDerivedTablesRebuiltFromHugeint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	s, err := Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, writeFiles(t, minimal()), ImportOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	hugeint := func(s *Store) int {
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE table_name = 'panel_units' AND data_type = 'HUGEINT'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := hugeint(s); n != 0 {
		t.Fatalf("a new import stored %d HUGEINT columns in panel_units", n)
	}
	before, err := s.OutcomeRates(ctx, "force", "month", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.CurrentVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TABLE %[1]s.panel_units AS
		SELECT * REPLACE (CAST(n_force AS HUGEINT) AS n_force, CAST(calls AS HUGEINT) AS calls) FROM %[1]s.panel_units`, v.Schema)); err != nil {
		t.Fatal(err)
	}
	if n := hugeint(s); n != 2 {
		t.Fatalf("setting up the old table: %d HUGEINT columns, want 2", n)
	}
	s.Close()
	s, err = Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := hugeint(s); n != 0 {
		t.Errorf("%d HUGEINT columns left in panel_units after reopening", n)
	}
	after, err := s.OutcomeRates(ctx, "force", "month", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("answers differ after the rebuild:\nbefore %v\nafter  %v", before, after)
	}
}

// TestDerivedTablesRebuiltForAddedColumns: a summary written before a
// column it now has existed (compliance_steps without until_idx) is rebuilt
// at the next start, a retired summary (recert_spans) is dropped with main's
// view of it, and the compliance trend answers as before.
func TestDerivedTablesRebuiltForAddedColumns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	s, err := Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, writeFiles(t, minimal()), ImportOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	before, err := s.ComplianceTrend(ctx, asOf, 24, Filter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.CurrentVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s *Store, q string, args ...any) int {
		var n int
		if err := s.DB().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const untilIdx = `SELECT count(*) FROM duckdb_columns() WHERE schema_name = ? AND table_name = 'compliance_steps' AND column_name = 'until_idx'`
	const retired = `SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'recert_spans') + (SELECT count(*) FROM duckdb_views() WHERE view_name = 'recert_spans')`
	for _, stmt := range []string{
		fmt.Sprintf("ALTER TABLE %s.compliance_steps DROP COLUMN until_idx", v.Schema),
		fmt.Sprintf("CREATE TABLE %s.recert_spans AS SELECT officer_key, course_id, from_day AS completed_on FROM %[1]s.status_spans", v.Schema),
		fmt.Sprintf("CREATE VIEW main.recert_spans AS SELECT * FROM %s.recert_spans", v.Schema),
	} {
		if _, err := s.DB().ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(s, untilIdx, v.Schema); n != 0 {
		t.Fatalf("setting up the old table: until_idx still there")
	}
	s.Close()
	s, err = Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(s, untilIdx, v.Schema); n != 1 {
		t.Errorf("compliance_steps was not rebuilt with until_idx")
	}
	if n := count(s, retired); n != 0 {
		t.Errorf("recert_spans left behind: %d tables and views", n)
	}
	after, err := s.ComplianceTrend(ctx, asOf, 24, Filter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("answers differ after the rebuild:\nbefore %v\nafter  %v", before, after)
	}
}

// TestComplianceStatusMatchesCompletions: the compliance status read from
// status_spans equals the status worked out from every completion (the
// latest on or before the day, hire grace when none) on days before, at
// and after completions, and before, inside and after the data, up to the
// last day a date can name.
func TestComplianceStatusMatchesCompletions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := importDir(t, s, demoDir(t, 300, 3)); err != nil {
		t.Fatal(err)
	}
	const reference = `WITH inservice AS (
		SELECT officer_id, unit, division, hire_date FROM officers
		WHERE hire_date <= $d AND (separation_date IS NULL OR separation_date >= $d)),
	rc AS (SELECT course_id, title, CAST(recert_days AS INTEGER) AS recert_days, coalesce(mandatory, false) AS mandatory FROM courses WHERE recert_days IS NOT NULL),
	last AS (SELECT officer_id, course_id, max(completed_on) AS last_completed FROM training WHERE completed_on <= $d GROUP BY ALL)
	SELECT rc.course_id, rc.title, rc.mandatory, rc.recert_days, i.officer_id, i.unit, i.division, l.last_completed,
		CAST(coalesce(l.last_completed, i.hire_date) + rc.recert_days AS DATE) AS expires_on,
		CAST(date_diff('day', $d, CAST(coalesce(l.last_completed, i.hire_date) + rc.recert_days AS DATE)) AS INTEGER) AS days_left
	FROM inservice i CROSS JOIN rc LEFT JOIN last l ON l.officer_id = i.officer_id AND l.course_id = rc.course_id
	WHERE rc.mandatory OR l.last_completed IS NOT NULL`
	var days []time.Time
	if err := func() error {
		rows, err := s.DB().QueryContext(ctx, `SELECT DISTINCT d FROM (
			SELECT completed_on + o AS d FROM (SELECT completed_on FROM training USING SAMPLE 8 ROWS (reservoir, 1)), (VALUES (-1), (0), (1)) v(o)
			UNION ALL SELECT DATE '2023-01-01' UNION ALL SELECT DATE '2025-12-31' UNION ALL SELECT DATE '2030-01-01'
			UNION ALL SELECT DATE '9999-12-31') ORDER BY d`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d time.Time
			if err := rows.Scan(&d); err != nil {
				return err
			}
			days = append(days, d)
		}
		return rows.Err()
	}(); err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		var n, onlyNew, onlyRef int
		err := s.DB().QueryRowContext(ctx, `WITH a AS (SELECT * EXCLUDE (unit_key) FROM compliance_status($d)), b AS (`+reference+`)
			SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)),
				(SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a))`, sql.Named("d", d)).Scan(&n, &onlyNew, &onlyRef)
		if err != nil {
			t.Fatal(err)
		}
		if onlyNew != 0 || onlyRef != 0 {
			t.Errorf("%s: %d status rows, %d only from status_spans, %d only from the completions", d.Format(time.DateOnly), n, onlyNew, onlyRef)
		}
		if d.Year() == 2025 && n == 0 {
			t.Errorf("%s: no status rows", d.Format(time.DateOnly))
		}
	}
	t.Logf("%d days compared", len(days))
}

// TestReadOnlyOlderDatabase: opened read-only, a database whose current
// dataset lacks a summary (written by an earlier deesc) is refused with
// what to do, not answered with a missing-table error later; opened
// writable once, it is then fine read-only.
func TestReadOnlyOlderDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	s, err := Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, writeFiles(t, minimal()), ImportOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	v, err := s.CurrentVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "DROP VIEW main.officer_runs; DROP TABLE "+v.Schema+".officer_runs"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if r, err := Open(ctx, path, Options{ReadOnly: true}); err == nil {
		r.Close()
		t.Fatal("a read-only open of a database lacking officer_runs succeeded")
	} else if !strings.Contains(err.Error(), "officer_runs") || !strings.Contains(err.Error(), "writable") {
		t.Errorf("error %q should name the table and the remedy", err)
	}
	w, err := Open(ctx, path, Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only after a writable open: %v", err)
	}
	defer r.Close()
	if _, err := r.Treatment(ctx, TreatmentQuery{Outcome: "force", Course: "ICAT"}); err != nil {
		t.Errorf("reading read-only: %v", err)
	}
}

// TestPanelUnitsSumThePanel: panel_units (counts summed over the
// officer-months with any event only) equals the panel summed per unit and
// month column by column, on a demo dataset with unit-months without events
// and events in months whose calls are unknown.
func TestPanelUnitsSumThePanel(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, demoDir(t, 300, 4)); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range panelCounts {
		cols = append(cols, fmt.Sprintf("CAST(sum(%[1]s) AS BIGINT) AS %[1]s, CAST(coalesce(sum(%[1]s) FILTER (WHERE calls IS NOT NULL), 0) AS BIGINT) AS %[1]s_wc", c))
	}
	reference := fmt.Sprintf(`SELECT unit_key, month, count(*) AS officer_months, CAST(sum(calls) AS BIGINT) AS calls, %s
		FROM panel GROUP BY unit_key, month`, strings.Join(cols, ", "))
	var groups, quiet, unknownCalls, differ int
	if err := s.DB().QueryRow(fmt.Sprintf(`WITH r AS (%s) SELECT
		(SELECT count(*) FROM r), (SELECT count(*) FROM r WHERE n_force + n_complaints + n_injuries + n_commendations = 0),
		(SELECT count(*) FROM r WHERE n_force > n_force_wc),
		(SELECT count(*) FROM (SELECT * FROM r EXCEPT ALL SELECT * FROM panel_units UNION ALL (SELECT * FROM panel_units EXCEPT ALL SELECT * FROM r)))`,
		reference)).Scan(&groups, &quiet, &unknownCalls, &differ); err != nil {
		t.Fatal(err)
	}
	if groups == 0 || quiet == 0 || unknownCalls == 0 {
		t.Fatalf("the dataset lacks a case: %d unit-months, %d without events, %d with force in months of unknown calls", groups, quiet, unknownCalls)
	}
	if differ != 0 {
		t.Fatalf("%d of %d unit-months of panel_units differ from the panel's sums", differ, groups)
	}
}
