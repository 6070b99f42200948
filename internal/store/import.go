package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"deesc/internal/config"
	"deesc/internal/contract"
)

// ImportOptions configures one import.
type ImportOptions struct {
	Files     map[string]config.FileMapping // per contract file: patterns, renames, value maps
	MaxErrors int                           // problems listed per file (default 50)
	Source    string                        // what the dataset came from, for the version record
	Now       time.Time                     // "today" for the no-future-dates rule; zero = time.Now()
	Progress  func(Progress)                // called as the import moves through its phases; may be nil
	Log       *slog.Logger                  // statement timings at debug level; may be nil
	Panel     PanelOptions                  // how the officer-month panel classifies training
}

// Progress reports where an import is.
type Progress struct {
	Phase   string        // reading, validating, checking, replacing, panel, done
	File    string        // the file concerned, if any
	Rows    int64         // rows read so far in this phase, if known
	Elapsed time.Duration // since the import started
}

// loadedFile is a contract file whose sources were read into staging.
type loadedFile struct {
	file    contract.File
	order   int
	sources []*source
	ok      bool // every source's header was usable and loaded
}

// importRun carries the state of one import on its own connection.
type importRun struct {
	s      *Store
	conn   *sql.Conn
	opt    ImportOptions
	probs  *problemList
	start  time.Time
	prev   *Version
	loaded map[string]*loadedFile
	temps  []string
	byRID  map[string][]*source // contract file → its sources, for mapping row ids back to lines

	panelSelect string // the panel's SELECT over the temporary tables preparePanel made

	number int    // the version being written (set by commit)
	schema string // its schema, ds_NUMBER

	pending      pendingProblems  // SQL-found problems awaiting line numbers
	extraOmitted map[string]int64 // per contract file, SQL problems beyond the cap
}

// Import validates the contract files found in dir and, if every one is
// valid, replaces those tables in one transaction, recording a new dataset
// version which it returns. Files not present keep their current contents.
// It returns a *ValidationError listing the problems (and changes nothing)
// when any file breaks the contract; other errors are I/O or database
// failures, after which the database is also unchanged. It returns ErrLake
// on a store serving a Parquet folder.
func (s *Store) Import(ctx context.Context, dir string, opt ImportOptions) (Version, error) {
	if err := s.refuseLake("store.Import"); err != nil {
		return Version{}, err
	}
	s.importMu.Lock()
	defer s.importMu.Unlock()
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 50
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Source == "" {
		opt.Source = dir
	}
	if opt.Panel.DeescalationCategories == nil {
		opt.Panel = DefaultPanelOptions()
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return Version{}, fmt.Errorf("store.Import: %w", err)
	}
	defer conn.Close()
	run := &importRun{s: s, conn: conn, opt: opt, probs: newProblemList(opt.MaxErrors), start: time.Now(),
		loaded: map[string]*loadedFile{}, byRID: map[string][]*source{}, extraOmitted: map[string]int64{}}
	defer run.dropTemps()
	v, err := run.run(ctx, dir)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return Version{}, err
		}
		return Version{}, fmt.Errorf("store.Import: %w", err)
	}
	return v, nil
}

func (r *importRun) progress(phase, file string, rows int64) {
	if r.opt.Progress != nil {
		r.opt.Progress(Progress{Phase: phase, File: file, Rows: rows, Elapsed: time.Since(r.start)})
	}
}

func (r *importRun) exec(ctx context.Context, q string, args ...any) error {
	t := time.Now()
	_, err := r.conn.ExecContext(ctx, q, args...)
	r.trace(t, q)
	return err
}

// trace logs a statement's duration at debug level (log.level: debug).
func (r *importRun) trace(start time.Time, q string) {
	if r.opt.Log != nil {
		if len(q) > 120 {
			q = q[:120] + "…"
		}
		r.opt.Log.Debug("import statement", "seconds", fmt.Sprintf("%.3f", time.Since(start).Seconds()), "sql", q)
	}
}

func (r *importRun) temp(name string) string {
	r.temps = append(r.temps, name)
	return name
}

