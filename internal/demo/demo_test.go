package demo

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testEnd is the End used by the tests.
func testEnd() time.Time { return time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC) }

// smallOptions returns default options scaled down for fast tests.
func smallOptions(officers, years int) Options {
	o := DefaultOptions()
	o.Officers, o.Years, o.End = officers, years, testEnd()
	return o
}

// table is one parsed CSV file.
type table struct {
	header []string
	rows   [][]string
	col    map[string]int
}

// get returns column name of row.
func (t *table) get(row []string, name string) string { return row[t.col[name]] }

// dataset is every file of a written dataset, by file name without ".gz".
type dataset map[string]*table

// writeAndLoad writes opt into a temporary directory and parses every file,
// failing the test if a file does not parse, its header differs from the
// contract or its row count differs from the summary.
func writeAndLoad(t testing.TB, opt Options) (dataset, string) {
	t.Helper()
	dir := t.TempDir()
	sum, err := Write(dir, opt)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if len(sum.Files) != nFiles {
		t.Fatalf("Summary lists %d files, want %d", len(sum.Files), nFiles)
	}
	ds := dataset{}
	for f, fs := range sum.Files {
		name, header := fileSpec(f)
		if opt.Gzip {
			name += ".gz"
		}
		if fs.Name != name {
			t.Errorf("Summary.Files[%d].Name = %q, want %q", f, fs.Name, name)
		}
		raw, err := os.ReadFile(filepath.Join(dir, fs.Name))
		if err != nil {
			t.Fatal(err)
		}
		if opt.Gzip {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s: %v", fs.Name, err)
			}
			if raw, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", fs.Name, err)
			}
		}
		recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			t.Fatalf("%s does not parse: %v", fs.Name, err)
		}
		if got := strings.Join(recs[0], ","); got != header {
			t.Errorf("%s header = %q, want %q", fs.Name, got, header)
		}
		tb := &table{header: recs[0], rows: recs[1:], col: map[string]int{}}
		for i, h := range tb.header {
			tb.col[h] = i
		}
		if len(tb.rows) != fs.Rows {
			t.Errorf("%s has %d rows, Summary says %d", fs.Name, len(tb.rows), fs.Rows)
		}
		ds[strings.TrimSuffix(name, ".gz")] = tb
	}
	return ds, dir
}

// day parses YYYY-MM-DD into a day number, failing the test on bad input.
func day(t testing.TB, s string) int {
	t.Helper()
	tm, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatalf("bad date %q: %v", s, err)
	}
	return daysFromCivil(tm.Year(), int(tm.Month()), tm.Day())
}

