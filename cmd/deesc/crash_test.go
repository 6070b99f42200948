package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"deesc/internal/audit"
	"deesc/internal/store"
)

// TestMain lets the crash test run this test binary as deesc itself: with
// DEESC_CRASH_CHILD=1 in its environment it is main on its arguments.
func TestMain(m *testing.M) {
	if os.Getenv("DEESC_CRASH_CHILD") == "1" {
		main() // exits non-zero itself on failure
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The phases a crash child goes through, as the parent sees them on its
// stderr: the import's progress lines, and the debug log's statement lines
// for the commit transaction.
const (
	phStarted     = "started (no line yet)"
	phReading     = "reading"
	phChecking    = "checking"
	phPanel       = "panel inputs"
	phTables      = "writing tables"
	phPanelTables = "writing the panel"
	phCommitting  = "committing (before BEGIN)"
	phTransaction = "inside the commit transaction"
	phCommitted   = "after COMMIT (checkpoint, audit)"
	phDone        = "done"
)

var phaseOrder = []string{phStarted, phReading, phChecking, phPanel, phTables, phPanelTables, phCommitting, phTransaction, phCommitted, phDone}

// panelTables are the tables writePanel writes, after the contract files'.
var panelTables = map[string]bool{"divisions": true, "units": true, "officer_keys": true, "training_hours": true,
	"officer_courses": true, "panel_info": true, "panel": true}

// phaseOf returns the phase a stderr line of `deesc import` starts, or "".
func phaseOf(line string) string {
	if strings.Contains(line, `sql="BEGIN TRANSACTION"`) {
		return phTransaction
	}
	if strings.HasSuffix(line, "sql=COMMIT") {
		return phCommitted
	}
	_, rest, ok := strings.Cut(line, "s] ")
	if !ok || !strings.HasPrefix(line, "[") {
		return ""
	}
	word, arg, _ := strings.Cut(rest, " ")
	switch word {
	case "reading", "read":
		return phReading
	case "checking":
		return phChecking
	case "panel":
		return phPanel
	case "writing":
		if panelTables[arg] {
			return phPanelTables
		}
		return phTables
	case "committing":
		return phCommitting
	case "done":
		return phDone
	}
	return ""
}

// crashRun is what one child import did.
type crashRun struct {
	seen    string                   // the last phase seen when the kill was sent (or when it ended)
	killed  bool                     // ended by SIGKILL
	elapsed time.Duration            // from start to kill (or exit)
	starts  map[string]time.Duration // when each phase was first seen
	tail    []string                 // the last lines of its stderr
}

// crashChild runs `deesc import` in a child process and, when kill says
// so, sends it SIGKILL: kill is called with each phase as it starts and
// returns a delay after which to kill (negative: not now). Every wait has a
// deadline: the child is killed and the test fails after limit.
func crashChild(t *testing.T, limit time.Duration, args []string, kill func(phase string) time.Duration) crashRun {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), "DEESC_CRASH_CHILD=1")
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	run := crashRun{seen: phStarted, starts: map[string]time.Duration{}}
	var fire <-chan time.Time
	arm := func(phase string) {
		if fire == nil {
			if d := kill(phase); d >= 0 {
				fire = time.After(d)
			}
		}
	}
	arm(phStarted)
	sent := false
	for open := true; open; {
		select {
		case line, ok := <-lines:
			if !ok {
				open = false
				break
			}
			run.tail = append(run.tail, line)
			if len(run.tail) > 20 {
				run.tail = run.tail[1:]
			}
			if p := phaseOf(line); p != "" && p != run.seen {
				run.seen = p
				if _, ok := run.starts[p]; !ok {
					run.starts[p] = time.Since(start)
				}
				if !sent {
					arm(p)
				}
			}
		case <-fire:
			fire = nil
			sent = true
			run.elapsed = time.Since(start)
			_ = cmd.Process.Signal(syscall.SIGKILL)
		case <-ctx.Done():
			// The context kills the child; the pipe then closes.
			t.Errorf("the child did not finish within %s (last phase %s)", limit, run.seen)
			open = false
		}
	}
	err = cmd.Wait() // bounded: the context kills the child, WaitDelay bounds the pipe
	if !sent {
		run.elapsed = time.Since(start)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL && sent:
		run.killed = true
	default:
		t.Fatalf("deesc %s: %v\n%s", strings.Join(args, " "), err, strings.Join(run.tail, "\n"))
	}
	return run
}

// dbState is what a database holds after a crash.
type dbState struct {
	print   string // the served dataset: each main view's rows, hash, and panel sums
	current int    // the current version
	orphans int    // dataset schemas no kept version names
	seconds float64
}

