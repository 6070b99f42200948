package store

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"deesc/internal/config"
	"deesc/internal/contract"
)

// format is how a source file is encoded.
type format int

const (
	formatCSV format = iota
	formatCSVGzip
	formatParquet
)

// source is one agency file that makes up (part of) a contract file.
type source struct {
	file    contract.File
	path    string
	name    string // base name, as problems show it
	format  format
	header  []string // the file's own column names, in order
	targets []string // contract column for each header column, "" = ignored
	values  map[string]map[string]string
	// filled while loading
	index          int // position among the contract file's sources
	firstRID, rows int64
	rejected       int64
	sequential     bool // read in one pass (see importRun.load)
	sha256         string
	bytes          int64
}

// defaultPatterns are the file names a contract file is found under.
func defaultPatterns(name string) []string {
	return []string{name + ".csv", name + ".csv.gz", name + ".parquet"}
}

func formatOf(path string) (format, bool) {
	p := strings.ToLower(path)
	switch {
	case strings.HasSuffix(p, ".csv"):
		return formatCSV, true
	case strings.HasSuffix(p, ".csv.gz"):
		return formatCSVGzip, true
	case strings.HasSuffix(p, ".parquet"):
		return formatParquet, true
	}
	return 0, false
}

// discover finds, for each contract file, the files of dir that make it up.
// A data file (csv, csv.gz, parquet) that no contract file claims is a problem:
// a misspelt file name must not be skipped silently.
func discover(dir string, mappings map[string]config.FileMapping, probs *problemList) (map[string][]*source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("import folder: %w", err)
	}
	for name := range mappings {
		if _, ok := contract.Lookup(name); !ok {
			return nil, fmt.Errorf("config import.files.%s: not a contract file (one of %s)", name, strings.Join(fileNames(), ", "))
		}
	}
	claimed := map[string]string{}
	found := map[string][]*source{}
	for order, f := range contract.Files() {
		patterns := mappings[f.Name].Patterns
		if len(patterns) == 0 {
			patterns = defaultPatterns(f.Name)
		}
		var paths []string
		for _, pat := range patterns {
			if _, err := filepath.Match(pat, ""); err != nil {
				return nil, fmt.Errorf("config import.files.%s.patterns: %q: %w", f.Name, pat, err)
			}
			for _, e := range entries {
				if e.IsDir() {
					continue
				}
				if ok, _ := filepath.Match(strings.ToLower(pat), strings.ToLower(e.Name())); ok {
					paths = append(paths, e.Name())
				}
			}
		}
		sort.Strings(paths)
		paths = slices.Compact(paths)
		for _, p := range paths {
			if other, dup := claimed[p]; dup {
				return nil, fmt.Errorf("config import.files: %s matches both %s and %s", p, other, f.Name)
			}
			claimed[p] = f.Name
			fm, ok := formatOf(p)
			if !ok {
				probs.add(Problem{File: p, order: order, Message: "unsupported file type: use .csv, .csv.gz or .parquet"})
				continue
			}
			found[f.Name] = append(found[f.Name], &source{file: f, path: filepath.Join(dir, p), name: p, format: fm})
		}
	}
	for _, e := range entries {
		if e.IsDir() || claimed[e.Name()] != "" {
			continue
		}
		if _, ok := formatOf(e.Name()); ok {
			probs.add(Problem{File: e.Name(), order: len(contract.Files()),
				Message: "not a contract file: name it after one of " + strings.Join(fileNames(), ", ") + " (or map it in config import.files)"})
		}
	}
	return found, nil
}

func fileNames() []string {
	var out []string
	for _, f := range contract.Files() {
		out = append(out, f.Name)
	}
	return out
}

// openText opens a CSV source for reading as text, decompressing gzip.
func openText(path string, fm format) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if fm != formatCSVGzip {
		return f, nil
	}
	z, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}

