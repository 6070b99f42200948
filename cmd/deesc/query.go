package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"deesc/internal/export"
	"deesc/internal/store"
)

// params collects repeated --param k=v flags.
type params map[string]string

func (p params) String() string { return fmt.Sprint(map[string]string(p)) }

func (p params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q is not NAME=VALUE", s)
	}
	p[strings.TrimSpace(k)] = v
	return nil
}

// cmdQuery is `deesc query NAME`: run a catalogue query offline and write
// its whole result, with FILE.manifest.json beside it (or list the
// catalogue with no NAME).
func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	vals := params{}
	fs.Var(vals, "param", "a query parameter NAME=VALUE (repeat for more)")
	formatFlag := fs.String("format", "csv", "csv, json or parquet")
	out := fs.String("out", "", "output file (required for parquet; default: standard output); FILE.manifest.json is written beside it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc query [NAME [--param k=v …] [--format csv|json|parquet] [--out FILE]]\n\nWith no NAME, lists the catalogue.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	cfg, err := c.load(nil)
	if err != nil {
		return err
	}
	format, err := export.ParseFormat(*formatFlag)
	if err != nil {
		return &exitError{2, fmt.Errorf("--format: %w", err)}
	}
	if len(pos) > 1 {
		return &exitError{2, errors.New("query takes one query name")}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(pos) == 0 {
		for _, q := range st.Queries().All() {
			fmt.Fprintf(stdout, "%-28s %s\n", q.Name, q.Title)
			for _, p := range q.Params {
				fmt.Fprintf(stdout, "    --param %s=… (%s) %s\n", p.Name, p.Type, p.Description)
			}
		}
		return nil
	}
	q, ok := st.Queries().Get(pos[0])
	if !ok {
		return &exitError{2, fmt.Errorf("no query named %q (deesc query lists them)", pos[0])}
	}
	args2, effective, err := q.Bind(vals, time.Now())
	if err != nil {
		return &exitError{2, err}
	}
	if *out == "" && format == export.Parquet {
		return &exitError{2, errors.New("--out FILE is required for parquet")}
	}
	w, tmp := io.Writer(stdout), ""
	var f *os.File
	if *out != "" {
		// Write beside the target and rename, so a failed export leaves no half file.
		if f, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*"); err != nil {
			return fmt.Errorf("cannot write %s: %w", *out, err)
		}
		tmp, w = f.Name(), f
		defer os.Remove(tmp)
	}
	m, err := st.Export(ctx, q, args2, format, w, store.RunOptions{})
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	status, detail := 200, fmt.Sprintf("dataset version %d, %s, %d rows", m.DatasetVersion, format, m.Rows)
	if err != nil {
		status, detail = 500, "failed: "+firstLine(err.Error())
	}
	if aerr := auditExport(ctx, st, q.Name, vals, m, status, detail); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	m.Params, m.User, m.Role, m.Created = effective, cliUser(), "cli", time.Now().UTC()
	if *out != "" {
		if err := os.Rename(tmp, *out); err != nil {
			return err
		}
		if err := export.WriteManifest(*out+".manifest.json", m); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %d rows, %d bytes, sha256 %s (dataset version %d); manifest %s.manifest.json\n",
			*out, m.Rows, m.Bytes, m.SHA256, m.DatasetVersion, *out)
	}
	return nil
}

// auditExport records a command-line export in the audit log.
func auditExport(ctx context.Context, st *store.Store, name string, vals params, m export.Manifest, status int, detail string) error {
	var p []string
	for k, v := range vals {
		p = append(p, k+"="+v)
	}
	return auditCLIEntry(context.WithoutCancel(ctx), st.DB(), auditEntry("GET", "/cli/query/"+name+"/export", strings.Join(slices.Sorted(slices.Values(p)), "&"), detail, status, m.Rows, m.Bytes, m.SHA256))
}
