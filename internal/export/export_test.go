package export

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"deesc/queries"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"csv": CSV, "JSON": JSON, " parquet ": Parquet} {
		if f, err := ParseFormat(in); err != nil || f != want {
			t.Errorf("%q: %v %v", in, f, err)
		}
	}
	for _, in := range []string{"", "xlsx", "csv;"} {
		_, err := ParseFormat(in)
		var pe *queries.ParamError
		if !errors.As(err, &pe) || pe.Param != "format" || !strings.Contains(pe.Msg, "csv, json or parquet") {
			t.Errorf("%q: %v", in, err)
		}
	}
	if CSV.ContentType() != "text/csv; charset=utf-8" || JSON.ContentType() != "application/json" ||
		Parquet.ContentType() != "application/vnd.apache.parquet" || Parquet.Ext() != "parquet" {
		t.Errorf("content types or extensions")
	}
}

func testManifest() Manifest {
	limit := 10
	return Manifest{Query: "complaints", Title: "Complaints", SQLSHA256: strings.Repeat("a", 64),
		Params: map[string]string{"to": "2026-06-30", "unit": "North 1 & 2", "from": ""}, DatasetVersion: 3,
		DatasetFiles: []SourceFile{{File: "officers", Path: "officers.csv", SHA256: strings.Repeat("b", 64), Rows: 300, FromVersion: 1}},
		Format:       CSV, Rows: 42, Columns: []string{"complaint_id"}, Bytes: 1234, SHA256: strings.Repeat("c", 64),
		Suppression: Suppression{Applied: true, MinCell: 5, Columns: []string{"n"}, CellsHidden: 2}, Limit: &limit,
		User: "ann", Role: "auditor", Created: time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)}
}

// TestHeaders: the headers carry what is known before the body, and every
// value is plain ASCII a header can hold.
func TestHeaders(t *testing.T) {
	h := testManifest().Headers()
	want := map[string]string{
		"X-Deesc-Query": "complaints", "X-Deesc-Dataset-Version": "3", "X-Deesc-Params": "from=&to=2026-06-30&unit=North+1+%26+2",
		"X-Deesc-Sql-Sha256": strings.Repeat("a", 64), "X-Deesc-Format": "csv", "X-Deesc-Rows": "42", "X-Deesc-Bytes": "1234",
		"X-Deesc-Suppression": "min_cell=5; cells_hidden=2",
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("headers\n got %v\nwant %v", h, want)
	}
	if p, err := url.ParseQuery(h["X-Deesc-Params"]); err != nil || p.Get("unit") != "North 1 & 2" {
		t.Errorf("params do not round-trip: %v %v", p, err)
	}
	m := testManifest()
	m.Suppression = Suppression{}
	if m.Headers()["X-Deesc-Suppression"] != "none" {
		t.Errorf("no suppression")
	}
}

// TestWriteManifest: the file holds the manifest with snake_case keys,
// replaces an older one whole and leaves no temporary file behind.
func TestWriteManifest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "export.manifest.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := testManifest()
	if err := WriteManifest(path, m); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Manifest
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, m) {
		t.Errorf("round trip: %v\n%+v", err, back)
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	for _, k := range []string{"query", "sql_sha256", "dataset_version", "dataset_files", "rows", "sha256", "suppression", "limit", "user", "role", "created"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no key %q", k)
		}
	}
	if s := raw["suppression"].(map[string]any); s["cells_hidden"] != 2.0 || s["min_cell"] != 5.0 {
		t.Errorf("suppression %v", s)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := WriteManifest(filepath.Join(dir, "missing", "m.json"), m); err == nil || !strings.Contains(err.Error(), "export.WriteManifest") {
		t.Errorf("unwritable: %v", err)
	}
}
