package store

import (
	"context"
	"database/sql"
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
