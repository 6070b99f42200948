package realdata

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"deesc/internal/contract"
)

// The conversion and both readings of the source run once per test binary;
// the tests below share them.
var (
	pjOnce sync.Once
	pjDir  string
	pjInfo ChicagoPJInfo
	pjSrc  *source
	pjErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pjDir != "" {
		os.RemoveAll(pjDir)
	}
	os.Exit(code)
}

// converted returns the directory ChicagoPJ wrote, its info and the source
// as the test reads it; it skips the test when the real data is absent.
func converted(t *testing.T) (string, ChicagoPJInfo, *source) {
	t.Helper()
	real, ok := Dir()
	if !ok {
		t.Skip(ErrNoData)
	}
	pjOnce.Do(func() {
		if pjDir, pjErr = os.MkdirTemp("", "realdata-pj-"); pjErr != nil {
			return
		}
		var srcErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			pjSrc, srcErr = readSource(filepath.Join(real, pjSource))
		}()
		pjInfo, pjErr = ChicagoPJ(pjDir)
		<-done
		pjErr = errors.Join(pjErr, srcErr)
	})
	if pjErr != nil {
		t.Fatal(pjErr)
	}
	return pjDir, pjInfo, pjSrc
}

// source is the published panel as this test reads it, independently of
// readPJ: plain encoding/csv, columns looked up by name.
type source struct {
	uid                               []string
	period, complaints, sustained     []int
	force, firstTrained               []int
	month                             []string // YYYY-MM
	periodMonth                       map[int]string
	officers                          map[string]srcOfficer
	order                             []string // officers in order of first appearance
	totComplaints, totSustained, totF int
}

type srcOfficer struct {
	appointed, resigned, assignedExact string
	firstTrained                       int // 0 = never
}

func readSource(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(gz)
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	s := &source{periodMonth: map[int]string{}, officers: map[string]srcOfficer{}}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		atoi := func(name string) int {
			v := rec[col[name]]
			if v == "" || v == "NA" || v == "Inf" {
				return 0
			}
			n, e := strconv.Atoi(v)
			if e != nil {
				err = errors.Join(err, fmt.Errorf("%s %q: %w", name, v, e))
			}
			return n
		}
		uid := rec[col["uid"]]
		p, c, su, fo, ft := atoi("period"), atoi("complaints"), atoi("sustained"), atoi("force"), atoi("first_trained")
		if err != nil {
			return nil, err
		}
		m := rec[col["month"]][:7]
		s.uid = append(s.uid, uid)
		s.period = append(s.period, p)
		s.complaints = append(s.complaints, c)
		s.sustained = append(s.sustained, su)
		s.force = append(s.force, fo)
		s.firstTrained = append(s.firstTrained, ft)
		s.month = append(s.month, m)
		if prev, ok := s.periodMonth[p]; ok && prev != m {
			return nil, fmt.Errorf("period %d is both %s and %s", p, prev, m)
		}
		s.periodMonth[p] = m
		if _, ok := s.officers[uid]; !ok {
			s.order = append(s.order, uid)
			s.officers[uid] = srcOfficer{rec[col["appointed"]], rec[col["resigned"]], rec[col["assigned_exact"]], ft}
		}
		s.totComplaints += c
		s.totSustained += su
		s.totF += fo
	}
	return s, nil
}

var (
	outMu    sync.Mutex
	outCache = map[string][][]string{} // path → records, header first
)

// readOut reads dir/<name>.csv with encoding/csv, which also checks that
// every record has the header's number of fields.
func readOut(t *testing.T, dir, name string) (header []string, rows [][]string) {
	t.Helper()
	path := filepath.Join(dir, name+".csv")
	outMu.Lock()
	defer outMu.Unlock()
	if recs, ok := outCache[path]; ok {
		return recs[0], recs[1:]
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s.csv: %v", name, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s.csv is empty (no header)", name)
	}
	outCache[path] = recs
	return recs[0], recs[1:]
}

// column returns the index of name in header or fails the test.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, header)
	}
	return i
}

