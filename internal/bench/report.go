package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// The performance issue's targets.
const (
	TargetColdP95     = 150 * time.Millisecond // an endpoint computing its answer
	TargetRawRatio    = 1.25                   // endpoint p95 over its raw DuckDB p95
	TargetWarmP95     = 5 * time.Millisecond   // an answer from the result cache
	TargetImport      = 20 * time.Second       // import, panel included
	TargetPeakRSS     = 4 << 30                // bytes, during the import
	TargetStatsmodels = 20.0                   // times faster than statsmodels
	TargetLoadPerSec  = 2000.0                 // warm requests per second …
	TargetLoadConns   = 64                     // … with this many connections
	targetMet, notMet = "met", "**not met**"
	notMeasured       = "not measured"
)

// met returns "met" or "not met".
func met(ok bool) string {
	if ok {
		return targetMet
	}
	return notMet
}

// ColdMet reports whether an endpoint's computed (uncached) HTTP p95 is
// within TargetColdP95.
func (r EndpointResult) ColdMet() bool { return r.HTTP.N > 0 && r.HTTP.P95 <= TargetColdP95 }

// RawRatio returns the endpoint's uncached HTTP p95 over its raw DuckDB
// p95, or NaN when either is missing.
func (r EndpointResult) RawRatio() float64 {
	if r.HTTP.N == 0 || r.Raw.N == 0 || r.Raw.P95 <= 0 {
		return math.NaN()
	}
	return float64(r.HTTP.P95) / float64(r.Raw.P95)
}

// WarmMet reports whether the cached answer's HTTP p95 is within
// TargetWarmP95.
func (r EndpointResult) WarmMet() bool { return r.WarmHTTP.N > 0 && r.WarmHTTP.P95 <= TargetWarmP95 }

// SpeedUp returns statsmodels' fit time over deesc's median cohort
// analysis time, or NaN when either is missing.
func (c Comparison) SpeedUp() float64 {
	if !c.Ran || c.Deesc.P50 <= 0 {
		return math.NaN()
	}
	return c.Py.FitS / c.Deesc.P50.Seconds()
}

// LoadMet reports whether the load test reached TargetLoadPerSec with
// TargetLoadConns connections and no error.
func (l Load) LoadMet() bool {
	return l.Conns >= TargetLoadConns && l.Requests > 0 && l.Errors == 0 && l.PerSecond >= TargetLoadPerSec
}

