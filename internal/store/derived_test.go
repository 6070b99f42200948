package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
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
