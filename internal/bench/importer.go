package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"deesc/internal/store"
)

// Import is the import's cost.
type Import struct {
	// Child is true when the import ran as a child `deesc import`, whose
	// peak RSS is then the import's alone.
	Child   bool
	Wall    time.Duration // start to finish (of the child process, when Child)
	Total   time.Duration // the import's own clock, from start to "done"
	PeakRSS int64         // bytes
	// RowsPerSecond is the files' data rows over Wall.
	RowsPerSecond float64
	Phases        []Phase
	// Panel is the time spent building the officer-month panel: its inputs,
	// its companion tables and the panel itself.
	Panel time.Duration
}

// Phase is one step of the import and its duration.
type Phase struct {
	Name    string
	Seconds float64
}

// event is one progress report of an import.
type event struct {
	at          time.Duration
	phase, file string
}

// childTimeout bounds a child import.
const childTimeout = 2 * time.Hour

// importData imports the contract files in dataDir into a new database at
// dbPath, as a child `deesc import` when opt.Executable is set (writing its
// configuration file into work), else in this process.
func importData(ctx context.Context, opt Options, dataDir, dbPath, work string) (Import, error) {
	if opt.Executable == "" {
		return importInProcess(ctx, opt, dataDir, dbPath)
	}
	cfg := filepath.Join(work, "bench-config.yaml")
	text := fmt.Sprintf("database:\n  memory_limit: %q\n  keep_versions: 1\ndemo:\n  enabled: false\n", opt.MemoryLimit)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return Import{}, fmt.Errorf("bench: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, opt.Executable, "import", dataDir, "--db", dbPath, "--config", cfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	imp := Import{Child: true, Wall: time.Since(start)}
	if err != nil {
		return imp, fmt.Errorf("bench: %s import %s: %w\n%s", opt.Executable, dataDir, err, tail(stderr.String(), 20))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		imp.PeakRSS = ru.Maxrss * 1024 // Linux reports kilobytes
	}
	events := parseProgress(stderr.String())
	imp.summarise(events)
	return imp, nil
}

// importInProcess imports with store.Import in this process.
func importInProcess(ctx context.Context, opt Options, dataDir, dbPath string) (Import, error) {
	st, err := store.Open(ctx, dbPath, store.Options{MemoryLimit: opt.MemoryLimit, KeepVersions: 1})
	if err != nil {
		return Import{}, fmt.Errorf("bench: %w", err)
	}
	var events []event
	start := time.Now()
	_, err = st.Import(ctx, dataDir, store.ImportOptions{Source: "deesc bench",
		Progress: func(p store.Progress) { events = append(events, event{p.Elapsed, p.Phase, p.File}) }})
	imp := Import{Wall: time.Since(start)}
	if cerr := st.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return imp, fmt.Errorf("bench: importing %s: %w", dataDir, err)
	}
	imp.PeakRSS = processPeakRSS()
	imp.summarise(events)
	return imp, nil
}

// progressLine matches deesc import's progress lines: "[ 12.3s] what".
var progressLine = regexp.MustCompile(`^\[\s*([0-9.]+)s\] (.+)$`)

// parseProgress reads the progress lines `deesc import` writes to its
// standard error; other lines (logs) are skipped.
func parseProgress(text string) []event {
	var out []event
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		m := progressLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		secs, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		e := event{at: time.Duration(secs * float64(time.Second))}
		what := m[2]
		switch first, rest, _ := strings.Cut(what, " "); {
		case first == "read": // "read FILE: N rows"
			e.phase = "reading"
			e.file, _, _ = strings.Cut(rest, ":")
		default:
			e.phase, e.file = first, rest
		}
		out = append(out, e)
	}
	return out
}

// summarise sets the phases, the panel time and the total from the
// import's progress events.
func (imp *Import) summarise(events []event) {
	find := func(phase, file string) (time.Duration, bool) {
		for _, e := range events {
			if e.phase == phase && e.file == file {
				return e.at, true
			}
		}
		return 0, false
	}
	marks := []struct {
		name, phase, file string
	}{
		{"read and type the files", "", ""},
		{"checks across rows and files", "checking", ""},
		{"panel inputs (keys, events, training hours)", "panel", ""},
		{"write the contract tables", "writing", ""},
		{"write the panel's companions (keys, hours, courses)", "writing", "divisions"},
		{"write the panel", "writing", "panel"},
		// The first of the summaries written after the panel (store's derivedTables).
		{"write the dashboards' summaries (per unit and month, incidents, status spans, …)", "writing", "panel_units"},
		{"commit and checkpoint", "committing", ""},
		{"", "done", ""},
	}
	at := make([]time.Duration, len(marks))
	ok := make([]bool, len(marks))
	ok[0] = true
	for i := 1; i < len(marks); i++ {
		at[i], ok[i] = find(marks[i].phase, marks[i].file)
	}
	imp.Phases = nil
	for i := 0; i+1 < len(marks); i++ {
		if ok[i] && ok[i+1] {
			d := at[i+1] - at[i]
			imp.Phases = append(imp.Phases, Phase{marks[i].name, d.Seconds()})
			if i == 2 || i == 4 || i == 5 {
				imp.Panel += d
			}
		}
	}
	if ok[len(marks)-1] {
		imp.Total = at[len(marks)-1]
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
