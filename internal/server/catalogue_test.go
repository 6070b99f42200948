package server

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"deesc/internal/auth"
)

// TestExportProvenance downloads a catalogue query in each format and
// recomputes what its manifest states: the sha256 of the delivered bytes,
// the row count, and the same figures from the manifest route.
func TestExportProvenance(t *testing.T) {
	app, _, secrets := authServer(t)
	tok := secrets[auth.Auditor]
	for _, format := range []string{"csv", "json", "parquet"} {
		path := "/api/queries/force_incidents/export?format=" + format + "&from=2023-06-01&to=2025-05-31"
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		sum := sha256.Sum256(body)
		if got, want := hex.EncodeToString(sum[:]), resp.Header.Get("X-Deesc-Sha256"); got != want {
			t.Errorf("%s: delivered bytes hash to %s, header says %s", format, got, want)
		}
		if got := strconv.Itoa(len(body)); got != resp.Header.Get("X-Deesc-Bytes") {
			t.Errorf("%s: %s bytes delivered, header says %s", format, got, resp.Header.Get("X-Deesc-Bytes"))
		}
		rows := countRows(t, format, body)
		if strconv.Itoa(rows) != resp.Header.Get("X-Deesc-Rows") || rows == 0 {
			t.Errorf("%s: %d rows delivered, header says %s", format, rows, resp.Header.Get("X-Deesc-Rows"))
		}
		// The manifest route describes the same file.
		status, mb := call(t, app, "GET", strings.Replace(path, "/export?", "/export/manifest?", 1), tok)
		var m struct {
			Rows           int64             `json:"rows"`
			SHA256         string            `json:"sha256"`
			DatasetVersion int               `json:"dataset_version"`
			Params         map[string]string `json:"params"`
			User, Role     string
		}
		if status != 200 || json.Unmarshal(mb, &m) != nil {
			t.Fatalf("manifest: %d %s", status, mb)
		}
		if m.Rows != int64(rows) || m.SHA256 != hex.EncodeToString(sum[:]) || m.DatasetVersion != 1 ||
			m.Params["from"] != "2023-06-01" || m.User != "user-auditor" || m.Role != "auditor" {
			t.Errorf("%s manifest %+v, want %d rows, sha %x, version 1, the caller", format, m, rows, sum)
		}
	}
}

// countRows counts the data rows of an export independently of deesc.
func countRows(t *testing.T, format string, body []byte) int {
	t.Helper()
	switch format {
	case "csv":
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return len(recs) - 1
	case "json":
		n := 0
		dec := json.NewDecoder(bytes.NewReader(body))
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return n
			} else if err != nil {
				t.Fatal(err)
			}
			if arr, ok := v.([]any); ok {
				n += len(arr)
			} else {
				n++
			}
		}
	case "parquet":
		if !bytes.HasPrefix(body, []byte("PAR1")) || !bytes.HasSuffix(body, []byte("PAR1")) {
			t.Fatal("not a Parquet file")
		}
		return parquetRows(t, body)
	}
	return -1
}

// TestCatalogueParameters: a malformed or unknown parameter answers 400
// naming it; a value full of SQL is data, not SQL.
func TestCatalogueParameters(t *testing.T) {
	app, _, secrets := authServer(t)
	tok := secrets[auth.Auditor]
	for path, param := range map[string]string{
		"/api/queries/force_incidents?from=2024-13-01":         "from",
		"/api/queries/force_incidents?colour=blue":             "colour",
		"/api/queries/rates_by_unit?from=May":                  "from",
		"/api/queries/force_incidents/export?format=xlsx":      "format",
		"/api/queries/compliance_overdue?mandatory_only=maybe": "mandatory_only",
		"/api/queries/force_incidents?limit=0":                 "limit",
	} {
		status, body := call(t, app, "GET", path, tok)
		var e errorBody
		if status != 400 || json.Unmarshal(body, &e) != nil || e.Param != param {
			t.Errorf("%s: %d %s, want 400 naming %s", path, status, body, param)
		}
	}
	status, body := call(t, app, "GET", "/api/queries/compliance_overdue?unit="+strings.ReplaceAll("'; DROP TABLE audit_log; --", " ", "%20"), tok)
	if status != 200 || !strings.Contains(string(body), `"rows":[]`) {
		t.Errorf("injection attempt: %d %s", status, body)
	}
	if status, _ := call(t, app, "GET", "/api/queries/audit_log", tok); status != 200 {
		t.Errorf("the audit log is gone after the injection attempt: %d", status)
	}
	if status, _ := call(t, app, "GET", "/api/queries/no_such_query", tok); status != 404 {
		t.Errorf("unknown query: %d", status)
	}
}