func (r *importRun) dropTemps() {
	ctx := context.Background()
	for i := len(r.temps) - 1; i >= 0; i-- {
		_, _ = r.conn.ExecContext(ctx, "DROP VIEW IF EXISTS temp."+r.temps[i])
		_, _ = r.conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+r.temps[i])
	}
}

func (r *importRun) run(ctx context.Context, dir string) (Version, error) {
	prev, err := r.s.currentVersion(ctx, r.conn)
	if err != nil && !errors.Is(err, ErrNoDataset) {
		return Version{}, err
	}
	if err == nil {
		r.prev = &prev
	}
	found, err := discover(dir, r.opt.Files, r.probs)
	if err != nil {
		return Version{}, err
	}
	if len(found) == 0 && r.probs.empty() {
		return Version{}, &ValidationError{Problems: []Problem{{File: dir, Message: "no contract files found (expected " + strings.Join(fileNames(), ", ") + " as .csv, .csv.gz or .parquet)"}}}
	}
	// Each file is read and typed into a temporary table in one pass; the
	// table's row ids are the rows' positions, from which line numbers come.
	for order, f := range contract.Files() {
		srcs := found[f.Name]
		if len(srcs) == 0 {
			if r.prev == nil && !f.Optional {
				r.probs.add(Problem{File: f.Name + ".csv", order: order, Message: "required file is missing (there is no current dataset to keep it from)"})
			}
			continue
		}
		lf := &loadedFile{file: f, order: order, sources: srcs, ok: true}
		r.loaded[f.Name] = lf
		if err := r.load(ctx, lf); err != nil {
			return Version{}, err
		}
	}
	r.progress("checking", "", 0)
	for _, f := range contract.Files() {
		if lf := r.loaded[f.Name]; lf != nil && lf.ok {
			if err := r.explainValues(ctx, lf); err != nil {
				return Version{}, err
			}
		}
	}
	if err := r.checkRows(ctx); err != nil {
		return Version{}, err
	}
	if !r.probs.empty() || len(r.pending) > 0 || len(r.extraOmitted) > 0 || r.anyRejected() {
		if err := r.resolveLines(); err != nil {
			return Version{}, err
		}
		return Version{}, r.probs.err()
	}
	if err := r.commit(ctx); err != nil {
		return Version{}, err
	}
	// Fold the write-ahead log into the file now rather than on next start.
	_, ckErr := r.conn.ExecContext(ctx, "CHECKPOINT")
	v, err := r.s.currentVersion(ctx, r.conn)
	if err != nil {
		// The commit is durable in the write-ahead log: say so, rather than
		// that the import failed (a disk that filled while checkpointing).
		return Version{}, &CommittedError{Version: r.number, Err: errors.Join(ckErr, err)}
	}
	r.progress("done", "", 0)
	return v, nil
}

// anyRejected reports whether the CSV reader skipped a malformed record.
func (r *importRun) anyRejected() bool {
	for _, srcs := range r.byRID {
		for _, s := range srcs {
			if s.rejected > 0 {
				return true
			}
		}
	}
	return false
}