// monthKey returns "YYYY-MM" of a day number.
func monthKey(d int) string {
	y, m, _ := civilFromDays(d)
	return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

func TestDates(t *testing.T) {
	tests := []struct {
		y, m, d int
		days    int
		weekday int
	}{
		{1970, 1, 1, 0, 4},
		{1950, 1, 1, -7305, 0},
		{2000, 2, 29, 11016, 2},
		{2024, 12, 31, 20088, 2},
		{2025, 3, 1, 20148, 6},
	}
	for _, tc := range tests {
		if got := daysFromCivil(tc.y, tc.m, tc.d); got != tc.days {
			t.Errorf("daysFromCivil(%d,%d,%d) = %d, want %d", tc.y, tc.m, tc.d, got, tc.days)
		}
		if y, m, d := civilFromDays(tc.days); y != tc.y || m != tc.m || d != tc.d {
			t.Errorf("civilFromDays(%d) = %d-%d-%d", tc.days, y, m, d)
		}
		if got := weekday(tc.days); got != tc.weekday {
			t.Errorf("weekday(%d-%d-%d) = %d, want %d", tc.y, tc.m, tc.d, got, tc.weekday)
		}
		if got := time.Date(tc.y, time.Month(tc.m), tc.d, 0, 0, 0, 0, time.UTC).Weekday(); int(got) != tc.weekday {
			t.Errorf("test table weekday of %d-%d-%d is %d", tc.y, tc.m, tc.d, got)
		}
	}
	for z := -8000; z < 30000; z += 7 {
		y, m, d := civilFromDays(z)
		if daysFromCivil(y, m, d) != z {
			t.Fatalf("round trip fails at %d", z)
		}
	}
	if got := addYears(daysFromCivil(2000, 2, 29), 1); got != daysFromCivil(2001, 3, 1) {
		t.Errorf("addYears(2000-02-29, 1) = %d", got)
	}
}

func TestAppendText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a, b", `"a, b"`},
		{`say "hi"`, `"say ""hi"""`},
		{"two\nlines", "\"two\nlines\""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := string(appendText(nil, tc.in)); got != tc.want {
			t.Errorf("appendText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := smallOptions(500, 3)
	tests := []struct {
		name   string
		change func(*Options)
		want   string // substring of the error; "" = valid
	}{
		{"default with End", func(*Options) {}, ""},
		{"zero officers", func(o *Options) { o.Officers = 0 }, "Options.Officers"},
		{"too many officers", func(o *Options) { o.Officers = MaxOfficers + 1 }, "Options.Officers"},
		{"zero years", func(o *Options) { o.Years = 0 }, "Options.Years"},
		{"zero End", func(o *Options) { o.End = time.Time{} }, "Options.End"},
		{"End not a month end", func(o *Options) { o.End = time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC) }, "last day of a month"},
		{"leap February end", func(o *Options) { o.End = time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC) }, ""},
		{"window before 1990", func(o *Options) { o.Years = 40; o.End = time.Date(2000, 12, 31, 0, 0, 0, 0, time.UTC) }, "Options.End"},
		{"zero force effect", func(o *Options) { o.Effect.Force = 0 }, "Options.Effect.Force"},
		{"NaN injuries effect", func(o *Options) { o.Effect.OfficerInjuries = math.NaN() }, "Options.Effect.OfficerInjuries"},
		{"zero trend", func(o *Options) { o.Trend = 0 }, "Options.Trend"},
		{"negative workers", func(o *Options) { o.Workers = -1 }, "Options.Workers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.change(&o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error naming %q", err, tc.want)
			}
			if tc.want != "" {
				if _, err := Write(t.TempDir(), o); err == nil {
					t.Fatalf("Write accepted invalid options")
				}
			}
		})
	}
}

func TestWriteFailsOnUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(filepath.Join(file, "sub"), smallOptions(100, 1)); err == nil {
		t.Fatal("Write into a path below a regular file succeeded")
	}
}

// readDir returns every file of dir by name.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func TestDeterministic(t *testing.T) {
	base := smallOptions(400, 3)
	write := func(o Options) map[string][]byte {
		dir := t.TempDir()
		if _, err := Write(dir, o); err != nil {
			t.Fatal(err)
		}
		return readDir(t, dir)
	}
	a := write(base)
	if len(a) != nFiles {
		t.Fatalf("wrote %d files, want %d (no temporary files left)", len(a), nFiles)
	}
	tests := []struct {
		name   string
		change func(*Options)
		same   bool
	}{
		{"same options", func(*Options) {}, true},
		{"one worker", func(o *Options) { o.Workers = 1 }, true},
		{"seven workers", func(o *Options) { o.Workers = 7 }, true},
		{"other seed", func(o *Options) { o.Seed = 2 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.change(&o)
			b := write(o)
			for name, want := range a {
				if name == CoursesFile {
					continue // the catalogue does not depend on the seed
				}
				if equal := bytes.Equal(b[name], want); equal != tc.same {
					t.Errorf("%s identical = %v, want %v", name, equal, tc.same)
				}
			}
		})
	}
	t.Run("gzip holds the same bytes", func(t *testing.T) {
		o := base
		o.Gzip = true
		for name, gz := range write(o) {
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(plain, a[strings.TrimSuffix(name, ".gz")]) {
				t.Errorf("%s differs from the plain file", name)
			}
		}
	})
}

// service is an officer's service span parsed from officers.csv.
type service struct {
	hire, last int // last = separation or End
	unit       string
	separated  bool
}

// officers returns the officers of ds by ID.
func officers(t testing.TB, ds dataset, end int) map[string]service {
	t.Helper()
	tb := ds[OfficersFile]
	out := map[string]service{}
	for _, r := range tb.rows {
		s := service{hire: day(t, tb.get(r, "hire_date")), last: end, unit: tb.get(r, "unit")}
		if sep := tb.get(r, "separation_date"); sep != "" {
			s.last, s.separated = day(t, sep), true
		}
		out[tb.get(r, "officer_id")] = s
	}
	return out
}

