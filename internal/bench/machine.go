package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"deesc/internal/demo"
	"deesc/internal/store"
)

// Machine is what the numbers were measured on.
type Machine struct {
	Cores        int
	CPU          string // model name from /proc/cpuinfo
	MemTotal     int64  // bytes, from /proc/meminfo
	MemAvailable int64  // bytes, at the start of the run
	Go           string
	DuckDB       string // the engine's version()
	DuckDBGo     string // the driver module's version
}

// Dataset is the generated dataset and what the import made of it.
type Dataset struct {
	Officers, Years int
	Seed            uint64
	From, To        string // YYYY-MM
	Files           []demo.FileSummary
	Rows            int64 // data rows over every file
	Generate        time.Duration
	OfficerMonths   int64 // rows of the panel
	Units           int
}

// readMachine describes this machine; what cannot be read stays blank.
func readMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), DuckDBGo: moduleVersion("github.com/duckdb/duckdb-go/v2")}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		mi := parseMeminfo(f)
		f.Close()
		m.MemTotal, m.MemAvailable = mi["MemTotal"], mi["MemAvailable"]
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// moduleVersion returns the version of module path linked into this
// binary, or "" (in a test binary without build information, say).
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// parseMeminfo returns /proc/meminfo's "Key: N kB" lines as bytes.
func parseMeminfo(r io.Reader) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		out[k] = n
	}
	return out
}

// processPeakRSS returns this process's peak resident set (VmHWM) in
// bytes, or 0 when /proc/self/status cannot be read.
func processPeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	return parseMeminfo(f)["VmHWM"]
}

// describe fills in the DuckDB version and what the import made of the
// dataset.
func describe(ctx context.Context, st *store.Store, m *Machine, ds *Dataset) error {
	db := st.DB()
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&m.DuckDB); err != nil {
		return fmt.Errorf("bench: DuckDB version: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM panel").Scan(&ds.OfficerMonths); err != nil {
		return fmt.Errorf("bench: counting the panel: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM units").Scan(&ds.Units); err != nil {
		return fmt.Errorf("bench: counting units: %w", err)
	}
	return nil
}

// bytesText formats n bytes in binary units.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
