package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"deesc/internal/store"
)

// TestCacheNeverServesAStaleAnswer: answers are cached per dataset version,
// revalidate with ETag/304, and the first request after an import commits
// gets the new dataset's answer.
func TestCacheNeverServesAStaleAnswer(t *testing.T) {
	app, st := newTestServer(t, writeFiles(t, handDataset()))
	do := func(etag string) (int, string, string, string) {
		req := httptest.NewRequest("GET", "/api/outcomes?group_by=division&outcome=force", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("ETag"), resp.Header.Get("X-Deesc-Cache")
	}
	code, first, etag, state := do("")
	if code != 200 || state != "miss" || etag == "" {
		t.Fatalf("first: %d %s %q", code, state, etag)
	}
	code, second, etag2, state := do("")
	if code != 200 || state != "hit" || second != first || etag2 != etag {
		t.Fatalf("second: %d %s, same body %v, etag %q vs %q", code, state, second == first, etag2, etag)
	}
	if code, _, _, _ := do(etag); code != 304 {
		t.Fatalf("If-None-Match: %d, want 304", code)
	}
	// A new dataset with one more incident.
	files := handDataset()
	files["force.csv"] += "F-3,0001,2025-02-02,,assaultive,intermediate-weapon,CEW,no,no,,,,,true,White,M,40\n"
	if _, err := st.Import(context.Background(), writeFiles(t, files), store.ImportOptions{Now: testToday}); err != nil {
		t.Fatal(err)
	}
	code, third, etag3, state := do(etag)
	if code != 200 || state != "miss" || third == first || etag3 == etag {
		t.Fatalf("after the import: %d %s, body changed %v, etag changed %v", code, state, third != first, etag3 != etag)
	}
}

// TestCacheGzip: a cached answer goes gzipped to a client that accepts it,
// under its own ETag, and decodes to exactly the answer every other client
// gets; either tag revalidates; small answers and PNGs are sent as they are.
func TestCacheGzip(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	const path = "/api/compliance?as_of=2025-06-30"
	do := func(encoding, etag string) (*http.Response, []byte) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	first, plain := do("gzip", "") // computed: sent as it is
	if first.StatusCode != 200 || first.Header.Get("Content-Encoding") != "" || len(plain) < minGzip {
		t.Fatalf("first: %d %q, %d bytes", first.StatusCode, first.Header.Get("Content-Encoding"), len(plain))
	}
	hit, zipped := do("br, gzip;q=0.8", "")
	if hit.Header.Get("Content-Encoding") != "gzip" || hit.Header.Get("X-Deesc-Cache") != "hit" ||
		!strings.Contains(hit.Header.Get("Vary"), "Accept-Encoding") || hit.Header.Get("ETag") != gzipTag(first.Header.Get("ETag")) {
		t.Fatalf("hit: %v", hit.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain) || len(zipped) >= len(plain) {
		t.Fatalf("gzipped %d bytes decode to %d bytes equal %v (%v)", len(zipped), len(unzipped), bytes.Equal(unzipped, plain), err)
	}
	for _, enc := range []string{"", "identity", "gzip;q=0"} {
		resp, b := do(enc, "")
		if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(b, plain) || resp.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Errorf("Accept-Encoding %q: %q, same body %v, etag %q", enc, resp.Header.Get("Content-Encoding"), bytes.Equal(b, plain), resp.Header.Get("ETag"))
		}
	}
	for _, tag := range []string{first.Header.Get("ETag"), hit.Header.Get("ETag")} {
		if resp, _ := do("gzip", tag); resp.StatusCode != 304 {
			t.Errorf("If-None-Match %s: %d, want 304", tag, resp.StatusCode)
		}
	}
	rc := newResultCache(1 << 20)
	if e := rc.put(1, "small", []byte(`{"a":1}`), "application/json", 0); e.gz != nil {
		t.Error("a 7-byte answer would be gzipped")
	}
	if e := rc.put(1, "png", bytes.Repeat([]byte{1}, 4096), "image/png", 0); e.gz != nil {
		t.Error("a PNG would be gzipped")
	}
	if e := rc.put(1, "json", bytes.Repeat([]byte(`{"a":1}`), 1000), "application/json", 0); e.gz == nil || rc.bytes != 2*7*1000+7+4096 {
		t.Errorf("a 7,000-byte answer: gz %v, bytes counted %d", e.gz != nil, rc.bytes)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "GZIP": true, "br, gzip;q=0.8": true, "gzip;q=0": false,
		"gzip; q=0.0": false, "identity": false, "*": true, "*;q=0": false, "gzip;q=0, *": false, "deflate, x-gzip": true, "gzip;q=abc": false} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}
