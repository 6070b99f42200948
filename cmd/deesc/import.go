package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"deesc/internal/config"
	"deesc/internal/store"
)

// cmdImport is `deesc import DIR`: validate and replace, or list the problems
// and exit 1 with the database unchanged.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc import DIR [--config FILE] [--db FILE]\n\nValidates every contract file in DIR and, if all are valid, replaces those tables in one transaction.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{2, errors.New("import needs exactly one folder")}
	}
	cfg, err := c.load(nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := importDir(ctx, st, cfg, pos[0], pos[0], stderr, log)
	status, detail := 201, fmt.Sprintf("dataset version %d", v.Number)
	if err != nil {
		status, detail = 422, "refused: "+firstLine(err.Error())
	}
	if aerr := auditCLI(context.WithoutCancel(ctx), st.DB(), "POST", "/cli/import", "dir="+url.QueryEscape(pos[0]), detail, status); aerr != nil {
		log.Error("the import could not be written to the audit log", "err", aerr)
		if err == nil {
			err = aerr
		}
	}
	if err != nil {
		return err
	}
	log.Info("import committed", "version", v.Number, "source", v.Source, "seconds", fmt.Sprintf("%.1f", v.Seconds))
	printVersion(stdout, v)
	return nil
}

// importDir runs an import with progress lines on w.
func importDir(ctx context.Context, st *store.Store, cfg config.Config, dir, source string, w io.Writer, log *slog.Logger) (store.Version, error) {
	v, err := st.Import(ctx, dir, store.ImportOptions{
		Files: cfg.Import.Files, MaxErrors: cfg.Import.MaxErrors, Source: source,
		Progress: progressPrinter(w), Log: log, Panel: panelOptions(cfg),
	})
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return v, &exitError{1, err}
	}
	return v, err
}

// progressPrinter writes one line per step of an import.
func progressPrinter(w io.Writer) func(store.Progress) {
	return func(p store.Progress) {
		at := fmt.Sprintf("[%5.1fs]", p.Elapsed.Seconds())
		switch {
		case p.Phase == "reading" && p.Rows > 0:
			fmt.Fprintf(w, "%s read %s: %s rows\n", at, p.File, thousands(p.Rows))
		case p.Phase == "reading":
			fmt.Fprintf(w, "%s reading %s\n", at, p.File)
		case p.File != "":
			fmt.Fprintf(w, "%s %s %s\n", at, p.Phase, p.File)
		default:
			fmt.Fprintf(w, "%s %s\n", at, p.Phase)
		}
	}
}

// printVersion shows a dataset version and its files.
func printVersion(w io.Writer, v store.Version) {
	fmt.Fprintf(w, "dataset version %d, imported %s from %s\n", v.Number, v.ImportedAt.Local().Format(time.DateTime), v.Source)
	for _, f := range v.Files {
		fmt.Fprintf(w, "  %-14s %-28s %12s rows  sha256 %s", f.File, f.Path, thousands(f.Rows), f.SHA256)
		if f.FromVersion != v.Number {
			fmt.Fprintf(w, "  (kept from version %d)", f.FromVersion)
		}
		fmt.Fprintln(w)
	}
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// panelOptions returns the panel configuration of cfg.
func panelOptions(cfg config.Config) store.PanelOptions {
	return store.PanelOptions{DeescalationCategories: cfg.Analysis.DeescalationCategories, UseOfForceCategories: cfg.Analysis.UseOfForceCategories}
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
