package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Version is one imported dataset.
type Version struct {
	Number     int        `json:"version"`
	ImportedAt time.Time  `json:"imported_at"`
	Source     string     `json:"source"`
	Schema     string     `json:"-"`
	Current    bool       `json:"current"`
	Kept       bool       `json:"kept"` // its tables are still stored and can be restored
	Seconds    float64    `json:"seconds"`
	Files      []FileInfo `json:"files"`
}

// FileInfo describes one file of a dataset version.
type FileInfo struct {
	File        string `json:"file"` // contract file: officers, force, …
	Path        string `json:"path"` // the file's name in the import folder
	SHA256      string `json:"sha256"`
	Bytes       int64  `json:"bytes"`
	Rows        int64  `json:"rows"`
	FromVersion int    `json:"from_version"` // the import that supplied it
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CurrentVersion returns the dataset now served, or ErrNoDataset.
func (s *Store) CurrentVersion(ctx context.Context) (Version, error) {
	return s.currentVersion(ctx, s.db)
}

func (s *Store) currentVersion(ctx context.Context, q querier) (Version, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT version FROM dataset_versions WHERE is_current`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, ErrNoDataset
	}
	if err != nil {
		return Version{}, fmt.Errorf("store.CurrentVersion: %w", err)
	}
	vs, err := s.versions(ctx, q, n)
	if err != nil {
		return Version{}, fmt.Errorf("store.CurrentVersion: %w", err)
	}
	if len(vs) == 0 {
		return Version{}, ErrNoDataset
	}
	return vs[0], nil
}

// CurrentVersionNumber returns the number of the dataset now served, or
// ErrNoDataset; it is one small query, for keying cached answers.
// The number is remembered per generation (see Generation), so between
// switches it costs no query; only this process switches datasets (DuckDB
// lets one process write the file).
func (s *Store) CurrentVersionNumber(ctx context.Context) (int, error) {
	g := s.Generation()
	if c, ok := s.current.Load().(currentVersion); ok && g%2 == 0 && c.generation == g {
		return c.number, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT version FROM dataset_versions WHERE is_current`).Scan(&n)
	if err == nil && g%2 == 0 && s.Generation() == g {
		s.current.Store(currentVersion{generation: g, number: n})
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNoDataset
	}
	if err != nil {
		return 0, fmt.Errorf("store.CurrentVersionNumber: %w", err)
	}
	return n, nil
}

// requireDataset returns ErrNoDataset before the first import; it is the
// cheap check every read makes (remembered while the dataset stays).
func (s *Store) requireDataset(ctx context.Context) error {
	_, err := s.CurrentVersionNumber(ctx)
	return err
}

// Versions returns every recorded dataset version, newest first.
func (s *Store) Versions(ctx context.Context) ([]Version, error) {
	vs, err := s.versions(ctx, s.db, 0)
	if err != nil {
		return nil, fmt.Errorf("store.Versions: %w", err)
	}
	return vs, nil
}

// versions reads version records with their files; only = 0 reads all.
func (s *Store) versions(ctx context.Context, q querier, only int) ([]Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, imported_at, source, schema_name, is_current, kept, seconds
		FROM dataset_versions WHERE $only = 0 OR version = $only ORDER BY version DESC`, sql.Named("only", only))
	if err != nil {
		return nil, err
	}
	var out []Version
	idx := map[int]int{}
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Number, &v.ImportedAt, &v.Source, &v.Schema, &v.Current, &v.Kept, &v.Seconds); err != nil {
			rows.Close()
			return nil, err
		}
		idx[v.Number] = len(out)
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	frows, err := q.QueryContext(ctx, `SELECT version, file, path, sha256, bytes, rows, from_version
		FROM dataset_files WHERE $only = 0 OR version = $only ORDER BY version DESC, file, path`, sql.Named("only", only))
	if err != nil {
		return nil, err
	}
	defer frows.Close()
	for frows.Next() {
		var n int
		var f FileInfo
		if err := frows.Scan(&n, &f.File, &f.Path, &f.SHA256, &f.Bytes, &f.Rows, &f.FromVersion); err != nil {
			return nil, err
		}
		if i, ok := idx[n]; ok {
			out[i].Files = append(out[i].Files, f)
		}
	}
	return out, frows.Err()
}

// currentVersion is the current dataset's number as read in one generation.
type currentVersion struct {
	generation int64
	number     int
}