// TestChicagoPJContract checks every written file against the contract
// itself: header, required values, kinds, ranges, dates, keys and references.
func TestChicagoPJContract(t *testing.T) {
	dir, _, _ := converted(t)
	today := time.Now().UTC()
	keys := map[string]map[string]bool{} // file → its single-column key values
	for _, cf := range contract.Files() {
		if cf.Name == "commendations" {
			if _, err := os.Stat(filepath.Join(dir, cf.Name+".csv")); err == nil {
				t.Errorf("commendations.csv written; the source has none")
			}
			continue
		}
		t.Run(cf.Name, func(t *testing.T) {
			header, rows := readOut(t, dir, cf.Name)
			var want []string
			for _, c := range cf.Columns {
				want = append(want, c.Name)
			}
			if !slices.Equal(header, want) {
				t.Fatalf("header %v, want %v", header, want)
			}
			var keyCols, refCols []int
			for _, k := range cf.Key {
				keyCols = append(keyCols, column(t, header, k))
			}
			for _, ref := range cf.Refs {
				refCols = append(refCols, column(t, header, ref.Column))
			}
			seen := map[string]int{}
			parts := make([]string, len(keyCols))
			var bad int
			fail := func(line int, format string, args ...any) {
				if bad++; bad <= 10 {
					t.Errorf("%s.csv:%d: %s", cf.Name, line, fmt.Sprintf(format, args...))
				}
			}
			for r, rec := range rows {
				line := r + 2
				for i, c := range cf.Columns {
					v := rec[i]
					if v == "" {
						if c.Required {
							fail(line, "%s is blank", c.Name)
						}
						continue
					}
					if err := checkValue(c, v, today); err != nil {
						fail(line, "%s: %v", c.Name, err)
					}
				}
				if len(keyCols) > 0 {
					for i, c := range keyCols {
						parts[i] = rec[c]
					}
					key := strings.Join(parts, "\x00")
					if first, dup := seen[key]; dup {
						fail(line, "key %v repeats line %d", parts, first)
					}
					seen[key] = line
				}
				for i, ref := range cf.Refs {
					if v := rec[refCols[i]]; !keys[ref.File][v] {
						fail(line, "%s %q is not in %s.csv", ref.Column, v, ref.File)
					}
				}
				if cf.Name == "officers" {
					hire, sep := rec[column(t, header, "hire_date")], rec[column(t, header, "separation_date")]
					if sep != "" && sep < hire {
						fail(line, "separation_date %s before hire_date %s", sep, hire)
					}
				}
			}
			if len(cf.Key) == 1 {
				k := map[string]bool{}
				for _, rec := range rows {
					k[rec[column(t, header, cf.Key[0])]] = true
				}
				keys[cf.Name] = k
			}
		})
	}
}

// checkValue checks one non-blank value against its column's kind and range,
// and a date against the contract's earliest date and today.
func checkValue(c contract.Column, v string, today time.Time) error {
	var num float64
	switch c.Kind {
	case contract.Date, contract.Timestamp:
		d, err := contract.ParseDate(v)
		if err != nil {
			return err
		}
		if d.Before(contract.Earliest) || d.After(today) {
			return fmt.Errorf("date %s before %s or in the future", v, contract.Earliest.Format(time.DateOnly))
		}
		return nil
	case contract.Month:
		_, err := contract.ParseMonth(v)
		return err
	case contract.Enum:
		_, err := contract.ParseEnum(v, c.Values)
		return err
	case contract.Bool:
		_, _, err := contract.ParseBool(v)
		return err
	case contract.Int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		num = float64(n)
	case contract.Number:
		n, err := contract.ParseNumber(v)
		if err != nil {
			return err
		}
		num = n
	default:
		return nil
	}
	if c.HasRange && (num < c.Min || num > c.Max || (c.MinOpen && num == c.Min)) {
		return fmt.Errorf("%s outside [%g, %g]", v, c.Min, c.Max)
	}
	return nil
}

