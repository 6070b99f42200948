package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"deesc/internal/demo"
)

// TestReadsDuringImport reads the panel and the officers over and over
// while a second dataset is imported: every read sees the first dataset or
// the second, whole, never a mix, and the second once the import returns.
func TestReadsDuringImport(t *testing.T) {
	s := openTest(t)
	dirA := demoDir(t, 300, 3)
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.Seed, o.End = 1500, 4, 2, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	dirB := t.TempDir()
	if _, err := demo.Write(dirB, o); err != nil {
		t.Fatal(err)
	}
	type snapshot struct{ officers, months, force int64 }
	read := func() (snapshot, error) {
		var v snapshot
		// One statement, so one consistent view of the dataset.
		err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM officers), (SELECT count(*) FROM panel), (SELECT sum(n_force) FROM panel)`).Scan(&v.officers, &v.months, &v.force)
		return v, err
	}
	if _, err := importDir(t, s, dirA); err != nil {
		t.Fatal(err)
	}
	a, err := read()
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		done  = make(chan struct{})
		seen  = map[snapshot]int{}
		errs  []error
		mu    sync.Mutex
		reads int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			v, err := read()
			mu.Lock()
			reads++
			if err != nil {
				errs = append(errs, err)
			} else {
				seen[v]++
			}
			mu.Unlock()
		}
	}()
	if _, err := s.Import(context.Background(), dirB, ImportOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	b, err := read()
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("%d of %d reads failed during the import, e.g. %v", len(errs), reads, errs[0])
	}
	for v, n := range seen {
		if v != a && v != b {
			t.Errorf("%d reads saw %+v, which is neither the first dataset %+v nor the second %+v", n, v, a, b)
		}
	}
	if b == a || seen[a] == 0 {
		t.Errorf("reads: %d; first dataset seen %d times; second %+v", reads, seen[a], b)
	}
	t.Logf("%d reads during the import: %d of the first dataset, %d of the second", reads, seen[a], seen[b])
}
