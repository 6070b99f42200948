package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"deesc/internal/contract"
)

// storedColumns returns the columns of a contract file's table as stored,
// with their types: the contract's, and for training also the hours as
// reported (NULL = the course's default), so that the default follows a
// later courses import.
func storedColumns(f contract.File) (names, defs []string) {
	names, defs = typedColumns(f)
	if f.Name == "training" {
		names = append(names, "hours_reported")
		defs = append(defs, "hours_reported DOUBLE")
	}
	return names, defs
}

// commit writes the new dataset version. Its tables go into a schema of
// its own, written outside any transaction (DuckDB writes a large table
// inside a transaction at about half speed); nothing reads that schema until
// one short transaction records the version and points the views at it.
// A crash before that COMMIT leaves the previous version current and the
// new schema an orphan, which the next import drops (dropOrphans); so the
// database always holds the previous dataset or the new one, never a mix.
func (r *importRun) commit(ctx context.Context) error {
	if err := r.stageEffective(ctx); err != nil {
		return err
	}
	if err := r.preparePanel(ctx); err != nil {
		return err
	}
	r.progress("writing", "", 0)
	if err := r.dropOrphans(ctx); err != nil {
		return err
	}
	if err := r.conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM dataset_versions`).Scan(&r.number); err != nil {
		return err
	}
	r.schema = fmt.Sprintf("ds_%d", r.number)
	committed := false
	defer func() {
		if !committed {
			_, _ = r.conn.ExecContext(context.Background(), "ROLLBACK")
			_, _ = r.conn.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+r.schema+" CASCADE")
		}
	}()
	if err := r.exec(ctx, "CREATE SCHEMA "+r.schema); err != nil {
		return err
	}
	for _, f := range contract.Files() {
		r.progress("writing", f.Table, 0)
		if err := r.fillTable(ctx, f); err != nil {
			return fmt.Errorf("writing %s: %w", f.Table, err)
		}
	}
	// The typed files are stored now; freeing their memory before the
	// panel, the largest write, keeps it within DuckDB's memory limit.
	r.releaseStaging(ctx)
	if err := r.writePanel(ctx); err != nil {
		return err
	}
	r.progress("committing", "", 0)
	defer r.s.switching()()
	if err := r.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	now := time.Now().UTC()
	if err := r.exec(ctx, `UPDATE dataset_versions SET is_current = false WHERE is_current`); err != nil {
		return err
	}
	if err := r.exec(ctx, `INSERT INTO dataset_versions VALUES (?, ?, ?, ?, true, true, ?)`,
		r.number, now, r.opt.Source, r.schema, time.Since(r.start).Seconds()); err != nil {
		return err
	}
	for _, f := range contract.Files() {
		if lf := r.loaded[f.Name]; lf != nil {
			for _, s := range lf.sources {
				if err := r.exec(ctx, `INSERT INTO dataset_files VALUES (?, ?, ?, ?, ?, ?, ?)`,
					r.number, f.Name, s.name, s.sha256, s.bytes, s.rows, r.number); err != nil {
					return err
				}
			}
		} else if r.prev != nil {
			if err := r.exec(ctx, `INSERT INTO dataset_files
				SELECT ?, file, path, sha256, bytes, rows, from_version FROM dataset_files WHERE version = ? AND file = ?`,
				r.number, r.prev.Number, f.Name); err != nil {
				return err
			}
		}
	}
	if err := r.pointViews(ctx, r.schema); err != nil {
		return err
	}
	if err := r.createMacros(ctx); err != nil {
		return err
	}
	if err := r.prune(ctx); err != nil {
		return err
	}
	if err := r.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}

// releaseStaging drops the temporary tables the panel does not read: the
// typed files and their eff_ views and copies.
func (r *importRun) releaseStaging(ctx context.Context) {
	for _, f := range contract.Files() {
		_, _ = r.conn.ExecContext(ctx, "DROP VIEW IF EXISTS temp.eff_"+f.Name)
		_, _ = r.conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.eff_"+f.Name)
		_, _ = r.conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.typed_"+f.Name)
	}
}

// dropOrphans drops dataset schemas that no version record names: the
// tables of an import that stopped before its commit.
func (r *importRun) dropOrphans(ctx context.Context) error {
	orphans, err := queryStrings(ctx, r.conn, `SELECT schema_name FROM duckdb_schemas()
		WHERE database_name = current_database() AND regexp_full_match(schema_name, 'ds_[0-9]+')
		AND schema_name NOT IN (SELECT schema_name FROM dataset_versions WHERE kept)`)
	if err != nil {
		return err
	}
	for _, s := range orphans {
		if err := r.exec(ctx, "DROP SCHEMA "+s+" CASCADE"); err != nil {
			return fmt.Errorf("dropping the unfinished import %s: %w", s, err)
		}
	}
	return nil
}

// queryStrings returns the first column of a query's rows.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// stageEffective defines, before the transaction, eff_NAME for every
// contract file: what the new version's table will hold — the file just
// imported, else the previous version's table, else an empty table — with
// training hours resolved against the new version's courses. Reading
// tables created inside a DuckDB transaction in joins is very slow, so
// everything the new version is computed from is settled first.
func (r *importRun) stageEffective(ctx context.Context) error {
	for _, f := range contract.Files() {
		names, defs := storedColumns(f)
		eff := r.temp("eff_" + f.Name)
		var stmt string
		switch {
		case f.Name == "training":
			from := "(SELECT * EXCLUDE (_problem) RENAME (hours AS hours_reported) FROM typed_training)"
			if r.loaded[f.Name] == nil && r.prev != nil {
				from = "(SELECT * EXCLUDE (hours) FROM " + r.prev.Schema + ".training)"
			} else if r.loaded[f.Name] == nil {
				stmt = fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (%s)", eff, strings.Join(defs, ", "))
				break
			}
			stmt = fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT t.officer_id, t.course_id, t.completed_on,
				coalesce(t.hours_reported, c.hours) AS hours, t.delivery, t.hours_reported
				FROM %s t LEFT JOIN eff_courses c ON c.course_id = t.course_id`, eff, from)
		case r.loaded[f.Name] != nil:
			stmt = fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT %s FROM typed_%s", eff, strings.Join(names, ", "), f.Name)
		case r.prev != nil:
			stmt = fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT %s FROM %s.%s", eff, strings.Join(names, ", "), r.prev.Schema, f.Table)
		default:
			stmt = fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (%s)", eff, strings.Join(defs, ", "))
		}
		if err := r.exec(ctx, stmt); err != nil {
			return fmt.Errorf("staging %s: %w", f.Table, err)
		}
	}
	return nil
}