// TestChicagoPJCounts compares what was written with the source, per
// officer-month, and the returned info with the source's totals.
func TestChicagoPJCounts(t *testing.T) {
	dir, info, src := converted(t)

	// One cell per officer-month of the source: its counts there and in
	// the written files.
	type om struct{ uid, month string }
	type cell struct {
		want, got [3]int // complaints, sustained, force
		active    int    // activity rows
	}
	cells := make([]cell, 0, len(src.uid))
	at := make(map[om]int, len(src.uid))
	for i := range src.uid {
		k := om{src.uid[i], src.month[i]}
		j, ok := at[k]
		if !ok {
			j = len(cells)
			at[k] = j
			cells = append(cells, cell{})
		}
		cells[j].want[0] += src.complaints[i]
		cells[j].want[1] += src.sustained[i]
		cells[j].want[2] += src.force[i]
	}
	trained := 0
	for _, o := range src.officers {
		if o.firstTrained > 0 {
			trained++
		}
	}
	find := func(file string, k om) *cell {
		j, ok := at[k]
		if !ok {
			t.Fatalf("%s.csv: officer %s month %s is not an officer-month of the source", file, k.uid, k.month)
		}
		return &cells[j]
	}

	h, rows := readOut(t, dir, "activity")
	iOff, iMonth := column(t, h, "officer_id"), column(t, h, "month")
	for _, r := range rows {
		find("activity", om{r[iOff], r[iMonth]}).active++
	}
	h, rows = readOut(t, dir, "complaints")
	iOff, iDate, iFind := column(t, h, "officer_id"), column(t, h, "received_on"), column(t, h, "finding")
	for _, r := range rows {
		c := find("complaints", om{r[iOff], r[iDate][:7]})
		c.got[0]++
		if r[iFind] == "sustained" {
			c.got[1]++
		}
	}
	h, rows = readOut(t, dir, "force")
	iOff, iDate = column(t, h, "officer_id"), column(t, h, "occurred_on")
	for _, r := range rows {
		find("force", om{r[iOff], r[iDate][:7]}).got[2]++
	}
	bad := 0
	for k, j := range at {
		if c := cells[j]; c.got != c.want || c.active != 1 {
			if bad++; bad <= 10 {
				t.Errorf("officer %s month %s: wrote %d activity rows and (complaints, sustained, force) %v; source %v", k.uid, k.month, c.active, c.got, c.want)
			}
		}
	}

	months := len(src.periodMonth)
	wantRows := map[string]int{
		"officers": len(src.officers), "courses": 1, "training": trained, "activity": len(src.uid),
		"force": src.totF, "complaints": src.totComplaints, "injuries": 0,
	}
	for name, w := range wantRows {
		_, rows := readOut(t, dir, name)
		if len(rows) != w || info.Rows[name] != w {
			t.Errorf("%s.csv: %d rows written, info says %d, source implies %d", name, len(rows), info.Rows[name], w)
		}
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"officers", info.Officers, len(src.officers)},
		{"months", info.Months, months},
		{"balanced rows", info.Officers * info.Months, len(src.uid)},
		{"complaints", info.Complaints, src.totComplaints},
		{"sustained", info.Sustained, src.totSustained},
		{"force", info.Force, src.totF},
		{"trained", info.Trained, trained},
		{"never trained", info.NeverTrained, len(src.officers) - trained},
	} {
		if c.got != c.want {
			t.Errorf("%s: info %d, source %d", c.name, c.got, c.want)
		}
	}
	if info.FirstMonth != src.periodMonth[1] || info.LastMonth != src.periodMonth[months] {
		t.Errorf("info months %s..%s, source %s..%s", info.FirstMonth, info.LastMonth, src.periodMonth[1], src.periodMonth[months])
	}
}

// TestChicagoPJTraining checks that every officer counts as trained in deesc
// from exactly the published first_trained month, and the officers' dates.
func TestChicagoPJTraining(t *testing.T) {
	dir, info, src := converted(t)

	h, rows := readOut(t, dir, "training")
	completed := map[string]string{}
	for _, r := range rows {
		completed[r[column(t, h, "officer_id")]] = r[column(t, h, "completed_on")]
	}
	exact, mismatched := 0, 0
	for _, uid := range src.order {
		o := src.officers[uid]
		got, ok := completed[uid]
		if o.firstTrained == 0 {
			if ok {
				t.Errorf("officer %s never trained in the source, trained %s in the conversion", uid, got)
			}
			continue
		}
		want := src.periodMonth[o.firstTrained]
		if !ok || got[:7] != want {
			t.Errorf("officer %s: completed_on %q, want a day in first_trained month %s", uid, got, want)
			continue
		}
		if o.assignedExact != "" && o.assignedExact[:7] == want {
			exact++
			if got != o.assignedExact {
				t.Errorf("officer %s: completed_on %s, want assigned_exact %s", uid, got, o.assignedExact)
			}
		} else {
			mismatched++
		}
	}
	if info.ExactDates != exact || info.MonthStartDates != mismatched {
		t.Errorf("info: %d exact, %d month-start dates; source: %d, %d", info.ExactDates, info.MonthStartDates, exact, mismatched)
	}
	t.Logf("%d officers trained on their exact date, %d whose assigned_exact lies outside the first_trained month", exact, mismatched)

	h, rows = readOut(t, dir, "officers")
	dropped := 0
	for _, r := range rows {
		o := src.officers[r[column(t, h, "officer_id")]]
		if hire := r[column(t, h, "hire_date")]; hire != o.appointed {
			t.Errorf("officer %s: hire_date %s, appointed %s", r[0], hire, o.appointed)
		}
		switch sep := r[column(t, h, "separation_date")]; {
		case sep == "" && o.resigned != "":
			dropped++
		case sep != o.resigned:
			t.Errorf("officer %s: separation_date %q, resigned %q", r[0], sep, o.resigned)
		}
	}
	if dropped != info.SeparationsDropped {
		t.Errorf("%d resigned dates left out, info says %d", dropped, info.SeparationsDropped)
	}
}

func TestChicagoPJPanel(t *testing.T) {
	_, _, src := converted(t)
	p, err := ChicagoPJPanel()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []int
	}{
		{"period", p.Period, src.period},
		{"complaints", p.Complaints, src.complaints},
		{"sustained", p.Sustained, src.sustained},
		{"force", p.Force, src.force},
		{"first_trained", p.FirstTrained, src.firstTrained},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s differs from the source (%d values, want %d)", c.name, len(c.got), len(c.want))
		}
	}
	if !slices.Equal(p.UID, src.uid) {
		t.Errorf("uid differs from the source")
	}
}
