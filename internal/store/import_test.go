package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestImportMinimal(t *testing.T) {
	s := openTest(t)
	v, err := importDir(t, s, writeFiles(t, minimal()))
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != 1 || !v.Current {
		t.Fatalf("version = %+v", v)
	}
	var n int
	if err := s.db.QueryRowContext(context.Background(), "SELECT count(*) FROM training").Scan(&n); err != nil || n != 3 {
		t.Fatalf("training rows = %d, %v", n, err)
	}
}

// fingerprint summarises every dataset table and the version records, so a
// test can show that a refused import changed nothing.
func fingerprint(t *testing.T, s *Store) string {
	t.Helper()
	out := ""
	for _, tbl := range append(viewNames(), "dataset_versions", "dataset_files") {
		var n int64
		var h any
		if err := s.db.QueryRow("SELECT count(*), bit_xor(hash(x)) FROM "+tbl+" x").Scan(&n, &h); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s:%d:%v;", tbl, n, h)
	}
	return out
}

// with returns the minimal dataset with some files replaced.
func with(repl map[string]string) map[string]string {
	m := minimal()
	for k, v := range repl {
		if v == "" && k[0] == '-' {
			delete(m, k[1:])
			continue
		}
		m[k] = v
	}
	return m
}

const (
	officersHdr = "officer_id,unit,division,rank,hire_date,separation_date,gender\n"
	trainingHdr = "officer_id,course_id,completed_on,hours,delivery\n"
	forceHdr    = "incident_id,officer_id,occurred_on,unit,subject_behaviour,response,weapon,subject_injured,officer_injured,mental_health_crisis,substance_use,subject_weapon,de_escalation_attempted,reviewed,subject_race,subject_gender,subject_age\n"
)

