package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/audit"
	"deesc/internal/server"
	"deesc/internal/store"
)

// endpoint is one route the benchmark times, with the named queries its
// handler runs and the parameters it binds them to.
type endpoint struct {
	name, path string
	// dashboard: a leadership route (the dashboard page, its charts, or the
	// leadership API it is built on: outcome rates, the IMIM matrix,
	// disparities): held to the dashboard targets and part of the load
	// test. The others are the evaluators' analyses on /evaluate.
	dashboard bool
	// apiOnly: a dashboard route in the form API clients ask for it and the
	// page does not (compliance with every unit): held to the dashboard
	// targets, left out of the load test, which asks for compliance as the
	// page does.
	apiOnly bool
	raw     []namedQuery
	// dose: the raw query returns officer-months, which store.Dose reads in
	// two grouped passes inside DuckDB (store.DoseSQL); its raw time is that
	// of those passes, not of shipping the officer-months to Go.
	dose bool
}

// namedQuery is a query of queries/ with bound arguments.
type namedQuery struct {
	name  string
	args  []any
	limit int // > 0: the handler reads only this many rows
}

// endpoints returns the routes timed, with the arguments the store's read
// functions bind for them (see internal/store/reads.go, cohorts.go, dose.go).
func endpoints(end time.Time) []endpoint {
	asOf := end.Format(time.DateOnly)
	filter := func(extra ...any) []any {
		return append([]any{sql.Named("from", ""), sql.Named("to", ""), sql.Named("unit", ""), sql.Named("division", "")}, extra...)
	}
	asOfTime, _ := time.Parse(time.DateOnly, asOf)
	// The named queries /api/compliance runs: the same at either level (the
	// handler leaves out the units), the overdue list read to its limit.
	compliance := func(overdue int) []namedQuery {
		return []namedQuery{
			{name: "compliance_by_unit", args: []any{sql.Named("as_of", asOfTime), sql.Named("unit", ""), sql.Named("division", ""), sql.Named("course", "")}},
			{name: "compliance_overdue", args: []any{sql.Named("as_of", asOfTime), sql.Named("unit", ""), sql.Named("division", ""), sql.Named("course", ""),
				sql.Named("mandatory_only", "false")}, limit: overdue},
			{name: "compliance_trend", args: []any{sql.Named("as_of", asOfTime), sql.Named("months", 24), sql.Named("unit", ""), sql.Named("division", ""),
				sql.Named("course", "")}},
			{name: "hours_balance", args: []any{sql.Named("as_of", asOfTime), sql.Named("unit", ""), sql.Named("division", "")}},
		}
	}
	cohort := []namedQuery{{name: "cohort_officer_runs", args: filter(sql.Named("outcome", "force"), sql.Named("course", "ICAT"),
		sql.Named("category", ""), sql.Named("min_hours", 0.0))}, {name: "cohort_events", args: filter(sql.Named("outcome", "force"))}}
	return []endpoint{
		// The page's request for the whole service: divisions only, the first 25 overdue.
		{name: "compliance", path: "/api/compliance?as_of=" + asOf + "&level=division&months=24&overdue_limit=25", dashboard: true,
			raw: compliance(25)},
		// The default answer: every unit of every division, the first 500 overdue.
		{name: "compliance, every unit", path: "/api/compliance?as_of=" + asOf, dashboard: true, apiOnly: true, raw: compliance(500)},
		{name: "outcomes by division", path: "/api/outcomes?outcome=force&group_by=division", dashboard: true, raw: []namedQuery{
			{name: "outcome_rates", args: filter(sql.Named("outcome", "force"), sql.Named("group_by", "division"))}}},
		{name: "outcomes by month", path: "/api/outcomes?outcome=force&group_by=month", dashboard: true, raw: []namedQuery{
			{name: "outcome_rates", args: filter(sql.Named("outcome", "force"), sql.Named("group_by", "month"))}}},
		{name: "force matrix", path: "/api/force/matrix", dashboard: true, raw: []namedQuery{
			{name: "force_matrix", args: filter()}, {name: "force_factors", args: filter()}}},
		{name: "disparities", path: "/api/disparities?outcome=force&by=subject_race", dashboard: true, raw: []namedQuery{
			{name: "disparities", args: filter(sql.Named("by", "subject_race"))}}},
		{name: "dose", path: "/api/dose?outcome=force", dose: true, raw: []namedQuery{
			{name: "dose_officer_months", args: filter(sql.Named("outcome", "force"), sql.Named("window", 12))}}},
		{name: "cohorts", path: "/api/cohorts?course=ICAT&outcome=force", raw: cohort},
		{name: "staggered", path: "/api/staggered?course=ICAT&outcome=force", raw: cohort},
		{name: "prepost", path: "/api/prepost?course=ICAT&outcome=force", raw: cohort},
	}
}