// Markdown writes the report.
func (r *Report) Markdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	o, ds, m := r.Options, r.Dataset, r.Machine

	p("# deesc benchmark: %s officers × %d years\n\n", thousands(int64(ds.Officers)), ds.Years)
	cmd := r.Options.Command
	if cmd == "" {
		cmd = fmt.Sprintf("deesc bench --officers %d --years %d --runs %d --load-seconds %g", o.Officers, o.Years, o.Runs, o.LoadSeconds)
	}
	p("`%s`, run %s; the whole run took %s. The same command writes the same dataset (seed %d, last month %s), so the run can be repeated.\n\n",
		cmd, r.Started.Format("2006-01-02 15:04 MST"), r.Wall.Round(time.Second), ds.Seed, ds.To)

	p("## Machine\n\n| | |\n|---|---|\n")
	p("| cores | %d (%s) |\n", m.Cores, orDash(m.CPU))
	p("| memory | %s total, %s available at the start (/proc/meminfo) |\n", bytesText(m.MemTotal), bytesText(m.MemAvailable))
	p("| Go | %s |\n", m.Go)
	p("| DuckDB | %s (duckdb-go %s); memory_limit %s, one thread per core |\n", orDash(m.DuckDB), orDash(m.DuckDBGo), o.MemoryLimit)
	p("| deesc | %s |\n", orDash(o.Version))
	p("| date | %s |\n\n", r.Started.Format(time.RFC3339))

	p("## Dataset\n\n")
	p("`deesc demo` at %s officers × %d years (%s to %s, seed %d), generated in %.1f s.\n\n",
		thousands(int64(ds.Officers)), ds.Years, ds.From, ds.To, ds.Seed, ds.Generate.Seconds())
	p("| file | rows |\n|---|---:|\n")
	for _, f := range ds.Files {
		p("| %s | %s |\n", f.Name, thousands(int64(f.Rows)))
	}
	p("| **every file** | **%s** |\n", thousands(ds.Rows))
	p("| officer-months (the panel) | %s |\n", thousands(ds.OfficerMonths))
	p("| units | %d |\n\n", ds.Units)

	imp := r.Import
	p("## Import\n\n")
	if imp.Child {
		p("`deesc import` ran as a child process into a new database file; its peak RSS is the child's own (getrusage ru_maxrss).\n\n")
	} else {
		p("The import ran in the benchmark's own process: the peak RSS (VmHWM) includes generating the dataset.\n\n")
	}
	p("| measure | value | target | |\n|---|---:|---:|---|\n")
	p("| wall time, panel included | %.1f s | ≤ %.0f s | %s |\n", imp.Wall.Seconds(), TargetImport.Seconds(), met(imp.Wall <= TargetImport))
	p("| peak RSS | %s | ≤ %s | %s |\n", bytesText(imp.PeakRSS), bytesText(TargetPeakRSS), met(imp.PeakRSS > 0 && imp.PeakRSS <= TargetPeakRSS))
	p("| rows per second (every file's rows ÷ wall time) | %s | | |\n", thousands(int64(imp.RowsPerSecond)))
	p("| panel build (inputs, companions, the panel) | %.1f s | | |\n", imp.Panel.Seconds())
	p("| the import's own clock, start to done | %.1f s | | |\n\n", imp.Total.Seconds())
	if len(imp.Phases) > 0 {
		p("| phase | seconds |\n|---|---:|\n")
		for _, ph := range imp.Phases {
			p("| %s | %.1f |\n", ph.Name, ph.Seconds)
		}
		p("\n")
	}

	p("## Endpoints\n\n")
	p("Each endpoint is called once right after the import (first call, in process, nothing cached), then %d times per mode (the dashboards %d times): "+
		"in process through Fiber's `app.Test` and over HTTP on 127.0.0.1 through a real listener (asking for answers uncompressed, "+
		"as wrk does: a client gunzipping them would share the server's two cores), with the result cache off "+
		"(`CacheBytes: -1`, every call computes its answer) and on (warm: answered from the cache). The audit log is on, as in "+
		"`deesc serve`; authentication and the rate limit are off. Raw is the same named queries from `queries/` run directly on "+
		"the store's database with the handler's parameters, each result read to its last row (for the dose, the two grouped "+
		"passes `store.Dose` makes over its officer-months). Raw, in process and HTTP take turns call by call, as do the two "+
		"warm modes, so that a drift in the machine's speed reaches both sides of a ratio. For the analyses, the difference is mostly the statistics computed "+
		"in Go (fits, exact intervals, dispersion checks). Percentiles are nearest-rank.\n\n", o.Runs, endpointRuns(o.Runs, true))
	p("### Computed (result cache off)\n\n")
	p("The dashboard endpoints (those the leadership dashboard and its charts read, and compliance in the form API clients get it by " +
		"default, every unit listed) are held to the targets; the analyses " +
		"(the evaluators' page, /evaluate: fits with clustered errors, exact intervals and dispersion checks) are reported " +
		"against the same marks for comparison.\n\n")
	p("| endpoint | first call | in process p50 / p95 | HTTP p50 / p95 | raw p50 / p95 | HTTP ÷ raw, p50 / p95 | p95 ≤ 150 ms | p95 ≤ %.2f× raw |\n", TargetRawRatio)
	p("|---|---:|---:|---:|---:|---:|---|---|\n")
	for _, dashboard := range []bool{true, false} {
		p("| **%s** | | | | | | | |\n", map[bool]string{true: "dashboard", false: "analyses"}[dashboard])
		for _, e := range r.Endpoints {
			if e.Dashboard != dashboard {
				continue
			}
			if e.Status != 200 || e.HTTP.N == 0 {
				p("| %s | %s | %s | | | | %s | %s |\n", e.Name, fmtMS(e.First), cell(e.Err), notMet, notMet)
				continue
			}
			ratio := e.RawRatio()
			p("| %s | %s | %s | %s | %s | %s / %s | %s | %s |\n", e.Name, fmtMS(e.First), pair(e.InProcess), pair(e.HTTP), pair(e.Raw),
				fmtRatio(float64(e.HTTP.P50)/float64(e.Raw.P50)), fmtRatio(ratio), met(e.ColdMet()), met(ratio <= TargetRawRatio))
		}
	}
	p("\n### Warm (result cache on)\n\n")
	p("| endpoint | in process p50 / p95 | HTTP p50 / p95 | answered from the cache | p95 ≤ 5 ms |\n|---|---:|---:|---:|---|\n")
	for _, e := range r.Endpoints {
		if e.WarmHTTP.N == 0 {
			p("| %s | | | | %s |\n", e.Name, notMet)
			continue
		}
		p("| %s | %s | %s | %d of %d | %s |\n", e.Name, pair(e.WarmInProcess), pair(e.WarmHTTP), e.WarmHits, e.WarmCalls, met(e.WarmMet()))
	}
	p("\n### What each endpoint runs\n\n| endpoint | request | named queries |\n|---|---|---|\n")
	for _, e := range r.Endpoints {
		p("| %s | `GET %s` | %s |\n", e.Name, e.Path, "`"+strings.Join(e.Queries, "`, `")+"`")
	}
	p("\n")

	r.cohortSection(p)
	r.loadSection(p)
	r.targetsSection(p)
	return w.Flush()
}