// load reads every source of a contract file into the temporary table
// typed_NAME: typed values, one row per record in file order, and a
// _problem flag on each row that breaks a value rule.
func (r *importRun) load(ctx context.Context, lf *loadedFile) error {
	f := lf.file
	_, defs := typedColumns(f)
	typed := r.temp("typed_" + f.Name)
	if err := r.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (%s, _problem BOOLEAN)", typed, strings.Join(defs, ", "))); err != nil {
		return err
	}
	for i, src := range lf.sources {
		src.index = i
		r.progress("reading", src.name, 0)
		hdr, err := readHeader(ctx, r.conn, src)
		if err != nil {
			r.probs.add(Problem{File: src.name, order: lf.order, Message: err.Error()})
			lf.ok = false
			continue
		}
		src.header = hdr
		if !mapHeader(src, r.opt.Files[f.Name], lf.order, r.probs) {
			lf.ok = false
			continue
		}
		hashed := make(chan error, 1)
		go func() {
			var err error
			src.sha256, src.bytes, err = hashFile(src.path)
			hashed <- err
		}()
		before, err := r.count(ctx, typed)
		if err != nil {
			return err
		}
		loadErr := r.readSource(ctx, typed, src)
		if src.format != formatParquet && (loadErr != nil || src.rejected > 0) && ctx.Err() == nil {
			// DuckDB reads a large CSV file from several points at once; a
			// quoted value holding line breaks and text shaped like a record
			// can mislead a reader that starts inside it. When our own scan
			// finds every record well formed, read the file again in one
			// pass from the top, and hold it to the scan's count of records.
			if scan, err := r.scan(src, nil); err == nil && len(scan.problems) == 0 {
				if loadErr, err = r.rereadInOnePass(ctx, typed, src, before, scan.good); err != nil {
					return err
				}
			}
		}
		if err := <-hashed; err != nil {
			return fmt.Errorf("%s: %w", src.name, err)
		}
		if loadErr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.readFailure(src, lf.order, loadErr)
			lf.ok = false
			continue
		}
		after, err := r.count(ctx, typed)
		if err != nil {
			return err
		}
		src.firstRID, src.rows = before, after-before
		r.byRID[f.Name] = append(r.byRID[f.Name], src)
		r.progress("reading", src.name, src.rows)
	}
	return nil
}

// readSource appends src's rows to the typed table and, for CSV, counts the
// records the reader rejected (src.rejected). It returns the reader's error.
func (r *importRun) readSource(ctx context.Context, typed string, src *source) error {
	sel, args, err := r.sourceSelect(ctx, src)
	if err != nil {
		return err
	}
	if err := r.exec(ctx, fmt.Sprintf("INSERT INTO %s %s", typed, typedSelect(src.file, sel)), append(args, r.dateArgs()...)...); err != nil {
		return err
	}
	if src.format == formatParquet {
		return nil
	}
	return r.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(DISTINCT line) FROM temp.rej_%s_%d", src.file.Name, src.index)).Scan(&src.rejected)
}

// rereadInOnePass replaces src's rows in typed (those from row id before on)
// with a sequential read of the file. readErr is the reader's error; when
// the reader yields fewer than the want records the file holds, the missing
// ones count as rejected. err is set only when the table cannot be rebuilt.
func (r *importRun) rereadInOnePass(ctx context.Context, typed string, src *source, before, want int64) (readErr, err error) {
	if err := r.keepRows(ctx, typed, before); err != nil {
		return nil, err
	}
	for _, t := range []string{"rej", "rejscan"} { // the reader adds to them: start afresh
		if err := r.exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS temp.%s_%s_%d", t, src.file.Name, src.index)); err != nil {
			return nil, err
		}
	}
	src.sequential = true
	if readErr := r.readSource(ctx, typed, src); readErr != nil {
		return readErr, nil
	}
	after, err := r.count(ctx, typed)
	if err != nil {
		return nil, err
	}
	if got := after - before; got < want && src.rejected < want-got {
		src.rejected = want - got
	}
	return nil, nil
}

