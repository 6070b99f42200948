package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// A lake is the current dataset written as Hive-partitioned Parquet that
// other engines (DuckDB, Trino/Presto, Spark) can read in place: one folder
// per table of viewNames(), and deesc-lake.json describing the version,
// every table's columns and partition keys, and every file's hash. deesc
// can serve it read-only (Options.Lake).

// LakeManifestName is the manifest's file name inside a lake folder.
const LakeManifestName = "deesc-lake.json"

// lakeFormat names the layout; a reader refuses any other.
const lakeFormat = "deesc-lake/1"

// ErrLake is returned by imports and rollbacks on a store that serves a
// Parquet folder.
var ErrLake = errors.New("serving a Parquet folder read-only; import into a database and export it again")

// lakeSchema is the schema_name recorded for a lake's dataset version: no
// schema of that name exists, so the version is never "kept" for rollback.
const lakeSchema = "lake"

// LakeManifest is deesc-lake.json: the dataset version a lake holds and,
// per table, what was written.
type LakeManifest struct {
	Format        string      `json:"format"`
	Version       int         `json:"dataset_version"`
	ImportedAt    time.Time   `json:"imported_at"`
	Source        string      `json:"source"`
	ImportSeconds float64     `json:"import_seconds"`
	SourceFiles   []FileInfo  `json:"source_files"` // the imported files the version was built from
	ExportedAt    time.Time   `json:"exported_at"`
	Tables        []LakeTable `json:"tables"`
}

// LakeTable is one table of a lake: its rows, its columns as stored (the
// partition keys are not among them: they are derived for partitioning
// only and live in the folder names), and its files.
type LakeTable struct {
	Name          string       `json:"name"`
	Rows          int64        `json:"rows"`
	Columns       []LakeColumn `json:"columns"`
	PartitionKeys []LakeColumn `json:"partition_keys"` // Type is the key's; From says how it was derived
	Files         []LakeFile   `json:"files"`
}

// LakeColumn is a column and its DuckDB type; for a partition key, From
// is the SQL it was computed with.
type LakeColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
	From string `json:"from,omitempty"`
}

// LakeFile is one Parquet file, its path relative to the lake folder with
// forward slashes.
type LakeFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// LakeExportOptions configures ExportDataset.
type LakeExportOptions struct {
	// Progress, if set, is called before each table is written.
	Progress func(table string)
}

// lakePartitioning returns how a table is partitioned: by the year of its
// date and the division of its officer (unit, division key), derived only
// for partitioning, or not at all for the small tables; and the SELECT
// that adds the keys. Division names are free text: DuckDB
// percent-encodes them in folder names and writes NULL as
// __HIVE_DEFAULT_PARTITION__.
func lakePartitioning(table string) (keys []LakeColumn, query string) {
	date, by := "", "officer_id"
	switch table {
	case "panel":
		date, by = "month", "division_key"
	case "panel_units":
		date, by = "month", "unit_key"
	case "force_incident_months":
		date, by = "month", "first_division"
	case "activity", "training_hours":
		date = "month"
	case "use_of_force", "injuries":
		date = "occurred_on"
	case "training":
		date = "completed_on"
	case "complaints":
		date = "received_on"
	case "commendations":
		date = "awarded_on"
	default:
		return nil, "SELECT * FROM main." + table
	}
	division, join, from := "t.first_division", "", "first_division"
	if by != "first_division" {
		owner := map[string]string{"officer_id": "officers", "unit_key": "units", "division_key": "divisions"}[by]
		division, from = "d.division", owner+".division by "+by
		join = fmt.Sprintf("LEFT JOIN main.%[1]s d ON d.%[2]s = t.%[2]s", owner, by)
	}
	keys = []LakeColumn{{Name: "year", Type: "INTEGER", From: "year(" + date + ")"}, {Name: "division", Type: "VARCHAR", From: from}}
	query = fmt.Sprintf("SELECT t.*, CAST(year(t.%s) AS INTEGER) AS year, %s AS division FROM main.%s t %s", date, division, table, join)
	return keys, query
}

