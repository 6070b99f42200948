package server

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"deesc/internal/demo"
	"deesc/internal/store"
)

// TestReadsDuringImport: while an import runs in the serving process,
// dashboard answers over HTTP keep coming, none is a 5xx, each is exactly
// the previous dataset's answer or the new one's, and once the import
// commits only the new one is served.
func TestReadsDuringImport(t *testing.T) {
	ctx := context.Background()
	write := func(officers int, seed uint64) string {
		dir := t.TempDir()
		o := demo.DefaultOptions()
		o.Officers, o.Years, o.Seed, o.End = officers, 3, seed, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
		if _, err := demo.Write(dir, o); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	first, second := write(300, 1), write(1500, 2)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "r.duckdb"), store.Options{KeepVersions: 2, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Import(ctx, first, store.ImportOptions{Now: testToday}); err != nil {
		t.Fatal(err)
	}
	app := New(st, Options{Now: func() time.Time { return testToday }, CacheBytes: -1})
	base := serveLoopback(t, app)
	client := &http.Client{Timeout: 30 * time.Second}
	paths := []string{"/api/outcomes?group_by=year", "/api/force/matrix", "/api/compliance?months=6"}
	fetch := func(p string) (int, string) {
		resp, err := client.Get(base + p)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	old := map[string]string{}
	for _, p := range paths {
		_, old[p] = fetch(p)
	}

	done := make(chan error, 1)
	go func() {
		_, err := st.Import(ctx, second, store.ImportOptions{Now: testToday})
		done <- err
	}()
	var mu sync.Mutex
	seen := map[string][]string{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := paths[(i+w)%len(paths)]
				status, body := fetch(p)
				if status != 200 {
					t.Errorf("%s during the import: %d %.200s", p, status, body)
					return
				}
				mu.Lock()
				seen[p] = append(seen[p], body)
				mu.Unlock()
			}
		}(w)
	}
	var importErr error
	select {
	case importErr = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the import did not finish within 3 minutes")
	}
	close(stop)
	wg.Wait()
	if importErr != nil {
		t.Fatal(importErr)
	}
	reads := 0
	for _, p := range paths {
		_, now := fetch(p)
		if now == old[p] {
			t.Fatalf("%s: the new dataset gives the same answer; the test proves nothing", p)
		}
		for _, b := range seen[p] {
			if b != old[p] && b != now {
				t.Errorf("%s: an answer during the import was neither dataset's: %.300s", p, b)
			}
		}
		reads += len(seen[p])
	}
	t.Logf("%d answers during the import, each one dataset's whole", reads)
	if reads < 10 {
		t.Errorf("only %d reads during the import", reads)
	}
}