func TestImportRejectsBadInput(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error, each a problem line
	}{
		{"bad date", with(map[string]string{"officers.csv": officersHdr + "0001,A,B,,2010-13-01,,\n0002,A,B,,2010/01/01,,\n"}),
			[]string{"officers.csv:2: column hire_date: no such day (2010-13-01)", "officers.csv:3: column hire_date: not a date in the form YYYY-MM-DD (2010/01/01)"}},
		{"negative hours", with(map[string]string{"training.csv": trainingHdr + "0001,IMIM,2025-02-01,-2,\n"}),
			[]string{"training.csv:2: column hours: out of range: must be from 0 to 200 (-2)"}},
		{"absurd hours", with(map[string]string{"training.csv": trainingHdr + "0001,IMIM,2025-02-01,4000,\n"}),
			[]string{"training.csv:2: column hours: out of range: must be from 0 to 200 (4000)"}},
		{"course hours zero", with(map[string]string{"courses.csv": "course_id,title,category,hours\nIMIM,x,y,0\nICAT,x,y,16\n"}),
			[]string{"courses.csv:2: column hours: out of range: must be > 0 and ≤ 200 (0)"}},
		{"decimal comma", with(map[string]string{"training.csv": trainingHdr + "0001,IMIM,2025-02-01,\"7,5\",\n"}),
			[]string{"training.csv:2: column hours: decimal comma: write numbers with a point, e.g. 1.5 (7,5)"}},
		{"unknown officer and course", with(map[string]string{"training.csv": trainingHdr + "0001,IMIM,2025-02-01,,\n9999,IMIM,2025-02-01,,\n0001,NOPE,2025-02-01,,\n"}),
			[]string{"training.csv:3: column officer_id: no such officer in officers (9999)", "training.csv:4: column course_id: no such course in courses (NOPE)"}},
		{"duplicate key", with(map[string]string{"training.csv": trainingHdr + "0001,IMIM,2025-02-01,,\n0003,IMIM,2025-02-01,,\n0001,IMIM,2025-02-01,8,\n"}),
			[]string{"training.csv:4: column officer_id: duplicate: officer_id, course_id, completed_on already on line 2 (0001, IMIM, 2025-02-01)"}},
		{"duplicate officer", with(map[string]string{"officers.csv": officersHdr + "0001,A,B,,2010-01-01,,\n0002,A,B,,2010-01-01,,\n0003,A,B,,2010-01-01,,\n 0001,A,B,,2011-01-01,,\n"}),
			[]string{"officers.csv:5: column officer_id: duplicate officer_id: already on line 2 (0001)"}},
		{"missing required column", with(map[string]string{"officers.csv": "officer_id,unit,rank,hire_date\n0001,A,x,2010-01-01\n"}),
			[]string{"officers.csv:1: column division: required column is missing from the header"}},
		{"empty officer_id", with(map[string]string{"officers.csv": officersHdr + "0001,A,B,,2010-01-01,,\n,A,B,,2010-01-01,,\n0002,A,B,,2010-01-01,,\n0003,A,B,,2010-01-01,,\n"}),
			[]string{"officers.csv:3: column officer_id: missing value"}},
		{"unknown enumeration", with(map[string]string{"force.csv": forceHdr + "F-1,0001,2024-03-02,,resisting,presence,,,,,,,,,,,\n"}),
			[]string{"force.csv:2: column subject_behaviour: not one of cooperative, passive-resistant, active-resistant, assaultive, grievous-bodily-harm-or-death (resisting)"}},
		{"bad boolean", with(map[string]string{"force.csv": forceHdr + "F-1,0001,2024-03-02,,,,,maybe,,,,,,,,,\n"}),
			[]string{"force.csv:2: column subject_injured: not a boolean: use true/false, yes/no, y/n or 1/0 (maybe)"}},
		{"future date", with(map[string]string{"complaints.csv": "complaint_id,officer_id,received_on\nC-1,0001,2027-01-01\n"}),
			[]string{"complaints.csv:2: column received_on: in the future (after 2026-06-30) (2027-01-01)"}},
		{"before 1950", with(map[string]string{"complaints.csv": "complaint_id,officer_id,received_on\nC-1,0001,1949-12-31\n"}),
			[]string{"complaints.csv:2: column received_on: before 1950-01-01 (1949-12-31)"}},
		{"hire after separation", with(map[string]string{"officers.csv": officersHdr + "0001,A,B,,2010-01-01,2009-01-01,\n0002,A,B,,2010-01-01,,\n0003,A,B,,2010-01-01,,\n"}),
			[]string{"officers.csv:2: column separation_date: before hire_date 2010-01-01 (2009-01-01)"}},
		{"empty file", with(map[string]string{"complaints.csv": ""}),
			[]string{"complaints.csv: empty file: expected a header row"}},
		{"binary junk", with(map[string]string{"complaints.csv": "\x00\x01\xff\xfe\x89PNG\r\n\x1a\n\x00\x00"}),
			[]string{"complaints.csv: not UTF-8 text"}},
		{"binary junk after header", with(map[string]string{"complaints.csv": "complaint_id,officer_id,received_on\nC-1,0001,2020-01-01\nC-2,0001,\xff\xfe\x00\n"}),
			[]string{"complaints.csv:3: not UTF-8 text"}},
		{"wrong delimiter", with(map[string]string{"complaints.csv": "complaint_id;officer_id;received_on\nC-1;0001;2020-01-01\n"}),
			[]string{`complaints.csv:1: not comma-separated: the header reads as one column and holds ";"`}},
		{"ragged row", with(map[string]string{"complaints.csv": "complaint_id,officer_id,received_on\nC-1,0001,2020-01-01\n\"C-2\nstill C-2\",0001,2020-01-01,extra\nC-3,0001\nC-4,0001,2020-13-01\n"}),
			[]string{"complaints.csv:3: has 4 fields, the header has 3", "complaints.csv:5: has 2 fields, the header has 3", "complaints.csv:6: column received_on: no such day (2020-13-01)"}},
		{"bad month", with(map[string]string{"activity.csv": "officer_id,month,calls_for_service\n0001,2024-13,4\n0001,2024-1,4\n"}),
			[]string{"activity.csv:2: column month: no such month (2024-13)", "activity.csv:3: column month: not a month in the form YYYY-MM (2024-1)"}},
		{"negative calls", with(map[string]string{"activity.csv": "officer_id,month,calls_for_service\n0001,2024-01,-4\n0001,2024-02,\n0001,2024-03,2.5\n"}),
			[]string{"activity.csv:2: column calls_for_service: out of range: must be from 0 to 100000 (-4)", "activity.csv:4: column calls_for_service: not a whole number (2.5)"}},
		{"duplicate month", with(map[string]string{"activity.csv": "officer_id,month,calls_for_service\n0001,2024-01,4\n0001,2024-02,4\n0003,2024-01,4\n0001,2024-01,5\n"}),
			[]string{"activity.csv:5: column officer_id: duplicate: officer_id, month already on line 2 (0001, 2024-01)"}},
		{"unknown header", with(map[string]string{"complaints.csv": "complaint_id,officer_id,recieved_on\nC-1,0001,2020-01-01\n"}),
			[]string{"complaints.csv:1: column recieved_on: not a column of complaints", "complaints.csv:1: column received_on: required column is missing from the header"}},
		{"misspelt file name", with(map[string]string{"complaint.csv": "complaint_id,officer_id,received_on\n"}),
			[]string{"complaint.csv: not a contract file"}},
		{"line numbers after quoted newlines", with(map[string]string{"complaints.csv": "complaint_id,officer_id,received_on,allegation\r\nC-1,0001,2020-01-01,\"one\r\ntwo\r\nthree\"\r\n\r\nC-2,0001,2020-02-30,x\r\n"}),
			[]string{"complaints.csv:6: column received_on: no such day (2020-02-30)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
				t.Fatal(err)
			}
			before := fingerprint(t, s)
			_, err := importDir(t, s, writeFiles(t, tc.files))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a validation error, got %v", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q; got:\n%s", w, msg)
				}
			}
			if after := fingerprint(t, s); after != before {
				t.Errorf("database changed by a refused import:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestImportAcrossReaderBuffers: a training file several times the CSV
// reader's buffer (maxLineBytes), with a record of most of a buffer's length
// straddling the first boundary, is read whole and in order — every row,
// the long value intact — and a bad value after it is named on its own line.
func TestImportAcrossReaderBuffers(t *testing.T) {
	var officers, training strings.Builder
	officers.WriteString(officersHdr)
	for o := range 300 {
		fmt.Fprintf(&officers, "%04d,North 1,North,constable,1990-01-01,,F\n", o)
	}
	training.WriteString(trainingHdr)
	day := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	rows, line := 0, 1
	row := func(delivery string) {
		fmt.Fprintf(&training, "%04d,ICAT,%s,1.5,%s\n", rows%300, day.AddDate(0, 0, rows/300).Format(time.DateOnly), delivery)
		rows++
		line++
	}
	for training.Len() < maxLineBytes/2 {
		row("in-person")
	}
	long := strings.Repeat("x", maxLineBytes*4/5)
	row(long)
	longLine := line
	for training.Len() < 5*maxLineBytes/2 {
		row("online")
	}
	files := with(map[string]string{"officers.csv": officers.String(), "training.csv": training.String()})
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, files)); err != nil {
		t.Fatal(err)
	}
	var n, longest, online int
	if err := s.db.QueryRow(`SELECT count(*), max(length(delivery)), count(*) FILTER (WHERE delivery = 'online') FROM training`).Scan(&n, &longest, &online); err != nil {
		t.Fatal(err)
	}
	if n != rows || longest != len(long) || online != rows-(longLine-1) {
		t.Fatalf("read %d rows (want %d), longest delivery %d bytes (want %d), %d after it (want %d)", n, rows, longest, len(long), online, rows-(longLine-1))
	}

	// The same file with a bad date well after the long record.
	bad := strings.Replace(training.String(), ",online\n", ",online\n0001,ICAT,2020-02-30,1.5,online\n", 1)
	badLine := longLine + 2
	files["training.csv"] = bad
	_, err := importDir(t, openTest(t), writeFiles(t, files))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("err = %v", err)
	}
	if p := ve.Problems[0]; p.File != "training.csv" || p.Line != badLine || p.Column != "completed_on" {
		t.Fatalf("problem = %+v, want training.csv line %d completed_on", p, badLine)
	}
}

