package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"deesc/internal/analysis"
	"deesc/internal/demo"
	"deesc/internal/store"
	"deesc/queries"
)

// lakeToday is "today" for the import and for the queries' date defaults.
var lakeToday = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// lakeFixture imports a small demo dataset (300 officers × 3 years) into a
// database, exports it as a lake, and opens the lake as a second store.
func lakeFixture(t *testing.T) (db, lake *store.Store, dir string) {
	t.Helper()
	ctx := context.Background()
	src := t.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.End = 300, 3, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(src, o); err != nil {
		t.Fatal(err)
	}
	db = openLakeTest(t, filepath.Join(t.TempDir(), "db.duckdb"), store.Options{})
	if _, err := db.Import(ctx, src, store.ImportOptions{Now: lakeToday, Source: "demo"}); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "lake")
	if _, err := db.ExportDataset(ctx, dir, store.LakeExportOptions{}); err != nil {
		t.Fatal(err)
	}
	lake = openLakeTest(t, filepath.Join(t.TempDir(), "lake.duckdb"), store.Options{Lake: dir, LakeSHA256: true})
	return db, lake, dir
}

func openLakeTest(t *testing.T, path string, opt store.Options) *store.Store {
	t.Helper()
	opt.MemoryLimit, opt.Threads = "1GB", 2
	s, err := store.Open(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLake(t *testing.T) {
	db, lake, dir := lakeFixture(t)
	ctx := context.Background()

	t.Run("manifest", func(t *testing.T) {
		m, err := lake.ReadLakeManifest(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.CurrentVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != v.Number || m.Source != "demo" || !m.ImportedAt.Equal(v.ImportedAt) || !reflect.DeepEqual(m.SourceFiles, v.Files) {
			t.Errorf("manifest version %d %q %v %v, database %+v", m.Version, m.Source, m.ImportedAt, m.SourceFiles, v)
		}
		var names []string
		for _, tb := range m.Tables {
			names = append(names, tb.Name)
			var rows int64
			if err := db.DB().QueryRow("SELECT count(*) FROM main." + tb.Name).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if tb.Rows != rows || rows == 0 && tb.Name != "commendations" {
				t.Errorf("%s: manifest says %d rows, database has %d", tb.Name, tb.Rows, rows)
			}
			// The rows are in the files, read with no help from deesc.
			var inFiles int64
			glob := filepath.Join(dir, tb.Name, "**", "*.parquet")
			if err := db.DB().QueryRow("SELECT count(*) FROM read_parquet(?, hive_partitioning = true)", glob).Scan(&inFiles); err != nil {
				t.Fatal(err)
			}
			if inFiles != rows {
				t.Errorf("%s: files hold %d rows, want %d", tb.Name, inFiles, rows)
			}
			for _, f := range tb.Files {
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
					t.Errorf("%s: manifest says %d bytes %s, file has %d bytes %x", f.Path, f.Bytes, f.SHA256, len(b), sum)
				}
			}
		}
		if len(names) != 21 || !slices.Contains(names, "panel") || !slices.Contains(names, "panel_info") || !slices.Contains(names, "use_of_force") {
			t.Errorf("tables %v", names)
		}
		// The panel is split by year of month and by division; 3 years of
		// 2023–2025 data (the demo ends 2025-12) give folders year=2023…2025.
		for _, tb := range m.Tables {
			switch tb.Name {
			case "panel", "use_of_force", "training":
				if len(tb.PartitionKeys) != 2 || tb.PartitionKeys[0].Name != "year" || tb.PartitionKeys[1].Name != "division" {
					t.Errorf("%s: partition keys %+v", tb.Name, tb.PartitionKeys)
				}
				for _, c := range tb.Columns {
					if c.Name == "year" || c.Name == "division" {
						t.Errorf("%s: partition key %s stored as a column", tb.Name, c.Name)
					}
				}
			case "officers", "courses", "units", "panel_info":
				if len(tb.PartitionKeys) != 0 || len(tb.Files) != 1 {
					t.Errorf("%s: small table partitioned: %+v", tb.Name, tb.PartitionKeys)
				}
			}
			if tb.Name == "panel" {
				years := map[string]bool{}
				for _, f := range tb.Files {
					years[strings.Split(f.Path, "/")[1]] = true
				}
				if !reflect.DeepEqual(years, map[string]bool{"year=2023": true, "year=2024": true, "year=2025": true}) {
					t.Errorf("panel years %v", years)
				}
			}
		}
	})

	t.Run("catalogue", func(t *testing.T) {
		var division string
		if err := db.DB().QueryRow("SELECT min(division) FROM officers").Scan(&division); err != nil {
			t.Fatal(err)
		}
		for _, q := range db.Queries().All() {
			for _, values := range []map[string]string{nil, filtered(q, division)} {
				want := runQuery(t, db, q, values)
				got := runQuery(t, lake, q, values)
				if !ordered(q) { // rows in no declared order: compare them as sets
					sortRows(want.Rows)
					sortRows(got.Rows)
				}
				if q.Name != "audit_log" && len(want.Rows) == 0 && values == nil {
					t.Errorf("%s: no rows to compare", q.Name)
				}
				if msg := sameResult(want, got); msg != "" {
					t.Errorf("%s %v: lake differs from the database: %s", q.Name, values, msg)
				}
			}
		}
	})

	t.Run("version", func(t *testing.T) {
		want, err := db.CurrentVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lake.CurrentVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != want.Number || !got.ImportedAt.Equal(want.ImportedAt) || got.Source != want.Source || !reflect.DeepEqual(got.Files, want.Files) || !got.Current || got.Kept {
			t.Errorf("lake version %+v, database %+v", got, want)
		}
		if n, err := lake.CurrentVersionNumber(ctx); err != nil || n != want.Number {
			t.Errorf("CurrentVersionNumber = %d, %v", n, err)
		}
	})

	// Reopening the lake's database replaces its version record rather
	// than adding a second one.
	t.Run("reopen", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "again.duckdb")
		for range 2 {
			s, err := store.Open(ctx, path, store.Options{Lake: dir})
			if err != nil {
				t.Fatal(err)
			}
			vs, err := s.Versions(ctx)
			s.Close()
			if err != nil || len(vs) != 1 || !vs[0].Current {
				t.Fatalf("versions after opening the lake: %+v, %v", vs, err)
			}
		}
	})

	t.Run("cohorts", func(t *testing.T) {
		r := analysis.Request{Outcome: "force", Course: demo.DeescalationCourse, Estimand: "simple"}
		want, err := analysis.Cohorts(ctx, db, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := analysis.Cohorts(ctx, lake, r)
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(got.Adjusted.RateRatio/want.Adjusted.RateRatio - 1); rel > 1e-12 || want.Adjusted.RateRatio <= 0 {
			t.Errorf("adjusted rate ratio: lake %.15g, database %.15g", got.Adjusted.RateRatio, want.Adjusted.RateRatio)
		}
		if got.Crude.Trained != want.Crude.Trained || got.Adjusted.OfficerMonths != want.Adjusted.OfficerMonths {
			t.Errorf("crude trained: lake %+v, database %+v", got.Crude.Trained, want.Crude.Trained)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		if _, err := lake.Import(ctx, t.TempDir(), store.ImportOptions{Now: lakeToday}); !errors.Is(err, store.ErrLake) {
			t.Errorf("import on a lake: %v, want ErrLake", err)
		}
		if _, err := lake.Rollback(ctx, 1); !errors.Is(err, store.ErrLake) {
			t.Errorf("rollback on a lake: %v, want ErrLake", err)
		}
	})

	t.Run("export refused", func(t *testing.T) {
		parent := t.TempDir()
		full := filepath.Join(parent, "full")
		if err := os.MkdirAll(full, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(full, "keep.txt"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExportDataset(ctx, full, store.LakeExportOptions{}); err == nil || !strings.Contains(err.Error(), full) {
			t.Errorf("export into a non-empty folder: %v", err)
		}
		// Stopped halfway (after two tables), the export leaves nothing.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		n := 0
		_, err := db.ExportDataset(cctx, filepath.Join(parent, "half"), store.LakeExportOptions{Progress: func(string) {
			if n++; n == 3 {
				cancel()
			}
		}})
		if err == nil {
			t.Fatal("a cancelled export succeeded")
		}
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 || entries[0].Name() != "full" {
			t.Errorf("left behind: %v", entries)
		}
		if _, err := lake.ExportDataset(ctx, filepath.Join(parent, "again"), store.LakeExportOptions{}); err != nil {
			t.Errorf("exporting a lake again: %v", err)
		}
	})

	// A lake exported before a summary existed serves it as a view computed
	// from the lake's own tables, with the same answers.
	t.Run("older lake", func(t *testing.T) {
		old := filepath.Join(t.TempDir(), "lake")
		if err := copyTree(dir, old); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(old, store.LakeManifestName))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		var kept []any
		for _, tb := range m["tables"].([]any) {
			name := tb.(map[string]any)["name"].(string)
			if name == "officer_runs" || name == "status_spans" || name == "compliance_steps" {
				if err := os.RemoveAll(filepath.Join(old, name)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			kept = append(kept, tb)
		}
		if len(kept) != len(m["tables"].([]any))-3 {
			t.Fatalf("the manifest lists %d tables, none of the three removed", len(kept))
		}
		m["tables"] = kept
		raw, _ = json.Marshal(m)
		if err := os.WriteFile(filepath.Join(old, store.LakeManifestName), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		s := openLakeTest(t, filepath.Join(t.TempDir(), "old.duckdb"), store.Options{Lake: old})
		for _, name := range []string{"compliance_by_unit", "compliance_trend", "cohort_officer_runs"} {
			q, _ := db.Queries().Get(name)
			if msg := sameResult(runQuery(t, db, q, nil), runQuery(t, s, q, nil)); msg != "" {
				t.Errorf("%s: the older lake differs from the database: %s", name, msg)
			}
		}
		r := analysis.Request{Outcome: "force", Course: demo.DeescalationCourse, Estimand: "simple"}
		want, err := analysis.Cohorts(ctx, db, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := analysis.Cohorts(ctx, s, r)
		if err != nil {
			t.Fatal(err)
		}
		if got.Adjusted.RateRatio != want.Adjusted.RateRatio || got.Adjusted.OfficerMonths != want.Adjusted.OfficerMonths {
			t.Errorf("adjusted: older lake %v (%d officer-months), database %v (%d)", got.Adjusted.RateRatio, got.Adjusted.OfficerMonths,
				want.Adjusted.RateRatio, want.Adjusted.OfficerMonths)
		}
	})

	// A lake whose summaries lack a column added since (compliance_steps'
	// until_idx, force_incident_months' incident_months) computes them from
	// its own tables instead, with the same answers.
	t.Run("older summary columns and a retired summary", func(t *testing.T) {
		old := filepath.Join(t.TempDir(), "lake")
		if err := copyTree(dir, old); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(old, store.LakeManifestName))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		dropped := 0
		for _, tb := range m["tables"].([]any) {
			tm := tb.(map[string]any)
			var cols []any
			for _, c := range tm["columns"].([]any) {
				if n := c.(map[string]any)["name"]; n == "until_idx" || n == "incident_months" {
					dropped++
					continue
				}
				cols = append(cols, c)
			}
			tm["columns"] = cols
		}
		if dropped != 2 {
			t.Fatalf("dropped %d columns from the manifest, want 2", dropped)
		}
		// An earlier deesc also exported recert_spans, since retired.
		if err := os.MkdirAll(filepath.Join(old, "recert_spans"), 0o755); err != nil {
			t.Fatal(err)
		}
		retired := filepath.Join(old, "recert_spans", "data_0.parquet")
		if _, err := db.DB().ExecContext(ctx, fmt.Sprintf("COPY (SELECT 1 AS officer_key) TO '%s' (FORMAT parquet)", retired)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(retired)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		m["tables"] = append(m["tables"].([]any), map[string]any{"name": "recert_spans", "rows": 1,
			"columns":        []any{map[string]any{"name": "officer_key", "type": "INTEGER"}},
			"partition_keys": []any{},
			"files":          []any{map[string]any{"path": "recert_spans/data_0.parquet", "bytes": len(b), "sha256": hex.EncodeToString(sum[:])}}})
		raw, _ = json.Marshal(m)
		if err := os.WriteFile(filepath.Join(old, store.LakeManifestName), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		s := openLakeTest(t, filepath.Join(t.TempDir(), "old.duckdb"), store.Options{Lake: old})
		for _, name := range []string{"compliance_trend", "force_matrix", "force_factors", "disparities"} {
			q, _ := db.Queries().Get(name)
			if msg := sameResult(runQuery(t, db, q, nil), runQuery(t, s, q, nil)); msg != "" {
				t.Errorf("%s: the lake with older summaries differs from the database: %s", name, msg)
			}
		}
	})

	t.Run("tampered", func(t *testing.T) {
		m, err := lake.ReadLakeManifest(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		var panelFile, officersFile string
		for _, tb := range m.Tables {
			switch tb.Name {
			case "panel":
				panelFile = tb.Files[0].Path
			case "officers":
				officersFile = tb.Files[0].Path
			}
		}
		for _, c := range []struct {
			name   string
			edit   func(dir string) error
			sha    bool
			errHas string // "" = opens
		}{
			{"appended", func(d string) error { return appendTo(filepath.Join(d, panelFile)) }, false, panelFile + " has changed"},
			{"removed", func(d string) error { return os.Remove(filepath.Join(d, panelFile)) }, false, panelFile + " is missing"},
			{"unlisted", func(d string) error {
				return os.WriteFile(filepath.Join(d, "panel", "extra.parquet"), []byte("x"), 0o644)
			}, false, "panel/extra.parquet is not listed"},
			{"no manifest", func(d string) error { return os.Remove(filepath.Join(d, store.LakeManifestName)) }, false, store.LakeManifestName + " is missing"},
			// The same size with one byte changed passes the size check
			// and fails the hash check.
			{"flipped, sizes only", func(d string) error { return flip(filepath.Join(d, officersFile)) }, false, ""},
			{"flipped", func(d string) error { return flip(filepath.Join(d, officersFile)) }, true, officersFile + " has changed: sha256"},
		} {
			t.Run(c.name, func(t *testing.T) {
				copyDir := filepath.Join(t.TempDir(), "lake")
				if err := copyTree(dir, copyDir); err != nil {
					t.Fatal(err)
				}
				if err := c.edit(copyDir); err != nil {
					t.Fatal(err)
				}
				s, err := store.Open(ctx, filepath.Join(t.TempDir(), "x.duckdb"), store.Options{Lake: copyDir, LakeSHA256: c.sha})
				if err == nil {
					s.Close()
				}
				switch {
				case c.errHas == "" && err != nil:
					t.Errorf("open: %v", err)
				case c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
					t.Errorf("open: %v, want an error naming %q", err, c.errHas)
				}
			})
		}
	})

	// Last, as it closes the database: a database holding imported
	// datasets is not turned into a lake.
	t.Run("imported database", func(t *testing.T) {
		db.Close()
		s, err := store.Open(ctx, db.Path(), store.Options{Lake: dir})
		if err == nil {
			s.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "imported dataset") {
			t.Errorf("lake over an imported database: %v", err)
		}
	})
}

// filtered returns values for q's filter parameters: a division, a period,
// another outcome and grouping, so that the comparison covers more than
// the defaults.
func filtered(q queries.Query, division string) map[string]string {
	v := map[string]string{}
	for _, p := range q.Params {
		switch {
		case p.Name == "division":
			v[p.Name] = division
		case p.Name == "from" && p.Type == "month":
			v[p.Name] = "2024-03"
		case p.Name == "to" && p.Type == "month":
			v[p.Name] = "2025-02"
		case p.Name == "from" && p.Type == "date":
			v[p.Name] = "2024-03-01"
		case p.Name == "to" && p.Type == "date":
			v[p.Name] = "2025-02-28"
		case p.Name == "outcome":
			v[p.Name] = "complaints"
		case p.Name == "group_by":
			v[p.Name] = "month"
		}
	}
	return v
}

func runQuery(t *testing.T, s *store.Store, q queries.Query, values map[string]string) store.Result {
	t.Helper()
	args, _, err := q.Bind(values, lakeToday)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RunQuery(context.Background(), q, args, store.RunOptions{})
	if err != nil {
		t.Fatalf("%s: %v", q.Name, err)
	}
	return res
}

// ordered reports whether a query's result has a declared order: an
// ORDER BY after its last closing parenthesis.
func ordered(q queries.Query) bool {
	text := strings.ToUpper(q.SQL)
	return strings.LastIndex(text, "ORDER BY") > strings.LastIndex(text, ")")
}

// sortRows sorts rows by their printed values.
func sortRows(rows [][]any) {
	slices.SortFunc(rows, func(a, b []any) int { return strings.Compare(fmt.Sprint(a...), fmt.Sprint(b...)) })
}

// sameResult describes the first difference between two results, or "".
func sameResult(want, got store.Result) string {
	if !reflect.DeepEqual(want.Columns, got.Columns) {
		return fmt.Sprintf("columns %v, want %v", got.Columns, want.Columns)
	}
	if len(want.Rows) != len(got.Rows) {
		return fmt.Sprintf("%d rows, want %d", len(got.Rows), len(want.Rows))
	}
	for i := range want.Rows {
		if !reflect.DeepEqual(want.Rows[i], got.Rows[i]) {
			return fmt.Sprintf("row %d is %v, want %v", i, got.Rows[i], want.Rows[i])
		}
	}
	return ""
}

// copyTree copies the folder src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// appendTo adds a byte to the end of a file.
func appendTo(p string) error {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte{0}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// flip inverts one byte in the middle of a file, keeping its size.
func flip(p string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	b[len(b)/2] ^= 0xff
	return os.WriteFile(p, b, 0o644)
}