func (r *Report) cohortSection(p func(string, ...any)) {
	c := r.Cohort
	p("## Cohort analysis: deesc and statsmodels\n\n")
	if !c.Ran {
		p("%s\n\n", orDash(c.Note))
		return
	}
	p("An evaluator without deesc exports the officer-months (`deesc query cohort_inputs --param course=ICAT --param outcome=force --format csv`) "+
		"and fits them with `internal/bench/cohort_glm.py`: the crude rate ratio, and a Poisson GLM of events on trained with unit and "+
		"calendar-month fixed effects, offset log(exposure), officer-clustered standard errors (statsmodels %s, pandas %s, numpy %s, Python %s). "+
		"deesc's time is `GET /api/cohorts?course=ICAT&outcome=force` computed (cache off, in process), which does the crude and the adjusted "+
		"analyses, the NB2 dispersion check included.\n\n", c.Py.Statsmodels, c.Py.Pandas, c.Py.Numpy, c.Py.Python)
	if c.Note != "" {
		p("%s\n\n", c.Note)
	}
	p("| | deesc | statsmodels |\n|---|---:|---:|\n")
	p("| dataset | %s officers × %d years | the same officer-months |\n", thousands(int64(c.Officers)), c.Years)
	p("| officer-months | %s | %s (%s exported, %s CSV) |\n", thousands(c.DeescRows), thousands(c.Py.Rows), thousands(c.Rows), bytesText(c.CSVBytes))
	p("| crude rate ratio | %.6f | %.6f |\n", c.DeescCrude, c.Py.Crude)
	p("| adjusted rate ratio | %.6f | %.6f |\n", c.DeescRR, c.Py.RR)
	p("| 95%% CI | %.6f – %.6f | %.6f – %.6f |\n", c.DeescLow, c.DeescHigh, c.Py.CILow, c.Py.CIHigh)
	p("| relative difference of the adjusted rate ratios | %.2e | |\n", math.Abs(c.DeescRR/c.Py.RR-1))
	p("| model parameters | | %d (converged: %v) |\n", c.Py.Parameters, c.Py.Converged)
	p("| time: the analysis | %s (p50 of %d; p95 %s) | fit %.2f s (crude %.3f s) |\n", fmtMS(c.Deesc.P50), c.Deesc.N, fmtMS(c.Deesc.P95), c.Py.FitS, c.Py.CrudeS)
	p("| time: getting there | | export %.2f s, Python start and imports %.2f s, reading the CSV %.2f s; process %.2f s |\n",
		c.Export.Seconds(), c.Py.ImportS, c.Py.LoadS, c.PyWall.Seconds())
	p("| peak RSS | | %s |\n", bytesText(c.PyRSS))
	total := (c.Export + c.PyWall).Seconds()
	p("| statsmodels fit ÷ deesc | **%.0f×** (target ≥ %.0f×: %s) | export and whole process ÷ deesc: %.0f× |\n\n",
		c.SpeedUp(), TargetStatsmodels, met(c.SpeedUp() >= TargetStatsmodels), total/c.Deesc.P50.Seconds())
}

func (r *Report) loadSection(p func(string, ...any)) {
	l := r.Load
	p("## Load\n\n")
	if l.Note != "" {
		p("%s\n\n", l.Note)
		return
	}
	p("%d connections for %.1f s over loopback (a Go load generator in the same process as the server, sharing its cores), each "+
		"sending the warm dashboard requests round-robin (compliance as the page asks for it, by division), uncompressed like wrk: %s. Audit log on (every request waits for its entry to commit), rate limit off.\n\n",
		l.Conns, l.Elapsed.Seconds(), "`"+strings.Join(l.Paths, "`, `")+"`")
	p("| measure | value | target | |\n|---|---:|---:|---|\n")
	p("| requests per second | %s | ≥ %s with %d connections and no error | %s |\n", thousands(int64(l.PerSecond)), thousands(int64(TargetLoadPerSec)),
		TargetLoadConns, met(l.LoadMet()))
	p("| requests answered 200 | %s | | |\n", thousands(l.Requests))
	p("| errors | %d | 0 | %s |\n", l.Errors, met(l.Errors == 0))
	p("| latency p50 / p99 | %s / %s | | |\n", fmtMS(l.P50), fmtMS(l.P99))
	p("| audit log entries written meanwhile | %s | one per request | %s |\n", thousands(l.Audited), met(l.Audited >= l.Requests+l.Errors))
	if l.FirstError != "" {
		p("\nFirst error: %s\n", l.FirstError)
	}
	p("\n")
	if l.Wrk != nil {
		k := l.Wrk
		p("wrk (`wrk -t%d -c%d -d%ds`, the same paths round-robin, server in this process): **%s requests/s**, %s requests, "+
			"mean latency %s, %d non-2xx answers, %d socket errors: %s.\n\n",
			k.Threads, l.Conns, max(1, int(r.Options.LoadSeconds+0.5)), thousands(int64(k.PerSecond)), thousands(k.Requests), k.Latency, k.Non2xx, k.SocketErrors,
			met(k.PerSecond >= TargetLoadPerSec && k.Non2xx == 0 && k.SocketErrors == 0))
	} else if l.WrkNote != "" {
		p("wrk: %s.\n\n", strings.TrimSuffix(l.WrkNote, "."))
	}
}

