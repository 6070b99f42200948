package store

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"deesc/internal/demo"
)

// demoDir writes a demo dataset of the given size into a temp dir.
func demoDir(t testing.TB, officers, years int) string {
	t.Helper()
	dir := t.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.End = officers, years, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

// csvRows counts a CSV file's records with the standard library's reader,
// independently of DuckDB.
func csvRows(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(recs) - 1)
}

// TestImportDemo imports the demo dataset: every file's rows arrive, the
// version records each file's hash and row count.
func TestImportDemo(t *testing.T) {
	dir := demoDir(t, 300, 4)
	s := openTest(t)
	v, err := importDir(t, s, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Files) != 8 {
		t.Fatalf("files: %+v", v.Files)
	}
	for _, fi := range v.Files {
		want := csvRows(t, filepath.Join(dir, fi.Path))
		if fi.Rows != want {
			t.Errorf("%s: version says %d rows, file has %d", fi.Path, fi.Rows, want)
		}
		table := fi.File
		if fi.File == "force" {
			table = "use_of_force"
		}
		var n int64
		if err := s.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s: table has %d rows (%v), file %d", table, n, err, want)
		}
		if len(fi.SHA256) != 64 || fi.Bytes == 0 {
			t.Errorf("%s: hash %q bytes %d", fi.Path, fi.SHA256, fi.Bytes)
		}
	}
	// Imported again, the same files make a new version with the same hashes.
	v2, err := importDir(t, s, dir)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Number != 2 || v2.Files[0].SHA256 != v.Files[0].SHA256 {
		t.Errorf("second import: %+v", v2)
	}
	vs, err := s.Versions(context.Background())
	if err != nil || len(vs) != 2 || !vs[0].Current || vs[1].Current {
		t.Errorf("versions: %+v %v", vs, err)
	}
}

// BenchmarkImport imports a generated dataset of DEESC_BENCH_OFFICERS
// (default 100,000) officers × 10 years and reports rows per second, the
// seconds to read, validate and stage the files (contract_s), and to the
// commit with the officer-month panel (total_s):
//
//	go test ./internal/store -run '^$' -bench Import -benchtime 1x
func BenchmarkImport(b *testing.B) {
	officers := 100000
	if v := os.Getenv("DEESC_BENCH_OFFICERS"); v != "" {
		if _, err := fmt.Sscan(v, &officers); err != nil {
			b.Fatal(err)
		}
	}
	dir := demoDir(b, officers, 10)
	var rows int64
	for i := 0; i < b.N; i++ {
		s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"), Options{KeepVersions: 1, MemoryLimit: "4GB"})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var panel time.Duration
		v, err := s.Import(context.Background(), dir, ImportOptions{Source: "bench", Now: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
			Progress: func(p Progress) {
				if p.Phase == "panel" {
					panel = time.Since(start)
				}
			}})
		if err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		rows = 0
		for _, f := range v.Files {
			rows += f.Rows
		}
		b.ReportMetric(float64(rows)/total.Seconds(), "rows/s")
		b.ReportMetric(panel.Seconds(), "contract_s")
		b.ReportMetric(total.Seconds(), "total_s")
		s.Close()
	}
	b.ReportMetric(float64(rows), "rows")
}
