package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"deesc/internal/export"
	"deesc/queries"
)

// RunOptions says how a catalogue query is run.
type RunOptions struct {
	Limit    int   // rows returned at most; 0 = all
	Suppress bool  // hide the small counts of the query's suppress columns (the leadership role)
	MinCell  int64 // with Suppress, counts from 1 to MinCell-1 are hidden; below 2 nothing is
	// BeforeWrite, if set, is called by Export once the file is written and
	// before its first byte goes to w, with the manifest so far (all but
	// SHA256): an HTTP handler sets its headers there.
	BeforeWrite func(export.Manifest)
}

// Result is the answer of a catalogue query, ready for JSON: dates are
// "YYYY-MM-DD", timestamps RFC 3339 in UTC, NaN and infinities null, bytes
// text.
type Result struct {
	Columns    []string `json:"columns"`
	Rows       [][]any  `json:"rows"`
	Truncated  bool     `json:"truncated"`  // more rows than the limit
	Suppressed int64    `json:"suppressed"` // cells hidden in the rows returned
}

// hiddenColumn is the extra column a suppressing query adds: the number of
// cells it hid in the row.
const hiddenColumn = "deesc_hidden"

// CheckCatalogue proves that every catalogue query is exactly one SELECT
// statement (which DuckDB cannot make write), by having DuckDB's parser
// serialise it. It fails naming the first query that is not.
func (s *Store) CheckCatalogue(ctx context.Context) error {
	for _, q := range s.q.All() {
		if err := checkSelect(ctx, s.db, q.SQL); err != nil {
			return fmt.Errorf("store.CheckCatalogue: queries/%s.sql: %w", q.Name, err)
		}
	}
	return nil
}

