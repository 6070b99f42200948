package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"deesc/internal/audit"
	"deesc/internal/export"
	"deesc/internal/store"
)

// glmScript is the evaluator's statsmodels script, run on the export.
//
//go:embed cohort_glm.py
var glmScript []byte

// Comparison is the cohort analysis done by deesc and by statsmodels on the
// same officer-months.
type Comparison struct {
	Ran  bool
	Note string // why it was not run, or what to keep in mind
	// The dataset compared on: the main one, or a smaller one when the
	// main one's dense design matrix would not fit in memory.
	Officers, Years int
	SameDataset     bool
	Rows            int64 // officer-months exported
	CSVBytes        int64
	Export          time.Duration // deesc query cohort_inputs to CSV
	// Deesc is GET /api/cohorts?course=ICAT&outcome=force without the
	// result cache, in process.
	Deesc                                    Timing
	DeescRR, DeescLow, DeescHigh, DeescCrude float64
	DeescRows                                int64 // officer-months deesc selected
	Py                                       PyResult
	PyWall                                   time.Duration // the Python process, start to exit
	PyRSS                                    int64         // its peak RSS, bytes
}

// PyResult is what cohort_glm.py prints.
type PyResult struct {
	Rows        int64   `json:"rows"`
	Officers    int64   `json:"officers"`
	Parameters  int     `json:"parameters"`
	ImportS     float64 `json:"import_s"`
	LoadS       float64 `json:"load_s"`
	CrudeS      float64 `json:"crude_s"`
	FitS        float64 `json:"fit_s"`
	Crude       float64 `json:"crude_rate_ratio"`
	RR          float64 `json:"rate_ratio"`
	CILow       float64 `json:"ci_low"`
	CIHigh      float64 `json:"ci_high"`
	SE          float64 `json:"se"`
	Converged   bool    `json:"converged"`
	Statsmodels string  `json:"statsmodels"`
	Pandas      string  `json:"pandas"`
	Numpy       string  `json:"numpy"`
	Python      string  `json:"python"`
}

// pythonTimeout bounds the Python fit.
const pythonTimeout = time.Hour

// designCopies is how many dense copies of the design matrix statsmodels
// holds at once while it fits (patsy's matrix, the weighted copy and its
// pseudo-inverse in each IRLS step, the scores of the sandwich) — an
// estimate, with margin, used only to decide whether to try.
const designCopies = 6

// designBytes estimates statsmodels' peak memory for a Poisson GLM with
// unit and month dummies on rows officer-months.
func designBytes(rows int64, units, months int) int64 {
	return rows * int64(units+months) * 8 * designCopies
}

// compare runs the cohort comparison and returns it; every failure is a
// note in the result, not an error, so the rest of the report stands.
func compare(ctx context.Context, opt Options, dir string, st *store.Store, rep *Report) Comparison {
	c := Comparison{Officers: opt.Officers, Years: opt.Years}
	if err := checkPython(ctx, opt.Python); err != nil {
		c.Note = err.Error()
		return c
	}
	months := opt.Years * 12
	need := designBytes(rep.Dataset.OfficerMonths, rep.Dataset.Units, months)
	avail := opt.StatsmodelsMemory
	if avail <= 0 {
		avail = rep.Machine.MemAvailable / 2
	}
	if avail > 0 && need <= avail {
		c.SameDataset = true
		for _, r := range rep.Endpoints {
			if r.Name == "cohorts" {
				c.Deesc = r.InProcess
				if err := c.readDeesc(r.body); err != nil {
					c.Note = err.Error()
					return c
				}
			}
		}
		if err := c.run(ctx, opt, dir, st, filepath.Join(dir, "main")); err != nil {
			c.Note = err.Error()
		}
		return c
	}
	c.Note = fmt.Sprintf("At %d officers × %d years statsmodels would hold about %s (%s officer-months × %d unit and month dummies × 8 bytes × %d copies), "+
		"more than the %s it may use (half the memory available at the start): not run at that size.", opt.Officers, opt.Years, bytesText(need),
		thousands(rep.Dataset.OfficerMonths), rep.Dataset.Units+months, designCopies, bytesText(avail))
	if opt.StatsmodelsOfficers >= opt.Officers {
		c.Note += " --statsmodels-officers is not smaller than --officers, so there is no smaller size to compare at."
		return c
	}
	c.Officers = opt.StatsmodelsOfficers
	c.Note += fmt.Sprintf(" Compared instead on a dataset of %d officers × %d years (--statsmodels-officers).", c.Officers, c.Years)
	if err := c.smaller(ctx, opt, dir); err != nil {
		c.Note += " " + err.Error()
	}
	return c
}

