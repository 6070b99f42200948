// Package bench is deesc's reproducible benchmark (`deesc bench`): it
// generates a demo dataset of a given size, imports it, times every
// dashboard and analysis endpoint in process and over loopback HTTP against
// the raw DuckDB time of the named queries behind each, compares the cohort
// analysis with statsmodels, puts the warm server under concurrent load, and
// writes one Markdown report with each figure beside its target.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"deesc/internal/demo"
	"deesc/internal/store"
)

// Options configures one benchmark run.
type Options struct {
	Officers, Years int    // dataset size
	Seed            uint64 // demo seed; 0 = 1
	End             time.Time
	// Dir is the work directory (data, database, exports); "" = a temporary
	// directory removed after the run.
	Dir         string
	Runs        int     // repetitions per endpoint and mode; 0 = 20
	LoadSeconds float64 // length of the load test; 0 = 10, negative = no load test
	LoadConns   int     // concurrent connections of the load test; 0 = 64
	MemoryLimit string  // DuckDB memory_limit of the import and the server; "" = 4GB
	Statsmodels bool    // also run the Python comparison of the cohort analysis
	// StatsmodelsOfficers is the size the comparison falls back to when the
	// main dataset's dense design matrix would not fit in memory; 0 = 5000.
	StatsmodelsOfficers int
	// StatsmodelsMemory is the memory, in bytes, statsmodels may be
	// estimated to need at the main size; 0 = half of MemAvailable.
	StatsmodelsMemory int64
	Python            string // interpreter; "" = /usr/bin/python3
	Wrk               string // wrk binary; "" = /usr/bin/wrk if present, "-" = never
	// Executable is a deesc binary run as a child `deesc import` so that
	// the import's peak RSS is its own; "" imports in this process (the
	// peak is then this process's, generation included).
	Executable string
	Version    string    // deesc's version, for the report
	Command    string    // the command line, for the report
	Log        io.Writer // progress lines; nil = none
}

