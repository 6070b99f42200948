package server

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/audit"
	"deesc/internal/demo"
	"deesc/internal/store"
)

// BenchmarkEndpoints generates a demo dataset of DEESC_BENCH_OFFICERS
// officers (default 100,000) × DEESC_BENCH_YEARS years (default 10),
// imports it (reporting the import and panel build times), and times every
// Analytics endpoint:
//
//	go test ./internal/server -run '^$' -bench Endpoints -benchtime 5x
//
// DEESC_BENCH_DB=FILE times a database already imported instead (a copy is
// opened, so the file is left as it was).
func BenchmarkEndpoints(b *testing.B) {
	st := benchStore(b)
	defer st.Close()
	now := func() time.Time { return time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC) }
	// "cold" computes every answer (no result cache); "warm" serves the
	// cached answer of the same dataset version.
	apps := map[string]*fiber.App{"cold": New(st, Options{Now: now, CacheBytes: -1}), "warm": New(st, Options{Now: now})}
	for _, ep := range []struct{ name, path string }{
		{"compliance", "/api/compliance?as_of=2025-12-31"},
		{"outcomes_division", "/api/outcomes?outcome=force&group_by=division"},
		{"outcomes_month", "/api/outcomes?outcome=complaints&group_by=month&from=2021-01&to=2025-12"},
		{"force_matrix", "/api/force/matrix"},
		{"disparities", "/api/disparities?by=subject_race"},
		{"dose", "/api/dose?outcome=force"},
		{"cohorts", "/api/cohorts?course=ICAT&outcome=force"},
		{"staggered", "/api/staggered?course=ICAT&outcome=force"},
		{"prepost", "/api/prepost?course=ICAT&outcome=force"},
	} {
		for _, mode := range []string{"cold", "warm"} {
			app := apps[mode]
			b.Run(ep.name+"/"+mode, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					resp, err := app.Test(httptest.NewRequest("GET", ep.path, nil), -1)
					if err != nil || resp.StatusCode != 200 {
						b.Fatalf("%s: %v %v", ep.path, err, resp.StatusCode)
					}
					resp.Body.Close()
				}
			})
		}
	}
}

// BenchmarkOverhead splits what a request adds to its query, for outcome
// rates by division: the named query alone on one connection, the store's
// read (pool, scan), the handler through Fiber without and with the audit
// log (whose entry must commit before the answer leaves).
//
//	DEESC_BENCH_DB=FILE go test ./internal/server -run '^$' -bench Overhead -benchtime 100x
func BenchmarkOverhead(b *testing.B) {
	st := benchStore(b)
	defer st.Close()
	ctx := context.Background()
	al, err := audit.Open(ctx, st.DB(), audit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer al.Close()
	const path = "/api/outcomes?outcome=force&group_by=division"
	args := []any{sql.Named("from", ""), sql.Named("to", ""), sql.Named("unit", ""), sql.Named("division", ""),
		sql.Named("outcome", "force"), sql.Named("group_by", "division")}
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	request := func(app *fiber.App) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				resp, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("%v %v", err, resp.StatusCode)
				}
				resp.Body.Close()
			}
		}
	}
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			rows, err := conn.QueryContext(ctx, st.Queries().SQL("outcome_rates"), args...)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
		}
	})
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.OutcomeRates(ctx, "force", "division", store.Filter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handler", request(New(st, Options{CacheBytes: -1})))
	b.Run("handler_audited", request(New(st, Options{CacheBytes: -1, Audit: al})))
}

// benchStore opens DEESC_BENCH_DB's copy, or imports a generated dataset.
func benchStore(b *testing.B) *store.Store {
	if src := os.Getenv("DEESC_BENCH_DB"); src != "" {
		data, err := os.ReadFile(src)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "bench.duckdb")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(context.Background(), path, store.Options{KeepVersions: 1, MemoryLimit: "4GB"})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	officers, years := envInt(b, "DEESC_BENCH_OFFICERS", 100000), envInt(b, "DEESC_BENCH_YEARS", 10)
	dir := b.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.End = officers, years, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"), store.Options{KeepVersions: 1, MemoryLimit: "4GB"})
	if err != nil {
		b.Fatal(err)
	}
	var panelStart, done time.Time
	start := time.Now()
	v, err := st.Import(context.Background(), dir, store.ImportOptions{Now: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		Progress: func(p store.Progress) {
			switch p.Phase {
			case "panel":
				panelStart = time.Now()
			case "done":
				done = time.Now()
			}
		}})
	if err != nil {
		st.Close()
		b.Fatal(err)
	}
	var rows int64
	for _, f := range v.Files {
		rows += f.Rows
	}
	fmt.Fprintf(os.Stderr, "import: %d officers × %d years, %d rows in %.1fs (%.0f rows/s); panel from build to commit %.1fs\n",
		officers, years, rows, done.Sub(start).Seconds(), float64(rows)/done.Sub(start).Seconds(), done.Sub(panelStart).Seconds())
	return st
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		return n
	}
	return def
}