func TestContract(t *testing.T) {
	opt := smallOptions(1500, 5)
	ds, _ := writeAndLoad(t, opt)
	end := day(t, "2025-12-31")
	start := day(t, opt.Start().Format(time.DateOnly))
	minDay := day(t, "1950-01-01")
	inSet := func(list []string, v string) bool { return slices.Contains(list, v) }
	bools := []string{"true", "false", ""}

	// officers
	tb := ds[OfficersFile]
	offs := map[string]service{}
	units, divisions := map[string]bool{}, map[string]bool{}
	serving := 0
	for _, r := range tb.rows {
		id := tb.get(r, "officer_id")
		if _, dup := offs[id]; dup {
			t.Fatalf("officer_id %s repeated", id)
		}
		if id[0] != '0' || strings.Trim(id, "0123456789") != "" || len(id) < 6 {
			t.Errorf("officer_id %q is not a zero-padded badge number", id)
		}
		hire := day(t, tb.get(r, "hire_date"))
		s := service{hire: hire, last: end, unit: tb.get(r, "unit")}
		if sep := tb.get(r, "separation_date"); sep != "" {
			s.last, s.separated = day(t, sep), true
			if s.last < hire || s.last > end || s.last < start {
				t.Errorf("officer %s separation %s outside [hire, End] or before the window", id, sep)
			}
		} else {
			serving++
		}
		if hire < minDay || hire > end {
			t.Errorf("officer %s hire %s outside [1950, End]", id, tb.get(r, "hire_date"))
		}
		if !inSet([]string{"Constable", "Sergeant", "Staff Sergeant", "Inspector"}, tb.get(r, "rank")) ||
			!inSet([]string{"male", "female", ""}, tb.get(r, "gender")) || s.unit == "" || tb.get(r, "division") == "" ||
			!strings.HasPrefix(s.unit, tb.get(r, "division")+" ") {
			t.Errorf("officer row %v has an invalid rank, gender, unit or division", r)
		}
		units[s.unit], divisions[tb.get(r, "division")] = true, true
		offs[id] = s
	}
	if serving < opt.Officers*85/100 || serving > opt.Officers*115/100 {
		t.Errorf("%d officers serving at End, want about %d", serving, opt.Officers)
	}
	if len(divisions) < 3 || len(units) < 10 {
		t.Errorf("%d divisions and %d units, want a realistic structure", len(divisions), len(units))
	}
	inService := func(file, id string, d int) {
		s, ok := offs[id]
		if !ok {
			t.Fatalf("%s: unknown officer %s", file, id)
		}
		if d < s.hire || d > s.last || d > end || d < minDay {
			t.Errorf("%s: officer %s has a date outside service [%d, %d]: %d", file, id, s.hire, s.last, d)
		}
	}

	// courses
	tb = ds[CoursesFile]
	courses := map[string]bool{}
	for _, r := range tb.rows {
		id := tb.get(r, "course_id")
		if courses[id] {
			t.Errorf("course_id %s repeated", id)
		}
		courses[id] = true
		h, err := strconv.Atoi(tb.get(r, "hours"))
		if err != nil || h <= 0 || h > 200 || tb.get(r, "title") == "" || tb.get(r, "category") == "" {
			t.Errorf("course row %v invalid", r)
		}
		if rd := tb.get(r, "recert_days"); rd != "" {
			if n, err := strconv.Atoi(rd); err != nil || n <= 0 {
				t.Errorf("course %s recert_days %q", id, rd)
			}
		}
		if !inSet([]string{"true", "false"}, tb.get(r, "mandatory")) {
			t.Errorf("course %s mandatory %q", id, tb.get(r, "mandatory"))
		}
	}
	for _, id := range []string{DeescalationCourse, UseOfForceRecertCourse, FirearmsCourse, CEWCourse, FirstAidCourse, CrisisInterventionCourse, ProceduralJusticeCourse} {
		if !courses[id] {
			t.Errorf("course %s missing", id)
		}
	}

	// training
	tb = ds[TrainingFile]
	seen := map[string]bool{}
	blankHours := 0
	for _, r := range tb.rows {
		id, c, d := tb.get(r, "officer_id"), tb.get(r, "course_id"), tb.get(r, "completed_on")
		if key := id + "|" + c + "|" + d; seen[key] {
			t.Errorf("training %s repeated", key)
		} else {
			seen[key] = true
		}
		if !courses[c] {
			t.Errorf("training: unknown course %s", c)
		}
		inService(TrainingFile, id, day(t, d))
		if h := tb.get(r, "hours"); h == "" {
			blankHours++
		} else if n, err := strconv.Atoi(h); err != nil || n < 0 || n > 200 {
			t.Errorf("training hours %q", h)
		}
		if v := tb.get(r, "delivery"); v != "" && !inSet(Deliveries(), v) {
			t.Errorf("training delivery %q", v)
		}
	}
	if share := float64(blankHours) / float64(len(tb.rows)); share < 0.6 || share > 0.95 {
		t.Errorf("%.2f of training rows have blank hours, want most", share)
	}

	// activity: exactly one row per officer per month in service.
	tb = ds[ActivityFile]
	seen = map[string]bool{}
	blankCalls := 0
	for _, r := range tb.rows {
		id, m := tb.get(r, "officer_id"), tb.get(r, "month")
		if key := id + "|" + m; seen[key] {
			t.Errorf("activity %s repeated", key)
		} else {
			seen[key] = true
		}
		s := offs[id]
		if m < monthKey(max(s.hire, start)) || m > monthKey(s.last) {
			t.Errorf("activity %s %s outside service", id, m)
		}
		if v := tb.get(r, "calls_for_service"); v == "" {
			blankCalls++
		} else if n, err := strconv.Atoi(v); err != nil || n < 0 {
			t.Errorf("activity calls %q", v)
		}
	}
	want := 0
	for _, s := range offs {
		y0, m0, _ := civilFromDays(max(s.hire, start))
		y1, m1, _ := civilFromDays(s.last)
		want += (y1-y0)*12 + m1 - m0 + 1
	}
	if len(tb.rows) != want {
		t.Errorf("activity has %d rows, want %d officer-months in service", len(tb.rows), want)
	}
	if blankCalls == 0 || blankCalls > len(tb.rows)/20 {
		t.Errorf("%d blank calls_for_service of %d, want a small share", blankCalls, len(tb.rows))
	}

	// force
	tb = ds[ForceFile]
	type incidentKey struct{ date, unit, beh string }
	incidents := map[string]incidentKey{}
	injuredRow := map[string]string{} // incident|officer → officer_injured
	perIncident := map[string]int{}
	seen = map[string]bool{}
	for _, r := range tb.rows {
		inc, id := tb.get(r, "incident_id"), tb.get(r, "officer_id")
		if key := inc + "|" + id; seen[key] {
			t.Errorf("force %s repeated", key)
		} else {
			seen[key] = true
		}
		d := day(t, tb.get(r, "occurred_on"))
		inService(ForceFile, id, d)
		if d < start {
			t.Errorf("force %s before the window", inc)
		}
		k := incidentKey{tb.get(r, "occurred_on"), tb.get(r, "unit"), tb.get(r, "subject_behaviour")}
		if prev, ok := incidents[inc]; ok && prev != k {
			t.Errorf("incident %s rows disagree: %v vs %v", inc, prev, k)
		}
		incidents[inc] = k
		perIncident[inc]++
		if k.unit != offs[id].unit {
			t.Errorf("force %s unit %s is not officer %s's unit", inc, k.unit, id)
		}
		if !inSet(SubjectBehaviours(), k.beh) || !inSet(Responses(), tb.get(r, "response")) || !inSet(Weapons(), tb.get(r, "weapon")) {
			t.Errorf("force row %v has an invalid enumeration", r)
		}
		for _, c := range []string{"subject_injured", "officer_injured", "mental_health_crisis", "substance_use", "subject_weapon", "de_escalation_attempted", "reviewed"} {
			if !inSet(bools, tb.get(r, c)) {
				t.Errorf("force %s %s = %q", inc, c, tb.get(r, c))
			}
		}
		if v := tb.get(r, "subject_race"); v != "" && !inSet(SubjectRaces(), v) {
			t.Errorf("force subject_race %q", v)
		}
		if v := tb.get(r, "subject_gender"); !inSet([]string{"male", "female", "other", ""}, v) {
			t.Errorf("force subject_gender %q", v)
		}
		if v := tb.get(r, "subject_age"); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 14 || n > 80 {
				t.Errorf("force subject_age %q", v)
			}
		}
		resp, weapon := tb.get(r, "response"), tb.get(r, "weapon")
		if (resp == "lethal-force") != (weapon == "firearm" || weapon == "vehicle") ||
			(resp == "intermediate-weapon") != inSet([]string{"OC spray", "CEW", "less-lethal launcher", "police service dog"}, weapon) && weapon != "baton" {
			t.Errorf("force %s: weapon %s inconsistent with response %s", inc, weapon, resp)
		}
		injuredRow[inc+"|"+id] = tb.get(r, "officer_injured")
	}
	multi := 0
	for _, n := range perIncident {
		if n > 1 {
			multi++
		}
	}
	if share := float64(multi) / float64(len(perIncident)); share < 0.05 || share > 0.3 {
		t.Errorf("%.2f of incidents involve several officers", share)
	}

	// complaints
	tb = ds[ComplaintsFile]
	seen = map[string]bool{}
	oldPending, old, sustained := 0, 0, 0
	quoted := false
	for _, r := range tb.rows {
		c, id := tb.get(r, "complaint_id"), tb.get(r, "officer_id")
		if key := c + "|" + id; seen[key] {
			t.Errorf("complaint %s repeated", key)
		} else {
			seen[key] = true
		}
		d := day(t, tb.get(r, "received_on"))
		inService(ComplaintsFile, id, d)
		f := tb.get(r, "finding")
		if !inSet(Findings(), f) {
			t.Errorf("complaint finding %q", f)
		}
		if end-d > 365 {
			old++
			if f == "pending" {
				oldPending++
			}
		}
		if f == "sustained" {
			sustained++
		}
		quoted = quoted || strings.ContainsAny(tb.get(r, "allegation"), `,"`)
	}
	if !quoted {
		t.Error("no allegation exercises CSV quoting")
	}
	if float64(oldPending) > 0.03*float64(old) {
		t.Errorf("%d of %d complaints older than a year still pending", oldPending, old)
	}
	if share := float64(sustained) / float64(len(tb.rows)); share < 0.08 || share > 0.22 {
		t.Errorf("sustained share %.2f", share)
	}

	// injuries: linked ones match an officer_injured=true force row, and
	// every such row has its injury.
	tb = ds[InjuriesFile]
	seen = map[string]bool{}
	linked := map[string]bool{}
	for _, r := range tb.rows {
		id, off, inc := tb.get(r, "injury_id"), tb.get(r, "officer_id"), tb.get(r, "incident_id")
		if seen[id] {
			t.Errorf("injury_id %s repeated", id)
		}
		seen[id] = true
		inService(InjuriesFile, off, day(t, tb.get(r, "occurred_on")))
		if !inSet(Severities(), tb.get(r, "severity")) {
			t.Errorf("injury severity %q", tb.get(r, "severity"))
		}
		if inc == "" {
			continue
		}
		if injuredRow[inc+"|"+off] != "true" {
			t.Errorf("injury %s links %s, which has no officer_injured=true row for %s", id, inc, off)
		}
		if incidents[inc].date != tb.get(r, "occurred_on") {
			t.Errorf("injury %s date differs from incident %s", id, inc)
		}
		linked[inc+"|"+off] = true
	}
	for k, v := range injuredRow {
		if v == "true" && !linked[k] {
			t.Errorf("force row %s has officer_injured=true but no injury", k)
		}
	}
	if len(linked) == 0 || len(linked) == len(tb.rows) {
		t.Errorf("%d of %d injuries linked, want most but not all", len(linked), len(tb.rows))
	}

	// commendations
	tb = ds[CommendationsFile]
	seen = map[string]bool{}
	kinds := map[string]int{}
	for _, r := range tb.rows {
		id, d, k, inc := tb.get(r, "officer_id"), tb.get(r, "awarded_on"), tb.get(r, "kind"), tb.get(r, "incident_id")
		if key := id + "|" + d + "|" + k; seen[key] {
			t.Errorf("commendation %s repeated", key)
		} else {
			seen[key] = true
		}
		inService(CommendationsFile, id, day(t, d))
		if !inSet(CommendationKinds(), k) {
			t.Errorf("commendation kind %q", k)
		}
		kinds[k]++
		if inc != "" {
			if _, ok := injuredRow[inc+"|"+id]; !ok {
				t.Errorf("commendation links %s, not an incident of officer %s", inc, id)
			} else if d < incidents[inc].date {
				t.Errorf("commendation %s awarded before incident %s", d, inc)
			}
		}
	}
	for _, k := range CommendationKinds() {
		if kinds[k] == 0 {
			t.Errorf("no %s commendation", k)
		}
	}
}

