package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// importedDB imports a small demo dataset into a fresh database file.
func importedDB(t *testing.T) (db, cfg string) {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	db, cfg = filepath.Join(t.TempDir(), "x.duckdb"), smallConfig(t)
	if _, _, err := deesc(t, ctx, "demo", dir, "--officers", "150", "--years", "2", "--end", "2025-12"); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := deesc(t, ctx, "import", dir, "--db", db, "--config", cfg); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	return db, cfg
}

// TestQueryExportCLI: deesc query writes the whole result and a manifest
// whose sha256 and row count match the file; the export and the import
// are in the audit log, whose chain verifies.
func TestQueryExportCLI(t *testing.T) {
	ctx := context.Background()
	db, cfg := importedDB(t)
	out := filepath.Join(t.TempDir(), "force.csv")
	_, errOut, err := deesc(t, ctx, "query", "force_incidents", "--param", "from=2024-01-01", "--param", "to=2025-12-31",
		"--format", "csv", "--out", out, "--db", db, "--config", cfg)
	if err != nil {
		t.Fatalf("query: %v\n%s", err, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Rows   int64             `json:"rows"`
		SHA256 string            `json:"sha256"`
		Params map[string]string `json:"params"`
		Query  string            `json:"query"`
	}
	mb, err := os.ReadFile(out + ".manifest.json")
	if err != nil || json.Unmarshal(mb, &m) != nil {
		t.Fatalf("manifest: %v %s", err, mb)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if m.SHA256 != hex.EncodeToString(sum[:]) || m.Rows != int64(len(recs)-1) || m.Rows == 0 || m.Query != "force_incidents" || m.Params["from"] != "2024-01-01" {
		t.Errorf("manifest %+v; file has %d rows, sha %x", m, len(recs)-1, sum)
	}
	// A bad parameter exits 2 naming it, and writes nothing.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	_, _, err = deesc(t, ctx, "query", "force_incidents", "--param", "from=2024-02-30", "--out", bad, "--db", db, "--config", cfg)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "from") {
		t.Errorf("bad parameter: code %d, %v", exitCode(err), err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s", bad)
	}
	verified, _, err := deesc(t, ctx, "audit", "verify", "--db", db, "--config", cfg)
	if err != nil || !strings.Contains(verified, "audit log intact: 2 entries") {
		t.Errorf("audit verify: %v %s", err, verified)
	}
	// Tampering is detected: exit 1 naming the entry.
	h, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Exec("UPDATE audit_log SET user_name = 'someone-else' WHERE seq = 1"); err != nil {
		t.Fatal(err)
	}
	h.Close()
	_, _, err = deesc(t, ctx, "audit", "verify", "--db", db, "--config", cfg)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "entry 1") {
		t.Errorf("tampered log: code %d, %v", exitCode(err), err)
	}
}

// TestTokenCLI: a token is printed once, listed without its secret, and
// refused once revoked; a bad role exits 2 naming the valid ones.
func TestTokenCLI(t *testing.T) {
	ctx := context.Background()
	db, cfg := importedDB(t)
	secret, _, err := deesc(t, ctx, "token", "add", "analyst-1", "evaluator", "--db", db, "--config", cfg)
	secret = strings.TrimSpace(secret)
	if err != nil || !strings.HasPrefix(secret, "deesc_") {
		t.Fatalf("token add: %v %q", err, secret)
	}
	list, _, err := deesc(t, ctx, "token", "list", "--db", db, "--config", cfg)
	if err != nil || !strings.Contains(list, "analyst-1") || !strings.Contains(list, "evaluator") || strings.Contains(list, secret) {
		t.Errorf("token list: %v\n%s", err, list)
	}
	if _, _, err := deesc(t, ctx, "token", "add", "x", "superuser", "--db", db, "--config", cfg); exitCode(err) != 2 || !strings.Contains(err.Error(), "leadership") {
		t.Errorf("bad role: %v", err)
	}
	if _, _, err := deesc(t, ctx, "token", "revoke", "analyst-1", "--db", db, "--config", cfg); err != nil {
		t.Fatal(err)
	}
	list, _, _ = deesc(t, ctx, "token", "list", "--db", db, "--config", cfg)
	if !strings.Contains(list, "analyst-1") || !strings.Contains(list, "20") {
		t.Errorf("revoked token not listed with its time:\n%s", list)
	}
}

// TestServeRefusesOpenAddressWithoutAuth: listening beyond loopback with
// authentication off exits 2 with the reason, before touching the database.
func TestServeRefusesOpenAddressWithoutAuth(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("auth:\n  enabled: false\n"), 0o644)
	db := filepath.Join(t.TempDir(), "none.duckdb")
	_, _, err := deesc(t, context.Background(), "serve", "--addr", "0.0.0.0:0", "--db", db, "--config", cfg)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "without authentication") {
		t.Errorf("open address without auth: code %d, %v", exitCode(err), err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Error("the database was created although serving was refused")
	}
}
