package demo

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// sink is one output file being written under a temporary name.
type sink struct {
	name, tmp string
	f         *os.File
	bw        *bufio.Writer
	gz        *gzip.Writer
	w         io.Writer
	rows      int
}

// Write generates the dataset described by opt and writes the eight CSV
// files into dir, creating dir if needed. Files are written under temporary
// names and renamed into place only when all are complete, so a failed run
// leaves no partial dataset behind. It returns the files written with their
// row counts; it fails if opt is invalid (the error names the option) or if
// dir cannot be created or written.
func Write(dir string, opt Options) (Summary, error) {
	if err := opt.Validate(); err != nil {
		return Summary{}, fmt.Errorf("demo.Write: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("demo.Write: %w", err)
	}
	w := newWorld(opt)
	w.setOfficers(rosterCounts(w))

	sinks := make([]*sink, nFiles)
	cleanup := func() {
		for _, s := range sinks {
			if s != nil {
				s.f.Close()
				os.Remove(s.tmp)
			}
		}
	}
	for f := range nFiles {
		name, header := fileSpec(f)
		if opt.Gzip {
			name += ".gz"
		}
		s := &sink{name: name, tmp: filepath.Join(dir, "."+name+".tmp")}
		var err error
		if s.f, err = os.Create(s.tmp); err != nil {
			cleanup()
			return Summary{}, fmt.Errorf("demo.Write: %w", err)
		}
		s.bw = bufio.NewWriterSize(s.f, 1<<20)
		s.w = s.bw
		if opt.Gzip {
			// BestSpeed: the default level is about six times slower
			// for files about 30 % smaller.
			if s.gz, err = gzip.NewWriterLevel(s.bw, gzip.BestSpeed); err != nil {
				cleanup()
				return Summary{}, fmt.Errorf("demo.Write: %w", err)
			}
			s.w = s.gz
		}
		sinks[f] = s
		if _, err := io.WriteString(s.w, header+"\n"); err != nil {
			cleanup()
			return Summary{}, fmt.Errorf("demo.Write: %s: %w", name, err)
		}
	}
	body, n := coursesCSV(w.courses)
	if _, err := sinks[fileCourses].w.Write(body); err != nil {
		cleanup()
		return Summary{}, fmt.Errorf("demo.Write: %s: %w", sinks[fileCourses].name, err)
	}
	sinks[fileCourses].rows = n

	if err := generate(w, sinks); err != nil {
		cleanup()
		return Summary{}, fmt.Errorf("demo.Write: %w", err)
	}
	var sum Summary
	for _, s := range sinks {
		var err error
		if s.gz != nil {
			err = s.gz.Close()
		}
		err = errors.Join(err, s.bw.Flush(), s.f.Close())
		if err != nil {
			cleanup()
			return Summary{}, fmt.Errorf("demo.Write: %s: %w", s.name, err)
		}
	}
	for _, s := range sinks {
		if err := os.Rename(s.tmp, filepath.Join(dir, s.name)); err != nil {
			cleanup()
			return Summary{}, fmt.Errorf("demo.Write: %w", err)
		}
		sum.Files = append(sum.Files, FileSummary{Name: s.name, Rows: s.rows})
	}
	return sum, nil
}

// rosterCounts returns the number of officers of each unit by running the
// roster step alone (it has its own random stream, so generate reproduces it).
func rosterCounts(w *world) []int {
	pcg := rand.NewPCG(0, 0)
	r := rand.New(pcg)
	counts := make([]int, len(w.units))
	var offs []officer
	var hist []int
	for u := range w.units {
		pcg.Seed(w.seeds(u, 0))
		offs, hist = w.roster(u, r, offs[:0], hist)
		counts[u] = len(offs)
	}
	return counts
}

// generate runs the units on worker goroutines and writes their rows to the
// sinks in unit order, so the output does not depend on scheduling. It
// returns the first write error.
func generate(w *world, sinks []*sink) error {
	workers := w.opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(w.units)))
	type job struct {
		u   int
		res chan *unitOut
	}
	jobs := make(chan job)
	order := make(chan chan *unitOut, 2*workers)
	done := make(chan struct{})
	go func() {
		defer close(order)
		defer close(jobs)
		for u := range w.units {
			res := make(chan *unitOut, 1)
			select {
			case order <- res:
			case <-done:
				return
			}
			select {
			case jobs <- job{u, res}:
			case <-done:
				return
			}
		}
	}()
	pool := sync.Pool{New: func() any { return new(unitOut) }}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(w)
			for j := range jobs {
				out := pool.Get().(*unitOut)
				out.reset()
				g.run(j.u, out)
				j.res <- out
			}
		}()
	}
	var err error
	for res := range order {
		out := <-res
		for f, s := range sinks {
			if _, err = s.w.Write(out.buf[f]); err != nil {
				err = fmt.Errorf("%s: %w", s.name, err)
				break
			}
			s.rows += out.rows[f]
		}
		pool.Put(out)
		if err != nil {
			close(done)
			break
		}
	}
	wg.Wait()
	return err
}
