package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoVersion is returned by Rollback when no dataset version has the
// number asked for.
var ErrNoVersion = errors.New("no such dataset version")

// ErrNotKept is returned by Rollback when the version is on record but its
// tables were pruned (database.keep_versions), so it cannot be served.
var ErrNotKept = errors.New("dataset version was pruned")

// Rollback makes a kept dataset version, earlier or later than the current
// one, current again and returns it. One short transaction marks it current
// and points the main views at its schema, as an import's commit does, so
// readers see the previous dataset or the restored one, never a mix, and a
// crash leaves one of the two. Rolling back to the current version changes
// nothing. It returns ErrNoVersion or ErrNotKept (wrapped, with the
// versions there are) when the version cannot be restored. Recording who
// asked for it is the caller's job (the audit log). It returns ErrLake on
// a store serving a Parquet folder.
func (s *Store) Rollback(ctx context.Context, version int) (Version, error) {
	if err := s.refuseLake("store.Rollback"); err != nil {
		return Version{}, err
	}
	s.importMu.Lock()
	defer s.importMu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return Version{}, fmt.Errorf("store.Rollback: %w", err)
	}
	defer conn.Close()
	v, err := s.rollback(ctx, conn, version)
	if err != nil {
		return Version{}, fmt.Errorf("store.Rollback: %w", err)
	}
	return v, nil
}

func (s *Store) rollback(ctx context.Context, conn *sql.Conn, version int) (Version, error) {
	all, err := s.versions(ctx, conn, 0)
	if err != nil {
		return Version{}, err
	}
	var target *Version
	var numbers, kept []string
	for i := len(all) - 1; i >= 0; i-- { // oldest first, for the messages
		v := &all[i]
		numbers = append(numbers, strconv.Itoa(v.Number))
		if v.Kept {
			kept = append(kept, strconv.Itoa(v.Number))
		}
		if v.Number == version {
			target = v
		}
	}
	switch {
	case target == nil && len(all) == 0:
		return Version{}, fmt.Errorf("version %d: %w (no dataset has been imported)", version, ErrNoVersion)
	case target == nil:
		return Version{}, fmt.Errorf("version %d: %w (the versions are %s)", version, ErrNoVersion, strings.Join(numbers, ", "))
	case !target.Kept:
		return Version{}, fmt.Errorf("version %d: %w (the kept versions are %s)", version, ErrNotKept, strings.Join(kept, ", "))
	case target.Current:
		return *target, nil
	}
	// A version marked kept whose schema is gone would leave the views
	// pointing at nothing; refuse it rather than break the served dataset.
	var present bool
	if err := conn.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_schemas()
		WHERE database_name = current_database() AND schema_name = ?`, target.Schema).Scan(&present); err != nil {
		return Version{}, err
	}
	if !present {
		return Version{}, fmt.Errorf("version %d: its schema %s is missing: %w (the kept versions are %s)", version, target.Schema, ErrNotKept, strings.Join(kept, ", "))
	}
	if err := s.repoint(ctx, conn, version, target.Schema); err != nil {
		return Version{}, err
	}
	return s.currentVersion(ctx, conn)
}

// repoint makes version current in one transaction: the version records and
// the main views move together. The views and macros are written by the
// import's own code (pointViews, createMacros) on a run that holds only the
// connection, so a rollback points them exactly as a commit does.
func (s *Store) repoint(ctx context.Context, conn *sql.Conn, version int, schema string) error {
	r := &importRun{s: s, conn: conn}
	defer r.s.switching()()
	if err := r.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err := r.exec(ctx, `UPDATE dataset_versions SET is_current = false WHERE is_current`); err != nil {
		return err
	}
	if err := r.exec(ctx, `UPDATE dataset_versions SET is_current = true WHERE version = ?`, version); err != nil {
		return err
	}
	if err := r.pointViews(ctx, schema); err != nil {
		return err
	}
	if err := r.createMacros(ctx); err != nil {
		return err
	}
	if err := r.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}