// icatByUnit returns, per unit, the months of ICAT completions.
func icatByUnit(t testing.TB, ds dataset, offs map[string]service) map[string][]string {
	tb := ds[TrainingFile]
	out := map[string][]string{}
	for u := range unitsOf(offs) {
		out[u] = nil
	}
	for _, r := range tb.rows {
		if tb.get(r, "course_id") == DeescalationCourse {
			u := offs[tb.get(r, "officer_id")].unit
			out[u] = append(out[u], tb.get(r, "completed_on")[:7])
		}
	}
	return out
}

// unitsOf returns the set of units of offs.
func unitsOf(offs map[string]service) map[string]bool {
	us := map[string]bool{}
	for _, s := range offs {
		us[s.unit] = true
	}
	return us
}

func TestRolloutIsStaggered(t *testing.T) {
	opt := smallOptions(2000, 6)
	ds, _ := writeAndLoad(t, opt)
	end := day(t, "2025-12-31")
	offs := officers(t, ds, end)
	byUnit := icatByUnit(t, ds, offs)
	waves := map[string]int{}
	never := 0
	earliest := "9999-12"
	for u, months := range byUnit {
		if len(months) == 0 {
			never++
			continue
		}
		slices.Sort(months)
		// The unit's wave is its most common completion month.
		mode, best := "", 0
		for i := 0; i < len(months); {
			j := i
			for j < len(months) && months[j] == months[i] {
				j++
			}
			if j-i > best {
				mode, best = months[i], j-i
			}
			i = j
		}
		waves[mode]++
		earliest = min(earliest, months[0])
		if float64(best) < 0.3*float64(len(months)) {
			t.Errorf("unit %s: only %d of %d completions in its wave month", u, best, len(months))
		}
	}
	t.Logf("%d units, wave months %v, never-treated %d", len(byUnit), waves, never)
	if len(waves) < 4 {
		t.Errorf("%d distinct wave months, want several", len(waves))
	}
	if never == 0 || never > len(byUnit)/4 {
		t.Errorf("%d never-treated units of %d", never, len(byUnit))
	}
	if startMonth := opt.Start().AddDate(0, opt.Years*12*3/10, 0).Format("2006-01"); earliest < startMonth {
		t.Errorf("first ICAT completion %s before 30 %% of the window (%s)", earliest, startMonth)
	}
}

