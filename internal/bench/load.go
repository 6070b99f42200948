package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Load is the load test's outcome: concurrent connections on the warm
// dashboard endpoints over loopback, with the audit log on.
type Load struct {
	Note       string // why it was not run
	Conns      int
	Elapsed    time.Duration
	Paths      []string
	Requests   int64 // completed with 200
	Errors     int64 // transport errors and other statuses
	FirstError string
	PerSecond  float64 // Requests / Elapsed
	P50, P99   time.Duration
	// Audited is the number of audit log entries written meanwhile; each
	// request must have one.
	Audited int64
	Wrk     *Wrk
	WrkNote string
}

// Wrk is what wrk reported for the same load.
type Wrk struct {
	Threads      int
	Requests     int64
	PerSecond    float64
	Latency      string // wrk's mean latency, as it prints it
	Non2xx       int64
	SocketErrors int64
}

// loadTimeout bounds each request of the load test.
const loadTimeout = 30 * time.Second

// loadTest runs opt.LoadConns workers for opt.LoadSeconds against the cached
// server's dashboard endpoints, round-robin, then wrk if it is installed.
func loadTest(ctx context.Context, srv *servers, eps []endpoint, opt Options, dir string) (Load, error) {
	l := Load{Conns: opt.LoadConns}
	for _, ep := range eps {
		if ep.dashboard && !ep.apiOnly {
			l.Paths = append(l.Paths, ep.path)
		}
	}
	for _, p := range l.Paths { // warm the cache
		if _, err := overHTTP(ctx, srv.client, srv.cachedURL, p); err != nil {
			return l, fmt.Errorf("bench: load: %w", err)
		}
	}
	before, err := auditCount(ctx, srv)
	if err != nil {
		return l, err
	}
	// No Accept-Encoding, as wrk: the generator shares the server's cores,
	// and gunzipping the answers would measure the client.
	tr := &http.Transport{MaxIdleConns: opt.LoadConns, MaxIdleConnsPerHost: opt.LoadConns, MaxConnsPerHost: opt.LoadConns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: loadTimeout, Transport: tr}
	dur := time.Duration(opt.LoadSeconds * float64(time.Second))
	var (
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for w := range opt.LoadConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var errs int64
			var first string
			for i := w; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				p := l.Paths[i%len(l.Paths)]
				t := time.Now()
				resp, err := client.Get(srv.cachedURL + p)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("GET %s answered %d", p, resp.StatusCode)
					}
				}
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			l.Errors += errs
			if l.FirstError == "" {
				l.FirstError = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	l.Elapsed = time.Since(start)
	l.Requests = int64(len(latencies))
	l.PerSecond = float64(l.Requests) / l.Elapsed.Seconds()
	slices.Sort(latencies)
	l.P50, l.P99 = percentile(latencies, 50), percentile(latencies, 99)
	after, err := auditCount(ctx, srv)
	if err != nil {
		return l, err
	}
	l.Audited = after - before
	if opt.Wrk == "" {
		l.WrkNote = "wrk is not installed (/usr/bin/wrk; Debian package wrk)"
		return l, nil
	}
	w, err := runWrk(ctx, opt, srv.cachedURL, l.Paths, dir)
	if err != nil {
		l.WrkNote = err.Error()
	} else {
		l.Wrk = w
	}
	return l, nil
}

// auditCount returns the number of audit log entries, once the entries
// already queued are written.
func auditCount(ctx context.Context, srv *servers) (int64, error) {
	var n int64
	if err := srv.db.QueryRowContext(ctx, "SELECT count(*) FROM main.audit_log").Scan(&n); err != nil {
		return 0, fmt.Errorf("bench: counting audit log entries: %w", err)
	}
	return n, nil
}

// wrkScript sends the paths round-robin.
const wrkScript = `local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
`

// runWrk runs wrk with opt.LoadConns connections for opt.LoadSeconds on the
// paths, round-robin.
func runWrk(ctx context.Context, opt Options, base string, paths []string, dir string) (*Wrk, error) {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = strconv.Quote(p)
	}
	script := filepath.Join(dir, "wrk.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkScript, strings.Join(quoted, ", "))), 0o644); err != nil {
		return nil, fmt.Errorf("wrk: %w", err)
	}
	secs := max(1, int(opt.LoadSeconds+0.5))
	threads := 2
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, opt.Wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(opt.LoadConns), "-d", strconv.Itoa(secs)+"s",
		"--timeout", "10s", "-s", script, base+"/")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk failed: %v: %s", err, tail(string(out), 5))
	}
	w, err := parseWrk(string(out))
	if err != nil {
		return nil, err
	}
	w.Threads = threads
	return w, nil
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkLatency  = regexp.MustCompile(`Latency\s+(\S+)`)
)

// parseWrk reads wrk's summary; it fails when the request count or rate
// is missing.
func parseWrk(out string) (*Wrk, error) {
	w := &Wrk{}
	m := wrkRequests.FindStringSubmatch(out)
	r := wrkRate.FindStringSubmatch(out)
	if m == nil || r == nil {
		return nil, fmt.Errorf("wrk: no summary in its output: %s", tail(out, 5))
	}
	w.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	w.PerSecond, _ = strconv.ParseFloat(r[1], 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		w.Non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			w.SocketErrors += n
		}
	}
	if m := wrkLatency.FindStringSubmatch(out); m != nil {
		w.Latency = m[1]
	}
	return w, nil
}
