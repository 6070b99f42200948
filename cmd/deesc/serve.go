package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"deesc/internal/audit"
	"deesc/internal/auth"
	"deesc/internal/config"
	"deesc/internal/server"
	"deesc/internal/store"
)

// cmdServe is `deesc serve` (and `deesc` alone): open the database, import the
// demo dataset if it is empty, and serve until SIGINT or SIGTERM.
func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	addr := fs.String("addr", "", "listen address HOST:PORT (overrides server.addr; env DEESC_ADDR)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	extra := map[string]any{}
	if *addr != "" {
		extra["server.addr"] = *addr
	}
	cfg, err := c.load(extra)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	authOn := cfg.Auth.On(cfg.Server.Addr)
	if !authOn && !config.IsLoopback(cfg.Server.Addr) {
		return &exitError{2, fmt.Errorf("refusing to serve %s without authentication: every visitor would act as admin. "+
			"Set auth.enabled: true (and create tokens with `deesc token add NAME ROLE`) or listen on 127.0.0.1", cfg.Server.Addr)}
	}
	// Claim the port before any slow start-up work, so a port in use fails at once.
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("cannot listen on %s: the port is in use (set --addr or DEESC_ADDR)", cfg.Server.Addr)
		}
		return fmt.Errorf("cannot listen on %s: %w", cfg.Server.Addr, err)
	}
	defer ln.Close()
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensureDemo(ctx, cfg, st, log); err != nil {
		return err
	}
	if err := st.CheckCatalogue(ctx); err != nil {
		return err
	}
	auditLog, err := audit.Open(ctx, st.DB(), audit.Options{})
	if err != nil {
		return fmt.Errorf("cannot open the audit log in %s: %w", cfg.Database.Path, err)
	}
	defer auditLog.Close()
	tokens := auth.NewTokens(st.DB())
	if authOn {
		if list, err := tokens.List(ctx); err == nil && len(list) == 0 {
			log.Warn("authentication is on but no token exists: create one with `deesc token add NAME admin`")
		}
	} else {
		log.Warn("demo mode: authentication is off on loopback, every visitor acts as admin (auth.enabled)")
	}
	app := server.New(st, server.Options{Log: log, Version: version,
		MinCell: int64(cfg.Privacy.MinCell), UnstableEvents: int64(cfg.Privacy.UnstableEvents), DoseBins: cfg.Analysis.DoseBins,
		Auth: authOn, Tokens: tokens, SessionTTL: cfg.Auth.Session, Audit: auditLog, QueryTimeout: cfg.Query.Timeout,
		BodyBytes: cfg.Limits.BodyBytes, UploadBytes: cfg.Limits.UploadBytes, RequestsPerSecond: cfg.Limits.RequestsPerSecond, Burst: cfg.Limits.Burst,
		Import: store.ImportOptions{Files: cfg.Import.Files, MaxErrors: cfg.Import.MaxErrors, Panel: panelOptions(cfg), Log: log}})
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("deesc is serving", "url", "http://"+ln.Addr().String()+"/", "db", cfg.Database.Path)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil {
		log.Warn("shutdown", "err", err)
	}
	return nil
}