func (o *Options) defaults() {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.End.IsZero() {
		now := time.Now().UTC()
		o.End = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	}
	if o.Runs <= 0 {
		o.Runs = 20
	}
	if o.LoadSeconds == 0 {
		o.LoadSeconds = 10
	}
	if o.LoadConns <= 0 {
		o.LoadConns = 64
	}
	if o.MemoryLimit == "" {
		o.MemoryLimit = "4GB"
	}
	if o.StatsmodelsOfficers <= 0 {
		o.StatsmodelsOfficers = 5000
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	if o.Wrk == "" {
		if _, err := os.Stat("/usr/bin/wrk"); err == nil {
			o.Wrk = "/usr/bin/wrk"
		}
	} else if o.Wrk == "-" {
		o.Wrk = ""
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Validate returns an error naming the first option out of range, as its
// command-line flag is spelled (officers, years, statsmodels-officers).
func (o Options) Validate() error {
	o.defaults()
	for _, v := range []struct {
		name string
		n    int
	}{{"officers", o.Officers}, {"statsmodels-officers", o.StatsmodelsOfficers}} {
		if v.n < demo.MinOfficers || v.n > demo.MaxOfficers {
			return fmt.Errorf("%s: must be from %d to %d, got %d", v.name, demo.MinOfficers, demo.MaxOfficers, v.n)
		}
	}
	if o.Years < 1 || o.Years > demo.MaxYears {
		return fmt.Errorf("years: must be from 1 to %d, got %d", demo.MaxYears, o.Years)
	}
	return demoOptions(o.Officers, o.Years, o).Validate()
}

// Report is everything one run measured.
type Report struct {
	Options   Options
	Started   time.Time
	Wall      time.Duration
	Machine   Machine
	Dataset   Dataset
	Import    Import
	Endpoints []EndpointResult
	Cohort    Comparison
	Load      Load
}

// Run generates, imports and measures as opt says and returns the report.
// It fails when the dataset cannot be generated or imported or the server
// cannot be started; an endpoint that answers an error, a missing Python or
// wrk are recorded in the report instead.
func Run(ctx context.Context, opt Options) (*Report, error) {
	opt.defaults()
	if err := opt.Validate(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	rep := &Report{Options: opt, Started: time.Now()}
	dir := opt.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "deesc-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: work dir %s: %w", dir, err)
	}
	rep.Machine = readMachine()

	main := filepath.Join(dir, "main")
	if err := freshDir(main); err != nil {
		return nil, err
	}
	fmt.Fprintf(opt.Log, "bench: generating %d officers × %d years in %s\n", opt.Officers, opt.Years, main)
	ds, err := generate(filepath.Join(main, "data"), opt.Officers, opt.Years, opt)
	if err != nil {
		return nil, err
	}
	rep.Dataset = ds
	fmt.Fprintf(opt.Log, "bench: %d rows generated in %.1fs; importing\n", ds.Rows, ds.Generate.Seconds())
	dbPath := filepath.Join(main, "bench.duckdb")
	imp, err := importData(ctx, opt, filepath.Join(main, "data"), dbPath, main)
	if err != nil {
		return nil, err
	}
	imp.RowsPerSecond = float64(ds.Rows) / imp.Wall.Seconds()
	rep.Import = imp
	fmt.Fprintf(opt.Log, "bench: imported in %.1fs (peak RSS %s)\n", imp.Wall.Seconds(), bytesText(imp.PeakRSS))

	st, err := store.Open(ctx, dbPath, store.Options{MemoryLimit: opt.MemoryLimit, KeepVersions: 1})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer st.Close()
	if err := describe(ctx, st, &rep.Machine, &rep.Dataset); err != nil {
		return nil, err
	}
	srv, err := startServers(ctx, st, opt)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	eps := endpoints(opt.End)
	rep.Endpoints, err = measureEndpoints(ctx, st, srv, eps, opt)
	if err != nil {
		return nil, err
	}
	if opt.Statsmodels {
		fmt.Fprintln(opt.Log, "bench: cohort analysis with statsmodels")
		rep.Cohort = compare(ctx, opt, dir, st, rep)
	} else {
		rep.Cohort.Note = "not run: pass --statsmodels to compare the cohort analysis with Python's statsmodels"
	}
	if opt.LoadSeconds > 0 {
		fmt.Fprintf(opt.Log, "bench: load, %d connections for %gs\n", opt.LoadConns, opt.LoadSeconds)
		rep.Load, err = loadTest(ctx, srv, eps, opt, dir)
		if err != nil {
			return nil, err
		}
	} else {
		rep.Load.Note = "not run (--load-seconds 0)"
	}
	rep.Wall = time.Since(rep.Started)
	return rep, nil
}

// demoOptions returns the demo generator's options for a dataset of the
// given size: the built-in demo's effects and trend, opt's seed and end.
func demoOptions(officers, years int, opt Options) demo.Options {
	d := demo.DefaultOptions()
	d.Officers, d.Years, d.Seed, d.End = officers, years, opt.Seed, opt.End
	return d
}

// generate writes a demo dataset of the given size to dir.
func generate(dir string, officers, years int, opt Options) (Dataset, error) {
	d := demoOptions(officers, years, opt)
	start := time.Now()
	sum, err := demo.Write(dir, d)
	if err != nil {
		return Dataset{}, fmt.Errorf("bench: generating the demo dataset: %w", err)
	}
	ds := Dataset{Officers: officers, Years: years, Seed: d.Seed, From: d.Start().Format("2006-01"), To: d.End.Format("2006-01"),
		Files: sum.Files, Generate: time.Since(start)}
	for _, f := range sum.Files {
		ds.Rows += int64(f.Rows)
	}
	return ds, nil
}

// freshDir makes dir exist and empty; it refuses to empty a directory that
// holds anything but what a benchmark writes.
func freshDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "data", "bench.duckdb", "bench.duckdb.wal", "bench-config.yaml", "cohort_inputs.csv":
		default:
			return fmt.Errorf("bench: work dir %s holds %s, which the benchmark did not write: choose an empty --dir", dir, e.Name())
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return os.MkdirAll(dir, 0o755)
}