func TestComplianceBand(t *testing.T) {
	ds, _ := writeAndLoad(t, smallOptions(2000, 6))
	end := day(t, "2025-12-31")
	offs := officers(t, ds, end)
	tb := ds[TrainingFile]
	last := map[string]int{}
	for _, r := range tb.rows {
		k := tb.get(r, "officer_id") + "|" + tb.get(r, "course_id")
		last[k] = max(last[k], day(t, tb.get(r, "completed_on")))
	}
	mandatory := map[string]int{UseOfForceRecertCourse: 365, FirearmsCourse: 365, FirstAidCourse: 1095}
	serving, imimOverdue, anyOverdue := 0, 0, 0
	for id, s := range offs {
		if s.separated {
			continue
		}
		serving++
		overdue := false
		for c, days := range mandatory {
			d, ok := last[id+"|"+c]
			late := !ok || end-d > days
			overdue = overdue || late
			if c == UseOfForceRecertCourse && late {
				imimOverdue++
			}
		}
		if overdue {
			anyOverdue++
		}
	}
	imim, all := float64(imimOverdue)/float64(serving), float64(anyOverdue)/float64(serving)
	t.Logf("overdue at End: IMIM %.3f, any mandatory course %.3f", imim, all)
	if imim < 0.03 || imim > 0.15 {
		t.Errorf("IMIM overdue share %.3f, want 3–15 %%", imim)
	}
	if all < 0.05 || all > 0.20 {
		t.Errorf("overdue share for any mandatory course %.3f, want 5–20 %% (compliance 80–95 %%)", all)
	}
}

