package realdata

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirFrom(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "shared", "data", "real")
	deep := filepath.Join(root, "main", "internal", "server")
	other := t.TempDir()
	for _, d := range []string{real, deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		start string
		want  string
		ok    bool
	}{
		{"from a package directory", deep, real, true},
		{"from the repository root", filepath.Join(root, "main"), real, true},
		{"from the parent itself", root, real, true},
		{"nowhere above", other, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := dirFrom(tt.start)
			if got != tt.want || ok != tt.ok {
				t.Errorf("dirFrom(%q) = %q, %v; want %q, %v", tt.start, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestDir(t *testing.T) {
	dir, ok := Dir()
	if !ok {
		t.Skip(ErrNoData)
	}
	if !filepath.IsAbs(dir) || filepath.Base(dir) != "real" {
		t.Errorf("Dir() = %q, want an absolute path ending in shared/data/real", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("Dir() = %q has no README.md: %v", dir, err)
	}
}
