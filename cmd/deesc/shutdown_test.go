package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGracefulShutdown: when serve's context ends (SIGTERM or SIGINT in
// main) with requests in flight, those requests are answered in full, new
// connections are refused, the database is checkpointed and closed, and a
// second start finds the data and an intact audit log holding every answer.
func TestGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.duckdb")
	cfg := smallConfig(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := deesc(t, ctx, "serve", "--addr", addr, "--db", db, "--config", cfg)
		done <- err
	}()
	health(t, addr)

	// Slow answers: the evaluator analyses, each with its own parameters so
	// none is served from the cache.
	const n = 8
	var wg sync.WaitGroup
	results := make([]string, n)
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outcome := []string{"force", "complaints"}[i%2]
			url := fmt.Sprintf("http://%s/api/prepost?course=ICAT&outcome=%s&from=2024-%02d", addr, outcome, 1+i/2)
			started <- struct{}{}
			resp, err := testClient.Get(url)
			if err != nil {
				results[i] = "error: " + err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results[i] = fmt.Sprintf("%d %d bytes complete=%v", resp.StatusCode, len(b), strings.HasSuffix(strings.TrimSpace(string(b)), "}"))
		}(i)
	}
	for i := 0; i < n; i++ {
		<-started
	}
	time.Sleep(30 * time.Millisecond) // let the requests reach the server
	cancel()
	wg.Wait()
	if err := waitDone(t, done); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	answered := 0
	for i, r := range results {
		switch {
		case strings.HasPrefix(r, "200 ") && strings.HasSuffix(r, "complete=true"):
			answered++
		case strings.Contains(r, "connection refused"):
			// Sent after the listener closed: refused, never half-answered.
		default:
			t.Errorf("request %d: %s", i, r)
		}
	}
	t.Logf("%d of %d requests in flight at shutdown answered in full", answered, n)
	if answered == 0 {
		t.Error("no request was in flight at shutdown; the test proves nothing")
	}
	if _, err := testClient.Get("http://" + addr + "/api/health"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}

	// A second start finds the dataset, and the audit log holds every answer.
	out, _, err := deesc(t, context.Background(), "audit", "verify", "--db", db, "--config", cfg)
	if err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify after shutdown: %v %s", err, out)
	}
	var entries int
	fmt.Sscanf(out[strings.Index(out, "intact: ")+len("intact: "):], "%d", &entries)
	if entries != answered+1 { // + the demo import
		t.Errorf("audit log has %d entries for the demo import and %d answers", entries, answered)
	}
	out, _, err = deesc(t, context.Background(), "versions", "--db", db, "--config", cfg)
	if err != nil || !strings.Contains(out, "dataset version 1") {
		t.Errorf("versions after restart: %v %s", err, out)
	}
}