// outcome selects the events of one outcome: officer ID and day of each.
type outcome struct {
	name   string
	file   string
	date   string                      // column holding the date
	filter func([]string, *table) bool // nil = every row
}

// outcomes returns the outcomes on which Options.Effect acts.
func outcomes() map[string]outcome {
	return map[string]outcome{
		"force":            {"force", ForceFile, "occurred_on", nil},
		"subject injuries": {"subject injuries", ForceFile, "occurred_on", func(r []string, t *table) bool { return t.get(r, "subject_injured") == "true" }},
		"officer injuries": {"officer injuries", InjuriesFile, "occurred_on", nil},
		"complaints":       {"complaints", ComplaintsFile, "received_on", nil},
	}
}

// panel aggregates an outcome's counts and officer-months by unit, month
// and ICAT status.
type panel struct {
	units, months int
	y, e          []float64 // index (u*months+m)*2+trained
}

// buildPanel returns the panel of outcome out in a dataset.
func buildPanel(t testing.TB, ds dataset, end int, out outcome) panel {
	offs := officers(t, ds, end)
	unitIdx, monthIdx := map[string]int{}, map[string]int{}
	for _, u := range slices.Sorted(maps.Keys(unitsOf(offs))) {
		unitIdx[u] = len(unitIdx)
	}
	act := ds[ActivityFile]
	for _, r := range act.rows {
		monthIdx[act.get(r, "month")] = 0
	}
	for i, m := range slices.Sorted(maps.Keys(monthIdx)) {
		monthIdx[m] = i
	}
	trainedFrom := map[string]string{}
	tr := ds[TrainingFile]
	for _, r := range tr.rows {
		if tr.get(r, "course_id") == DeescalationCourse {
			trainedFrom[tr.get(r, "officer_id")] = tr.get(r, "completed_on")[:7]
		}
	}
	p := panel{units: len(unitIdx), months: len(monthIdx)}
	p.y = make([]float64, 2*p.units*p.months)
	p.e = make([]float64, len(p.y))
	cell := func(id, month string) int {
		d := 0
		if tf, ok := trainedFrom[id]; ok && month >= tf {
			d = 1
		}
		return (unitIdx[offs[id].unit]*p.months+monthIdx[month])*2 + d
	}
	for _, r := range act.rows {
		p.e[cell(act.get(r, "officer_id"), act.get(r, "month"))]++
	}
	f := ds[out.file]
	for _, r := range f.rows {
		if out.filter == nil || out.filter(r, f) {
			p.y[cell(f.get(r, "officer_id"), f.get(r, out.date)[:7])]++
		}
	}
	return p
}

