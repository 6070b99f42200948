package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"deesc/internal/contract"
)

// storedColumns returns the columns of a contract file's table as stored,
// with their types. training also keeps the hours as reported (NULL = the
// course's default) so the default can follow a later courses import.
func storedColumns(f contract.File) (names, defs []string) {
	for _, c := range f.Columns {
		names = append(names, c.Name)
		defs = append(defs, c.Name+" "+sqlType(c))
	}
	if f.Name == "training" {
		names = append(names, "hours_reported")
		defs = append(defs, "hours_reported DOUBLE")
	}
	return names, defs
}

// commit writes the new dataset version in one transaction: a new schema
// holding every table (imported or carried over), the version record, the
// views that point the rest of deesc at it, and the pruning of old versions.
// Until COMMIT nothing is visible to readers; a crash before it leaves the
// previous version.
func (r *importRun) commit(ctx context.Context) (Version, error) {
	r.progress("replacing", "", 0)
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return Version{}, err
	}
	defer tx.Rollback()
	var number int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM dataset_versions`).Scan(&number); err != nil {
		return Version{}, err
	}
	schema := fmt.Sprintf("ds_%d", number)
	if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return Version{}, err
	}
	for _, f := range contract.Files() {
		if err := r.fillTable(ctx, tx, schema, f); err != nil {
			return Version{}, fmt.Errorf("writing %s: %w", f.Table, err)
		}
	}
	now := time.Now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE dataset_versions SET is_current = false WHERE is_current`); err != nil {
		return Version{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO dataset_versions VALUES (?, ?, ?, ?, true, true, ?)`,
		number, now, r.opt.Source, schema, time.Since(r.start).Seconds()); err != nil {
		return Version{}, err
	}
	for _, f := range contract.Files() {
		if lf := r.loaded[f.Name]; lf != nil {
			for _, s := range lf.sources {
				if _, err := tx.ExecContext(ctx, `INSERT INTO dataset_files VALUES (?, ?, ?, ?, ?, ?, ?)`,
					number, f.Name, s.name, s.sha256, s.bytes, s.rows, number); err != nil {
					return Version{}, err
				}
			}
		} else if r.prev != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dataset_files
				SELECT ?, file, path, sha256, bytes, rows, from_version FROM dataset_files WHERE version = ? AND file = ?`,
				number, r.prev.Number, f.Name); err != nil {
				return Version{}, err
			}
		}
	}
	if err := pointViews(ctx, tx, schema); err != nil {
		return Version{}, err
	}
	if err := r.prune(ctx, tx); err != nil {
		return Version{}, err
	}
	if err := tx.Commit(); err != nil {
		return Version{}, err
	}
	// Fold the write-ahead log into the file now rather than on next start.
	_, _ = r.conn.ExecContext(ctx, "CHECKPOINT")
	v, err := r.s.currentVersion(ctx, r.conn)
	if err != nil {
		return Version{}, err
	}
	r.progress("done", "", 0)
	return v, nil
}

// fillTable creates schema.table and fills it from the staged file or, when
// the file was not imported, from the previous version.
func (r *importRun) fillTable(ctx context.Context, tx *sql.Tx, schema string, f contract.File) error {
	names, defs := storedColumns(f)
	target := schema + "." + f.Table
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", target, strings.Join(defs, ", "))); err != nil {
		return err
	}
	var from string
	switch {
	case r.loaded[f.Name] != nil:
		from = "typed_" + f.Name
		if f.Name == "training" {
			from = "(SELECT * EXCLUDE (hours), hours AS hours_reported FROM typed_training)"
		}
	case r.prev != nil:
		from = r.prev.Schema + "." + f.Table
	default:
		return nil // an optional file never supplied: the table stays empty
	}
	var sel string
	if f.Name == "training" {
		// hours default to the course's, resolved against this version's courses.
		sel = fmt.Sprintf(`SELECT t.officer_id, t.course_id, t.completed_on, coalesce(t.hours_reported, c.hours),
			t.delivery, t.hours_reported FROM %s t LEFT JOIN %s.courses c ON c.course_id = t.course_id ORDER BY t.officer_id, t.completed_on`, from, schema)
	} else {
		sel = fmt.Sprintf("SELECT %s FROM %s", strings.Join(names, ", "), from)
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) %s", target, strings.Join(names, ", "), sel))
	return err
}

// viewNames returns the tables every dataset version has, by name.
func viewNames() []string {
	var out []string
	for _, f := range contract.Files() {
		out = append(out, f.Table)
	}
	return out
}

// pointViews makes main.TABLE read schema.TABLE for every dataset table.
func pointViews(ctx context.Context, tx *sql.Tx, schema string) error {
	for _, t := range viewNames() {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW main.%s AS SELECT * FROM %s.%s", t, schema, t)); err != nil {
			return err
		}
	}
	return nil
}

// prune drops the tables of versions beyond the newest KeepVersions; their
// records (and file hashes) stay so that every version can be named.
func (r *importRun) prune(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT schema_name FROM dataset_versions WHERE kept ORDER BY version DESC OFFSET ?`, r.s.opt.KeepVersions)
	if err != nil {
		return err
	}
	var drop []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		drop = append(drop, s)
	}
	rows.Close()
	for _, s := range drop {
		if _, err := tx.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+s+" CASCADE"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dataset_versions SET kept = false WHERE schema_name = ?`, s); err != nil {
			return err
		}
	}
	return nil
}