// readHeader reads the column names of a source: the first CSV record (BOM
// stripped), or the Parquet schema.
func readHeader(ctx context.Context, conn *sql.Conn, src *source) ([]string, error) {
	if src.format == formatParquet {
		rows, err := conn.QueryContext(ctx, `SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))`, src.path)
		if err != nil {
			return nil, errors.New("not a readable Parquet file")
		}
		defer rows.Close()
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return nil, err
			}
			cols = append(cols, c)
		}
		return cols, rows.Err()
	}
	rc, err := openText(src.path, src.format)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	if _, err := br.Peek(1); err == io.EOF {
		return nil, errors.New("empty file: expected a header row")
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: expected a header row")
	}
	if err != nil {
		return nil, fmt.Errorf("header row cannot be read as CSV: %w", err)
	}
	for _, h := range rec {
		if !utf8.ValidString(h) || strings.ContainsRune(h, 0) {
			return nil, errors.New("not UTF-8 text: the header row holds bytes that are not text (binary file, or another encoding)")
		}
	}
	return rec, nil
}

// mapHeader resolves each header column to a contract column, reporting
// unknown, duplicate and missing columns. It returns false when the source
// cannot be loaded.
func mapHeader(src *source, m config.FileMapping, order int, probs *problemList) bool {
	f := src.file
	rename := map[string]string{}
	for from, to := range m.Columns {
		if _, ok := f.Column(strings.ToLower(to)); !ok {
			probs.add(Problem{File: src.name, order: order, Message: fmt.Sprintf("config import.files.%s.columns: %q maps to %q, which is not a column of %s", f.Name, from, to, f.Name)})
			return false
		}
		rename[strings.ToLower(strings.TrimSpace(from))] = strings.ToLower(to)
	}
	ignore := map[string]bool{}
	for _, c := range m.Ignore {
		ignore[strings.ToLower(strings.TrimSpace(c))] = true
	}
	ok := true
	if len(src.header) == 1 {
		for _, sep := range []string{";", "\t", "|"} {
			if strings.Contains(src.header[0], sep) {
				probs.add(Problem{File: src.name, Line: 1, order: order, Message: fmt.Sprintf("not comma-separated: the header reads as one column and holds %q; save the file as CSV with commas", sep)})
				return false
			}
		}
	}
	seen := map[string]int{}
	src.targets = make([]string, len(src.header))
	for i, h := range src.header {
		key := strings.ToLower(strings.TrimSpace(h))
		target := key
		if r, ok := rename[key]; ok {
			target = r
		} else if ignore[key] {
			continue
		}
		if key == "" {
			probs.add(Problem{File: src.name, Line: 1, order: order, Message: fmt.Sprintf("column %d of the header has no name", i+1)})
			ok = false
			continue
		}
		if _, known := f.Column(target); !known {
			probs.add(Problem{File: src.name, Line: 1, order: order, Column: h, Message: fmt.Sprintf("not a column of %s (expected %s); rename or ignore it in config import.files.%s", f.Name, strings.Join(columnNames(f), ", "), f.Name)})
			ok = false
			continue
		}
		if j, dup := seen[target]; dup {
			probs.add(Problem{File: src.name, Line: 1, order: order, Column: h, Message: fmt.Sprintf("appears twice in the header (columns %d and %d)", j+1, i+1)})
			ok = false
			continue
		}
		seen[target] = i
		src.targets[i] = target
	}
	for _, c := range f.Required() {
		if _, has := seen[c]; !has {
			probs.add(Problem{File: src.name, Line: 1, order: order, Column: c, Message: "required column is missing from the header"})
			ok = false
		}
	}
	src.values = map[string]map[string]string{}
	for col, vm := range m.Values {
		col = strings.ToLower(col)
		if _, known := f.Column(col); !known {
			probs.add(Problem{File: src.name, order: order, Message: fmt.Sprintf("config import.files.%s.values: %q is not a column of %s", f.Name, col, f.Name)})
			ok = false
			continue
		}
		lower := map[string]string{}
		for from, to := range vm {
			lower[strings.ToLower(strings.TrimSpace(from))] = to
		}
		src.values[col] = lower
	}
	return ok
}

func columnNames(f contract.File) []string {
	var out []string
	for _, c := range f.Columns {
		out = append(out, c.Name)
	}
	return out
}

// hashFile returns the sha256 (hex) and size of the file's bytes as stored.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
