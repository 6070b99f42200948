package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// cmdVersions is `deesc versions`: every dataset version, newest first, with
// its files' hashes.
func cmdVersions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("versions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
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
	vs, err := st.Versions(ctx)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintln(stdout, "no dataset has been imported")
	}
	for _, v := range vs {
		printVersion(stdout, v)
		state := "kept"
		switch {
		case v.Current:
			state = "current"
		case !v.Kept:
			state = "pruned (record and hashes only)"
		}
		fmt.Fprintf(stdout, "  state: %s\n", state)
	}
	return nil
}
