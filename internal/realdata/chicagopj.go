package realdata

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pjSource is the Chicago procedural-justice panel, relative to Dir.
var pjSource = filepath.Join("chicago-pj", "pj_officer_level_balanced.csv.gz")

// The Chicago PJ course as the conversion writes it to courses.csv.
const (
	PJCourseID       = "PJ"
	PJCourseTitle    = "Procedural justice and police legitimacy"
	PJCourseCategory = "procedural-justice"
	// PJCourseHours is assumed: the source records no hours. Chicago's
	// procedural-justice course was a one-day class.
	PJCourseHours = 8
)

// ChicagoPJInfo describes what ChicagoPJ wrote, with the source's totals, so a
// test can compare deesc's aggregates with the published panel's.
type ChicagoPJInfo struct {
	Officers   int
	Months     int    // distinct months in the panel
	FirstMonth string // YYYY-MM of period 1
	LastMonth  string // YYYY-MM of the last period

	// Rows is the number of data rows (header excluded) written per
	// contract file name: officers, courses, training, activity, force,
	// complaints, injuries.
	Rows map[string]int

	Complaints, Sustained, Force int // totals over the panel

	Trained      int         // officers with a first_trained period
	NeverTrained int         // officers without one (no training row)
	FirstTrained map[int]int // officers per first_trained period

	// ExactDates counts training rows dated assigned_exact; MonthStartDates
	// those dated the first day of the first_trained month because
	// assigned_exact was blank or fell in another calendar month.
	ExactDates, MonthStartDates int

	// Separations counts officers written with a separation_date;
	// SeparationsDropped those whose resigned date was left out because it
	// preceded appointed, fell before their last panel month or lay in
	// the future.
	Separations, SeparationsDropped int
}

// pjRow is one officer-month of the source panel.
type pjRow struct {
	line                                 int
	uid                                  string
	month                                time.Time // first day of the month
	appointed, resigned, assignedExact   string    // as written; "" = NA
	complaints, sustained, force, period int
	firstTrained                         int // period first trained; 0 = never
}

