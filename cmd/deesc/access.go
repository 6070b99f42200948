package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os/user"
	"text/tabwriter"
	"time"

	"deesc/internal/audit"
	"deesc/internal/auth"
)

// cmdToken is `deesc token add NAME ROLE | list | revoke NAME`.
func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc token add NAME ROLE | list | revoke NAME   (roles: leadership, evaluator, auditor, admin)")
		fs.PrintDefaults()
	}
	var c common
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return &exitError{2, fmt.Errorf("token: give add NAME ROLE, list or revoke NAME")}
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
	toks := auth.NewTokens(st.DB())
	switch {
	case pos[0] == "add" && len(pos) == 3:
		role, err := auth.ParseRole(pos[2])
		if err != nil {
			return &exitError{2, err}
		}
		secret, err := toks.Add(ctx, pos[1], role)
		if err != nil {
			return err
		}
		// Recorded before it is shown: a token the audit log does not show
		// is revoked again rather than handed out.
		if err := auditCLI(ctx, st.DB(), "POST", "/cli/token", "name="+pos[1]+"&role="+string(role), "token added", 201); err != nil {
			_ = toks.Revoke(context.WithoutCancel(ctx), pos[1])
			return err
		}
		fmt.Fprintf(stdout, "%s\n", secret)
		fmt.Fprintf(stderr, "token %q (%s) created; it is shown only now: keep it in a password manager\n", pos[1], role)
		return nil
	case pos[0] == "list" && len(pos) == 1:
		list, err := toks.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tREVOKED")
		for _, t := range list {
			revoked := ""
			if t.Revoked != nil {
				revoked = t.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.Created.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case pos[0] == "revoke" && len(pos) == 2:
		if err := toks.Revoke(ctx, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %q revoked\n", pos[1])
		return auditCLI(ctx, st.DB(), "DELETE", "/cli/token", "name="+pos[1], "token revoked", 200)
	}
	return &exitError{2, fmt.Errorf("token: give add NAME ROLE, list or revoke NAME (got %q)", pos)}
}

// cmdAudit is `deesc audit verify`: check the audit log's hash chain.
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "verify" {
		return &exitError{2, fmt.Errorf("audit: the only subcommand is verify")}
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
	start := time.Now()
	r, err := audit.Verify(ctx, st.DB())
	if err != nil {
		return err
	}
	if !r.OK {
		return &exitError{1, fmt.Errorf("audit log NOT intact: entry %d: %s (%d entries checked)", r.FirstBad, r.Reason, r.Entries)}
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, chain head %s (checked in %s)\n", r.Entries, r.LastHash, time.Since(start).Round(time.Millisecond))
	return nil
}

// auditCLI records one command-line action in the audit log.
func auditCLI(ctx context.Context, db *sql.DB, method, route, params, detail string, status int) error {
	return auditCLIEntry(ctx, db, auditEntry(method, route, params, detail, status, 0, 0, ""))
}

// auditEntry is an audit log entry for a command run by the operating-system user.
func auditEntry(method, route, params, detail string, status int, rows, bytes int64, sha string) audit.Entry {
	return audit.Entry{User: cliUser(), Role: "cli", Method: method, Route: route, Params: params, Status: status,
		Rows: rows, Bytes: bytes, ExportSHA256: sha, Detail: detail}
}

// auditCLIEntry appends e to the audit log and waits until it is stored.
func auditCLIEntry(ctx context.Context, db *sql.DB, e audit.Entry) error {
	log, err := audit.Open(ctx, db, audit.Options{})
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	err = log.Append(ctx, e)
	if cerr := log.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// cliUser names the operating-system user running a command, for the audit log.
func cliUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username
	}
	return "os:unknown"
}