// TestLeadershipSuppression: leadership gets rates_by_unit with counts
// from 1 to min_cell-1 hidden; the auditor sees them. Every hidden cell is
// exactly a small count in the auditor's answer.
func TestLeadershipSuppression(t *testing.T) {
	app, _, secrets := authServer(t)
	type answer struct {
		Columns    []string `json:"columns"`
		Rows       [][]any  `json:"rows"`
		Suppressed int64    `json:"suppressed"`
	}
	get := func(role auth.Role) answer {
		status, body := call(t, app, "GET", "/api/queries/rates_by_unit?from=2025-01&to=2025-03", secrets[role])
		var a answer
		if status != 200 || json.Unmarshal(body, &a) != nil {
			t.Fatalf("%s: %d %s", role, status, body)
		}
		return a
	}
	lead, aud := get(auth.Leadership), get(auth.Auditor)
	if len(lead.Rows) != len(aud.Rows) || len(lead.Rows) == 0 {
		t.Fatalf("rows: leadership %d, auditor %d", len(lead.Rows), len(aud.Rows))
	}
	hidden := int64(0)
	for i := range aud.Rows {
		for j, col := range aud.Columns {
			a, l := aud.Rows[i][j], lead.Rows[i][j]
			if !strings.HasPrefix(col, "n_") {
				continue
			}
			n, _ := a.(float64)
			small := n >= 1 && n < 10
			if small && l != nil || !small && l != a {
				t.Errorf("row %d %s: auditor %v, leadership %v", i, col, a, l)
			}
			if small {
				hidden++
			}
		}
	}
	if hidden == 0 || lead.Suppressed != hidden || aud.Suppressed != 0 {
		t.Errorf("hidden %d; leadership says %d, auditor %d", hidden, lead.Suppressed, aud.Suppressed)
	}
}

// parquetRows counts a Parquet file's rows with DuckDB's reader.
func parquetRows(t *testing.T, body []byte) int {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM read_parquet(?)", p).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExportsRepeat: the same export on the same dataset is the same file,
// for a query sorted by its own ORDER BY and for an analysis input sorted
// only for export (export_order), in every format.
func TestExportsRepeat(t *testing.T) {
	app, _, secrets := authServer(t)
	for _, path := range []string{"/api/queries/cohort_officer_months/export/manifest?course=ICAT", "/api/queries/force_incidents/export/manifest?from=2023-06-01"} {
		for _, format := range []string{"csv", "parquet"} {
			var sums []string
			for i := 0; i < 2; i++ {
				status, body := call(t, app, "GET", path+"&format="+format, secrets[auth.Auditor])
				var m struct {
					SHA256 string `json:"sha256"`
					Rows   int64  `json:"rows"`
				}
				if status != 200 || json.Unmarshal(body, &m) != nil || m.Rows == 0 {
					t.Fatalf("%s: %d %.200s", path, status, body)
				}
				sums = append(sums, m.SHA256)
			}
			if sums[0] != sums[1] {
				t.Errorf("%s as %s: two exports hash to %s and %s", path, format, sums[0], sums[1])
			}
		}
	}
}
