package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportDatasetCLI: deesc export-dataset writes the folder and its
// manifest and refuses a folder that is not empty; with database.source:
// parquet the other commands read that folder, and import and rollback are
// refused.
func TestExportDatasetCLI(t *testing.T) {
	ctx := context.Background()
	db, cfg := importedDB(t)
	lake := filepath.Join(t.TempDir(), "lake")
	var out, errOut bytes.Buffer
	if err := cmdExportDataset(ctx, []string{lake, "--db", db, "--config", cfg}, &out, &errOut); err != nil {
		t.Fatalf("export-dataset: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "dataset version 1 ") || !strings.Contains(out.String(), "panel") || !strings.Contains(errOut.String(), "writing panel") {
		t.Errorf("export-dataset printed:\n%s\n%s", out.String(), errOut.String())
	}
	if _, err := os.Stat(filepath.Join(lake, "deesc-lake.json")); err != nil {
		t.Fatal(err)
	}
	err := cmdExportDataset(ctx, []string{lake, "--db", db, "--config", cfg}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("export into the same folder again: %v", err)
	}

	lakeCfg := filepath.Join(t.TempDir(), "lake.yaml")
	body := "database:\n  path: " + filepath.Join(t.TempDir(), "audit.duckdb") + "\n  source: parquet\n  parquet_dir: " + lake + "\nlog:\n  level: warn\n"
	if err := os.WriteFile(lakeCfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, errText, err := deesc(t, ctx, "versions", "--config", lakeCfg)
	if err != nil || !strings.Contains(stdout, "dataset version 1,") || !strings.Contains(stdout, "force.csv") {
		t.Errorf("versions on the lake: %v\n%s%s", err, stdout, errText)
	}
	for _, args := range [][]string{{"import", lake}, {"rollback", "1"}} {
		_, _, err := deesc(t, ctx, append(args, "--config", lakeCfg)...)
		if err == nil || !strings.Contains(err.Error(), "serving a Parquet folder read-only") {
			t.Errorf("%s on the lake: %v", args[0], err)
		}
	}
}
