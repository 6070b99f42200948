// Package store owns deesc's DuckDB database: its schema, validated atomic
// imports of an agency's files, dataset versions, and the queries that read them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"deesc/internal/audit"
	"deesc/internal/auth"
	"deesc/queries"
)

// Options configures how the database is opened.
type Options struct {
	MemoryLimit  string // DuckDB memory_limit, e.g. "4GB"; empty = DuckDB's default
	Threads      int    // 0 = all cores
	KeepVersions int    // datasets kept for rollback; at least 1
	ReadOnly     bool
	// Lake, if set, is a folder written by ExportDataset that the store
	// serves read-only: the database keeps the audit log and tokens, every
	// dataset view reads the folder's Parquet files, and imports and
	// rollbacks return ErrLake.
	Lake string
	// LakeSHA256 also checks every lake file's SHA-256 at Open (slow);
	// without it, Open checks the file list and sizes.
	LakeSHA256 bool
}

// Store is an open deesc database. It is safe for concurrent use; imports are
// serialised.
type Store struct {
	db       *sql.DB
	q        *queries.Catalogue
	path     string
	opt      Options
	importMu sync.Mutex
	// switches counts dataset switches begun and finished (imports'
	// commits and rollbacks): odd while one is under way. Caches compare it
	// before and after computing an answer.
	switches atomic.Int64
	current  atomic.Value // currentVersion, for CurrentVersionNumber
	names    atomic.Value // cachedNames, for Names

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // the dashboards' reads, prepared once (see prepared)
}

// prepared returns the statement for a read's SQL, preparing it on first
// use: parsing and planning is ~0.7 ms of a 15 ms read. DuckDB binds a
// prepared statement again when the catalogue has changed since, so one
// prepared before an import reads the new dataset's tables after it. The
// texts are the catalogue's (a fixed set); it fails as PrepareContext does.
func (s *Store) prepared(ctx context.Context, text string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[text]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[text] = st
	return st, nil
}

// Generation returns a number that changes whenever the current dataset
// may change: it is odd while a switch is under way. An answer computed
// between two equal, even readings was computed on one dataset.
func (s *Store) Generation() int64 { return s.switches.Load() }

// switching brackets a transaction that may change the current dataset.
func (s *Store) switching() func() {
	s.switches.Add(1)
	return func() { s.switches.Add(1) }
}

// Open opens (creating if needed) the database at path; ":memory:" or "" opens
// a private in-memory database. It fails when the file cannot be created or
// opened (another process holding it, a directory that is not writable),
// and with opt.Lake when the folder does not match its deesc-lake.json
// (naming the missing or changed file).
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if opt.KeepVersions < 1 {
		opt.KeepVersions = 1
	}
	dsn := path
	if path == ":memory:" {
		dsn = ""
	}
	if dsn != "" && !opt.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store.Open: %w", err)
		}
	}
	q := url.Values{}
	if opt.MemoryLimit != "" {
		q.Set("memory_limit", opt.MemoryLimit)
	}
	if opt.Threads > 0 {
		q.Set("threads", strconv.Itoa(opt.Threads))
	}
	if opt.ReadOnly {
		q.Set("access_mode", "read_only")
	}
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("store.Open %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxIdleConns(16)
	s := &Store{db: db, path: path, opt: opt, q: queries.MustLoad()}
	migrate := s.migrate
	if opt.ReadOnly {
		migrate = s.requireCurrentForm
	}
	if err := migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store.Open %s: %w", path, err)
	}
	if opt.Lake != "" {
		err := errors.New("serving a lake needs a writable database for its views")
		if !opt.ReadOnly {
			err = s.openLake(ctx)
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store.Open %s: %w", path, err)
		}
	}
	return s, nil
}

// DB returns the underlying handle, for benchmarks and tests that time raw SQL.
func (s *Store) DB() *sql.DB { return s.db }

// Queries returns the catalogue of named queries the store runs.
func (s *Store) Queries() *queries.Catalogue { return s.q }

// Path returns the database file, or "" for an in-memory database.
func (s *Store) Path() string { return s.path }

// Close checkpoints and closes the database.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	if !s.opt.ReadOnly {
		// A checkpoint folds the write-ahead log into the file so the next
		// start does not replay it; failure here is not fatal to the data.
		_, _ = s.db.Exec("CHECKPOINT")
	}
	return s.db.Close()
}