// ExportDataset writes the current dataset as a lake into dir, which must
// not exist or be empty, and returns its manifest. Every table is written
// by DuckDB COPY in one read transaction, so all come from one snapshot
// even if an import commits meanwhile, into dir.tmp-XXXX beside dir, which
// is renamed to dir only when complete: a failed export leaves nothing
// behind. It returns ErrNoDataset before the first import, and fails when
// dir exists and is not empty.
func (s *Store) ExportDataset(ctx context.Context, dir string, opt LakeExportOptions) (LakeManifest, error) {
	m, err := s.exportDataset(ctx, dir, opt)
	if err != nil {
		return LakeManifest{}, fmt.Errorf("store.ExportDataset %s: %w", dir, err)
	}
	return m, nil
}

func (s *Store) exportDataset(ctx context.Context, dir string, opt LakeExportOptions) (m LakeManifest, err error) {
	dir = filepath.Clean(dir)
	empty, err := emptyOrAbsent(dir)
	if err != nil {
		return m, err
	}
	if !empty {
		return m, errors.New("the folder exists and is not empty")
	}
	if err := s.requireDataset(ctx); err != nil {
		return m, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return m, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if m, err = s.writeLake(ctx, tmp, opt); err != nil {
		return m, err
	}
	if m.Tables, err = lakeFiles(tmp, m.Tables); err != nil {
		return m, err
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := os.WriteFile(filepath.Join(tmp, LakeManifestName), append(js, '\n'), 0o644); err != nil {
		return m, err
	}
	if err := os.Chmod(tmp, 0o750); err != nil { // MkdirTemp makes it private; officer records stay out of reach of other users
		return m, err
	}
	// An empty dir is removed first: renaming onto it works on Linux only.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return m, err
	}
	return m, nil
}

// emptyOrAbsent reports whether dir does not exist or is an empty folder.
func emptyOrAbsent(dir string) (bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// writeLake has DuckDB write every table into tmp in one read transaction
// and returns the manifest without the files.
func (s *Store) writeLake(ctx context.Context, tmp string, opt LakeExportOptions) (LakeManifest, error) {
	var m LakeManifest
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return m, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		return m, err
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	v, err := s.currentVersion(ctx, conn)
	if err != nil {
		return m, err
	}
	m = LakeManifest{Format: lakeFormat, Version: v.Number, ImportedAt: v.ImportedAt.UTC(), Source: v.Source,
		ImportSeconds: v.Seconds, SourceFiles: v.Files, ExportedAt: time.Now().UTC()}
	for _, name := range viewNames() {
		if opt.Progress != nil {
			opt.Progress(name)
		}
		t, err := writeLakeTable(ctx, conn, tmp, name)
		if err != nil {
			return m, fmt.Errorf("writing %s: %w", name, err)
		}
		m.Tables = append(m.Tables, t)
	}
	return m, nil
}

// writeLakeTable writes one table into tmp/name: partitioned when it has
// rows and a partitioning, else as one file tmp/name/name.parquet (a
// partitioned COPY of no rows writes no file, and readers need one to
// know the columns).
func writeLakeTable(ctx context.Context, conn *sql.Conn, tmp, name string) (LakeTable, error) {
	t := LakeTable{Name: name, PartitionKeys: []LakeColumn{}}
	cols, err := describe(ctx, conn, "SELECT * FROM main."+name)
	if err != nil {
		return t, err
	}
	t.Columns = cols
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM main."+name).Scan(&t.Rows); err != nil {
		return t, err
	}
	keys, query := lakePartitioning(name)
	for _, k := range keys {
		if slices.ContainsFunc(cols, func(c LakeColumn) bool { return c.Name == k.Name }) {
			return t, fmt.Errorf("partition key %s is also a column", k.Name)
		}
	}
	target := filepath.Join(tmp, name)
	var stmt string
	if len(keys) > 0 && t.Rows > 0 {
		t.PartitionKeys = keys
		stmt = fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, PARTITION_BY (year, division))", query, sqlString(target))
	} else {
		if err := os.Mkdir(target, 0o755); err != nil {
			return t, err
		}
		stmt = fmt.Sprintf("COPY (SELECT * FROM main.%s) TO %s (FORMAT parquet)", name, sqlString(filepath.Join(target, name+".parquet")))
	}
	r, err := conn.ExecContext(ctx, stmt)
	if err != nil {
		return t, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return t, err
	}
	if n != t.Rows {
		return t, fmt.Errorf("wrote %d rows of %d", n, t.Rows)
	}
	return t, nil
}

