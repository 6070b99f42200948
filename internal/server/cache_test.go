package server

import (
	"context"
	"io"
	"net/http/httptest"
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