// checkSelect returns nil if text parses as one SELECT statement.
// json_serialize_sql serialises SELECT statements only and reports
// anything else (DELETE, COPY, PRAGMA, a syntax error) as an error.
func checkSelect(ctx context.Context, q querier, text string) error {
	var js string
	if err := q.QueryRowContext(ctx, `SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)`, text).Scan(&js); err != nil {
		return err
	}
	var r struct {
		Error      bool              `json:"error"`
		Message    string            `json:"error_message"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		return fmt.Errorf("reading the parser's answer: %w", err)
	}
	if r.Error {
		return fmt.Errorf("not a read-only SELECT: %s", r.Message)
	}
	if len(r.Statements) != 1 {
		return fmt.Errorf("holds %d statements, want one SELECT", len(r.Statements))
	}
	return nil
}

// catalogued fails unless q is the catalogue's query of that name, text
// and all: only declared queries ever run.
func (s *Store) catalogued(q queries.Query) error {
	if c, ok := s.q.Get(q.Name); !ok || c.SQL != q.SQL {
		return fmt.Errorf("%q is not a catalogue query", q.Name)
	}
	return nil
}

// suppressed returns the columns whose small counts opt hides.
func suppressed(q queries.Query, opt RunOptions) []string {
	if !opt.Suppress || opt.MinCell < 2 {
		return nil
	}
	return q.Suppress
}

// wrap returns the query's text with the small counts of cols replaced by
// NULL (bound to $min_cell, appended to args) and, if count, a last column
// deesc_hidden with the number of cells hidden in the row. Column names
// come from the header, which Load checked are identifiers.
func wrap(q queries.Query, args []any, cols []string, minCell int64, count bool) (string, []any) {
	if len(cols) == 0 {
		return q.SQL, args
	}
	var repl, hidden []string
	with := map[string][]string{} // dependent column → the counts that hide it
	for _, c := range cols {
		small := `deesc_q."` + c + `" BETWEEN 1 AND $min_cell - 1`
		repl = append(repl, fmt.Sprintf(`CASE WHEN %s THEN NULL ELSE deesc_q."%s" END AS "%s"`, small, c, c))
		hidden = append(hidden, "CASE WHEN "+small+" THEN 1 ELSE 0 END")
		for _, d := range q.SuppressWith[c] {
			with[d] = append(with[d], small)
		}
	}
	deps := make([]string, 0, len(with))
	for d := range with {
		deps = append(deps, d)
	}
	sort.Strings(deps)
	for _, d := range deps {
		repl = append(repl, fmt.Sprintf(`CASE WHEN %s THEN NULL ELSE deesc_q."%s" END AS "%s"`, strings.Join(with[d], " OR "), d, d))
	}
	sel := "SELECT * REPLACE (" + strings.Join(repl, ", ") + ")"
	if count {
		sel += ", CAST(" + strings.Join(hidden, " + ") + " AS BIGINT) AS " + hiddenColumn
	}
	// The newline ends a trailing "--" comment of the query.
	text := sel + " FROM (\n" + q.SQL + "\n) AS deesc_q"
	return text, append(append([]any{}, args...), sql.Named(queries.ReservedParam, minCell))
}

// RunQuery runs a catalogue query with arguments from Query.Bind and
// returns its rows (at most opt.Limit, the rest reported as Truncated),
// with the suppression opt asks for done in SQL. It returns ErrNoDataset
// before the first import, and fails on a query that is not in the
// catalogue or whose columns differ from its header.
func (s *Store) RunQuery(ctx context.Context, q queries.Query, args []any, opt RunOptions) (Result, error) {
	res := Result{Rows: [][]any{}}
	if err := s.catalogued(q); err != nil {
		return res, fmt.Errorf("store.RunQuery: %w", err)
	}
	if err := s.requireDataset(ctx); err != nil {
		return res, err
	}
	cols := suppressed(q, opt)
	text, args := wrap(q, args, cols, opt.MinCell, true)
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return res, fmt.Errorf("store.RunQuery %s: %w", q.Name, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return res, fmt.Errorf("store.RunQuery %s: %w", q.Name, err)
	}
	n := len(types)
	if len(cols) > 0 {
		n-- // deesc_hidden
	}
	for _, t := range types[:n] {
		res.Columns = append(res.Columns, t.Name())
	}
	if err := sameColumns(q, res.Columns); err != nil {
		return res, fmt.Errorf("store.RunQuery: %w", err)
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if opt.Limit > 0 && len(res.Rows) == opt.Limit {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return res, fmt.Errorf("store.RunQuery %s: %w", q.Name, err)
		}
		row := make([]any, n)
		for i := range row {
			row[i] = jsonValue(vals[i], types[i].DatabaseTypeName())
		}
		if len(cols) > 0 {
			h, _ := vals[n].(int64)
			res.Suppressed += h
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("store.RunQuery %s: %w", q.Name, err)
	}
	return res, nil
}

// sameColumns fails when a query returns other columns than it declares.
func sameColumns(q queries.Query, got []string) error {
	if strings.Join(got, ",") != strings.Join(q.Columns, ",") {
		return fmt.Errorf("queries/%s.sql returns columns %v but declares %v", q.Name, got, q.Columns)
	}
	return nil
}

// jsonValue returns a scanned value in a form encoding/json writes as
// valid JSON that says what the database holds.
func jsonValue(v any, dbType string) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	case time.Time:
		switch {
		case dbType == "DATE":
			return x.Format(time.DateOnly)
		case strings.HasPrefix(dbType, "TIME") && !strings.HasPrefix(dbType, "TIMESTAMP"):
			return x.Format("15:04:05.000000")
		default:
			return x.UTC().Format(rfc3339Micro)
		}
	case []byte:
		if dbType == "UUID" && len(x) == 16 {
			h := hex.EncodeToString(x)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		}
		return string(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duckdb.Decimal:
		return jsonValue(x.Float64(), "DOUBLE")
	case duckdb.Interval:
		return map[string]any{"months": x.Months, "days": x.Days, "micros": x.Micros}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonValue(e, "")
		}
		return out
	}
	return v
}

// rfc3339Micro is RFC 3339 with microseconds, DuckDB's resolution; the
// exports write timestamps the same way (strftime's %f).
const rfc3339Micro = "2006-01-02T15:04:05.000000Z07:00"

// Export runs a catalogue query with arguments from Query.Bind and writes
// its whole result (every row, unless opt.Limit > 0) to w in format,
// returning the manifest: the query, its SQL's hash, the parameters, the
// dataset version and its files, the rows, columns, bytes and SHA-256 of
// what was written, and the suppression applied. DuckDB writes the file
// (COPY) into a private temporary directory, reading the dataset version,
// the rows and the hidden-cell count in one transaction, so all come from
// one snapshot even if an import commits meanwhile; the file is then
// streamed to w while it is hashed, and removed. User and Role are the
// caller's to fill. It returns ErrNoDataset before the first import; an
// error after the first byte reached w leaves w with part of the file.
func (s *Store) Export(ctx context.Context, q queries.Query, args []any, format export.Format, w io.Writer, opt RunOptions) (export.Manifest, error) {
	m := newManifest(q, args, format, opt)
	if _, err := export.ParseFormat(string(format)); err != nil {
		return m, err
	}
	if err := s.catalogued(q); err != nil {
		return m, fmt.Errorf("store.Export: %w", err)
	}
	if err := s.requireDataset(ctx); err != nil {
		return m, err
	}
	dir, err := os.MkdirTemp("", "deesc-export-") // mode 0700: private to this user
	if err != nil {
		return m, fmt.Errorf("store.Export %s: %w", q.Name, err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "export."+format.Ext())
	if err := s.copyResult(ctx, q, args, path, opt, &m); err != nil {
		return m, fmt.Errorf("store.Export %s: %w", q.Name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return m, fmt.Errorf("store.Export %s: %w", q.Name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return m, fmt.Errorf("store.Export %s: %w", q.Name, err)
	}
	m.Bytes = st.Size()
	if opt.BeforeWrite != nil {
		opt.BeforeWrite(m)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), f)
	if err != nil {
		return m, fmt.Errorf("store.Export %s: sending: %w", q.Name, err)
	}
	if n != m.Bytes {
		return m, fmt.Errorf("store.Export %s: sent %d bytes of %d", q.Name, n, m.Bytes)
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	return m, nil
}

// newManifest returns what an export's manifest says before the query
// runs: the query, its SQL's hash, the bound parameters, the format, the
// suppression asked for and the limit.
func newManifest(q queries.Query, args []any, format export.Format, opt RunOptions) export.Manifest {
	sum := sha256.Sum256([]byte(q.SQL))
	m := export.Manifest{Query: q.Name, Title: q.Title, SQLSHA256: hex.EncodeToString(sum[:]), Params: map[string]string{},
		Format: format, Created: time.Now().UTC()}
	for _, a := range args {
		if na, ok := a.(sql.NamedArg); ok {
			m.Params[na.Name] = queries.FormatValue(na.Value)
		}
	}
	if opt.Suppress && opt.MinCell >= 2 {
		m.Suppression = export.Suppression{Applied: true, MinCell: opt.MinCell, Columns: q.Suppress}
	}
	if opt.Limit > 0 {
		limit := opt.Limit
		m.Limit = &limit
	}
	return m
}

// copyResult has DuckDB write the query's result to path and fills in the
// manifest's dataset version, columns, rows and hidden cells, all read in
// one transaction and so from one snapshot.
func (s *Store) copyResult(ctx context.Context, q queries.Query, args []any, path string, opt RunOptions, m *export.Manifest) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	v, err := s.currentVersion(ctx, tx)
	if err != nil {
		return err
	}
	m.DatasetVersion, m.DatasetImportedAt, m.DatasetSource = v.Number, v.ImportedAt.UTC(), v.Source
	for _, f := range v.Files {
		m.DatasetFiles = append(m.DatasetFiles, export.SourceFile{File: f.File, Path: f.Path, SHA256: f.SHA256, Rows: f.Rows, FromVersion: f.FromVersion})
	}
	cols := suppressed(q, opt)
	limit := func(text string, args []any) (string, []any) {
		if opt.Limit <= 0 {
			return text, args
		}
		return LimitedSQL(text, args, opt.Limit)
	}
	text, wargs := limit(wrap(q, args, cols, opt.MinCell, false))
	proj, err := exportColumns(ctx, tx, text, wargs, m.Format)
	if err != nil {
		return err
	}
	m.Columns = proj.names
	if err := sameColumns(q, m.Columns); err != nil {
		return err
	}
	opts := map[export.Format]string{export.CSV: "FORMAT csv, HEADER true", export.JSON: "FORMAT json, ARRAY true", export.Parquet: "FORMAT parquet"}[m.Format]
	order := ""
	if len(q.ExportOrder) > 0 { // identifiers checked by queries.Load
		order = ` ORDER BY "` + strings.Join(q.ExportOrder, `", "`) + `"`
	}
	stmt := fmt.Sprintf("COPY (SELECT %s FROM (\n%s\n) AS deesc_e%s) TO '%s' (%s)", proj.exprs, text, order, strings.ReplaceAll(path, "'", "''"), opts)
	r, err := tx.ExecContext(ctx, stmt, wargs...)
	if err != nil {
		return err
	}
	if m.Rows, err = r.RowsAffected(); err != nil {
		return err
	}
	if len(cols) > 0 {
		// The hidden cells of exactly the rows written: same snapshot, same rows.
		ctext, cargs := limit(wrap(q, args, cols, opt.MinCell, true))
		err := tx.QueryRowContext(ctx, "SELECT CAST(coalesce(sum("+hiddenColumn+"), 0) AS BIGINT) FROM (\n"+ctext+"\n) AS deesc_c", cargs...).
			Scan(&m.Suppression.CellsHidden)
		if err != nil {
			return fmt.Errorf("counting hidden cells: %w", err)
		}
	}
	return tx.Commit()
}

// projection is the select list an export writes, and its column names.
type projection struct {
	exprs string
	names []string
}

// exportColumns reads the result's columns and types (without running the
// query) and returns the select list that writes them: NaN and infinities
// as NULL in every format, and in CSV and JSON timestamps as RFC 3339 in
// UTC with microseconds, as RunQuery returns them.
func exportColumns(ctx context.Context, tx *sql.Tx, text string, args []any, format export.Format) (projection, error) {
	rows, err := tx.QueryContext(ctx, "SELECT * FROM (\n"+text+"\n) AS deesc_d LIMIT 0", args...)
	if err != nil {
		return projection{}, err
	}
	types, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		return projection{}, err
	}
	var p projection
	var exprs []string
	for _, t := range types {
		name := t.Name()
		p.names = append(p.names, name)
		c := `deesc_e."` + strings.ReplaceAll(name, `"`, `""`) + `"`
		e := c
		switch typ := t.DatabaseTypeName(); {
		case typ == "DOUBLE" || typ == "FLOAT":
			e = "CASE WHEN isfinite(" + c + ") THEN " + c + " END"
		case format != export.Parquet && typ == "TIMESTAMPTZ":
			e = "strftime(timezone('UTC', " + c + "), '%Y-%m-%dT%H:%M:%S.%fZ')"
		case format != export.Parquet && strings.HasPrefix(typ, "TIMESTAMP"):
			e = "strftime(CAST(" + c + " AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%fZ')"
		}
		exprs = append(exprs, e+` AS "`+strings.ReplaceAll(name, `"`, `""`)+`"`)
	}
	p.exprs = strings.Join(exprs, ", ")
	if p.exprs == "" {
		p.exprs = "*"
	}
	return p, nil
}

// LimitedSQL returns text with its first n rows only (in its own order), and
// the arguments it then takes.
func LimitedSQL(text string, args []any, n int) (string, []any) {
	return "SELECT * FROM (\n" + text + "\n) AS deesc_l LIMIT $deesc_limit", append(append([]any{}, args...), sql.Named("deesc_limit", n))
}
