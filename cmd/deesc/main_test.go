package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deesc runs a command line in process and returns its output and error.
func deesc(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func smallConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte("demo:\n  officers: 150\n  years: 2\nlog:\n  level: warn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDemoAndImport(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	db := filepath.Join(t.TempDir(), "x.duckdb")
	out, _, err := deesc(t, ctx, "demo", dir, "--officers", "150", "--years", "2", "--end", "2025-12", "--seed", "7")
	if err != nil || !strings.Contains(out, "officers.csv") {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	out, errOut, err := deesc(t, ctx, "import", dir, "--db", db, "--config", smallConfig(t))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "dataset version 1") || !strings.Contains(out, "sha256") || !strings.Contains(errOut, "validating") && !strings.Contains(errOut, "read officers.csv") {
		t.Errorf("import output:\n%s\n%s", out, errOut)
	}
	// A bad file: exit status 1, the problem listed, the dataset kept.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "complaints.csv"), []byte("complaint_id,officer_id,received_on\nC-1,nobody,2024-02-30\n"), 0o644)
	_, _, err = deesc(t, ctx, "import", bad, "--db", db, "--config", smallConfig(t))
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "complaints.csv:2: column received_on: no such day (2024-02-30)") ||
		!strings.Contains(err.Error(), "complaints.csv:2: column officer_id: no such officer in officers (nobody)") {
		t.Errorf("bad import: code %d, %v", exitCode(err), err)
	}
	out, _, err = deesc(t, ctx, "versions", "--db", db, "--config", smallConfig(t))
	if err != nil || !strings.Contains(out, "dataset version 1") || strings.Contains(out, "dataset version 2") {
		t.Errorf("versions after a refused import: %v\n%s", err, out)
	}
}

func TestUsageErrors(t *testing.T) {
	ctx := context.Background()
	if _, _, err := deesc(t, ctx, "frobnicate"); exitCode(err) != 2 {
		t.Errorf("unknown command: %v", err)
	}
	if _, _, err := deesc(t, ctx, "import"); exitCode(err) != 2 {
		t.Errorf("import without a folder: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("database:\n  keep_versions: -1\n"), 0o644)
	if _, _, err := deesc(t, ctx, "versions", "--config", cfg); exitCode(err) != 2 || !strings.Contains(err.Error(), "database.keep_versions") {
		t.Errorf("invalid config: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testClient gives up on any request after 20 s, so no test can hang on a
// server that stopped answering.
var testClient = &http.Client{Timeout: 20 * time.Second}

// waitDone waits for a command started in a goroutine, failing after a minute.
func waitDone(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the command did not return within a minute")
		return nil
	}
}

// health polls GET /api/health until it answers or the deadline passes.
func health(t *testing.T, addr string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := testClient.Get("http://" + addr + "/api/health")
		if err == nil {
			var body map[string]any
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == 200 {
				return body
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("server did not answer /api/health")
	return nil
}

// TestServe starts deesc on an empty database: it imports the demo dataset,
// serves its version, stops on cancel, and a second start finds the data.
func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.duckdb")
	cfg := smallConfig(t)
	for start := 1; start <= 2; start++ {
		ctx, cancel := context.WithCancel(context.Background())
		addr := freeAddr(t)
		done := make(chan error, 1)
		go func() {
			_, _, err := deesc(t, ctx, "serve", "--addr", addr, "--db", db, "--config", cfg)
			done <- err
		}()
		body := health(t, addr)
		ds, _ := body["dataset"].(map[string]any)
		if body["status"] != "ok" || ds == nil || ds["version"] != float64(1) || !strings.HasPrefix(fmt.Sprint(ds["source"]), "demo") {
			t.Errorf("start %d: health = %v", start, body)
		}
		cancel()
		if err := waitDone(t, done); err != nil {
			t.Errorf("start %d: serve returned %v", start, err)
		}
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, _, err = deesc(t, context.Background(), "serve", "--addr", ln.Addr().String(), "--db", filepath.Join(t.TempDir(), "p.duckdb"), "--config", smallConfig(t))
	if err == nil || !strings.Contains(err.Error(), "port is in use") {
		t.Errorf("port in use: %v", err)
	}
}