// naiveRatio returns the pooled rate of trained officer-months over the
// pooled rate of untrained ones: a before/after comparison with no time
// adjustment.
func (p panel) naiveRatio() float64 {
	var y, e [2]float64
	for k := range p.y {
		y[k%2] += p.y[k]
		e[k%2] += p.e[k]
	}
	return (y[1] / e[1]) / (y[0] / e[0])
}

// fixedEffects returns exp(θ) of the Poisson model
// log rate = unit + calendar month + θ·trained, fitted by cyclic exact
// block updates (each step maximises the likelihood in one block).
func (p panel) fixedEffects() float64 {
	a, b, theta := make([]float64, p.units), make([]float64, p.months), 0.0
	for range 300 {
		for u := range p.units {
			var y, e float64
			for m := range p.months {
				for d := range 2 {
					k := (u*p.months+m)*2 + d
					y += p.y[k]
					e += p.e[k] * math.Exp(b[m]+theta*float64(d))
				}
			}
			if y > 0 {
				a[u] = math.Log(y / e)
			}
		}
		for m := range p.months {
			var y, e float64
			for u := range p.units {
				for d := range 2 {
					k := (u*p.months+m)*2 + d
					y += p.y[k]
					e += p.e[k] * math.Exp(a[u]+theta*float64(d))
				}
			}
			if y > 0 {
				b[m] = math.Log(y / e)
			}
		}
		var y, e float64
		for u := range p.units {
			for m := range p.months {
				k := (u*p.months+m)*2 + 1
				y += p.y[k]
				e += p.e[k] * math.Exp(a[u]+b[m])
			}
		}
		theta = math.Log(y / e)
	}
	return math.Exp(theta)
}

// mantelHaenszel returns the Mantel–Haenszel rate ratio of trained over
// untrained officer-months, stratified by calendar month.
func (p panel) mantelHaenszel() float64 {
	var num, den float64
	for m := range p.months {
		var y, e [2]float64
		for u := range p.units {
			for d := range 2 {
				k := (u*p.months+m)*2 + d
				y[d] += p.y[k]
				e[d] += p.e[k]
			}
		}
		if tot := e[0] + e[1]; tot > 0 {
			num += y[1] * e[0] / tot
			den += y[0] * e[1] / tot
		}
	}
	return num / den
}

// effectCase is a planted effect and the estimates it must produce.
type effectCase struct {
	name   string
	effect Effect
	trend  float64
	checks []effectCheck
}

