package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"deesc/internal/config"
	"deesc/internal/contract"
	"deesc/internal/demo"
	"deesc/internal/store"
)

// cmdDemo is `deesc demo DIR`: write a synthetic dataset in the contract.
func cmdDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := demo.DefaultOptions()
	fs.IntVar(&d.Officers, "officers", d.Officers, "officers in service")
	fs.IntVar(&d.Years, "years", d.Years, "years of data")
	fs.Uint64Var(&d.Seed, "seed", d.Seed, "random seed; the same options write the same bytes")
	end := fs.String("end", "", "last month of data, YYYY-MM (default: last month)")
	fs.BoolVar(&d.Gzip, "gzip", false, "write .csv.gz files")
	fs.Float64Var(&d.Trend, "trend", d.Trend, "outcome rate multiplier per year (1 = no secular trend)")
	noEffect := fs.Bool("no-effect", false, "plant no training effect (for checking that methods find none)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc demo DIR [--officers N] [--years Y] [--seed S] [--end YYYY-MM] [--gzip]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{2, errors.New("demo needs exactly one folder")}
	}
	d.End = lastMonthEnd(time.Now())
	if *end != "" {
		m, err := contract.ParseMonth(*end)
		if err != nil {
			return &exitError{2, fmt.Errorf("--end: %w", err)}
		}
		d.End = m.AddDate(0, 1, -1)
	}
	if *noEffect {
		d.Effect = demo.NoEffect()
	}
	if err := os.MkdirAll(pos[0], 0o755); err != nil {
		return err
	}
	start := time.Now()
	sum, err := demo.Write(pos[0], d)
	if err != nil {
		return err
	}
	for _, f := range sum.Files {
		fmt.Fprintf(stdout, "%-20s %12s rows\n", f.Name, thousands(int64(f.Rows)))
	}
	fmt.Fprintf(stdout, "wrote %s in %.1fs (%d officers, %d years to %s, seed %d)\n", pos[0], time.Since(start).Seconds(), d.Officers, d.Years, d.End.Format("2006-01"), d.Seed)
	return nil
}

// lastMonthEnd returns the last day of the month before t's.
func lastMonthEnd(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

// ensureDemo imports a generated demo dataset when the database holds none
// and the configuration allows it.
func ensureDemo(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) error {
	if _, err := st.CurrentVersion(ctx); !errors.Is(err, store.ErrNoDataset) {
		return err
	}
	if !cfg.Demo.Enabled {
		log.Warn("the database holds no dataset; import one with 'deesc import DIR' (demo.enabled is false)")
		return nil
	}
	d := demo.DefaultOptions()
	d.Officers, d.Years, d.Seed, d.End = cfg.Demo.Officers, cfg.Demo.Years, cfg.Demo.Seed, lastMonthEnd(time.Now())
	log.Info("the database holds no dataset: generating and importing a demo dataset",
		"officers", d.Officers, "years", d.Years, "seed", d.Seed, "db", cfg.Database.Path)
	dir, err := os.MkdirTemp("", "deesc-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if _, err := demo.Write(dir, d); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	source := fmt.Sprintf("demo: %d officers × %d years to %s, seed %d", d.Officers, d.Years, d.End.Format("2006-01"), d.Seed)
	v, err := st.Import(ctx, dir, store.ImportOptions{Source: source, MaxErrors: cfg.Import.MaxErrors, Panel: panelOptions(cfg)})
	if err != nil {
		return fmt.Errorf("demo import: %w", err)
	}
	log.Info("demo dataset imported", "version", v.Number, "seconds", fmt.Sprintf("%.1f", v.Seconds))
	return auditCLI(ctx, st.DB(), "POST", "/cli/import", "demo=true", fmt.Sprintf("dataset version %d (%s)", v.Number, source), 201)
}
