package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"deesc/internal/store"
)

// childEnv makes the test binary act as `deesc import DIR --db FILE
// --config FILE`, so that the test runs the import as a child process the
// way `deesc bench` does.
const childEnv = "DEESC_BENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "import" {
		if err := childImport(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "child import:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childImport imports as cmd/deesc's import does, writing its progress
// lines in the same format to standard error.
func childImport(args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	db := fs.String("db", "", "")
	_ = fs.String("config", "", "")
	if len(args) < 1 {
		return fmt.Errorf("no folder")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *db, store.Options{MemoryLimit: "1GB", KeepVersions: 1})
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.Import(ctx, args[0], store.ImportOptions{Progress: func(p store.Progress) {
		at := fmt.Sprintf("[%5.1fs]", p.Elapsed.Seconds())
		switch {
		case p.Phase == "reading" && p.Rows > 0:
			fmt.Fprintf(os.Stderr, "%s read %s: %d rows\n", at, p.File, p.Rows)
		case p.Phase == "reading":
			fmt.Fprintf(os.Stderr, "%s reading %s\n", at, p.File)
		case p.File != "":
			fmt.Fprintf(os.Stderr, "%s %s %s\n", at, p.Phase, p.File)
		default:
			fmt.Fprintf(os.Stderr, "%s %s\n", at, p.Phase)
		}
	}})
	return err
}

// TestRun runs the whole benchmark at 300 officers × 2 years, with the
// import as a child process, a 1-second load test and, when Python has
// statsmodels, the comparison on a smaller dataset, and checks that the
// report has every section and that its numbers hold together.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole benchmark at a tiny size")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const officers, years, runs = 300, 2, 3
	var log bytes.Buffer
	start := time.Now()
	rep, err := Run(ctx, Options{Officers: officers, Years: years, Runs: runs, LoadSeconds: 1, Dir: t.TempDir(),
		Statsmodels: true, StatsmodelsOfficers: 200, StatsmodelsMemory: 1, Executable: exe, Log: &log,
		End: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}

	// Dataset: the files' rows add up; about one officer-month per officer
	// and month of the window.
	var rows int64
	for _, f := range rep.Dataset.Files {
		rows += int64(f.Rows)
	}
	if rows != rep.Dataset.Rows || rows == 0 {
		t.Errorf("dataset rows %d, files add up to %d", rep.Dataset.Rows, rows)
	}
	if om := rep.Dataset.OfficerMonths; om < officers*years*12/2 || om > officers*years*12*2 {
		t.Errorf("officer-months = %d, want about %d", om, officers*years*12)
	}
	if rep.Dataset.From != "2024-01" || rep.Dataset.To != "2025-12" {
		t.Errorf("window %s to %s, want 2024-01 to 2025-12", rep.Dataset.From, rep.Dataset.To)
	}

	// Import: a child process whose peak RSS was read, with every phase.
	imp := rep.Import
	if !imp.Child || imp.Wall <= 0 || imp.PeakRSS < 10<<20 || imp.PeakRSS > 16<<30 {
		t.Errorf("import: child %v, wall %v, peak RSS %d", imp.Child, imp.Wall, imp.PeakRSS)
	}
	if len(imp.Phases) != 8 {
		t.Errorf("import phases = %+v, want 8", imp.Phases)
	}
	var sum float64
	for _, p := range imp.Phases {
		sum += p.Seconds
	}
	if math.Abs(sum-imp.Total.Seconds()) > 1e-9 || imp.Total > imp.Wall {
		t.Errorf("phases add up to %gs, total %v, wall %v", sum, imp.Total, imp.Wall)
	}
	if want := float64(rows) / imp.Wall.Seconds(); math.Abs(imp.RowsPerSecond-want) > 1e-6*want {
		t.Errorf("rows/s = %g, want %g", imp.RowsPerSecond, want)
	}

	// Endpoints: every one answered and was timed runs times in each mode
	// (the dashboards three times as many); every warm call came from the
	// cache.
	if len(rep.Endpoints) != 10 {
		t.Fatalf("%d endpoints, want 10", len(rep.Endpoints))
	}
	for _, e := range rep.Endpoints {
		if e.Status != 200 || e.Err != "" {
			t.Errorf("%s: status %d, %s", e.Name, e.Status, e.Err)
			continue
		}
		n := runs
		if e.Dashboard {
			n = 3 * runs
		}
		for mode, tm := range map[string]Timing{"in process": e.InProcess, "HTTP": e.HTTP, "warm in process": e.WarmInProcess,
			"warm HTTP": e.WarmHTTP, "raw": e.Raw} {
			if tm.N != n || tm.Min <= 0 || tm.Min > tm.P50 || tm.P50 > tm.P95 || tm.P95 > tm.Max {
				t.Errorf("%s %s: %+v", e.Name, mode, tm)
			}
		}
		if e.WarmCalls != 2*n || e.WarmHits != e.WarmCalls {
			t.Errorf("%s: %d of %d warm calls from the cache, want %d", e.Name, e.WarmHits, e.WarmCalls, 2*n)
		}
		if e.First <= 0 || len(e.Queries) == 0 {
			t.Errorf("%s: first %v, queries %v", e.Name, e.First, e.Queries)
		}
	}

	// Load: no error, and one audit entry per request.
	l := rep.Load
	if l.Note != "" || l.Requests == 0 || l.Errors != 0 || l.Conns != 64 {
		t.Errorf("load: %+v", l)
	}
	// The load asks for compliance as the page does: by division, not
	// every unit (an API client's request).
	if len(l.Paths) != 5 || !slices.ContainsFunc(l.Paths, func(p string) bool { return strings.Contains(p, "level=division") }) {
		t.Errorf("load paths: %v", l.Paths)
	}
	if l.Audited != l.Requests {
		t.Errorf("load: %d audit entries for %d requests", l.Audited, l.Requests)
	}
	if want := float64(l.Requests) / l.Elapsed.Seconds(); math.Abs(l.PerSecond-want) > 1e-6*want {
		t.Errorf("load: %g req/s, want %g", l.PerSecond, want)
	}
	if opt := rep.Options; opt.Wrk != "" && (l.Wrk == nil || l.Wrk.Requests == 0) {
		t.Errorf("wrk is at %s but gave %+v (%s)", opt.Wrk, l.Wrk, l.WrkNote)
	}

	// Cohort comparison: on the smaller dataset (StatsmodelsMemory of one
	// byte rules the main one out), the same rate ratios as statsmodels.
	c := rep.Cohort
	if err := checkPython(ctx, "/usr/bin/python3"); err != nil {
		if c.Ran || !strings.Contains(c.Note, "apt-get install -y python3-statsmodels") {
			t.Errorf("without statsmodels: ran %v, note %q", c.Ran, c.Note)
		}
	} else {
		if !c.Ran || c.SameDataset || c.Officers != 200 {
			t.Fatalf("comparison: ran %v, same dataset %v, officers %d: %s", c.Ran, c.SameDataset, c.Officers, c.Note)
		}
		if c.Rows == 0 || c.Py.Rows != c.Rows || c.DeescRows != c.Rows {
			t.Errorf("officer-months: exported %d, statsmodels %d, deesc %d", c.Rows, c.Py.Rows, c.DeescRows)
		}
		if math.Abs(c.DeescRR/c.Py.RR-1) > 1e-4 || math.Abs(c.DeescCrude/c.Py.Crude-1) > 1e-9 {
			t.Errorf("rate ratios: adjusted deesc %g statsmodels %g, crude %g and %g", c.DeescRR, c.Py.RR, c.DeescCrude, c.Py.Crude)
		}
		if math.Abs(c.DeescLow/c.Py.CILow-1) > 1e-3 || math.Abs(c.DeescHigh/c.Py.CIHigh-1) > 1e-3 {
			t.Errorf("CIs: deesc %g–%g, statsmodels %g–%g", c.DeescLow, c.DeescHigh, c.Py.CILow, c.Py.CIHigh)
		}
		if c.Deesc.N != runs || c.Py.FitS <= 0 || c.PyRSS <= 0 {
			t.Errorf("comparison timings: %+v, fit %gs, RSS %d", c.Deesc, c.Py.FitS, c.PyRSS)
		}
	}

	// The report: every section, every endpoint, a verdict on each target.
	var md bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	text := md.String()
	for _, want := range []string{"# deesc benchmark: 300 officers × 2 years", "## Machine", "## Dataset", "## Import",
		"## Endpoints", "### Computed (result cache off)", "### Warm (result cache on)", "## Cohort analysis", "## Load", "## Targets",
		"| cores |", "| memory |", "| DuckDB | v", "| officer-months (the panel) |", "| peak RSS |", "| panel build",
		"| requests per second |"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, e := range rep.Endpoints {
		if strings.Count(text, "| "+e.Name+" |") != 3 {
			t.Errorf("the report has %q %d times, want 3 (computed, warm, queries)", e.Name, strings.Count(text, "| "+e.Name+" |"))
		}
	}
	// Dashboards and analyses apart: the targets are the dashboards'; the
	// analyses of /evaluate are listed beside them.
	var dashboards []string
	for _, e := range rep.Endpoints {
		if e.Dashboard {
			dashboards = append(dashboards, e.Name)
		}
	}
	if got := strings.Join(dashboards, ", "); got != "compliance, compliance, every unit, outcomes by division, outcomes by month, force matrix, disparities" {
		t.Errorf("dashboard endpoints: %s", got)
	}
	if !strings.Contains(text, "| **dashboard** |") || !strings.Contains(text, "| **analyses** |") ||
		!strings.Contains(text, "| (analyses, computed p95: no latency target) | dose ") {
		t.Errorf("the report does not set the dashboards apart from the analyses")
	}
	targets := text[strings.Index(text, "## Targets"):]
	if n := strings.Count(targets, "| met |") + strings.Count(targets, "| **not met** |"); n != 7 {
		t.Errorf("the targets table has %d verdicts, want 7:\n%s", n, targets)
	}
	if strings.Contains(text, "NaN") || strings.Contains(text, "Inf") {
		t.Errorf("the report has a NaN or Inf:\n%s", text)
	}
	if t.Failed() {
		t.Log(text)
	}
	t.Logf("run took %v; progress:\n%s", time.Since(start), log.String())
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 20; i++ {
		s = append(s, time.Duration(21-i)*time.Millisecond) // unsorted: 20, 19, …, 1 ms
	}
	got := timing(s)
	// Nearest rank: p50 is the 10th of 20, p95 the 19th.
	want := Timing{N: 20, P50: 10 * time.Millisecond, P95: 19 * time.Millisecond, Min: time.Millisecond, Max: 20 * time.Millisecond}
	if got != want {
		t.Errorf("timing = %+v, want %+v", got, want)
	}
	if s[0] != 20*time.Millisecond {
		t.Error("timing sorted its argument")
	}
	one := []time.Duration{7}
	if percentile(one, 50) != 7 || percentile(one, 99) != 7 || percentile(nil, 50) != 0 {
		t.Error("percentile of one sample or none")
	}
	var h []time.Duration
	for i := 1; i <= 100; i++ {
		h = append(h, time.Duration(i))
	}
	if percentile(h, 99) != 99 || percentile(h, 50) != 50 || percentile(h, 95) != 95 {
		t.Errorf("percentiles of 1..100: %d %d %d", percentile(h, 50), percentile(h, 95), percentile(h, 99))
	}
}

// progressText is what `deesc import` writes to standard error, with a
// log line among it.
const progressText = `[  0.0s] reading officers.csv
[  0.4s] read officers.csv: 1,000 rows
[  2.0s] reading activity.csv
[  6.5s] read activity.csv: 11,300,000 rows
time=2026-01-01 level=INFO msg="something else"
[  7.0s] checking
[  8.5s] panel
[ 12.5s] writing
[ 12.6s] writing officers
[ 15.0s] writing divisions
[ 15.2s] writing training_hours
[ 16.0s] writing panel
[ 24.0s] writing panel_units
[ 24.5s] writing status_spans
[ 29.0s] committing
[ 30.5s] done
`

func TestPhases(t *testing.T) {
	ev := parseProgress(progressText)
	if len(ev) != 15 {
		t.Fatalf("%d events, want 15: %+v", len(ev), ev)
	}
	if ev[1] != (event{400 * time.Millisecond, "reading", "officers.csv"}) || ev[8] != (event{15 * time.Second, "writing", "divisions"}) {
		t.Errorf("events 1 and 8: %+v %+v", ev[1], ev[8])
	}
	var imp Import
	imp.summarise(ev)
	want := []Phase{
		{"read and type the files", 7}, {"checks across rows and files", 1.5}, {"panel inputs (keys, events, training hours)", 4},
		{"write the contract tables", 2.5}, {"write the panel's companions (keys, hours, courses)", 1}, {"write the panel", 8},
		{"write the dashboards' summaries (per unit and month, incidents, status spans, …)", 5}, {"commit and checkpoint", 1.5},
	}
	if len(imp.Phases) != len(want) {
		t.Fatalf("phases = %+v", imp.Phases)
	}
	for i := range want {
		if imp.Phases[i].Name != want[i].Name || math.Abs(imp.Phases[i].Seconds-want[i].Seconds) > 1e-9 {
			t.Errorf("phase %d = %+v, want %+v", i, imp.Phases[i], want[i])
		}
	}
	// The panel: inputs 4 s + companions 1 s + the panel 8 s.
	if math.Abs(imp.Panel.Seconds()-13) > 1e-9 || imp.Total != 30500*time.Millisecond {
		t.Errorf("panel %v, total %v; want 13s and 30.5s", imp.Panel, imp.Total)
	}
	// A failed import has no "done": the phases up to the last mark only.
	var cut Import
	cut.summarise(parseProgress(progressText[:strings.Index(progressText, "[ 29.0s]")]))
	if len(cut.Phases) != 6 || cut.Total != 0 {
		t.Errorf("cut short: %+v", cut)
	}
}

func TestParseMeminfo(t *testing.T) {
	m := parseMeminfo(strings.NewReader("MemTotal:       24684084 kB\nMemAvailable:   23564328 kB\nHugePages_Total:       0\nbad line\n"))
	if m["MemTotal"] != 24684084*1024 || m["MemAvailable"] != 23564328*1024 || m["HugePages_Total"] != 0 || len(m) != 3 {
		t.Errorf("parseMeminfo = %v", m)
	}
	if processPeakRSS() <= 0 {
		t.Error("no VmHWM for this process")
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:41234/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.87ms    3.21ms  61.02ms   88.12%
    Req/Sec     3.25k   312.40     4.01k    71.50%
  64712 requests in 10.01s, 812.33MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   6464.84
Transfer/sec:     81.15MB
`
	w, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := Wrk{Requests: 64712, PerSecond: 6464.84, Latency: "9.87ms", Non2xx: 4, SocketErrors: 3}
	if *w != want {
		t.Errorf("parseWrk = %+v, want %+v", *w, want)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("parseWrk accepted output without a summary")
	}
}

func TestFormatting(t *testing.T) {
	// 2.4 M officer-months × (80 units + 120 months) × 8 bytes × 6 copies.
	if got := designBytes(2_400_000, 80, 120); got != 23_040_000_000 {
		t.Errorf("designBytes = %d", got)
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{1234 * time.Microsecond, "1.23 ms"}, {45678 * time.Microsecond, "45.7 ms"}, {1234567 * time.Microsecond, "1235 ms"}} {
		if got := fmtMS(c.d); got != c.want {
			t.Errorf("fmtMS(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if thousands(11_300_000) != "11,300,000" || thousands(-1234) != "-1,234" || thousands(999) != "999" {
		t.Error("thousands")
	}
	if bytesText(4<<30) != "4.00 GiB" || bytesText(300<<20) != "300 MiB" {
		t.Errorf("bytesText: %s %s", bytesText(4<<30), bytesText(300<<20))
	}
	e := EndpointResult{HTTP: Timing{N: 1, P95: 150 * time.Millisecond}, Raw: Timing{N: 1, P95: 120 * time.Millisecond}}
	if !e.ColdMet() || e.RawRatio() != 1.25 {
		t.Errorf("150 ms against 120 ms raw: cold met %v, ratio %g", e.ColdMet(), e.RawRatio())
	}
	if !math.IsNaN((EndpointResult{}).RawRatio()) || fmtRatio(math.NaN()) != "–" {
		t.Error("a missing ratio")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Officers: 10, Years: 10}, "officers: must be from 20"},
		{Options{Officers: 100, Years: 0}, "years: must be from 1"},
		{Options{Officers: 100, Years: 2, StatsmodelsOfficers: 5}, "statsmodels-officers: must be from 20"},
	} {
		if err := c.o.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.o, err, c.want)
		}
	}
	if err := (Options{Officers: 100, Years: 2}).Validate(); err != nil {
		t.Errorf("Validate of valid options: %v", err)
	}
}

// TestTakeTurns: each way is timed n times, in rounds whose first call
// rotates, so that neither side of a ratio is always measured first; an
// error stops the rounds and keeps the samples so far.
func TestTakeTurns(t *testing.T) {
	var order []string
	var a, b, c Timing
	way := func(name string, d time.Duration) func() (time.Duration, error) {
		return func() (time.Duration, error) { order = append(order, name); return d, nil }
	}
	if err := takeTurns(3, []timed{{&a, way("a", 1)}, {&b, way("b", 2)}, {&c, way("c", 3)}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ""); got != "abcbcacab" {
		t.Errorf("order %s, want abcbcacab", got)
	}
	if a.N != 3 || a.P50 != 1 || b.N != 3 || b.P50 != 2 || c.N != 3 || c.Max != 3 {
		t.Errorf("timings %+v %+v %+v", a, b, c)
	}
	calls := 0
	failing := func() (time.Duration, error) {
		if calls++; calls == 2 {
			return 0, errors.New("refused")
		}
		return 5, nil
	}
	var ok, bad Timing
	if err := takeTurns(3, []timed{{&ok, way("x", 4)}, {&bad, failing}}); err == nil || ok.N != 1 || bad.N != 1 {
		t.Errorf("after an error: %v, %+v, %+v", err, ok, bad)
	}
}