func (r *Report) targetsSection(p func(string, ...any)) {
	p("## Targets\n\n| target | result | |\n|---|---|---|\n")
	var cold, ratio, warm, n, nw int
	var worstCold, worstWarm time.Duration
	worstRatio := 0.0
	var analyses []string
	for _, e := range r.Endpoints {
		nw++
		if e.WarmMet() {
			warm++
		}
		worstWarm = max(worstWarm, e.WarmHTTP.P95)
		if !e.Dashboard {
			analyses = append(analyses, fmt.Sprintf("%s %s", e.Name, fmtMS(e.HTTP.P95)))
			continue
		}
		n++
		if e.ColdMet() {
			cold++
		}
		if x := e.RawRatio(); x <= TargetRawRatio {
			ratio++
		}
		worstCold = max(worstCold, e.HTTP.P95)
		if x := e.RawRatio(); !math.IsNaN(x) {
			worstRatio = max(worstRatio, x)
		}
	}
	p("| dashboard endpoint p95 ≤ 150 ms computed (HTTP, cache off) | %d of %d endpoints; slowest p95 %s | %s |\n", cold, n, fmtMS(worstCold), met(cold == n))
	p("| dashboard endpoint p95 ≤ %.2f× its raw DuckDB p95 | %d of %d endpoints; largest ratio %s | %s |\n", TargetRawRatio, ratio, n, fmtRatio(worstRatio), met(ratio == n))
	p("| warm p95 ≤ 5 ms (HTTP, cache on) | %d of %d endpoints, analyses included; slowest p95 %s | %s |\n", warm, nw, fmtMS(worstWarm), met(warm == nw))
	if len(analyses) > 0 {
		p("| (analyses, computed p95: no latency target) | %s | |\n", strings.Join(analyses, ", "))
	}
	p("| import, panel included, ≤ 20 s | %.1f s | %s |\n", r.Import.Wall.Seconds(), met(r.Import.Wall <= TargetImport))
	p("| import peak RSS ≤ 4 GiB | %s | %s |\n", bytesText(r.Import.PeakRSS), met(r.Import.PeakRSS > 0 && r.Import.PeakRSS <= TargetPeakRSS))
	if r.Cohort.Ran {
		p("| adjusted cohort analysis ≥ 20× faster than statsmodels | %.0f× at %s officers | %s |\n", r.Cohort.SpeedUp(),
			thousands(int64(r.Cohort.Officers)), met(r.Cohort.SpeedUp() >= TargetStatsmodels))
	} else {
		p("| adjusted cohort analysis ≥ 20× faster than statsmodels | not run | %s |\n", notMeasured)
	}
	if r.Load.Note == "" {
		p("| ≥ 2,000 req/s warm, 64 connections, 0 errors | %s req/s, %d connections, %d errors | %s |\n", thousands(int64(r.Load.PerSecond)),
			r.Load.Conns, r.Load.Errors, met(r.Load.LoadMet()))
	} else {
		p("| ≥ 2,000 req/s warm, 64 connections, 0 errors | not run | %s |\n", notMeasured)
	}
	p("\n")
}

// pair formats a timing's p50 / p95.
func pair(t Timing) string {
	if t.N == 0 {
		return "–"
	}
	return fmtMS(t.P50) + " / " + fmtMS(t.P95)
}

// fmtMS formats d in milliseconds with three significant figures or so.
func fmtMS(d time.Duration) string {
	x := ms(d)
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f ms", x)
	case x >= 10:
		return fmt.Sprintf("%.1f ms", x)
	}
	return fmt.Sprintf("%.2f ms", x)
}

// fmtRatio formats a ratio, "–" when unknown.
func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