// effectCheck bounds the estimates of one outcome; naiveBelow > 0 demands a
// spurious drop of the naive before/after ratio below it.
type effectCheck struct {
	outcome    string
	fe, mh     [2]float64
	naiveBelow float64
}

// effectCases returns the planted effects the tests check. The bands are
// wide because the roll-out leaves few never-treated units: late in the
// window only they show what untrained rates would be, so at 4,000 officers
// the fixed-effects estimate has a standard error near 8 % (over seeds
// 100–119 its mean is within 1 % of the truth).
func effectCases() []effectCase {
	any := [2]float64{0, math.Inf(1)}
	return []effectCase{
		{"force halved, no trend", Effect{0.5, 1, 1, 1}, 1, []effectCheck{
			{"force", [2]float64{0.4, 0.65}, [2]float64{0.4, 0.75}, 0},
			{"complaints", [2]float64{0.85, 1.18}, any, 0},
		}},
		{"no effect, strong trend", NoEffect(), 0.9, []effectCheck{
			{"force", [2]float64{0.8, 1.25}, any, 0.92},
			{"complaints", [2]float64{0.85, 1.18}, any, 0.92},
		}},
		{"injuries and complaints halved", Effect{1, 0.5, 0.5, 0.5}, 0.98, []effectCheck{
			{"force", [2]float64{0.8, 1.25}, any, 0},
			{"subject injuries", [2]float64{0.33, 0.72}, any, 0},
			{"officer injuries", [2]float64{0.3, 0.75}, any, 0},
			{"complaints", [2]float64{0.38, 0.66}, any, 0},
		}},
		{"Louisville-like defaults", DefaultOptions().Effect, 0.98, []effectCheck{
			{"force", [2]float64{0.58, 0.9}, any, 0},
			{"subject injuries", [2]float64{0.55, 1.0}, any, 0},
		}},
	}
}

// runEffectCase writes a 4,000-officer dataset with the case's effect and
// checks each outcome's estimates.
func runEffectCase(t *testing.T, tc effectCase, seed uint64) {
	o := smallOptions(4000, 6)
	o.Seed, o.Effect, o.Trend = seed, tc.effect, tc.trend
	ds, _ := writeAndLoad(t, o)
	end := day(t, "2025-12-31")
	for _, c := range tc.checks {
		p := buildPanel(t, ds, end, outcomes()[c.outcome])
		fe, mh, naive := p.fixedEffects(), p.mantelHaenszel(), p.naiveRatio()
		t.Logf("%s: unit+month fixed effects %.3f, month-stratified %.3f, naive %.3f", c.outcome, fe, mh, naive)
		if fe < c.fe[0] || fe > c.fe[1] {
			t.Errorf("%s: fixed-effects rate ratio %.3f outside %v", c.outcome, fe, c.fe)
		}
		if mh < c.mh[0] || mh > c.mh[1] {
			t.Errorf("%s: month-stratified rate ratio %.3f outside %v", c.outcome, mh, c.mh)
		}
		if c.naiveBelow > 0 && naive >= c.naiveBelow {
			t.Errorf("%s: naive before/after ratio %.3f, want a spurious drop below %.2f", c.outcome, naive, c.naiveBelow)
		}
	}
}

// TestPlantedEffectIsRecovered checks that a Poisson model with unit and
// calendar-month fixed effects recovers Options.Effect, that a simple
// month-stratified (Mantel–Haenszel) comparison lands near it, and that a
// secular trend alone fools a naive before/after comparison but not the
// fixed-effects model. Month-stratified comparisons across units lean
// slightly high: late in the window the untrained officer-months come from
// the few never-treated units, and a ratio over a noisy denominator is
// biased upward.
func TestPlantedEffectIsRecovered(t *testing.T) {
	for _, tc := range effectCases() {
		t.Run(tc.name, func(t *testing.T) { runEffectCase(t, tc, 7) })
	}
}

func BenchmarkWrite(b *testing.B) {
	o := DefaultOptions()
	o.Officers, o.Years, o.End = 100_000, 10, testEnd()
	dir := b.TempDir()
	var sum Summary
	for b.Loop() {
		var err error
		if sum, err = Write(dir, o); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range sum.Files {
		b.ReportMetric(float64(f.Rows), strings.TrimSuffix(f.Name, ".csv")+"-rows")
	}
}