// smaller generates and imports a dataset of c.Officers officers, times
// deesc's cohort analysis on it and runs the comparison.
func (c *Comparison) smaller(ctx context.Context, opt Options, dir string) error {
	work := filepath.Join(dir, "statsmodels")
	if err := freshDir(work); err != nil {
		return err
	}
	if _, err := generate(filepath.Join(work, "data"), c.Officers, c.Years, opt); err != nil {
		return err
	}
	db := filepath.Join(work, "bench.duckdb")
	if _, err := importData(ctx, opt, filepath.Join(work, "data"), db, work); err != nil {
		return err
	}
	st, err := store.Open(ctx, db, store.Options{MemoryLimit: opt.MemoryLimit, KeepVersions: 1})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer st.Close()
	al, err := audit.Open(ctx, st.DB(), audit.Options{})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer al.Close()
	app := newApp(st, al, slog.New(slog.DiscardHandler), opt.Version, -1)
	defer app.Shutdown()
	path := "/api/cohorts?course=ICAT&outcome=force"
	a, err := inProcess(app, path)
	if err != nil {
		return err
	}
	if a.status != 200 {
		return fmt.Errorf("GET %s answered %d: %.300s", path, a.status, a.body)
	}
	if err := c.readDeesc(a.body); err != nil {
		return err
	}
	c.Deesc, err = repeat(opt.Runs, func() (time.Duration, error) {
		a, err := inProcess(app, path)
		if err == nil && a.status != 200 {
			err = fmt.Errorf("GET %s answered %d", path, a.status)
		}
		return a.took, err
	})
	if err != nil {
		return err
	}
	return c.run(ctx, opt, dir, st, work)
}

// readDeesc reads the rate ratios from an /api/cohorts answer.
func (c *Comparison) readDeesc(body []byte) error {
	var v struct {
		Crude struct {
			RateRatio float64 `json:"rate_ratio"`
		} `json:"crude"`
		Adjusted struct {
			RateRatio float64 `json:"rate_ratio"`
			CILow     float64 `json:"ci_low"`
			CIHigh    float64 `json:"ci_high"`
		} `json:"adjusted"`
		Selection struct {
			OfficerMonths int64 `json:"officer_months"`
		} `json:"selection"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("bench: reading the /api/cohorts answer: %w", err)
	}
	c.DeescCrude, c.DeescRR, c.DeescLow, c.DeescHigh = v.Crude.RateRatio, v.Adjusted.RateRatio, v.Adjusted.CILow, v.Adjusted.CIHigh
	c.DeescRows = v.Selection.OfficerMonths
	return nil
}

// run exports cohort_inputs from st to work/cohort_inputs.csv and fits it
// with cohort_glm.py.
func (c *Comparison) run(ctx context.Context, opt Options, dir string, st *store.Store, work string) error {
	q, ok := st.Queries().Get("cohort_inputs")
	if !ok {
		return errors.New("bench: the catalogue has no cohort_inputs query")
	}
	args, _, err := q.Bind(map[string]string{"course": "ICAT", "outcome": "force"}, time.Now())
	if err != nil {
		return fmt.Errorf("bench: cohort_inputs: %w", err)
	}
	csv := filepath.Join(work, "cohort_inputs.csv")
	f, err := os.Create(csv)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	start := time.Now()
	m, err := st.Export(ctx, q, args, export.CSV, f, store.RunOptions{})
	c.Export = time.Since(start)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bench: exporting cohort_inputs: %w", err)
	}
	c.Rows, c.CSVBytes = m.Rows, m.Bytes
	script := filepath.Join(dir, "cohort_glm.py")
	if err := os.WriteFile(script, glmScript, 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, pythonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, opt.Python, script, csv)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	start = time.Now()
	err = cmd.Run()
	c.PyWall = time.Since(start)
	if err != nil {
		return fmt.Errorf("bench: %s %s: %v\n%s", opt.Python, script, err, tail(stderr.String(), 10))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		c.PyRSS = ru.Maxrss * 1024
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &c.Py); err != nil {
		return fmt.Errorf("bench: reading cohort_glm.py's output: %w: %.300s", err, stdout.String())
	}
	c.Ran = true
	return nil
}

// checkPython returns an error saying what to install when python cannot
// import statsmodels and pandas.
func checkPython(ctx context.Context, python string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import statsmodels, pandas, numpy").CombinedOutput()
	if err != nil {
		return fmt.Errorf("not run: %s cannot import statsmodels and pandas (%v: %s); on Debian: apt-get install -y python3-statsmodels python3-pandas",
			python, err, tail(string(out), 1))
	}
	return nil
}
