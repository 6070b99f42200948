// Package export describes the files deesc exports for auditors: their
// formats, and the manifest that records where every exported byte came
// from (the query and its SQL, the parameters, the dataset version and its
// source files' hashes, who asked, and the export's own hash).
package export

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"deesc/queries"
)

// Format is an export file format.
type Format string

// The export formats. JSON is one array of objects, one per row.
const (
	CSV     Format = "csv"
	JSON    Format = "json"
	Parquet Format = "parquet"
)

// ParseFormat returns the format named s (any case). It fails with a
// *queries.ParamError for parameter "format" on any other name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case CSV, JSON, Parquet:
		return f, nil
	}
	return "", &queries.ParamError{Param: "format", Msg: fmt.Sprintf("want csv, json or parquet, got %q", s)}
}

// ContentType returns the media type of the format.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case JSON:
		return "application/json"
	default:
		return "application/vnd.apache.parquet"
	}
}

// Ext returns the file name extension of the format, without the dot.
func (f Format) Ext() string { return string(f) }

// SourceFile is one file of the dataset version an export was read from.
type SourceFile struct {
	File        string `json:"file"` // contract file: officers, force, …
	Path        string `json:"path"` // its name in the import folder
	SHA256      string `json:"sha256"`
	Rows        int64  `json:"rows"`
	FromVersion int    `json:"from_version"` // the import that supplied it
}

// Suppression records the small-cell rule an export was made under.
type Suppression struct {
	Applied     bool     `json:"applied"`
	MinCell     int64    `json:"min_cell"`          // counts 1..min_cell-1 were hidden
	Columns     []string `json:"columns,omitempty"` // the count columns the rule covers
	CellsHidden int64    `json:"cells_hidden"`
}

// Manifest is the provenance of one export.
type Manifest struct {
	Query             string            `json:"query"`
	Title             string            `json:"title"`
	SQLSHA256         string            `json:"sql_sha256"` // of the query's text as embedded
	Params            map[string]string `json:"params"`     // effective values, defaults filled
	DatasetVersion    int               `json:"dataset_version"`
	DatasetImportedAt time.Time         `json:"dataset_imported_at"`
	DatasetSource     string            `json:"dataset_source"`
	DatasetFiles      []SourceFile      `json:"dataset_files"`
	Format            Format            `json:"format"`
	Rows              int64             `json:"rows"`
	Columns           []string          `json:"columns"`
	Bytes             int64             `json:"bytes"`
	SHA256            string            `json:"sha256"` // of the exported bytes
	Suppression       Suppression       `json:"suppression"`
	Limit             *int              `json:"limit"` // nil = every row
	User              string            `json:"user"`
	Role              string            `json:"role"`
	Created           time.Time         `json:"created"`
}

// Headers returns the HTTP headers that describe an export before its body
// is sent: the query, the dataset version, the parameters (URL-encoded,
// sorted), the SQL's hash, the format, the row and byte counts and the
// suppression applied. The SHA-256 of the body is not among them: it is
// computed while the body streams, so it is known only from the manifest
// returned at the end (and the audit log that records it).
func (m Manifest) Headers() map[string]string {
	params := url.Values{}
	for k, v := range m.Params {
		params.Set(k, v)
	}
	h := map[string]string{
		"X-Deesc-Query":           m.Query,
		"X-Deesc-Dataset-Version": strconv.Itoa(m.DatasetVersion),
		"X-Deesc-Params":          params.Encode(), // Encode sorts by key
		"X-Deesc-Sql-Sha256":      m.SQLSHA256,
		"X-Deesc-Format":          string(m.Format),
		"X-Deesc-Rows":            strconv.FormatInt(m.Rows, 10),
		"X-Deesc-Bytes":           strconv.FormatInt(m.Bytes, 10),
		"X-Deesc-Suppression":     "none",
	}
	if m.Suppression.Applied {
		h["X-Deesc-Suppression"] = fmt.Sprintf("min_cell=%d; cells_hidden=%d", m.Suppression.MinCell, m.Suppression.CellsHidden)
	}
	return h
}

// WriteManifest writes m as indented JSON to path atomically: into a
// temporary file beside it, synced, then renamed over path, so a reader
// sees the old manifest or the new one, never part of one. It fails when
// the directory is not writable.
func WriteManifest(path string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("export.WriteManifest: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("export.WriteManifest: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("export.WriteManifest %s: %w", path, err)
	}
	return nil
}