// readPJ calls fn for each row of the source panel, in file order. The row
// is reused between calls. It fails with ErrNoData when the data is absent,
// and names the line of a value it cannot read.
func readPJ(fn func(r *pjRow) error) error {
	dir, ok := Dir()
	if !ok {
		return ErrNoData
	}
	path := filepath.Join(dir, pjSource)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer gz.Close()
	cr := csv.NewReader(gz)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	at := map[string]int{}
	for i, h := range header {
		at[strings.TrimSpace(h)] = i
	}
	var idx [10]int
	for i, name := range []string{"uid", "month", "appointed", "resigned", "assigned_exact", "complaints", "sustained", "force", "period", "first_trained"} {
		j, ok := at[name]
		if !ok {
			return fmt.Errorf("%s: no column %q", path, name)
		}
		idx[i] = j
	}
	var r pjRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		r.line, _ = cr.FieldPos(0)
		bad := func(col int, why string) error {
			return fmt.Errorf("%s:%d: %s %q: %s", path, r.line, header[idx[col]], rec[idx[col]], why)
		}
		count := func(col int) (int, error) {
			n, err := strconv.Atoi(strings.TrimSpace(rec[idx[col]]))
			if err != nil || n < 0 {
				return 0, bad(col, "not a count")
			}
			return n, nil
		}
		r.uid = strings.TrimSpace(rec[idx[0]])
		if r.uid == "" {
			return bad(0, "blank officer")
		}
		if r.month, err = time.Parse(time.DateOnly, strings.TrimSpace(rec[idx[1]])); err != nil || r.month.Day() != 1 {
			return bad(1, "not the first day of a month")
		}
		r.appointed = strings.TrimSpace(rec[idx[2]])
		r.resigned = strings.TrimSpace(rec[idx[3]])
		r.assignedExact = strings.TrimSpace(rec[idx[4]])
		if r.complaints, err = count(5); err != nil {
			return err
		}
		if r.sustained, err = count(6); err != nil {
			return err
		}
		if r.force, err = count(7); err != nil {
			return err
		}
		if r.period, err = count(8); err != nil {
			return err
		}
		if r.period < 1 {
			return bad(8, "periods start at 1")
		}
		// R writes a never-treated cohort as NA (blank) or Inf.
		switch s := strings.TrimSpace(rec[idx[9]]); s {
		case "", "NA", "Inf":
			r.firstTrained = 0
		default:
			if r.firstTrained, err = strconv.Atoi(s); err != nil || r.firstTrained < 1 {
				return bad(9, "not a period")
			}
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}

// ChicagoPJRows is the published Chicago procedural-justice panel as
// columns, one element per officer-month in file order.
type ChicagoPJRows struct {
	UID          []string
	Period       []int // 1 = 2011-01 … 72 = 2016-12
	Complaints   []int
	Sustained    []int
	Force        []int
	FirstTrained []int // period in which the officer was first trained; 0 = never
}

// ChicagoPJPanel reads the source panel unchanged, for tests that compute
// their own expectations. It fails with ErrNoData when the data is absent.
func ChicagoPJPanel() (ChicagoPJRows, error) {
	var p ChicagoPJRows
	err := readPJ(func(r *pjRow) error {
		p.UID = append(p.UID, r.uid)
		p.Period = append(p.Period, r.period)
		p.Complaints = append(p.Complaints, r.complaints)
		p.Sustained = append(p.Sustained, r.sustained)
		p.Force = append(p.Force, r.force)
		p.FirstTrained = append(p.FirstTrained, r.firstTrained)
		return nil
	})
	if err != nil {
		return ChicagoPJRows{}, fmt.Errorf("realdata.ChicagoPJPanel: %w", err)
	}
	return p, nil
}

// pjOfficer is what the panel says about one officer.
type pjOfficer struct {
	uid, appointed, resigned, assignedExact string
	firstTrained                            int
	lastPeriod                              int
	seen                                    []bool // by period
}

// ChicagoPJ converts the Chicago procedural-justice panel (Wood, Tyler,
// Papachristos, Roth & Sant'Anna; see chicago-pj/SOURCE.txt) into contract
// files officers, courses, training, activity, force, complaints and
// injuries (.csv) in dst, creating dst if needed. It fails with ErrNoData
// when the data is absent, and when the source contradicts itself (an
// officer's fixed values change between months, a period does not match
// its month, an officer-month repeats, sustained exceeds complaints); files
// already written to dst are then left as they are.
//
// The aim is that deesc's officer-month panel equals the published one:
//   - activity has one row per officer-month of the source, so the panel's
//     exposure is exactly the published balanced panel (calls blank);
//   - every officer is in unit "all", division "all": the panel has no units;
//   - separation_date is resigned when it is on or after appointed, not
//     before the officer's last panel month and not in the future; otherwise
//     it is left blank rather than cut months the panel counts;
//   - one course, PJ, of PJCourseHours hours (assumed; the source has none),
//     no recertification, mandatory unknown;
//   - one training row per officer with a first_trained period, dated
//     assigned_exact when that falls in the first_trained calendar month,
//     else the first day of that month. The published panel's assigned is
//     assigned_exact rounded to the nearest month start, so an exact date in
//     the second half of a month is treated from the next month; deesc
//     counts an officer trained from the month of completion, so the exact
//     date would start treatment a month early;
//   - complaints and uses of force are expanded from counts to one row each,
//     dated the 15th of their month, with ids PJC-<uid>-<YYYYMM>-<k> and
//     PJF-<uid>-<YYYYMM>-<k>; the first sustained complaints of a month are
//     "sustained", the rest "not-sustained";
//   - injuries.csv has a header only (the source has none); commendations
//     are not written.
func ChicagoPJ(dst string) (ChicagoPJInfo, error) {
	info, err := chicagoPJ(dst)
	if err != nil {
		return ChicagoPJInfo{}, fmt.Errorf("realdata.ChicagoPJ: %w", err)
	}
	return info, nil
}

func chicagoPJ(dst string) (info ChicagoPJInfo, err error) {
	if _, ok := Dir(); !ok {
		return info, ErrNoData
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return info, err
	}
	names := []string{"officers", "courses", "training", "activity", "force", "complaints", "injuries"}
	outs := map[string]*csvOut{}
	defer func() {
		for _, n := range names {
			if o := outs[n]; o != nil {
				if cerr := o.close(); err == nil {
					err = cerr
				}
			}
		}
	}()
	for _, n := range names {
		o, err := createOut(dst, n)
		if err != nil {
			return info, err
		}
		outs[n] = o
	}

	var (
		officers []*pjOfficer
		byUID    = map[string]*pjOfficer{}
		offset   = 0 // month index of period 1, once known
		periods  = map[int]bool{}
		minP     = 0
		maxP     = 0
	)
	monthIndex := func(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }
	err = readPJ(func(r *pjRow) error {
		if offset == 0 {
			offset = monthIndex(r.month) - r.period + 1
		}
		if monthIndex(r.month)-r.period+1 != offset {
			return fmt.Errorf("line %d: period %d does not match month %s", r.line, r.period, r.month.Format("2006-01"))
		}
		if r.sustained > r.complaints {
			return fmt.Errorf("line %d: officer %s has %d sustained of %d complaints", r.line, r.uid, r.sustained, r.complaints)
		}
		o := byUID[r.uid]
		if o == nil {
			o = &pjOfficer{uid: r.uid, appointed: r.appointed, resigned: r.resigned, assignedExact: r.assignedExact, firstTrained: r.firstTrained}
			byUID[r.uid] = o
			officers = append(officers, o)
		} else if o.appointed != r.appointed || o.resigned != r.resigned || o.assignedExact != r.assignedExact || o.firstTrained != r.firstTrained {
			return fmt.Errorf("line %d: officer %s's appointed, resigned, assigned_exact or first_trained differs from an earlier month", r.line, r.uid)
		}
		for len(o.seen) <= r.period {
			o.seen = append(o.seen, false)
		}
		if o.seen[r.period] {
			return fmt.Errorf("line %d: officer %s has period %d twice", r.line, r.uid, r.period)
		}
		o.seen[r.period] = true
		o.lastPeriod = max(o.lastPeriod, r.period)
		if len(periods) == 0 || r.period < minP {
			minP = r.period
		}
		if len(periods) == 0 || r.period > maxP {
			maxP = r.period
		}
		periods[r.period] = true

		month := r.month.Format("2006-01")
		ym := r.month.Format("200601")
		day := r.month.AddDate(0, 0, 14).Format(time.DateOnly)
		if err := outs["activity"].put("officer_id", r.uid, "month", month); err != nil {
			return err
		}
		for k := 1; k <= r.complaints; k++ {
			finding := "not-sustained"
			if k <= r.sustained {
				finding = "sustained"
			}
			id := "PJC-" + r.uid + "-" + ym + "-" + strconv.Itoa(k)
			if err := outs["complaints"].put("complaint_id", id, "officer_id", r.uid, "received_on", day, "finding", finding); err != nil {
				return err
			}
		}
		for k := 1; k <= r.force; k++ {
			id := "PJF-" + r.uid + "-" + ym + "-" + strconv.Itoa(k)
			if err := outs["force"].put("incident_id", id, "officer_id", r.uid, "occurred_on", day); err != nil {
				return err
			}
		}
		info.Complaints += r.complaints
		info.Sustained += r.sustained
		info.Force += r.force
		return nil
	})
	if err != nil {
		return info, err
	}
	if len(officers) == 0 {
		return info, errors.New("the source panel has no rows")
	}
	monthOf := func(period int) time.Time {
		i := offset + period - 1
		return time.Date(i/12, time.Month(i%12+1), 1, 0, 0, 0, 0, time.UTC)
	}
	info.Officers = len(officers)
	info.Months = len(periods)
	info.FirstMonth = monthOf(minP).Format("2006-01")
	info.LastMonth = monthOf(maxP).Format("2006-01")
	info.FirstTrained = map[int]int{}

	if err := outs["courses"].put("course_id", PJCourseID, "title", PJCourseTitle, "category", PJCourseCategory,
		"hours", strconv.Itoa(PJCourseHours)); err != nil {
		return info, err
	}
	today := time.Now().UTC().Format(time.DateOnly)
	for _, o := range officers {
		sep := ""
		if o.resigned != "" {
			// ISO dates compare as text.
			if o.resigned >= o.appointed && o.resigned >= monthOf(o.lastPeriod).Format(time.DateOnly) && o.resigned <= today {
				sep = o.resigned
				info.Separations++
			} else {
				info.SeparationsDropped++
			}
		}
		if err := outs["officers"].put("officer_id", o.uid, "unit", "all", "division", "all",
			"hire_date", o.appointed, "separation_date", sep); err != nil {
			return info, err
		}
		if o.firstTrained == 0 {
			info.NeverTrained++
			continue
		}
		info.Trained++
		info.FirstTrained[o.firstTrained]++
		start := monthOf(o.firstTrained)
		completed := start.Format(time.DateOnly)
		if t, err := time.Parse(time.DateOnly, o.assignedExact); err == nil && t.Year() == start.Year() && t.Month() == start.Month() {
			completed = o.assignedExact
			info.ExactDates++
		} else {
			info.MonthStartDates++
		}
		if err := outs["training"].put("officer_id", o.uid, "course_id", PJCourseID, "completed_on", completed); err != nil {
			return info, err
		}
	}
	info.Rows = map[string]int{}
	for _, n := range names {
		info.Rows[n] = outs[n].rows
	}
	return info, nil
}
