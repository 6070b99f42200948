// Package config loads deesc's configuration from config.yaml, environment
// variables (DEESC_…) and command-line flags into one typed Config. Only the
// cmd package calls Load; everything else receives plain values.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Config is the whole configuration.
type Config struct {
	Server   Server   `mapstructure:"server"`
	Database Database `mapstructure:"database"`
	Demo     Demo     `mapstructure:"demo"`
	Import   Import   `mapstructure:"import"`
	Analysis Analysis `mapstructure:"analysis"`
	Privacy  Privacy  `mapstructure:"privacy"`
	Auth     Auth     `mapstructure:"auth"`
	Query    Query    `mapstructure:"query"`
	Limits   Limits   `mapstructure:"limits"`
	Log      Log      `mapstructure:"log"`
}

// Auth configures who may call the API.
type Auth struct {
	// Enabled is "auto" (on unless listening on loopback), "true" or "false".
	// With auth off every request acts as admin; that is refused on any
	// address other than loopback.
	Enabled string `mapstructure:"enabled"`
	// Session is how long a browser sign-in at /login lasts; the browser
	// holds a session secret, never the token, and signing out or revoking
	// the token ends it sooner.
	Session time.Duration `mapstructure:"session"`
}

// On reports whether requests must carry a token when listening on addr.
func (a Auth) On(addr string) bool {
	switch a.Enabled {
	case "true":
		return true
	case "false":
		return false
	}
	return !IsLoopback(addr)
}

// IsLoopback reports whether addr (HOST:PORT) listens on loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Limits bound what one client may send and how often.
type Limits struct {
	// BodyBytes caps a request body (sign-in, token creation).
	BodyBytes int `mapstructure:"body_bytes"`
	// UploadBytes caps the files of one upload to POST /api/import.
	UploadBytes int `mapstructure:"upload_bytes"`
	// RequestsPerSecond and Burst rate-limit each token (each address when
	// anonymous); beyond them the answer is 429 with Retry-After. 0 = no limit.
	RequestsPerSecond float64 `mapstructure:"requests_per_second"`
	Burst             int     `mapstructure:"burst"`
}

// Query bounds the work one request may cause.
type Query struct {
	// Timeout cancels a query that runs longer (503 to the client).
	Timeout time.Duration `mapstructure:"timeout"`
}

// Privacy configures small-cell protection in aggregate answers.
type Privacy struct {
	// MinCell: counts from 1 to MinCell-1 are suppressed.
	MinCell int `mapstructure:"min_cell"`
	// UnstableEvents: rates resting on fewer events are flagged unstable.
	UnstableEvents int `mapstructure:"unstable_events"`
}

// Server configures the HTTP listener.
type Server struct {
	Addr string `mapstructure:"addr"`
}

// Database configures the DuckDB file and its resources.
type Database struct {
	Path         string `mapstructure:"path"`
	MemoryLimit  string `mapstructure:"memory_limit"`
	Threads      int    `mapstructure:"threads"`
	KeepVersions int    `mapstructure:"keep_versions"`
	// Source is what the dataset is served from: "duckdb" (the database at
	// Path) or "parquet" (the folder ParquetDir written by `deesc
	// export-dataset`, read-only; Path then keeps the audit log and tokens).
	Source     string `mapstructure:"source"`
	ParquetDir string `mapstructure:"parquet_dir"`
}

// Demo configures the dataset generated when the database is empty.
type Demo struct {
	Enabled  bool   `mapstructure:"enabled"`
	Officers int    `mapstructure:"officers"`
	Years    int    `mapstructure:"years"`
	Seed     uint64 `mapstructure:"seed"`
}

// Import configures how agency files map onto the data contract.
type Import struct {
	// MaxErrors caps the problems listed per file; the rest are counted.
	MaxErrors int `mapstructure:"max_errors"`
	// Files maps a contract file name (officers, force, …) to its mapping.
	Files map[string]FileMapping `mapstructure:"files"`
}

// FileMapping adapts one agency export to a contract file.
type FileMapping struct {
	// Patterns are globs, relative to the import folder, naming the files that
	// make up this contract file (all are read and combined). Default:
	// NAME.csv, NAME.csv.gz, NAME.parquet.
	Patterns []string `mapstructure:"patterns"`
	// Columns renames the agency's headers (any case) to contract columns.
	Columns map[string]string `mapstructure:"columns"`
	// Ignore lists agency headers (any case) to drop without error.
	Ignore []string `mapstructure:"ignore"`
	// Values maps, per contract column, agency values (any case) to contract values.
	Values map[string]map[string]string `mapstructure:"values"`
}

