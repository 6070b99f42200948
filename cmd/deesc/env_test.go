package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnwritableDatabasePath: a database path that cannot be created
// exits non-zero with a message naming the path.
func TestUnwritableDatabasePath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(file, "deesc.duckdb") // a path under a file
	_, _, err := deesc(t, context.Background(), "versions", "--db", db, "--config", smallConfig(t))
	if err == nil || !strings.Contains(err.Error(), db) {
		t.Errorf("unwritable path: %v, want an error naming %s", err, db)
	}
}

// TestDiskFullDuringImport imports a small dataset into a database on a
// small tmpfs, then a larger one that cannot fit: the second import fails
// with a message, and the database still opens and serves the first
// dataset exactly. It needs permission to mount a tmpfs (root); without
// it the test skips, except in CI.
func TestDiskFullDuringImport(t *testing.T) {
	ctx := context.Background()
	small, big := filepath.Join(t.TempDir(), "small"), filepath.Join(t.TempDir(), "big")
	if _, _, err := deesc(t, ctx, "demo", small, "--officers", "100", "--years", "1", "--end", "2025-12"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := deesc(t, ctx, "demo", big, "--officers", "6000", "--years", "4", "--end", "2025-12"); err != nil {
		t.Fatal(err)
	}
	// 12 MB fills while the new version is written (before its commit);
	// 24 MB only while checkpointing after it.
	for _, size := range []string{"12m", "24m"} {
		t.Run(size, func(t *testing.T) { diskFull(t, size, small, big) })
	}
}

func diskFull(t *testing.T, size, small, big string) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot mount a tmpfs in CI: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	ctx := context.Background()
	cfg := smallConfig(t)
	db := filepath.Join(mnt, "full.duckdb")
	if _, errOut, err := deesc(t, ctx, "import", small, "--db", db, "--config", cfg); err != nil {
		t.Fatalf("small import: %v\n%s", err, errOut)
	}
	officers := func() (int, int) {
		t.Helper()
		h, err := sql.Open("duckdb", db+"?access_mode=read_only")
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		var n, v int
		if err := h.QueryRow("SELECT (SELECT count(*) FROM officers), (SELECT version FROM dataset_versions WHERE is_current)").Scan(&n, &v); err != nil {
			t.Fatalf("the database does not open or read after a disk-full import: %v", err)
		}
		return n, v
	}
	n1, v1 := officers()
	if v1 != 1 || n1 < 100 || n1 > 150 {
		t.Fatalf("after the small import: %d officers in version %d", n1, v1)
	}
	_, _, err := deesc(t, ctx, "import", big, "--db", db, "--config", cfg)
	if err == nil {
		t.Fatal("importing 6,000 officers × 4 years into 24 MB succeeded; the test needs a bigger dataset")
	}
	t.Logf("disk full: %v", firstLine(err.Error()))
	// The database opens and holds one whole dataset: the first, or — when
	// the disk filled only after the commit, while checkpointing — the second.
	switch n, v := officers(); {
	case n == n1 && v == 1:
	case n >= 6000 && v == 2:
		if !strings.Contains(err.Error(), "committed as dataset version 2") {
			t.Errorf("version 2 is current, but the import said: %v", err)
		}
		t.Logf("the import had committed before the disk filled; version 2 is whole")
	default:
		t.Errorf("after a disk-full import: %d officers in version %d, a mix", n, v)
	}
}
