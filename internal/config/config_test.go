package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShippedConfigIsTheDefaults keeps the documented config.yaml and the
// built-in defaults saying the same thing.
func TestShippedConfigIsTheDefaults(t *testing.T) {
	got, err := Load("../../config.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("config.yaml differs from Defaults():\n got %+v\nwant %+v", got, want)
	}
}

func TestLoadPrecedence(t *testing.T) {
	p := write(t, "database:\n  path: from-file.duckdb\n  memory_limit: 1GB\nserver:\n  addr: 127.0.0.1:9000\n")
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Path != "from-file.duckdb" || c.Server.Addr != "127.0.0.1:9000" || c.Database.KeepVersions != 5 {
		t.Errorf("file values: %+v", c)
	}
	t.Setenv("DEESC_DB", "from-env.duckdb")
	t.Setenv("DEESC_ADDR", "127.0.0.1:9001")
	t.Setenv("DEESC_DATABASE_MEMORY_LIMIT", "3GB")
	t.Setenv("DEESC_DEMO_OFFICERS", "50")
	c, err = Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Path != "from-env.duckdb" || c.Server.Addr != "127.0.0.1:9001" || c.Database.MemoryLimit != "3GB" || c.Demo.Officers != 50 {
		t.Errorf("env values: %+v", c)
	}
	c, err = Load(p, map[string]any{"database.path": "from-flag.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Path != "from-flag.duckdb" {
		t.Errorf("flag value: %q", c.Database.Path)
	}
}

func TestLoadMapping(t *testing.T) {
	p := write(t, `import:
  files:
    force:
      patterns: ["R2R_*.csv"]
      columns:
        OFF_INJURED: officer_injured
      ignore: [GeoLocation]
      values:
        subject_behaviour:
          Verbal Resistance: passive-resistant
`)
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Import.Files["force"]
	if f.Patterns[0] != "R2R_*.csv" || f.Columns["off_injured"] != "officer_injured" || f.Values["subject_behaviour"]["verbal resistance"] != "passive-resistant" {
		t.Errorf("mapping: %+v", f)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"invalid yaml", "server: [unclosed\n", "config"},
		{"unknown key", "databse:\n  path: x\n", "databse"},
		{"bad value", "database:\n  keep_versions: 0\n", "database.keep_versions"},
		{"bad addr", "server:\n  addr: nowhere\n", "server.addr"},
		{"bad type", "demo:\n  officers: many\n", "officers"},
		{"bad source", "database:\n  source: sqlite\n", "database.source"},
		{"parquet without folder", "database:\n  source: parquet\n", "database.parquet_dir"},
		{"session too short", "auth:\n  session: 30s\n", "auth.session"},
		{"session too long", "auth:\n  session: 2000h\n", "auth.session"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing explicit file: %v", err)
	}
}

// TestParquetSource reads the two keys that serve a Parquet folder, from
// the file and from the environment.
func TestParquetSource(t *testing.T) {
	c, err := Load(write(t, "database:\n  source: parquet\n  parquet_dir: /srv/lake\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Source != "parquet" || c.Database.ParquetDir != "/srv/lake" {
		t.Errorf("from the file: %+v", c.Database)
	}
	t.Setenv("DEESC_DATABASE_SOURCE", "parquet")
	t.Setenv("DEESC_DATABASE_PARQUET_DIR", "/mnt/lake")
	if c, err = Load(write(t, ""), nil); err != nil {
		t.Fatal(err)
	}
	if c.Database.Source != "parquet" || c.Database.ParquetDir != "/mnt/lake" {
		t.Errorf("from the environment: %+v", c.Database)
	}
}

func TestAuthEnabled(t *testing.T) {
	for _, tc := range []struct {
		yaml, addr string
		on         bool
	}{
		{"auth: {enabled: auto}\n", "127.0.0.1:8080", false},
		{"auth: {enabled: auto}\n", "[::1]:8080", false},
		{"auth: {enabled: auto}\n", "localhost:8080", false},
		{"auth: {enabled: auto}\n", "0.0.0.0:8080", true},
		{"auth: {enabled: auto}\n", ":8080", true},
		{"auth: {enabled: true}\n", "127.0.0.1:8080", true},
		{"auth: {enabled: false}\n", "10.0.0.5:8080", false},
	} {
		p := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := c.Auth.On(tc.addr); got != tc.on {
			t.Errorf("%q on %s: auth on = %v, want %v", tc.yaml, tc.addr, got, tc.on)
		}
	}
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte("auth: {enabled: maybe}\nquery: {timeout: 10ms}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "auth.enabled") {
		t.Errorf("auth.enabled: maybe: got %v, want an error naming auth.enabled", err)
	}
}