// Analysis configures the methods shared by dashboards and analyses.
type Analysis struct {
	DeescalationCategories []string `mapstructure:"deescalation_categories"`
	UseOfForceCategories   []string `mapstructure:"use_of_force_categories"`
	// DoseBins are the upper edges of the dose-response bins of trailing
	// de-escalation hours: [0, 8, 16, 40] makes 0, (0, 8], (8, 16], (16, 40], over 40.
	DoseBins []float64 `mapstructure:"dose_bins"`
}

// Log configures logging.
type Log struct {
	Format string `mapstructure:"format"` // text or json
	Level  string `mapstructure:"level"`  // debug, info, warn, error
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Server:   Server{Addr: "127.0.0.1:8080"},
		Database: Database{Path: "data/deesc.duckdb", MemoryLimit: "4GB", Threads: 0, KeepVersions: 5, Source: "duckdb"},
		Demo:     Demo{Enabled: true, Officers: 2000, Years: 6, Seed: 1},
		Import:   Import{MaxErrors: 50, Files: map[string]FileMapping{}},
		Analysis: Analysis{
			DeescalationCategories: []string{"de-escalation", "crisis-intervention"},
			UseOfForceCategories:   []string{"use-of-force", "firearms"},
			DoseBins:               []float64{0, 8, 16, 40}, // = analysis.DefaultDoseBins
		},
		Privacy: Privacy{MinCell: 10, UnstableEvents: 20},
		Auth:    Auth{Enabled: "auto", Session: 12 * time.Hour},
		Query:   Query{Timeout: 30 * time.Second},
		Limits:  Limits{BodyBytes: 1 << 20, UploadBytes: 4 << 30, RequestsPerSecond: 100, Burst: 200},
		Log:     Log{Format: "text", Level: "info"},
	}
}

// envAliases are the short environment names scripts rely on, beside the
// systematic DEESC_SECTION_KEY names.
var envAliases = map[string]string{"database.path": "DEESC_DB", "server.addr": "DEESC_ADDR"}

