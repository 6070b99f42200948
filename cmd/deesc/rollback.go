package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"deesc/internal/store"
)

// cmdRollback is `deesc rollback VERSION`: serve a kept dataset version
// again, and record who did it in the audit log. A version that does not
// exist or was pruned exits 1 naming the versions there are.
func cmdRollback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc rollback VERSION [--config FILE] [--db FILE]\n\nMakes a kept dataset version (see 'deesc versions') the one served, in one transaction.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{2, errors.New("rollback needs exactly one version number")}
	}
	n, err := strconv.Atoi(pos[0])
	if err != nil || n < 1 {
		return &exitError{2, fmt.Errorf("rollback: VERSION must be a dataset version number (got %q)", pos[0])}
	}
	cfg, err := c.load(nil)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.Rollback(ctx, n)
	if err != nil {
		if errors.Is(err, store.ErrNoVersion) || errors.Is(err, store.ErrNotKept) {
			return &exitError{1, err}
		}
		return err
	}
	if err := auditCLI(context.WithoutCancel(ctx), st.DB(), "POST", "/cli/rollback", "version="+strconv.Itoa(n),
		fmt.Sprintf("dataset version %d restored", n), 200); err != nil {
		return fmt.Errorf("dataset version %d restored, but the audit log could not record it: %w", n, err)
	}
	printVersion(stdout, v)
	return nil
}