// fillTable creates the new version's table for a contract file from its
// eff_NAME. Activity is the exception: its rows are the panel's reported
// rows, so it is stored once, as the panel, and read through a view
// (writePanel).
func (r *importRun) fillTable(ctx context.Context, f contract.File) error {
	if f.Name == "activity" {
		return nil
	}
	return r.exec(ctx, fmt.Sprintf("CREATE TABLE %s.%s AS SELECT * FROM eff_%s", r.schema, f.Table, f.Name))
}

// viewNames returns the tables every dataset version has, by name: the
// contract's and the panel's.
func viewNames() []string {
	var out []string
	for _, f := range contract.Files() {
		out = append(out, f.Table)
	}
	out = append(out, "panel")
	for _, d := range derivedTables() {
		out = append(out, d.name)
	}
	return append(out, "officer_keys", "units", "divisions", "training_hours", "officer_courses", "panel_info")
}

// pointViews makes main.TABLE read schema.TABLE for every dataset table.
func (r *importRun) pointViews(ctx context.Context, schema string) error {
	for _, t := range viewNames() {
		if err := r.exec(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW main.%s AS SELECT * FROM %s.%s", t, schema, t)); err != nil {
			return err
		}
	}
	return nil
}

// prune drops the tables of versions beyond the newest KeepVersions; their
// records (and file hashes) stay so that every version can be named.
func (r *importRun) prune(ctx context.Context) error {
	drop, err := queryStrings(ctx, r.conn, `SELECT schema_name FROM dataset_versions WHERE kept ORDER BY version DESC OFFSET ?`, r.s.opt.KeepVersions)
	if err != nil {
		return err
	}
	for _, s := range drop {
		if err := r.exec(ctx, "DROP SCHEMA IF EXISTS "+s+" CASCADE"); err != nil {
			return err
		}
		if err := r.exec(ctx, `UPDATE dataset_versions SET kept = false WHERE schema_name = ?`, s); err != nil {
			return err
		}
	}
	return nil
}