// inspect opens the database as deesc does and checks it: exactly one
// current version whose schema exists, every main view pointing at that
// schema and readable in full, every stored table readable in full, the
// audit log's chain intact. It returns a fingerprint of the served dataset.
func inspect(t *testing.T, db string) dbState {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(ctx, db, store.Options{KeepVersions: 100, MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatalf("the database does not open after the crash: %v", err)
	}
	defer st.Close()
	sdb := st.DB()
	var st8 dbState
	var nCurrent int
	if err := sdb.QueryRowContext(ctx, `SELECT count(*) FROM dataset_versions WHERE is_current`).Scan(&nCurrent); err != nil || nCurrent != 1 {
		t.Fatalf("dataset_versions has %d current versions (%v), want exactly 1", nCurrent, err)
	}
	var schema string
	var kept, exists bool
	if err := sdb.QueryRowContext(ctx, `SELECT version, schema_name, kept, schema_name IN (SELECT schema_name FROM duckdb_schemas()
		WHERE database_name = current_database()) FROM dataset_versions WHERE is_current`).Scan(&st8.current, &schema, &kept, &exists); err != nil {
		t.Fatal(err)
	}
	if !kept || !exists {
		t.Fatalf("current version %d: kept %v, schema %s exists %v", st8.current, kept, schema, exists)
	}
	rows, err := sdb.QueryContext(ctx, `SELECT view_name, sql FROM duckdb_views()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal ORDER BY view_name`)
	if err != nil {
		t.Fatal(err)
	}
	var views []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(def, " "+schema+"."+name) {
			t.Errorf("main.%s does not read the current version's schema %s: %s", name, schema, def)
		}
		views = append(views, name)
	}
	rows.Close()
	if len(views) < 15 {
		t.Fatalf("only %d main views: %v", len(views), views)
	}
	var b strings.Builder
	for _, v := range views {
		var n int64
		var h any
		if err := sdb.QueryRowContext(ctx, "SELECT count(*), bit_xor(hash(x)) FROM main."+v+" x").Scan(&n, &h); err != nil {
			t.Fatalf("reading main.%s: %v", v, err)
		}
		fmt.Fprintf(&b, "%s:%d:%v ", v, n, h)
	}
	var force, complaints int64
	var exposure float64
	if err := sdb.QueryRowContext(ctx, `SELECT sum(n_force), sum(n_complaints), round(sum(exposure), 6) FROM main.panel`).Scan(&force, &complaints, &exposure); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "panel sums: force %d complaints %d exposure %.6f", force, complaints, exposure)
	st8.print = b.String()
	// Every table stored, orphans of killed imports included, reads in full:
	// DuckDB checks each block's checksum as it loads it.
	tables, err := sdb.QueryContext(ctx, `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()`)
	if err != nil {
		t.Fatal(err)
	}
	var all [][2]string
	for tables.Next() {
		var s, n string
		if err := tables.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		all = append(all, [2]string{s, n})
	}
	tables.Close()
	for _, tn := range all {
		var n int64
		if err := sdb.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT hash(x) FROM %s.%s x)`, quoteID(tn[0]), quoteID(tn[1]))).Scan(&n); err != nil {
			t.Fatalf("reading %s.%s: %v", tn[0], tn[1], err)
		}
	}
	if err := sdb.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database()
		AND regexp_full_match(schema_name, 'ds_[0-9]+') AND schema_name NOT IN (SELECT schema_name FROM dataset_versions WHERE kept)`).Scan(&st8.orphans); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.Verify(ctx, sdb); err != nil || !r.OK {
		t.Fatalf("audit log after the crash: %+v %v", r, err)
	}
	vs, err := st.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cur []int
	for _, v := range vs {
		if v.Current {
			cur = append(cur, v.Number)
		}
	}
	if len(cur) != 1 || cur[0] != st8.current {
		t.Fatalf("Versions marks %v current, dataset_versions %d", cur, st8.current)
	}
	st8.seconds = time.Since(start).Seconds()
	return st8
}

