package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"deesc/internal/bench"
)

// cmdBench is `deesc bench`: generate a demo dataset, import it as a child
// `deesc import`, time every endpoint, optionally compare with statsmodels,
// load-test the warm server, and write a Markdown report.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	fs.IntVar(&o.Officers, "officers", 100000, "officers in the generated dataset")
	fs.IntVar(&o.Years, "years", 10, "years of data")
	out := fs.String("out", "", "write the Markdown report to FILE (default: standard output)")
	fs.StringVar(&o.Dir, "dir", "", "work directory for the data, database and exports (default: a temporary directory, removed after)")
	fs.IntVar(&o.Runs, "runs", 20, "calls per endpoint and mode")
	fs.BoolVar(&o.Statsmodels, "statsmodels", false, "also fit the cohort analysis with Python's statsmodels and compare (needs python3-statsmodels, python3-pandas)")
	fs.IntVar(&o.StatsmodelsOfficers, "statsmodels-officers", 5000, "dataset size for the statsmodels comparison when the main one would not fit in memory")
	fs.Float64Var(&o.LoadSeconds, "load-seconds", 10, "length of the load test in seconds (0 = none)")
	fs.IntVar(&o.LoadConns, "connections", 64, "concurrent connections of the load test")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc bench [--officers N] [--years Y] [--out FILE] [--dir DIR] [--runs N] [--statsmodels] [--load-seconds S]\n\n"+
			"Generates a demo dataset, imports it, times every dashboard and analysis endpoint (in process and over loopback HTTP,\n"+
			"computed and from the result cache, against the raw DuckDB time of their queries), load-tests the warm server and\n"+
			"writes a Markdown report with each figure beside its target.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return &exitError{2, fmt.Errorf("bench takes no arguments, got %q", pos[0])}
	}
	switch {
	case o.Runs < 1:
		return &exitError{2, fmt.Errorf("--runs: must be at least 1, got %d", o.Runs)}
	case o.LoadSeconds < 0:
		return &exitError{2, fmt.Errorf("--load-seconds: must be 0 or more, got %g", o.LoadSeconds)}
	case o.LoadConns < 1:
		return &exitError{2, fmt.Errorf("--connections: must be at least 1, got %d", o.LoadConns)}
	case o.StatsmodelsOfficers < 1:
		return &exitError{2, fmt.Errorf("--statsmodels-officers: must be at least 1, got %d", o.StatsmodelsOfficers)}
	}
	if err := o.Validate(); err != nil {
		return &exitError{2, fmt.Errorf("--%w", err)}
	}
	if o.LoadSeconds == 0 {
		o.LoadSeconds = -1 // bench.Options: 0 means the default
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: cannot find deesc's own binary to run the import as a child: %w", err)
	}
	o.Executable, o.Version, o.Log = exe, version, stderr
	o.Command = strings.TrimSpace("deesc bench " + strings.Join(args, " "))
	start := time.Now()
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rep.Markdown(&buf); err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(*out, buf.Bytes(), 0o644)
	}
	if err != nil {
		return fmt.Errorf("bench: writing the report: %w", err)
	}
	fmt.Fprintf(stderr, "bench: done in %s", time.Since(start).Round(time.Second))
	if *out != "" {
		fmt.Fprintf(stderr, "; report in %s", *out)
	}
	fmt.Fprintln(stderr)
	return nil
}