// migrate creates the metadata tables that live outside any dataset version.
func (s *Store) migrate(ctx context.Context) error {
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS dataset_versions (
			version     INTEGER PRIMARY KEY,
			imported_at TIMESTAMPTZ NOT NULL,
			source      VARCHAR NOT NULL,
			schema_name VARCHAR NOT NULL,
			is_current  BOOLEAN NOT NULL,
			kept        BOOLEAN NOT NULL,
			seconds     DOUBLE NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS dataset_files (
			version        INTEGER NOT NULL,
			file           VARCHAR NOT NULL,
			path           VARCHAR NOT NULL,
			sha256         VARCHAR NOT NULL,
			bytes          BIGINT NOT NULL,
			rows           BIGINT NOT NULL,
			from_version   INTEGER NOT NULL,
			PRIMARY KEY (version, file, path)
		)`,
	} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if err := s.addDerivedTables(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// The audit log and API tokens live beside the data, outside every
	// dataset version.
	if err := audit.EnsureSchema(ctx, s.db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := auth.EnsureSchema(ctx, s.db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// ErrNoDataset is returned by reads when no dataset has been imported yet.
var ErrNoDataset = errors.New("no dataset has been imported")

// requireCurrentForm returns an error naming what a read-only database
// lacks when its current dataset was written by an earlier deesc (a summary
// this one reads); opened writable once, it gets them (addDerivedTables).
func (s *Store) requireCurrentForm(ctx context.Context) error {
	var tables int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'dataset_versions'`).Scan(&tables); err != nil {
		return err
	}
	var schema string
	err := sql.ErrNoRows
	if tables > 0 {
		err = s.db.QueryRowContext(ctx, `SELECT schema_name FROM dataset_versions WHERE is_current`).Scan(&schema)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil // nothing imported yet: reads say so
	}
	if err != nil {
		return err
	}
	var missing []string
	for _, d := range derivedTables() {
		stale, err := s.staleVersions(ctx, d, false)
		if err != nil {
			return err
		}
		for _, v := range stale {
			if v.schema == schema {
				missing = append(missing, d.name)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the current dataset was written by an earlier deesc and lacks %s; open the database writable once (for example `deesc versions`) to add them", strings.Join(missing, ", "))
	}
	return nil
}

// staleVersion is a kept dataset version whose copy of a derived table is
// missing or was written by an earlier definition.
type staleVersion struct {
	schema  string
	current bool
}

// staleVersions returns the kept versions (with a panel) whose table d is
// missing or lacks a column d.added names, and with slow also those where
// it is stored with HUGEINT sums (same answers, but DuckDB scans them tens
// of times slower than BIGINT).
func (s *Store) staleVersions(ctx context.Context, d derived, slow bool) ([]staleVersion, error) {
	args := []any{d.name, d.name, slow}
	lacks := ""
	for _, c := range d.added {
		lacks += ` OR NOT EXISTS (SELECT 1 FROM duckdb_columns() c WHERE c.schema_name = v.schema_name AND c.table_name = ? AND c.column_name = ?)`
		args = append(args, d.name, c)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT v.schema_name, v.is_current FROM dataset_versions v
		WHERE v.kept AND EXISTS (SELECT 1 FROM duckdb_tables() t WHERE t.schema_name = v.schema_name AND t.table_name = 'panel')
		AND (NOT EXISTS (SELECT 1 FROM duckdb_tables() t WHERE t.schema_name = v.schema_name AND t.table_name = ?)
			OR EXISTS (SELECT 1 FROM duckdb_columns() c WHERE c.schema_name = v.schema_name AND c.table_name = ? AND c.data_type = 'HUGEINT' AND ?)`+lacks+`)`,
		args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []staleVersion
	for rows.Next() {
		var v staleVersion
		if err := rows.Scan(&v.schema, &v.current); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// dropRetired drops main's view of a retired summary and every version's
// copy of it.
func (s *Store) dropRetired(ctx context.Context, name string) error {
	var views int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND view_name = ?`, name).Scan(&views); err != nil {
		return err
	}
	if views > 0 {
		if _, err := s.db.ExecContext(ctx, "DROP VIEW main."+quoteIdent(name)); err != nil {
			return err
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT schema_name FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?`, name)
	if err != nil {
		return err
	}
	var schemas []string
	for rows.Next() {
		var schema string
		if err := rows.Scan(&schema); err != nil {
			rows.Close()
			return err
		}
		schemas = append(schemas, schema)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, schema := range schemas {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf("DROP TABLE %s.%s", quoteIdent(schema), quoteIdent(name))); err != nil {
			return fmt.Errorf("dropping %s.%s: %w", schema, name, err)
		}
	}
	return nil
}

// addDerivedTables gives versions imported before a derived table existed
// that table, rebuilds one written by an earlier definition (staleVersions),
// drops the retired summaries, and points main's views at the current
// version's and redefines the macros, so a database written by an earlier
// deesc keeps answering, and as fast.
func (s *Store) addDerivedTables(ctx context.Context) error {
	for _, d := range derivedTables() {
		todo, err := s.staleVersions(ctx, d, true)
		if err != nil {
			return err
		}
		for _, v := range todo {
			stmt := strings.Replace(d.create(quoteIdent(v.schema)), "CREATE TABLE", "CREATE OR REPLACE TABLE", 1)
			if _, err := s.db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("adding %s to %s: %w", d.name, v.schema, err)
			}
			if v.current {
				if _, err := s.db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW main.%s AS SELECT * FROM %s.%s", d.name, quoteIdent(v.schema), d.name)); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range retiredTables {
		if err := s.dropRetired(ctx, name); err != nil {
			return err
		}
	}
	// The macros too follow the deesc that opens the database.
	var current int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM dataset_versions v WHERE v.is_current
		AND EXISTS (SELECT 1 FROM duckdb_tables() t WHERE t.schema_name = v.schema_name AND t.table_name = 'panel')`).Scan(&current); err != nil {
		return err
	}
	if current == 0 {
		return nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return (&importRun{s: s, conn: conn}).createMacros(ctx)
}