// TestImportDateBoundsIgnoreTimeZone: the earliest and latest dates a file
// may hold are the same calendar days whatever the server's time zone:
// 1950-01-01 and today (UTC) accepted, the day before and after refused,
// with messages naming those days.
func TestImportDateBoundsIgnoreTimeZone(t *testing.T) {
	for _, zone := range []string{"America/Los_Angeles", "Asia/Tokyo", "UTC"} {
		t.Run(zone, func(t *testing.T) {
			s := openTest(t)
			if _, err := s.DB().Exec("SET GLOBAL TimeZone = '" + zone + "'"); err != nil {
				t.Fatal(err)
			}
			ok := with(map[string]string{"training.csv": trainingHdr + "0001,ICAT,1950-01-01,1,\n0003,ICAT,2026-06-30,1,\n"})
			if _, err := importDir(t, s, writeFiles(t, ok)); err != nil {
				t.Fatalf("1950-01-01 and today refused: %v", err)
			}
			bad := with(map[string]string{"training.csv": trainingHdr + "0001,ICAT,1949-12-31,1,\n0003,ICAT,2026-07-01,1,\n"})
			_, err := importDir(t, s, writeFiles(t, bad))
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 2 {
				t.Fatalf("err = %v", err)
			}
			if p := ve.Problems[0]; p.Line != 2 || p.Message != "before 1950-01-01" {
				t.Errorf("line 2: %+v", p)
			}
			if p := ve.Problems[1]; p.Line != 3 || p.Message != "in the future (after 2026-06-30)" {
				t.Errorf("line 3: %+v", p)
			}
		})
	}
}

// TestImportQuotedNewlinesAcrossReaderBuffers: a valid file several reader
// buffers long whose quoted values hold newlines followed by text that looks
// like a record (which can mislead a reader that starts mid-file) is read
// whole, every value intact.
func TestImportQuotedNewlinesAcrossReaderBuffers(t *testing.T) {
	var officers, training strings.Builder
	officers.WriteString(officersHdr)
	for o := range 300 {
		fmt.Fprintf(&officers, "%04d,North 1,North,constable,1990-01-01,,F\n", o)
	}
	training.WriteString(trainingHdr)
	day := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	const note = "note,\n0001,ICAT,1990-01-01,1.5,fake\nend"
	rows := 0
	for training.Len() < 3*maxLineBytes+maxLineBytes/2 {
		fmt.Fprintf(&training, "%04d,ICAT,%s,1.5,\"%s\"\n", rows%300, day.AddDate(0, 0, rows/300).Format(time.DateOnly), note)
		rows++
	}
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, with(map[string]string{"officers.csv": officers.String(), "training.csv": training.String()}))); err != nil {
		t.Fatal(err)
	}
	var n, intact int
	if err := s.db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE delivery = ?) FROM training`, note).Scan(&n, &intact); err != nil {
		t.Fatal(err)
	}
	if n != rows || intact != rows {
		t.Fatalf("read %d rows, %d with the note intact; want %d", n, intact, rows)
	}
}