func quoteID(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// rollbackTo makes version current again, in process, so that the next
// kill again lands between two different datasets.
func rollbackTo(t *testing.T, db string, version int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, db, store.Options{KeepVersions: 100, MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Rollback(ctx, version); err != nil {
		t.Fatal(err)
	}
}

// TestKillDuringImport kills `deesc import` (a child process) with SIGKILL
// at moments spread over every phase of an import that would replace one
// dataset (v1) with a different one, and checks after each kill that the
// database opens, reads in full and serves exactly v1 or exactly the new
// dataset, with one current version; then that a normal import succeeds
// and drops what the killed imports left. DEESC_CRASH_LONG=1 runs more
// kills on more data.
func TestKillDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child imports for several seconds")
	}
	began := time.Now()
	kills, officers, years := 20, 2000, 3
	if os.Getenv("DEESC_CRASH_LONG") == "1" {
		kills, officers, years = 60, 6000, 5
	}
	ctx := context.Background()
	tmp := t.TempDir()
	oldDir, newDir := filepath.Join(tmp, "v1"), filepath.Join(tmp, "new")
	if _, _, err := deesc(t, ctx, "demo", oldDir, "--officers", "400", "--years", "3", "--end", "2025-12", "--seed", "11"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := deesc(t, ctx, "demo", newDir, "--officers", strconv.Itoa(officers), "--years", strconv.Itoa(years), "--end", "2025-12", "--seed", "7"); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(tmp, "config.yaml")
	// keep_versions is high so that v1 is never pruned however many kills
	// land after a COMMIT; debug logging shows the commit's statements.
	if err := os.WriteFile(cfg, []byte("log:\n  level: debug\ndatabase:\n  keep_versions: 100\n  memory_limit: 1GB\n  threads: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(tmp, "crash.duckdb")
	importArgs := func(dir, db string) []string { return []string{"import", dir, "--db", db, "--config", cfg} }
	never := func(string) time.Duration { return -1 }
	limit := 60 * time.Second

	// The reference: the new dataset imported whole into a database of its
	// own, timed phase by phase to aim the kills.
	ref := crashChild(t, limit, importArgs(newDir, filepath.Join(tmp, "ref.duckdb")), never)
	newState := inspect(t, filepath.Join(tmp, "ref.duckdb"))
	if r := crashChild(t, limit, importArgs(oldDir, db), never); r.killed {
		t.Fatal("v1 import was killed")
	}
	v1 := inspect(t, db)
	if v1.current != 1 || v1.print == newState.print {
		t.Fatalf("v1: version %d, same print as the new dataset: %v", v1.current, v1.print == newState.print)
	}
	var refPhases []string
	for _, p := range phaseOrder {
		if _, ok := ref.starts[p]; ok {
			refPhases = append(refPhases, p)
		}
	}
	// span is how long the reference import spent in a phase.
	span := func(p string) time.Duration {
		for i, q := range refPhases {
			if q == p {
				if i+1 < len(refPhases) {
					return ref.starts[refPhases[i+1]] - ref.starts[p]
				}
				return ref.elapsed - ref.starts[p]
			}
		}
		return 0
	}
	t.Logf("reference import of %d officers × %d years: %.2fs in the child; phases start at %s", officers, years, ref.elapsed.Seconds(), fmtStarts(ref.starts))

	// Aim: each kill waits for one phase (cycling through them, plus
	// a kill at a random moment from the start) and fires at a random
	// point of that phase's span in the reference run.
	aims := []string{phReading, phChecking, phPanel, phTables, phPanelTables, phTransaction, phCommitted, "random"}
	rng := rand.New(rand.NewPCG(20260630, uint64(kills)))
	landed := map[string]int{}
	outcome := map[string][2]int{} // per phase seen: kills leaving v1, leaving the new dataset
	finishedFirst := 0
	var killSecs, inspectSecs float64
	for i := range kills {
		aim := aims[i%len(aims)]
		delay := func(phase string) time.Duration {
			switch {
			case aim == "random" && phase == phStarted:
				return time.Duration(rng.Int64N(int64(ref.elapsed) + 1))
			case aim == phase:
				return time.Duration(rng.Int64N(int64(span(phase)) + 1))
			}
			return -1
		}
		r := crashChild(t, limit, importArgs(newDir, db), delay)
		killSecs += r.elapsed.Seconds()
		s := inspect(t, db)
		inspectSecs += s.seconds
		seen := r.seen
		if !r.killed {
			seen = "finished before the kill"
			finishedFirst++
		}
		landed[seen]++
		o := outcome[seen]
		switch s.print {
		case v1.print:
			if s.current != 1 {
				t.Errorf("kill %d (%s): v1's data under version %d", i, seen, s.current)
			}
			o[0]++
		case newState.print:
			if s.current == 1 {
				t.Errorf("kill %d (%s): the new data under version 1", i, seen)
			}
			o[1]++
		default:
			t.Fatalf("kill %d (aimed at %s, seen %s, %.3fs): the database holds neither v1 nor the new dataset:\n got %s\n v1  %s\n new %s",
				i, aim, seen, r.elapsed.Seconds(), s.print, v1.print, newState.print)
		}
		outcome[seen] = o
		if (seen == phReading || seen == phChecking || seen == phPanel || seen == phTables || seen == phPanelTables || seen == phCommitting) && o[1] > 0 && s.print == newState.print {
			t.Errorf("kill %d during %s left the new dataset current: the commit happened before its phase line", i, seen)
		}
		if s.print != v1.print {
			rollbackTo(t, db, 1)
		}
	}

	// A normal import after the crashes succeeds, serves the new dataset
	// and leaves no unfinished schema behind.
	final := crashChild(t, limit, importArgs(newDir, db), never)
	end := inspect(t, db)
	if end.print != newState.print || end.orphans != 0 || end.current == 1 {
		t.Errorf("after a normal import: version %d, %d orphan schemas, new dataset %v", end.current, end.orphans, end.print == newState.print)
	}

	var b strings.Builder
	keys := make([]string, 0, len(landed))
	for k := range landed {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return phaseRank(keys[i]) < phaseRank(keys[j]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-34s %3d kills: %d left v1, %d left the new dataset", k, landed[k], outcome[k][0], outcome[k][1])
	}
	t.Logf("%d kills (%d of them after the child had finished); phase seen at the kill:%s", kills, finishedFirst, b.String())
	t.Logf("children ran %.1fs until killed in all, inspections took %.1fs, the final import %.2fs; the test %.1fs",
		killSecs, inspectSecs, final.elapsed.Seconds(), time.Since(began).Seconds())
	// Kills aimed after the COMMIT or at random may come once the child has
	// exited; most must not.
	if finishedFirst > kills/2 {
		t.Errorf("%d of %d kills came after the import had finished: the aim is off", finishedFirst, kills)
	}
}

func phaseRank(p string) int {
	for i, q := range phaseOrder {
		if q == p {
			return i
		}
	}
	return len(phaseOrder)
}

func fmtStarts(starts map[string]time.Duration) string {
	var parts []string
	for _, p := range phaseOrder {
		if d, ok := starts[p]; ok {
			parts = append(parts, fmt.Sprintf("%s %.2fs", p, d.Seconds()))
		}
	}
	return strings.Join(parts, ", ")
}

// TestRollbackCommand runs `deesc rollback` (through cmdRollback, which
// main.go dispatches): it serves the earlier version again, prints it,
// writes the audit entry, and refuses bad arguments (exit 2) and unknown
// versions (exit 1, naming the versions there are).
func TestRollbackCommand(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	db := filepath.Join(tmp, "r.duckdb")
	cfg := smallConfig(t)
	for i, seed := range []string{"1", "2"} {
		dir := filepath.Join(tmp, "d"+seed)
		if _, _, err := deesc(t, ctx, "demo", dir, "--officers", strconv.Itoa(100+50*i), "--years", "2", "--end", "2025-12", "--seed", seed); err != nil {
			t.Fatal(err)
		}
		if _, errOut, err := deesc(t, ctx, "import", dir, "--db", db, "--config", cfg); err != nil {
			t.Fatalf("import: %v\n%s", err, errOut)
		}
	}
	rollback := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := cmdRollback(ctx, append(args, "--db", db, "--config", cfg), &out, io.Discard)
		return out.String(), err
	}
	out, err := rollback("1")
	if err != nil || !strings.HasPrefix(out, "dataset version 1,") || !strings.Contains(out, "officers.csv") {
		t.Fatalf("rollback 1: %v\n%s", err, out)
	}
	out, _, err = deesc(t, ctx, "versions", "--db", db, "--config", cfg)
	if err != nil || !strings.Contains(out, "state: current") {
		t.Fatal(err, out)
	}
	if i1, i2 := strings.Index(out, "dataset version 1,"), strings.Index(out, "state: current"); i2 < i1 {
		t.Errorf("versions does not show version 1 current:\n%s", out)
	}
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var officers, entries int
	err = st.DB().QueryRow(`SELECT (SELECT count(*) FROM officers), (SELECT count(*) FROM audit_log
		WHERE route = '/cli/rollback' AND params = 'version=1' AND detail = 'dataset version 1 restored' AND status = 200 AND role = 'cli')`).Scan(&officers, &entries)
	st.Close()
	if err != nil || entries != 1 {
		t.Errorf("audit entries for the rollback: %d, %v", entries, err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "exactly one version"},
		{[]string{"one"}, 2, `got "one"`},
		{[]string{"1", "2"}, 2, "exactly one version"},
		{[]string{"7"}, 1, "the versions are 1, 2"},
	} {
		if _, err := rollback(c.args...); exitCode(err) != c.code || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("rollback %q: code %d, %v; want %d and %q", c.args, exitCode(err), err, c.code, c.want)
		}
	}
	if out, err := rollback("2"); err != nil || !strings.HasPrefix(out, "dataset version 2,") {
		t.Errorf("rollback 2: %v\n%s", err, out)
	}
}