// Timing summarises repeated calls.
type Timing struct {
	N        int
	P50, P95 time.Duration
	Min, Max time.Duration
}

// timing returns the nearest-rank percentiles of samples.
func timing(samples []time.Duration) Timing {
	if len(samples) == 0 {
		return Timing{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return Timing{N: len(s), P50: percentile(s, 50), P95: percentile(s, 95), Min: s[0], Max: s[len(s)-1]}
}

// percentile returns the nearest-rank p-th percentile of sorted s: the
// smallest value with at least p% of the samples at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int((p*float64(len(sorted)) + 99) / 100) // ceil(p·n/100)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// EndpointResult is one endpoint's timings.
type EndpointResult struct {
	Name, Path string
	Dashboard  bool     // a dashboard endpoint (the others are analyses)
	Queries    []string // the named queries behind it
	Status     int      // of the first call
	Err        string   // why it was not (fully) measured
	First      time.Duration
	// Uncached: the result cache off (every call computes); Warm: answered
	// from the result cache.
	InProcess, HTTP         Timing
	WarmInProcess, WarmHTTP Timing
	WarmHits, WarmCalls     int // calls answered "X-Deesc-Cache: hit"
	Raw                     Timing
	body                    []byte // of the first call
}

// servers are the apps under test, each also listening on loopback.
type servers struct {
	uncached, cached       *fiber.App
	uncachedURL, cachedURL string
	audit                  *audit.Log
	db                     *sql.DB // the store's, where the audit log lives
	client                 *http.Client
	served                 []chan error
}

// callTimeout bounds every request the benchmark makes.
const callTimeout = 5 * time.Minute

// startServers builds the app without and with the result cache, both
// with the audit log on and no rate limit, as `deesc serve` runs them, and
// serves each on 127.0.0.1 on a port of the system's choosing.
func startServers(ctx context.Context, st *store.Store, opt Options) (*servers, error) {
	al, err := audit.Open(ctx, st.DB(), audit.Options{})
	if err != nil {
		return nil, fmt.Errorf("bench: opening the audit log: %w", err)
	}
	log := slog.New(slog.NewTextHandler(opt.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := &servers{audit: al, db: st.DB(), client: &http.Client{Timeout: callTimeout,
		// Answers as they are, as wrk asks: a client decompressing gzip here would share the server's cores.
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}}
	build := func(cache int) (*fiber.App, string, error) {
		app := newApp(st, al, log, opt.Version, cache)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", fmt.Errorf("bench: listening on loopback: %w", err)
		}
		done := make(chan error, 1)
		go func() { done <- app.Listener(ln) }()
		s.served = append(s.served, done)
		return app, "http://" + ln.Addr().String(), nil
	}
	if s.uncached, s.uncachedURL, err = build(-1); err != nil {
		s.close()
		return nil, err
	}
	if s.cached, s.cachedURL, err = build(0); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// newApp builds deesc's app as `deesc serve` does with authentication off
// (everyone acts as admin, as on loopback) and no rate limit; cache is
// server.Options.CacheBytes.
func newApp(st *store.Store, al *audit.Log, log *slog.Logger, version string, cache int) *fiber.App {
	return server.New(st, server.Options{Log: log, Version: version, CacheBytes: cache, Audit: al})
}

// close stops the servers and the audit log.
func (s *servers) close() {
	for _, app := range []*fiber.App{s.uncached, s.cached} {
		if app != nil {
			_ = app.ShutdownWithTimeout(5 * time.Second)
		}
	}
	for _, done := range s.served {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
	s.client.CloseIdleConnections()
	s.audit.Close()
}

// answer is one response.
type answer struct {
	took   time.Duration
	status int
	cache  string // X-Deesc-Cache
	body   []byte
}

// inProcess calls app through app.Test, the handler chain without a socket.
func inProcess(app *fiber.App, path string) (answer, error) {
	start := time.Now()
	resp, err := app.Test(httptest.NewRequest("GET", path, nil), int(callTimeout/time.Millisecond))
	if err != nil {
		return answer{}, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	a := answer{took: time.Since(start), status: resp.StatusCode, cache: resp.Header.Get("X-Deesc-Cache"), body: body}
	if err != nil {
		return a, fmt.Errorf("GET %s: %w", path, err)
	}
	return a, nil
}

// overHTTP calls base+path over loopback and reads the whole answer.
func overHTTP(ctx context.Context, client *http.Client, base, path string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		return answer{}, err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	a := answer{took: time.Since(start), status: resp.StatusCode, cache: resp.Header.Get("X-Deesc-Cache")}
	if err != nil {
		return a, fmt.Errorf("GET %s: after %d bytes: %w", path, n, err)
	}
	return a, nil
}

// measureEndpoints times each endpoint: first the first call of every
// endpoint after the import (in process, nothing cached anywhere), then per
// endpoint the raw queries, the uncached calls in process and over HTTP,
// and the warm (cached) calls in process and over HTTP, endpointRuns each.
func measureEndpoints(ctx context.Context, st *store.Store, srv *servers, eps []endpoint, opt Options) ([]EndpointResult, error) {
	out := make([]EndpointResult, len(eps))
	for i, ep := range eps {
		r := &out[i]
		r.Name, r.Path, r.Dashboard = ep.name, ep.path, ep.dashboard
		for _, q := range ep.raw {
			r.Queries = append(r.Queries, q.name)
		}
		a, err := inProcess(srv.uncached, ep.path)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		r.First, r.Status, r.body = a.took, a.status, a.body
		if a.status != 200 {
			r.Err = fmt.Sprintf("answered %d: %.300s", a.status, a.body)
		}
		fmt.Fprintf(opt.Log, "bench: first %-22s %4d %8.1f ms\n", ep.name, a.status, ms(a.took))
	}
	for i, ep := range eps {
		r := &out[i]
		if r.Status != 200 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		call := func(do func() (answer, error), wantCache string, hits *int) func() (time.Duration, error) {
			return func() (time.Duration, error) {
				a, err := do()
				if err != nil {
					return 0, err
				}
				if a.status != 200 {
					return 0, fmt.Errorf("GET %s answered %d", ep.path, a.status)
				}
				if wantCache == "hit" {
					r.WarmCalls++
					if a.cache == "hit" {
						*hits++
					}
				}
				return a.took, nil
			}
		}
		// The raw queries and the computed calls take turns, as do the two
		// warm modes, so that a machine whose speed drifts (a shared VM)
		// slows both sides of a ratio alike.
		computed := []timed{
			{&r.Raw, func() (time.Duration, error) { return runRaw(ctx, st, ep) }},
			{&r.InProcess, call(func() (answer, error) { return inProcess(srv.uncached, ep.path) }, "", nil)},
			{&r.HTTP, call(func() (answer, error) { return overHTTP(ctx, srv.client, srv.uncachedURL, ep.path) }, "", nil)},
		}
		runs := endpointRuns(opt.Runs, ep.dashboard)
		if err := takeTurns(runs, computed); err != nil {
			r.Err = err.Error()
			continue
		}
		warmIn := func() (answer, error) { return inProcess(srv.cached, ep.path) }
		warmHTTP := func() (answer, error) { return overHTTP(ctx, srv.client, srv.cachedURL, ep.path) }
		for _, prime := range []func() (answer, error){warmIn, warmHTTP} {
			if _, err := prime(); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
		}
		warm := []timed{{&r.WarmInProcess, call(warmIn, "hit", &r.WarmHits)}, {&r.WarmHTTP, call(warmHTTP, "hit", &r.WarmHits)}}
		if err := takeTurns(runs, warm); err != nil {
			r.Err = err.Error()
			continue
		}
		fmt.Fprintf(opt.Log, "bench: %-22s uncached p50 %8.1f ms (raw %8.1f ms), warm p50 %6.2f ms\n",
			ep.name, ms(r.InProcess.P50), ms(r.Raw.P50), ms(r.WarmInProcess.P50))
	}
	return out, nil
}

// endpointRuns is how many times an endpoint is called per mode: runs for
// the analyses, three times as many for the dashboards, whose p95 is held to
// targets (of 20 calls it is the second slowest, which a shared VM's hiccup
// decides; of 60, the fourth).
func endpointRuns(runs int, dashboard bool) int {
	if dashboard {
		return 3 * runs
	}
	return runs
}

// repeat calls f n times and summarises the durations it returns; it stops
// at the first error.
func repeat(n int, f func() (time.Duration, error)) (Timing, error) {
	var t Timing
	err := takeTurns(n, []timed{{&t, f}})
	return t, err
}

// timed is one way of answering a request and where its timings go.
type timed struct {
	t *Timing
	f func() (time.Duration, error)
}

// takeTurns calls each of ms n times, in turns (the first of each round
// rotating), and summarises each one's durations; it stops at the first
// error.
func takeTurns(n int, ms []timed) error {
	samples := make([][]time.Duration, len(ms))
	defer func() {
		for i, m := range ms {
			*m.t = timing(samples[i])
		}
	}()
	for round := range n {
		for j := range ms {
			i := (round + j) % len(ms)
			d, err := ms[i].f()
			if err != nil {
				return err
			}
			samples[i] = append(samples[i], d)
		}
	}
	return nil
}

// runRaw runs the named queries of ep directly on the store's database
// with the handler's arguments and returns the time they took: each result
// read to its last row, or, for the dose's officer-months, the two passes
// store.Dose makes over them.
func runRaw(ctx context.Context, st *store.Store, ep endpoint) (time.Duration, error) {
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var total time.Duration
	for _, q := range ep.raw {
		text, args := st.Queries().SQL(q.name), q.args
		if q.limit > 0 {
			text, args = store.LimitedSQL(text, args, q.limit)
		}
		start := time.Now()
		if ep.dose {
			if err := rawDose(ctx, conn, st, q.args); err != nil {
				return 0, fmt.Errorf("%s: %w", q.name, err)
			}
			total += time.Since(start)
			continue
		}
		rows, err := conn.QueryContext(ctx, text, args...)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", q.name, err)
		}
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", q.name, err)
		}
		total += time.Since(start)
	}
	return total, nil
}

// rawDose runs store.Dose's two statements over dose_officer_months with
// args: the grouped pass read to its last row, then the scores pass over
// the cells it found, each with weight and rate zero (what the pass costs
// does not depend on their values).
func rawDose(ctx context.Context, conn *sql.Conn, st *store.Store, args []any) error {
	grouped, scores := st.DoseSQL()
	rows, err := conn.QueryContext(ctx, grouped, args...)
	if err != nil {
		return err
	}
	var months []int32
	var hours []float64
	for rows.Next() {
		var byOfficer bool
		var key sql.NullInt32
		var m sql.NullTime
		var h sql.NullFloat64
		var y, mean float64
		var n int64
		if err := rows.Scan(&byOfficer, &key, &m, &h, &y, &n, &mean); err != nil {
			rows.Close()
			return err
		}
		if !byOfficer {
			months, hours = append(months, int32(m.Time.Year()*12+int(m.Time.Month())-1)), append(hours, h.Float64)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	zeros := make([]float64, len(months))
	var meat float64
	var clusters, joined int64
	return conn.QueryRowContext(ctx, scores, append(args, sql.Named("months", months), sql.Named("hours", hours),
		sql.Named("weights", zeros), sql.Named("rates", zeros))...).Scan(&meat, &clusters, &joined)
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