// Load reads the configuration file at path (when path is empty, ./config.yaml
// if it exists), applies DEESC_… environment variables and then the flag
// overrides given as viper keys (e.g. "database.path"). It fails when an
// explicitly named file is missing, the file is not valid YAML, a key is
// unknown, or a value is out of range.
func Load(path string, overrides map[string]any) (Config, error) {
	v := viper.New()
	setDefaults(v, Defaults())
	v.SetEnvPrefix("DEESC")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for key, env := range envAliases {
		if err := v.BindEnv(key, env, "DEESC_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))); err != nil {
			return Config{}, err
		}
	}
	explicit := path != ""
	if !explicit {
		path = "config.yaml"
	}
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		if explicit || !errors.Is(err, fs.ErrNotExist) {
			return Config{}, fmt.Errorf("config %s: %w", path, unwrapPathError(err))
		}
	}
	for k, val := range overrides {
		v.Set(k, val)
	}
	var c Config
	if err := v.Unmarshal(&c, func(dc *mapstructure.DecoderConfig) { dc.ErrorUnused = true }); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	// YAML's true/false reach a string field as "1"/"0".
	switch c.Auth.Enabled {
	case "1":
		c.Auth.Enabled = "true"
	case "0":
		c.Auth.Enabled = "false"
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// setDefaults registers every key with its default, so that each can be set
// from the environment even when the file does not mention it.
func setDefaults(v *viper.Viper, d Config) {
	v.SetDefault("server.addr", d.Server.Addr)
	v.SetDefault("database.path", d.Database.Path)
	v.SetDefault("database.memory_limit", d.Database.MemoryLimit)
	v.SetDefault("database.threads", d.Database.Threads)
	v.SetDefault("database.keep_versions", d.Database.KeepVersions)
	v.SetDefault("database.source", d.Database.Source)
	v.SetDefault("database.parquet_dir", d.Database.ParquetDir)
	v.SetDefault("demo.enabled", d.Demo.Enabled)
	v.SetDefault("demo.officers", d.Demo.Officers)
	v.SetDefault("demo.years", d.Demo.Years)
	v.SetDefault("demo.seed", d.Demo.Seed)
	v.SetDefault("import.max_errors", d.Import.MaxErrors)
	v.SetDefault("import.files", d.Import.Files)
	v.SetDefault("analysis.deescalation_categories", d.Analysis.DeescalationCategories)
	v.SetDefault("analysis.use_of_force_categories", d.Analysis.UseOfForceCategories)
	v.SetDefault("analysis.dose_bins", d.Analysis.DoseBins)
	v.SetDefault("privacy.min_cell", d.Privacy.MinCell)
	v.SetDefault("privacy.unstable_events", d.Privacy.UnstableEvents)
	v.SetDefault("auth.enabled", d.Auth.Enabled)
	v.SetDefault("auth.session", d.Auth.Session)
	v.SetDefault("query.timeout", d.Query.Timeout)
	v.SetDefault("limits.body_bytes", d.Limits.BodyBytes)
	v.SetDefault("limits.upload_bytes", d.Limits.UploadBytes)
	v.SetDefault("limits.requests_per_second", d.Limits.RequestsPerSecond)
	v.SetDefault("limits.burst", d.Limits.Burst)
	v.SetDefault("log.format", d.Log.Format)
	v.SetDefault("log.level", d.Log.Level)
}

// Validate reports the first setting that is out of range, naming its key.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		return fmt.Errorf("server.addr: %q is not HOST:PORT", c.Server.Addr)
	}
	if c.Database.Path == "" {
		return errors.New("database.path: must not be empty")
	}
	if c.Database.KeepVersions < 1 {
		return fmt.Errorf("database.keep_versions: must be at least 1 (got %d)", c.Database.KeepVersions)
	}
	if c.Database.Threads < 0 {
		return fmt.Errorf("database.threads: must be 0 (all cores) or more (got %d)", c.Database.Threads)
	}
	switch c.Database.Source {
	case "duckdb":
	case "parquet":
		if c.Database.ParquetDir == "" {
			return errors.New("database.parquet_dir: must name the folder to serve when database.source is parquet")
		}
	default:
		return fmt.Errorf("database.source: %q is not duckdb or parquet", c.Database.Source)
	}
	if c.Demo.Officers < 1 || c.Demo.Years < 1 || c.Demo.Years > 60 {
		return fmt.Errorf("demo: officers must be ≥ 1 and years 1–60 (got %d, %d)", c.Demo.Officers, c.Demo.Years)
	}
	if c.Import.MaxErrors < 1 {
		return fmt.Errorf("import.max_errors: must be at least 1 (got %d)", c.Import.MaxErrors)
	}
	if c.Privacy.MinCell < 1 || c.Privacy.UnstableEvents < 1 {
		return fmt.Errorf("privacy: min_cell and unstable_events must be at least 1 (got %d, %d)", c.Privacy.MinCell, c.Privacy.UnstableEvents)
	}
	if len(c.Analysis.DoseBins) == 0 || c.Analysis.DoseBins[0] != 0 {
		return fmt.Errorf("analysis.dose_bins: must start with 0 (got %v)", c.Analysis.DoseBins)
	}
	for i := 1; i < len(c.Analysis.DoseBins); i++ {
		if c.Analysis.DoseBins[i] <= c.Analysis.DoseBins[i-1] {
			return fmt.Errorf("analysis.dose_bins: edges must increase (got %v)", c.Analysis.DoseBins)
		}
	}
	switch c.Auth.Enabled {
	case "auto", "true", "false":
	default:
		return fmt.Errorf("auth.enabled: %q is not auto, true or false", c.Auth.Enabled)
	}
	if c.Auth.Session < time.Minute || c.Auth.Session > 30*24*time.Hour {
		return fmt.Errorf("auth.session: must be from 1m to 720h (got %s)", c.Auth.Session)
	}
	if c.Query.Timeout < time.Second {
		return fmt.Errorf("query.timeout: must be at least 1s (got %s)", c.Query.Timeout)
	}
	if c.Limits.BodyBytes < 1024 {
		return fmt.Errorf("limits.body_bytes: must be at least 1024 (got %d)", c.Limits.BodyBytes)
	}
	if c.Limits.UploadBytes < c.Limits.BodyBytes {
		return fmt.Errorf("limits.upload_bytes: must be at least limits.body_bytes (got %d)", c.Limits.UploadBytes)
	}
	if c.Limits.RequestsPerSecond < 0 || c.Limits.RequestsPerSecond > 0 && c.Limits.Burst < 1 {
		return fmt.Errorf("limits: requests_per_second must be ≥ 0 and burst ≥ 1 when it is set (got %g, %d)", c.Limits.RequestsPerSecond, c.Limits.Burst)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	return nil
}
