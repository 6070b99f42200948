package server

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/auth"
)

// TestRateLimiterRefills: a bucket spends its burst, refuses, says how long
// to wait, and refills at the configured rate; callers are independent.
func TestRateLimiterRefills(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRateLimiter(2, 3, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.take("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.take("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th request: ok=%v wait=%s, want refused for 500ms", ok, wait)
	}
	if ok, _ := l.take("b"); !ok {
		t.Fatal("another caller was refused")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.take("a"); !ok {
		t.Fatal("refused after refilling one request")
	}
	if ok, _ := l.take("a"); ok {
		t.Fatal("granted more than the rate")
	}
}

// TestLimitsOverHTTP: a body over limits.body_bytes answers 413, and a
// token past its allowance answers 429 with Retry-After while other
// tokens are served.
func TestLimitsOverHTTP(t *testing.T) {
	app, st, secrets := authServer(t)
	_ = st
	// Over a real connection: fasthttp refuses the body while reading it.
	base := serveLoopback(t, app)
	big := bytes.Repeat([]byte("x"), 2<<20)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Post(base+"/api/session", "application/json", bytes.NewReader(big))
	if err == nil {
		if resp.StatusCode != 413 {
			t.Errorf("2 MiB body: %d, want 413", resp.StatusCode)
		}
		resp.Body.Close()
	} else if !strings.Contains(err.Error(), "connection reset") && !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("2 MiB body: %v, want 413 (or the connection closed while still sending)", err)
	}

	limitedApp := newLimitedServer(t, st, 1, 3)
	ev := secrets[auth.Evaluator]
	codes := []int{}
	for i := 0; i < 5; i++ {
		status, body := call(t, limitedApp, "GET", "/api/session", ev)
		codes = append(codes, status)
		if status == 429 && !strings.Contains(string(body), "requests_per_second") {
			t.Errorf("429 body does not say which limit: %s", body)
		}
	}
	if codes[0] != 200 || codes[2] != 200 || codes[3] != 429 || codes[4] != 429 {
		t.Errorf("statuses %v, want 3 answered then 429", codes)
	}
	req := httptest.NewRequest("GET", "/api/session", nil)
	req.Header.Set("Authorization", "Bearer "+ev)
	resp, err = app.Test(req, -1) // the unlimited server is unaffected
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("unlimited server: %v %d", err, resp.StatusCode)
	}
	req = httptest.NewRequest("GET", "/api/session", nil)
	req.Header.Set("Authorization", "Bearer "+ev)
	resp, _ = limitedApp.Test(req, -1)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, _ := call(t, limitedApp, "GET", "/api/session", secrets[auth.Auditor]); status != 200 {
		t.Errorf("another token was limited too: %d", status)
	}
}

// serveLoopback serves app on a random loopback port until the test ends
// and returns its base URL.
func serveLoopback(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}
