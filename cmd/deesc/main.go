// Command deesc is a training-compliance analytics service for police
// services: it imports an agency's training, use-of-force, complaint, injury
// and activity records into DuckDB and serves dashboards and analyses.
//
// Usage:
//
//	deesc [serve] [--config FILE] [--db FILE] [--addr HOST:PORT]
//	deesc import DIR [--config FILE] [--db FILE]
//	deesc demo DIR [--officers N] [--years Y] [--seed S] [--end YYYY-MM] [--gzip]
//	deesc versions [--config FILE] [--db FILE]
//	deesc rollback VERSION [--config FILE] [--db FILE]
//	deesc analyze cohorts|staggered|prepost|dose [flags]
//	deesc query NAME [--param k=v …] [--format csv|json|parquet] [--out FILE]
//	deesc token add NAME ROLE | list | revoke NAME
//	deesc audit verify
//	deesc export-dataset DIR
//	deesc bench [--officers N] [--years Y] [--out FILE] [--statsmodels]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"deesc/internal/config"
	"deesc/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// exitError carries a process exit status with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "deesc:", err)
		}
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

const usage = `deesc — training compliance and outcome analytics

  deesc [serve]        serve the dashboards and API (default)
  deesc import DIR     validate the files in DIR and replace those tables
  deesc demo DIR       write a synthetic demo dataset to DIR
  deesc versions       list the dataset versions
  deesc rollback N     make kept dataset version N current again
  deesc analyze KIND   print an analysis (cohorts, staggered, prepost, dose) as JSON
  deesc query NAME     run a catalogue query: --param k=v … --format csv|json|parquet --out FILE
  deesc token add NAME ROLE | list | revoke NAME
                       manage API tokens (roles: leadership, evaluator, auditor, admin)
  deesc audit verify   check the audit log's hash chain
  deesc export-dataset DIR
                       write the current dataset as Hive-partitioned Parquet (serve it with database.source: parquet)
  deesc bench          generate, import and time a dataset (--officers N --years Y --out FILE)

Common flags: --config FILE (default ./config.yaml), --db FILE (default data/deesc.duckdb).
Run 'deesc COMMAND --help' for the flags of a command.`

// run dispatches a command line; it is main without the process exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, stderr)
	case "import":
		return cmdImport(ctx, args, stdout, stderr)
	case "demo":
		return cmdDemo(args, stdout, stderr)
	case "versions":
		return cmdVersions(ctx, args, stdout, stderr)
	case "analyze":
		return cmdAnalyze(ctx, args, stdout, stderr)
	case "query":
		return cmdQuery(ctx, args, stdout, stderr)
	case "rollback":
		return cmdRollback(ctx, args, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args, stdout, stderr)
	case "export-dataset":
		return cmdExportDataset(ctx, args, stdout, stderr)
	case "token":
		return cmdToken(ctx, args, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return &exitError{2, fmt.Errorf("unknown command %q\n\n%s", cmd, usage)}
}

// common holds the flags every database command takes.
type common struct {
	config, db string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "configuration file (default ./config.yaml if present)")
	fs.StringVar(&c.db, "db", "", "database file (overrides database.path; env DEESC_DB)")
}

// load reads the configuration with the flag overrides applied.
func (c *common) load(extra map[string]any) (config.Config, error) {
	over := map[string]any{}
	if c.db != "" {
		over["database.path"] = c.db
	}
	for k, v := range extra {
		over[k] = v
	}
	cfg, err := config.Load(c.config, over)
	if err != nil {
		return cfg, &exitError{2, err}
	}
	return cfg, nil
}

// parse parses a command's flags, allowing them before and after positional
// arguments (deesc import DIR --db x); it returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitError{2, err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the configured database.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	opt := store.Options{
		MemoryLimit: cfg.Database.MemoryLimit, Threads: cfg.Database.Threads, KeepVersions: cfg.Database.KeepVersions,
	}
	if cfg.Database.Source == "parquet" {
		opt.Lake = cfg.Database.ParquetDir
	}
	st, err := store.Open(ctx, cfg.Database.Path, opt)
	if err != nil {
		return nil, fmt.Errorf("cannot open database %s: %w", cfg.Database.Path, err)
	}
	return st, nil
}