// describe returns the columns and types of a query's result.
func describe(ctx context.Context, q querier, query string) ([]LakeColumn, error) {
	rows, err := q.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+query+")")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LakeColumn
	for rows.Next() {
		var c LakeColumn
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// lakeFiles lists, hashes and measures every file written under each
// table's folder.
func lakeFiles(root string, tables []LakeTable) ([]LakeTable, error) {
	for i := range tables {
		t := &tables[i]
		err := filepath.WalkDir(filepath.Join(root, t.Name), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			f := LakeFile{Path: filepath.ToSlash(rel)}
			if f.SHA256, f.Bytes, err = hashFile(p); err != nil {
				return err
			}
			t.Files = append(t.Files, f)
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(t.Files, func(a, b int) bool { return t.Files[a].Path < t.Files[b].Path })
	}
	return tables, nil
}

// lakeType is the shape of the column types a lake may declare: DuckDB
// type names with an optional (precision, scale) and list brackets. The
// types are spliced into the views' CASTs, so nothing else is accepted.
var lakeType = regexp.MustCompile(`^[A-Z][A-Z0-9_ ]*(\(\d+(, ?\d+)?\))?(\[\])*$`)

// isURL reports whether a lake location is a URL (s3://, https://) rather
// than a local folder.
func isURL(dir string) bool { return strings.Contains(dir, "://") }

// lakeLocation joins a lake folder or URL and a relative path.
func lakeLocation(dir, rel string) string {
	if isURL(dir) {
		return strings.TrimSuffix(dir, "/") + "/" + rel
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// ReadLakeManifest reads and checks dir's deesc-lake.json: its format, that
// it lists exactly the tables deesc serves, with well-formed types and
// relative file paths. It fails naming the table or file that is wrong.
// dir may be a local folder or, through DuckDB's httpfs, an s3:// or
// https:// URL.
func (s *Store) ReadLakeManifest(ctx context.Context, dir string) (LakeManifest, error) {
	var m LakeManifest
	loc := lakeLocation(dir, LakeManifestName)
	var text string
	err := s.db.QueryRowContext(ctx, "SELECT content FROM read_text(?)", loc).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%s is missing", loc)
	}
	if err != nil {
		return m, fmt.Errorf("reading %s: %w", loc, err)
	}
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return m, fmt.Errorf("%s: %w", loc, err)
	}
	if m.Format != lakeFormat {
		return m, fmt.Errorf("%s: format %q, want %q", loc, m.Format, lakeFormat)
	}
	want := viewNames()
	var got []string
	for _, t := range m.Tables {
		// A retired summary an earlier deesc exported stays listed (its files
		// are checked) but is not served.
		if !slices.Contains(want, t.Name) && !slices.Contains(retiredTables, t.Name) {
			return m, fmt.Errorf("%s: unknown table %q", loc, t.Name)
		}
		if slices.Contains(got, t.Name) {
			return m, fmt.Errorf("%s: table %s listed twice", loc, t.Name)
		}
		got = append(got, t.Name)
		if len(t.Columns) == 0 {
			return m, fmt.Errorf("%s: table %s has no columns", loc, t.Name)
		}
		for _, c := range append(slices.Clone(t.Columns), t.PartitionKeys...) {
			if c.Name == "" || !lakeType.MatchString(c.Type) {
				return m, fmt.Errorf("%s: table %s: column %q has type %q, not a DuckDB type name", loc, t.Name, c.Name, c.Type)
			}
		}
		for _, f := range t.Files {
			if p := path.Clean(f.Path); p != f.Path || path.IsAbs(p) || !strings.HasPrefix(p, t.Name+"/") {
				return m, fmt.Errorf("%s: table %s: file %q is not a path inside the table's folder", loc, t.Name, f.Path)
			}
		}
	}
	// A summary may be missing (a lake exported before it existed): it is
	// computed from the other tables when the lake is served.
	for _, name := range want {
		if !slices.Contains(got, name) && !slices.ContainsFunc(derivedTables(), func(d derived) bool { return d.name == name }) {
			return m, fmt.Errorf("%s: table %s is missing", loc, name)
		}
	}
	return m, nil
}

// VerifyLake checks dir's Parquet files against its manifest: every listed
// file present with its size (and, with hashes, its SHA-256), and no
// Parquet file that the manifest does not list (a view would read it). It
// fails naming up to ten files that are missing, changed or unlisted.
func (s *Store) VerifyLake(ctx context.Context, dir string, m LakeManifest, hashes bool) error {
	cols := "filename, size, ''"
	if hashes {
		cols = "filename, size, sha256(content)"
	}
	pattern := lakeLocation(dir, "**/*.parquet")
	rows, err := s.db.QueryContext(ctx, "SELECT "+cols+" FROM read_blob(?)", pattern)
	if err != nil {
		return fmt.Errorf("listing %s: %w", pattern, err)
	}
	type found struct {
		bytes int64
		sha   string
	}
	have := map[string]found{}
	prefix := strings.TrimSuffix(lakeLocation(dir, "x"), "x")
	for rows.Next() {
		var name string
		var f found
		if err := rows.Scan(&name, &f.bytes, &f.sha); err != nil {
			rows.Close()
			return fmt.Errorf("listing %s: %w", pattern, err)
		}
		rel, ok := strings.CutPrefix(name, prefix)
		if !ok {
			rows.Close()
			return fmt.Errorf("listing %s: %s is outside the folder", pattern, name)
		}
		have[filepath.ToSlash(rel)] = f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing %s: %w", pattern, err)
	}
	var probs []string
	for _, t := range m.Tables {
		for _, f := range t.Files {
			h, ok := have[f.Path]
			delete(have, f.Path)
			switch {
			case !ok:
				probs = append(probs, f.Path+" is missing")
			case h.bytes != f.Bytes:
				probs = append(probs, fmt.Sprintf("%s has changed: %d bytes, %s says %d", f.Path, h.bytes, LakeManifestName, f.Bytes))
			case hashes && h.sha != f.SHA256:
				probs = append(probs, fmt.Sprintf("%s has changed: sha256 %s, %s says %s", f.Path, h.sha, LakeManifestName, f.SHA256))
			}
		}
	}
	for p := range have {
		probs = append(probs, p+" is not listed in "+LakeManifestName)
	}
	if len(probs) == 0 {
		return nil
	}
	sort.Strings(probs)
	more := ""
	if len(probs) > 10 {
		more = fmt.Sprintf(" (and %d more)", len(probs)-10)
		probs = probs[:10]
	}
	return fmt.Errorf("lake %s does not match %s: %s%s", dir, LakeManifestName, strings.Join(probs, "; "), more)
}

// openLake makes the store serve the lake at s.opt.Lake: it reads and
// verifies the manifest, then in one transaction records the lake's
// dataset version as current (replacing an earlier lake's record), points
// every main view at the lake's Parquet files and creates the macros. It
// refuses a database that holds imported datasets: the views it would
// repoint are theirs.
func (s *Store) openLake(ctx context.Context) error {
	dir := s.opt.Lake
	if !isURL(dir) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		dir = abs
	}
	if strings.ContainsAny(dir, "*?[]{}") {
		return fmt.Errorf("lake %s: the folder's name holds a glob character", dir)
	}
	m, err := s.ReadLakeManifest(ctx, dir)
	if err != nil {
		return fmt.Errorf("lake: %w", err)
	}
	if err := s.VerifyLake(ctx, dir, m, s.opt.LakeSHA256); err != nil {
		return err
	}
	// Each query reads the files' footers; caching them saves most of that.
	if _, err := s.db.ExecContext(ctx, "SET GLOBAL parquet_metadata_cache = true"); err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var imported int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM dataset_versions WHERE schema_name <> ?`, lakeSchema).Scan(&imported); err != nil {
		return err
	}
	if imported > 0 {
		return fmt.Errorf("lake %s: the database holds %d imported dataset version(s); serving a Parquet folder needs a database file of its own (database.path) for the audit log and tokens", dir, imported)
	}
	exec := func(q string, args ...any) error {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("lake %s: %w", dir, err)
		}
		return nil
	}
	if err := exec("BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	if err := exec(`DELETE FROM dataset_files WHERE version IN (SELECT version FROM dataset_versions WHERE schema_name = ?)`, lakeSchema); err != nil {
		return err
	}
	if err := exec(`DELETE FROM dataset_versions WHERE schema_name = ?`, lakeSchema); err != nil {
		return err
	}
	if err := exec(`INSERT INTO dataset_versions VALUES (?, ?, ?, ?, true, false, ?)`, m.Version, m.ImportedAt, m.Source, lakeSchema, m.ImportSeconds); err != nil {
		return err
	}
	for _, f := range m.SourceFiles {
		if err := exec(`INSERT INTO dataset_files VALUES (?, ?, ?, ?, ?, ?, ?)`, m.Version, f.File, f.Path, f.SHA256, f.Bytes, f.Rows, f.FromVersion); err != nil {
			return err
		}
	}
	have := map[string]bool{}
	for _, t := range m.Tables {
		if lacksAdded(t) || slices.Contains(retiredTables, t.Name) {
			continue // written by an earlier definition (computed below), or retired
		}
		if err := exec(lakeView(dir, t)); err != nil {
			return err
		}
		have[t.Name] = true
	}
	// A lake exported by an earlier deesc may lack a summary, or hold one
	// without a column the current definition has: it is then a view
	// computing it from the lake's own tables (slower, same answers).
	for _, d := range derivedTables() {
		if !have[d.name] {
			create := strings.Replace(d.create("main"), "CREATE TABLE main."+d.name+" AS", "CREATE OR REPLACE VIEW main."+d.name+" AS", 1)
			if err := exec(create); err != nil {
				return err
			}
		}
	}
	// The import's own macro definitions, over the views just made.
	if err := (&importRun{s: s, conn: conn}).createMacros(ctx); err != nil {
		return fmt.Errorf("lake %s: %w", dir, err)
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// lakeView returns the statement pointing main.TABLE at the table's files:
// every column cast back to its type (Parquet has no HUGEINT, for one), the
// partition keys left out.
// lacksAdded reports whether t is a derived table that lacks a column its
// current definition added (derived.added).
func lacksAdded(t LakeTable) bool {
	for _, d := range derivedTables() {
		if d.name != t.Name {
			continue
		}
		for _, want := range d.added {
			if !slices.ContainsFunc(t.Columns, func(c LakeColumn) bool { return c.Name == want }) {
				return true
			}
		}
	}
	return false
}

func lakeView(dir string, t LakeTable) string {
	var sel []string
	for _, c := range t.Columns {
		sel = append(sel, fmt.Sprintf("CAST(%s AS %s) AS %s", quoteIdent(c.Name), c.Type, quoteIdent(c.Name)))
	}
	from := fmt.Sprintf("read_parquet(%s, hive_partitioning = true, union_by_name = true)", sqlString(lakeLocation(dir, t.Name+"/**/*.parquet")))
	where := ""
	if len(t.Files) == 0 {
		from, where = "(SELECT 1)", " WHERE false"
		sel = sel[:0]
		for _, c := range t.Columns {
			sel = append(sel, fmt.Sprintf("CAST(NULL AS %s) AS %s", c.Type, quoteIdent(c.Name)))
		}
	}
	return fmt.Sprintf("CREATE OR REPLACE VIEW main.%s AS SELECT %s FROM %s%s", t.Name, strings.Join(sel, ", "), from, where)
}

// refuseLake returns ErrLake, wrapped with op, when the store serves a lake.
func (s *Store) refuseLake(op string) error {
	if s.opt.Lake != "" {
		return fmt.Errorf("%s: %w", op, ErrLake)
	}
	return nil
}

// Lake returns the Parquet folder the store serves, or "" for a database.
func (s *Store) Lake() string { return s.opt.Lake }