// keepRows cuts table back to its first n rows, keeping row ids equal to
// positions (which a DELETE would not).
func (r *importRun) keepRows(ctx context.Context, table string, n int64) error {
	keep := table + "_keep"
	for _, stmt := range []string{
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s WHERE rowid < %d ORDER BY rowid", keep, table, n),
		"DROP TABLE " + table,
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", keep, table),
	} {
		if err := r.exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func (r *importRun) count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := r.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
	return n, err
}

// sourceSelect returns a SELECT over one source file yielding, in order, one
// text column per contract column (named after it; NULL where the file lacks
// it), with the configured value maps applied, and the arguments it binds.
// Rows come in file order, so a table filled from it has row ids in file order.
func (r *importRun) sourceSelect(ctx context.Context, src *source) (string, []any, error) {
	f := src.file
	var args []any
	var fileCol func(j int) string
	var from string
	switch src.format {
	case formatParquet:
		types, err := r.parquetTypes(ctx, src.path)
		if err != nil {
			return "", nil, err
		}
		fileCol = func(j int) string {
			id := quoteIdent(src.header[j])
			if t := types[src.header[j]]; strings.HasPrefix(t, "DATE") || strings.HasPrefix(t, "TIMESTAMP") {
				return fmt.Sprintf("CAST(CAST(%s AS DATE) AS VARCHAR)", id)
			}
			return fmt.Sprintf("CAST(%s AS VARCHAR)", id)
		}
		from = "read_parquet($path)"
	default:
		var defs []string
		for j := range src.header {
			defs = append(defs, fmt.Sprintf("'c%d': 'VARCHAR'", j))
		}
		fileCol = func(j int) string { return fmt.Sprintf("c%d", j) }
		compression := "none"
		if src.format == formatCSVGzip {
			compression = "gzip"
		}
		// A second read (to explain problems) adds the same rejects again:
		// they are counted by line.
		rej := r.temp(fmt.Sprintf("rej_%s_%d", f.Name, src.index))
		rejScan := r.temp(fmt.Sprintf("rejscan_%s_%d", f.Name, src.index))
		// The reader's buffer is as small as the longest line allows (by
		// default it is several times that): DuckDB reads one buffer per
		// thread, so a file of a few tens of megabytes is read on every core
		// (unless src.sequential: see load).
		from = fmt.Sprintf(`read_csv($path, header = true, delim = ',', quote = '"', escape = '"', columns = {%s},
			auto_detect = false, strict_mode = true, null_padding = false, compression = '%s',
			store_rejects = true, rejects_table = '%s', rejects_scan = '%s', max_line_size = %[5]d, buffer_size = %[5]d, parallel = %[6]t)`,
			strings.Join(defs, ", "), compression, rej, rejScan, maxLineBytes, !src.sequential)
	}
	var exprs []string
	for _, c := range f.Columns {
		j := slices.Index(src.targets, c.Name)
		if j < 0 {
			exprs = append(exprs, "CAST(NULL AS VARCHAR) AS "+c.Name)
			continue
		}
		e := fileCol(j)
		if vm := src.values[c.Name]; len(vm) > 0 {
			keys := make([]string, 0, len(vm))
			for k := range vm {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b strings.Builder
			fmt.Fprintf(&b, "CASE lower(trim(%s))", e)
			for _, k := range keys {
				n := len(args)
				fmt.Fprintf(&b, " WHEN $m%d THEN $m%d", n, n+1)
				args = append(args, sql.Named(fmt.Sprintf("m%d", n), k), sql.Named(fmt.Sprintf("m%d", n+1), vm[k]))
			}
			fmt.Fprintf(&b, " ELSE %s END", e)
			e = b.String()
		}
		exprs = append(exprs, e+" AS "+c.Name)
	}
	return fmt.Sprintf("SELECT %s FROM %s", strings.Join(exprs, ", "), from), append(args, sql.Named("path", src.path)), nil
}

func (r *importRun) parquetTypes(ctx context.Context, path string) (map[string]string, error) {
	rows, err := r.conn.QueryContext(ctx, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))`, path)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		out[n] = t
	}
	return out, rows.Err()
}

// maxLineBytes is the longest CSV record the importer reads (DuckDB's
// max_line_size, and its buffer size).
const maxLineBytes = 10_000_000

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// readFailure records why a source could not be read at all. For CSV the
// structural scan usually names the line; otherwise the reader's first line
// of error text is shown (it never holds SQL).
func (r *importRun) readFailure(src *source, order int, err error) {
	if src.format != formatParquet {
		if scan, serr := r.scan(src, nil); serr == nil && len(scan.problems) > 0 {
			for _, p := range scan.problems {
				p.order = order
				r.probs.add(p)
			}
			return
		}
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	r.probs.add(Problem{File: src.name, order: order, Message: "cannot be read: " + msg})
}

// CommittedError reports a failure after an import committed: the new
// dataset version is durable and will be served after a restart, but the
// database failed afterwards (e.g. the disk filled while checkpointing).
type CommittedError struct {
	Version int
	Err     error
}

func (e *CommittedError) Error() string {
	return fmt.Sprintf("the import was committed as dataset version %d, but the database failed afterwards (%v); "+
		"free space if the disk is full and restart deesc: version %d will be current", e.Version, e.Err, e.Version)
}

func (e *CommittedError) Unwrap() error { return e.Err }
