package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"deesc/internal/audit"
	"deesc/internal/demo"
	"deesc/internal/export"
	"deesc/queries"
)

// catalogueStore returns a store with a small demo dataset imported and an
// audit log of three entries (2026-01-10, 2026-01-11, 2026-01-12).
func catalogueStore(t *testing.T) *Store {
	t.Helper()
	s := openTest(t)
	if _, err := importDir(t, s, demoDir(t, 300, 3)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := audit.EnsureSchema(ctx, s.DB()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO audit_log VALUES
		(1, TIMESTAMP '2026-01-10 09:00:00.123456', 'ann', 'auditor', 'GET', '/api/queries', '', 200, 11, 900, '', '', '', 'h1'),
		(2, TIMESTAMP '2026-01-11 23:59:59', 'bob', 'leadership', 'GET', '/api/queries/rates_by_unit', 'from=2024-01', 200, 8, 700, '', '', 'h1', 'h2'),
		(3, TIMESTAMP '2026-01-12 00:00:00', 'ann', 'auditor', 'GET', '/api/export/complaints', 'format=csv', 200, 40, 5000, 'abc', 'x, "y"', 'h2', 'h3')`); err != nil {
		t.Fatal(err)
	}
	return s
}

// bind binds values to a catalogue query, failing the test on an error.
func bind(t *testing.T, s *Store, name string, values map[string]string) (queries.Query, []any, map[string]string) {
	t.Helper()
	q, ok := s.Queries().Get(name)
	if !ok {
		t.Fatalf("no query %s", name)
	}
	args, eff, err := q.Bind(values, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return q, args, eff
}

func run(t *testing.T, s *Store, name string, values map[string]string, opt RunOptions) Result {
	t.Helper()
	q, args, _ := bind(t, s, name, values)
	res, err := s.RunQuery(context.Background(), q, args, opt)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func count(t *testing.T, s *Store, query string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCatalogue runs the catalogue on one imported demo dataset.
func TestCatalogue(t *testing.T) {
	s := catalogueStore(t)
	ctx := context.Background()

	t.Run("CheckCatalogue", func(t *testing.T) {
		if err := s.CheckCatalogue(ctx); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"DELETE FROM x", "SELECT 1; DROP TABLE y", "SELECT 1; SELECT 2",
			"COPY (SELECT 1) TO 'x.csv'", "PRAGMA version", "INSERT INTO t SELECT 1", "SELEC 1", "ATTACH 'x.db'"} {
			if err := checkSelect(ctx, s.DB(), bad); err == nil {
				t.Errorf("%q passed as one read-only SELECT", bad)
			}
		}
		if err := checkSelect(ctx, s.DB(), "WITH a AS (SELECT 1 AS x) SELECT * FROM a UNION ALL SELECT 2 -- end"); err != nil {
			t.Errorf("a SELECT with a CTE: %v", err)
		}
	})

	// Every query runs with its defaults and returns exactly the columns
	// its header declares, and (but for the audit log, whose entries are
	// dated 2026-01 and so before testNow) some rows.
	t.Run("defaults", func(t *testing.T) {
		for _, q := range s.Queries().All() {
			res := run(t, s, q.Name, nil, RunOptions{})
			if !reflect.DeepEqual(res.Columns, q.Columns) {
				t.Errorf("%s: columns %v, header %v", q.Name, res.Columns, q.Columns)
			}
			if len(res.Rows) == 0 || res.Truncated || res.Suppressed != 0 {
				t.Errorf("%s: %d rows, truncated %v, suppressed %d", q.Name, len(res.Rows), res.Truncated, res.Suppressed)
			}
			if _, err := json.Marshal(res); err != nil {
				t.Errorf("%s: %v", q.Name, err)
			}
		}
	})

	// The row-level queries return every source row, and the period filters
	// bound them as documented.
	t.Run("row counts", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			values map[string]string
			want   string
		}{
			{"training_completions", nil, "SELECT count(*) FROM training"},
			{"training_completions", map[string]string{"from": "2024-03-01", "to": "2024-03-31", "course": demo.DeescalationCourse},
				"SELECT count(*) FROM training WHERE completed_on BETWEEN '2024-03-01' AND '2024-03-31' AND course_id = 'ICAT'"},
			{"force_incidents", nil, "SELECT count(*) FROM use_of_force"},
			{"force_incidents", map[string]string{"from": "2024-01-01", "to": "2024-06-30"},
				"SELECT count(*) FROM use_of_force WHERE occurred_on BETWEEN '2024-01-01' AND '2024-06-30'"},
			{"complaints", nil, "SELECT count(*) FROM complaints"},
			{"complaints", map[string]string{"finding": "sustained"}, "SELECT count(*) FROM complaints WHERE finding = 'sustained'"},
			{"audit_log", map[string]string{"from": "2026-01-11", "to": "2026-01-11"}, "SELECT 1"},
			{"audit_log", map[string]string{"user": "ann"}, "SELECT 2"},
			{"audit_log", map[string]string{"to": "2026-01-12"}, "SELECT 3"},
		} {
			res := run(t, s, c.name, c.values, RunOptions{})
			if want := count(t, s, c.want); len(res.Rows) != want || want == 0 {
				t.Errorf("%s %v: %d rows, want %d", c.name, c.values, len(res.Rows), want)
			}
		}
		// Values come out JSON-ready: the timestamp in RFC 3339, the date as a day.
		res := run(t, s, "audit_log", map[string]string{"to": "2026-01-10"}, RunOptions{})
		if got := res.Rows[0][1]; got != "2026-01-10T09:00:00.123456Z" {
			t.Errorf("occurred_at %v", got)
		}
		res = run(t, s, "training_completions", map[string]string{"to": "2026-06-30"}, RunOptions{Limit: 1})
		if d, ok := res.Rows[0][6].(string); !ok || len(d) != 10 {
			t.Errorf("completed_on %#v", res.Rows[0][6])
		}
	})

	// cohort_inputs holds the rows cohort_officer_months feeds the analyses,
	// with names instead of keys.
	t.Run("cohort_inputs", func(t *testing.T) {
		vals := map[string]string{"course": demo.DeescalationCourse, "outcome": "complaints"}
		a := run(t, s, "cohort_inputs", vals, RunOptions{})
		b := run(t, s, "cohort_officer_months", vals, RunOptions{})
		sum := func(r Result, col int, f func(any) float64) (x float64) {
			for _, row := range r.Rows {
				x += f(row[col])
			}
			return x
		}
		num := func(v any) float64 { return toFloat(v) }
		trained := func(v any) float64 {
			if v == true {
				return 1
			}
			return 0
		}
		if len(a.Rows) != len(b.Rows) || sum(a, 6, num) != sum(b, 5, num) || sum(a, 5, trained) != sum(b, 4, trained) ||
			math.Abs(sum(a, 7, num)-sum(b, 6, num)) > 1e-9 || sum(a, 5, trained) == 0 {
			t.Errorf("cohort_inputs %d rows, %v events, %v trained; cohort_officer_months %d, %v, %v",
				len(a.Rows), sum(a, 6, num), sum(a, 5, trained), len(b.Rows), sum(b, 5, num), sum(b, 4, trained))
		}
	})

	t.Run("limit", func(t *testing.T) {
		res := run(t, s, "training_completions", nil, RunOptions{Limit: 5})
		if len(res.Rows) != 5 || !res.Truncated {
			t.Errorf("limit 5: %d rows, truncated %v", len(res.Rows), res.Truncated)
		}
		n := count(t, s, "SELECT count(*) FROM complaints")
		res = run(t, s, "complaints", nil, RunOptions{Limit: n})
		if len(res.Rows) != n || res.Truncated {
			t.Errorf("limit = rows: %d rows, truncated %v", len(res.Rows), res.Truncated)
		}
	})

	t.Run("suppression", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			values map[string]string
		}{
			{"rates_by_unit", map[string]string{"from": "2024-06", "to": "2024-08"}},
			{"force_matrix", map[string]string{"from": "2024-01", "to": "2024-12"}},
		} {
			q, _ := s.Queries().Get(c.name)
			plain := run(t, s, c.name, c.values, RunOptions{})
			if off := run(t, s, c.name, c.values, RunOptions{Suppress: true, MinCell: 1}); !reflect.DeepEqual(off, plain) {
				t.Errorf("%s: min_cell 1 changed the result", c.name)
			}
			const minCell = 3
			got := run(t, s, c.name, c.values, RunOptions{Suppress: true, MinCell: minCell})
			if len(got.Rows) != len(plain.Rows) {
				t.Fatalf("%s: %d rows suppressed, %d plain", c.name, len(got.Rows), len(plain.Rows))
			}
			var hidden, zeros, kept int64
			for i, row := range plain.Rows {
				for j, v := range row {
					want := v
					if contains(q.Suppress, q.Columns[j]) {
						switch n := toFloat(v); {
						case n >= 1 && n <= minCell-1:
							want = nil
							hidden++
						case n == 0:
							zeros++
						default:
							kept++
						}
					}
					// A column hidden with a count (a rate that would give
					// it back) is hidden exactly when its count is.
					for count, deps := range q.SuppressWith {
						if contains(deps, q.Columns[j]) {
							if n := toFloat(row[slices.Index(q.Columns, count)]); n >= 1 && n <= minCell-1 {
								want = nil
							}
						}
					}
					if !reflect.DeepEqual(got.Rows[i][j], want) {
						t.Errorf("%s row %d %s: %v, want %v (plain %v)", c.name, i, q.Columns[j], got.Rows[i][j], want, v)
					}
				}
			}
			if got.Suppressed != hidden || hidden == 0 || kept == 0 {
				t.Errorf("%s: suppressed %d, counted %d hidden, %d zeros, %d kept", c.name, got.Suppressed, hidden, zeros, kept)
			}
			// An export hides the same cells and says how many.
			qq, args, _ := bind(t, s, c.name, c.values)
			var buf bytes.Buffer
			m, err := s.Export(ctx, qq, args, export.CSV, &buf, RunOptions{Suppress: true, MinCell: minCell})
			if err != nil {
				t.Fatal(err)
			}
			if !m.Suppression.Applied || m.Suppression.MinCell != minCell || m.Suppression.CellsHidden != hidden ||
				!reflect.DeepEqual(m.Suppression.Columns, q.Suppress) {
				t.Errorf("%s: manifest suppression %+v, want %d hidden", c.name, m.Suppression, hidden)
			}
			checkCSV(t, buf.Bytes(), got)
		}
		// A query that declares no suppress columns hides nothing.
		res := run(t, s, "complaints", nil, RunOptions{Suppress: true, MinCell: 10})
		if res.Suppressed != 0 || len(res.Rows) != count(t, s, "SELECT count(*) FROM complaints") {
			t.Errorf("complaints suppressed %d", res.Suppressed)
		}
	})

	t.Run("export", func(t *testing.T) {
		v, err := s.CurrentVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			values map[string]string
		}{
			{"training_completions", map[string]string{"from": "2024-01-01", "to": "2024-12-31"}},
			{"rates_by_unit", nil},
			{"audit_log", map[string]string{"to": "2026-01-31"}},
			{"force_incidents", map[string]string{"from": "2024-01-01", "to": "2024-03-31"}},
		} {
			q, args, eff := bind(t, s, c.name, c.values)
			want := run(t, s, c.name, c.values, RunOptions{})
			for _, f := range []export.Format{export.CSV, export.JSON, export.Parquet} {
				var buf bytes.Buffer
				var before export.Manifest
				m, err := s.Export(ctx, q, args, f, &buf, RunOptions{BeforeWrite: func(m export.Manifest) {
					before = m
					if buf.Len() != 0 {
						t.Errorf("BeforeWrite after the first byte")
					}
				}})
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, f, err)
				}
				sum := sha256.Sum256(buf.Bytes())
				sqlSum := sha256.Sum256([]byte(q.SQL))
				if m.SHA256 != hex.EncodeToString(sum[:]) || m.Bytes != int64(buf.Len()) || m.Rows != int64(len(want.Rows)) ||
					!reflect.DeepEqual(m.Columns, q.Columns) || !reflect.DeepEqual(m.Params, eff) || m.Format != f ||
					m.Query != q.Name || m.SQLSHA256 != hex.EncodeToString(sqlSum[:]) || m.DatasetVersion != v.Number ||
					len(m.DatasetFiles) != len(v.Files) || m.DatasetFiles[0].SHA256 != v.Files[0].SHA256 || m.Limit != nil ||
					m.Suppression.Applied || m.Created.IsZero() {
					t.Errorf("%s %s: manifest %+v; %d bytes, %d rows", c.name, f, m, buf.Len(), len(want.Rows))
				}
				if before.Rows != m.Rows || before.Bytes != m.Bytes || before.SHA256 != "" {
					t.Errorf("%s %s: BeforeWrite saw %+v", c.name, f, before)
				}
				switch f {
				case export.CSV:
					checkCSV(t, buf.Bytes(), want)
				case export.JSON:
					checkJSON(t, buf.Bytes(), want)
				case export.Parquet:
					checkParquet(t, s, buf.Bytes(), want)
				}
			}
		}
		// The manifest round-trips through its file.
		q, args, _ := bind(t, s, "complaints", nil)
		var buf bytes.Buffer
		m, err := s.Export(ctx, q, args, export.JSON, &buf, RunOptions{Limit: 7})
		if err != nil || m.Rows != 7 || m.Limit == nil || *m.Limit != 7 {
			t.Fatalf("limited export: %+v %v", m, err)
		}
		path := filepath.Join(t.TempDir(), "manifest.json")
		if err := export.WriteManifest(path, m); err != nil {
			t.Fatal(err)
		}
		var back export.Manifest
		if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, &back) != nil || back.SHA256 != m.SHA256 || *back.Limit != 7 {
			t.Errorf("manifest file: %v %+v", err, back)
		}
	})

	// A value that would end the string and run a statement were it spliced
	// into the SQL is only a unit name no officer has.
	t.Run("injection", func(t *testing.T) {
		if _, err := s.DB().Exec("CREATE TABLE x (i INTEGER)"); err != nil {
			t.Fatal(err)
		}
		evil := "'; DROP TABLE x; --"
		for _, name := range []string{"compliance_overdue", "training_completions", "complaints"} {
			res := run(t, s, name, map[string]string{"unit": evil}, RunOptions{})
			if len(res.Rows) != 0 {
				t.Errorf("%s: %d rows for unit %q", name, len(res.Rows), evil)
			}
			q, args, _ := bind(t, s, name, map[string]string{"unit": evil})
			var buf bytes.Buffer
			m, err := s.Export(ctx, q, args, export.CSV, &buf, RunOptions{})
			if err != nil || m.Rows != 0 || m.Params["unit"] != evil {
				t.Errorf("%s export: %+v %v", name, m, err)
			}
		}
		if n := count(t, s, "SELECT count(*) FROM x"); n != 0 {
			t.Errorf("table x: %d", n)
		}
	})

	t.Run("not catalogued", func(t *testing.T) {
		q, args, _ := bind(t, s, "complaints", nil)
		q.SQL = "SELECT 1 AS complaint_id"
		if _, err := s.RunQuery(ctx, q, args, RunOptions{}); err == nil || !strings.Contains(err.Error(), "not a catalogue query") {
			t.Errorf("RunQuery: %v", err)
		}
		var buf bytes.Buffer
		if _, err := s.Export(ctx, q, args, export.CSV, &buf, RunOptions{}); err == nil || buf.Len() != 0 {
			t.Errorf("Export: %v", err)
		}
		q.Name = "nope"
		if _, err := s.RunQuery(ctx, q, nil, RunOptions{}); err == nil {
			t.Errorf("RunQuery ran an unknown query")
		}
	})
}

// TestCatalogueNoDataset: before the first import the catalogue answers
// ErrNoDataset and writes nothing.
func TestCatalogueNoDataset(t *testing.T) {
	s := openTest(t)
	q, _ := s.Queries().Get("complaints")
	args, _, err := q.Bind(nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunQuery(context.Background(), q, args, RunOptions{}); !errors.Is(err, ErrNoDataset) {
		t.Errorf("RunQuery: %v", err)
	}
	var buf bytes.Buffer
	if _, err := s.Export(context.Background(), q, args, export.CSV, &buf, RunOptions{}); !errors.Is(err, ErrNoDataset) || buf.Len() != 0 {
		t.Errorf("Export: %v", err)
	}
}

// TestRatesByUnit checks rates_by_unit on the minimal dataset against the
// numbers worked by hand. The panel spans 2023-04 (the complaint) to
// 2024-03 (the incident and the injury): officers 0001 and 0003 serve 12
// months, 0002 ten (separated 2024-01-31), so North 1 has 22/12
// officer-years and South 2 one. The incident F-1 (2024-03) involves 0001
// (North 1) and 0003 (South 2); force covers 2024-03 only, in which each
// unit has one officer-month: 1 per 1/12 officer-year = 12. Complaint C-1
// (2023-04) names 0002 (North 1); complaints cover 2023-04 only, with two
// North 1 officer-months (rate 1/(2/12) = 6) and one in South 2 (rate 0).
// Injury I-1 (2024-03, 0001): North 1 12, South 2 0.
func TestRatesByUnit(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
		t.Fatal(err)
	}
	res := run(t, s, "rates_by_unit", nil, RunOptions{})
	want := [][]any{
		{"North", "North 1", 22.0 / 12, int64(1), 12.0, int64(1), 6.0, int64(1), 12.0},
		{"South", "South 2", 1.0, int64(1), 12.0, int64(0), 0.0, int64(0), 0.0},
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("rows %v", res.Rows)
	}
	for i := range want {
		for j := range want[i] {
			g, w := res.Rows[i][j], want[i][j]
			if wf, ok := w.(float64); ok {
				if gf, ok := g.(float64); !ok || math.Abs(gf-wf) > 1e-12 {
					t.Errorf("row %d %s: %v, want %v", i, res.Columns[j], g, w)
				}
			} else if g != w {
				t.Errorf("row %d %s: %#v, want %#v", i, res.Columns[j], g, w)
			}
		}
	}
	// Suppressed at min_cell 2, every count of 1 is hidden: four cells.
	sup := run(t, s, "rates_by_unit", nil, RunOptions{Suppress: true, MinCell: 2})
	if sup.Suppressed != 4 || sup.Rows[0][3] != nil || sup.Rows[1][5] != int64(0) {
		t.Errorf("suppressed %d: %v", sup.Suppressed, sup.Rows)
	}
	// A month before the window: no rows, no error.
	if res := run(t, s, "rates_by_unit", map[string]string{"to": "2020-01"}, RunOptions{}); len(res.Rows) != 0 {
		t.Errorf("before the window: %v", res.Rows)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// toFloat returns a numeric result value as float64 (NaN otherwise).
func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return math.NaN()
}

// sameCell compares an exported cell, as text, with RunQuery's value.
func sameCell(text string, v any) bool {
	switch x := v.(type) {
	case nil:
		return text == ""
	case float64:
		f, err := strconv.ParseFloat(text, 64)
		return err == nil && f == x
	default:
		return text == fmt.Sprint(x)
	}
}

// checkCSV reads an exported CSV with the standard library and compares it
// cell by cell with RunQuery's result.
func checkCSV(t *testing.T, b []byte, want Result) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want.Rows)+1 || !reflect.DeepEqual(recs[0], want.Columns) {
		t.Fatalf("csv: %d records, header %v; want %d rows, %v", len(recs), recs[0], len(want.Rows), want.Columns)
	}
	for i, row := range want.Rows {
		for j, v := range row {
			if !sameCell(recs[i+1][j], v) {
				t.Errorf("csv row %d %s: %q, want %v", i, want.Columns[j], recs[i+1][j], v)
				return
			}
		}
	}
}

// checkJSON decodes an exported JSON array with the standard library and
// compares it with RunQuery's result.
func checkJSON(t *testing.T, b []byte, want Result) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("json: %v", err)
	}
	if len(rows) != len(want.Rows) {
		t.Fatalf("json: %d rows, want %d", len(rows), len(want.Rows))
	}
	for i, row := range want.Rows {
		if len(rows[i]) != len(want.Columns) {
			t.Fatalf("json row %d: %v", i, rows[i])
		}
		for j, v := range row {
			g := rows[i][want.Columns[j]]
			var ok bool
			switch x := v.(type) {
			case float64, int64, int32:
				n, isNum := g.(json.Number)
				f, err := n.Float64()
				ok = isNum && err == nil && f == toFloat(x)
			default:
				ok = reflect.DeepEqual(g, v)
			}
			if !ok {
				t.Errorf("json row %d %s: %#v, want %#v", i, want.Columns[j], g, v)
				return
			}
		}
	}
}

// checkParquet writes an exported Parquet file to disk, reads it back with
// DuckDB's read_parquet, and compares it with RunQuery's result.
func checkParquet(t *testing.T, s *Store, b []byte, want Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.parquet")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rows, err := s.DB().Query("SELECT * FROM read_parquet($p)", sql.Named("p", path))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, _ := rows.ColumnTypes()
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var got [][]any
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = jsonValue(v, types[i].DatabaseTypeName())
		}
		got = append(got, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Rows) {
		t.Fatalf("parquet: %d rows, want %d", len(got), len(want.Rows))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want.Rows[i]) {
			t.Errorf("parquet row %d: %#v, want %#v", i, got[i], want.Rows[i])
			return
		}
	}
}

// TestJSONValue: what DuckDB returns becomes valid JSON that says the same.
func TestJSONValue(t *testing.T) {
	rows, err := openTest(t).DB().Query(`SELECT DATE '2024-02-29', TIMESTAMP '2024-01-02 03:04:05.5', 'nan'::DOUBLE,
		'-inf'::FLOAT, 1.25::DECIMAL(10,2), sum(x), 'ab'::BLOB, '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'::UUID, [1.5, 'inf'::DOUBLE],
		{'d': DATE '2024-01-01'}, NULL FROM (SELECT 2::INTEGER AS x)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, _ := rows.ColumnTypes()
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() || rows.Scan(ptrs...) != nil {
		t.Fatal("no row")
	}
	got := make([]any, len(vals))
	for i, v := range vals {
		got[i] = jsonValue(v, types[i].DatabaseTypeName())
	}
	want := []any{"2024-02-29", "2024-01-02T03:04:05.500000Z", nil, nil, 1.25, int64(2), "ab",
		"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", []any{1.5, nil}, map[string]any{"d": "2024-01-01T00:00:00.000000Z"}, nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Error(err)
	}
}
