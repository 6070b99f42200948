package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deesc/internal/config"
)

func gz(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// TestImportAcceptsVariants imports the same facts written the ways real
// exports write them and checks what was stored.
func TestImportAcceptsVariants(t *testing.T) {
	const sqlText = `Robert'); DROP TABLE officers;--`
	files := minimal()
	// BOM, CRLF, columns in another order, non-ASCII text, trailing blank lines.
	files["officers.csv"] = "\ufeffgender,hire_date,officer_id,division,unit,rank\r\n" +
		"F,2010-03-01,0001,Nord,Unité 1,agente\r\n" +
		"M,2005-07-15,0002,Nord,Unité 1,sergent\r\n" +
		"F,2019-09-01,0003,Süd,Einheit 2,Polizistin\r\n\r\n\r\n"
	// Quoted newlines and SQL-looking text, stored verbatim.
	files["complaints.csv"] = "complaint_id,officer_id,received_on,allegation,finding\n" +
		"C-1,0002,2023-04-01,\"line one\nline \"\"two\"\", with comma\",Not_Sustained\n" +
		"C-2,0001,2023-05-01,\"" + sqlText + "\",pending\n"
	// gzip.
	delete(files, "training.csv")
	files["training.csv.gz"] = gz(t, "officer_id,course_id,completed_on,hours,delivery\n0001,IMIM,2025-02-01,,in-person\n0001,ICAT,2023-05-10,16,in-person\n0003,IMIM,2024-01-15,7.5,online\n")
	s := openTest(t)
	v, err := importDir(t, s, writeFiles(t, files))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, f := range v.Files {
		rows[f.File] += f.Rows
	}
	for file, n := range map[string]int64{"officers": 3, "courses": 2, "training": 3, "force": 2, "complaints": 2, "injuries": 1} {
		if rows[file] != n {
			t.Errorf("%s rows = %d, want %d", file, rows[file], n)
		}
	}
	var got string
	if err := s.db.QueryRow(`SELECT allegation FROM complaints WHERE complaint_id = 'C-2'`).Scan(&got); err != nil || got != sqlText {
		t.Errorf("SQL-looking text stored as %q (%v)", got, err)
	}
	if err := s.db.QueryRow(`SELECT allegation || '|' || finding FROM complaints WHERE complaint_id = 'C-1'`).Scan(&got); err != nil || got != "line one\nline \"two\", with comma|not-sustained" {
		t.Errorf("quoted newline stored as %q (%v)", got, err)
	}
	if err := s.db.QueryRow(`SELECT unit || '/' || division || '/' || officer_id FROM officers WHERE officer_id = '0003'`).Scan(&got); err != nil || got != "Einheit 2/Süd/0003" {
		t.Errorf("non-ASCII stored as %q (%v)", got, err)
	}
	var hours float64
	if err := s.db.QueryRow(`SELECT hours FROM training WHERE officer_id = '0001' AND course_id = 'IMIM'`).Scan(&hours); err != nil || hours != 8 {
		t.Errorf("default hours = %v (%v), want the course's 8", hours, err)
	}
	var beh, resp string
	var inj bool
	if err := s.db.QueryRow(`SELECT subject_behaviour, response, subject_injured FROM use_of_force WHERE officer_id = '0001'`).Scan(&beh, &resp, &inj); err != nil ||
		beh != "active-resistant" || resp != "physical-control-hard" || !inj {
		t.Errorf("enumerations and booleans normalised to %q %q %v (%v)", beh, resp, inj, err)
	}
}

// TestImportParquet writes the minimal dataset's officers as Parquet (with a
// real DATE column) and imports it.
func TestImportParquet(t *testing.T) {
	files := minimal()
	csvOfficers := files["officers.csv"]
	delete(files, "officers.csv")
	dir := writeFiles(t, files)
	src := filepath.Join(t.TempDir(), "officers.csv")
	os.WriteFile(src, []byte(csvOfficers), 0o644)
	s := openTest(t)
	if _, err := s.db.Exec(`COPY (SELECT officer_id, unit, division, CAST(hire_date AS DATE) AS hire_date, separation_date FROM read_csv(?, all_varchar = true))
		TO '`+filepath.Join(dir, "officers.parquet")+`' (FORMAT parquet)`, src); err != nil {
		t.Fatal(err)
	}
	if _, err := importDir(t, s, dir); err != nil {
		t.Fatal(err)
	}
	var n int
	var hire string
	if err := s.db.QueryRow(`SELECT count(*), strftime(min(hire_date), '%Y-%m-%d') FROM officers`).Scan(&n, &hire); err != nil || n != 3 || hire != "2005-07-15" {
		t.Errorf("officers from parquet: %d, %s, %v", n, hire, err)
	}
}

// TestImportColumnMapping imports a Dallas-style export whose headers and
// values are the agency's own, adapted by configuration alone.
func TestImportColumnMapping(t *testing.T) {
	files := minimal()
	delete(files, "force.csv")
	files["R2R_2019.csv"] = "FILENUM,CURRENT_BA,OCCURRED_D,ForceType,CitResist,OFF_INJURED,CIT_INJURED,GeoLocation\n" +
		"19-1,0001,2019-04-02,Verbal Command,Verbal Resistance,No,Yes,\"(32.7, -96.8)\"\n" +
		"19-2,0003,2019-05-02,Taser Display,Assaultive,Yes,No,\"(32.7,\n-96.8)\"\n"
	mapping := map[string]config.FileMapping{"force": {
		Patterns: []string{"R2R_*.csv"},
		Columns: map[string]string{"filenum": "incident_id", "current_ba": "officer_id", "occurred_d": "occurred_on",
			"forcetype": "response", "citresist": "subject_behaviour", "off_injured": "officer_injured", "cit_injured": "subject_injured"},
		Ignore: []string{"GeoLocation"},
		Values: map[string]map[string]string{
			"subject_behaviour": {"verbal resistance": "passive-resistant"},
			"response":          {"verbal command": "communication", "taser display": "intermediate-weapon"},
		},
	}}
	s := openTest(t)
	_, err := s.Import(context.Background(), writeFiles(t, files), ImportOptions{Now: testNow, Files: mapping})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := s.db.QueryRow(`SELECT string_agg(incident_id || ':' || subject_behaviour || ':' || response || ':' || officer_injured || ':' || subject_injured, ';' ORDER BY incident_id) FROM use_of_force`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "19-1:passive-resistant:communication:false:true;19-2:assaultive:intermediate-weapon:true:false"; got != want {
		t.Errorf("mapped force = %q, want %q", got, want)
	}
}

// TestImportPartialKeepsOtherTables re-imports one file: the others carry over
// and the version records where each came from.
func TestImportPartialKeepsOtherTables(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
		t.Fatal(err)
	}
	v, err := importDir(t, s, writeFiles(t, map[string]string{"complaints.csv": "complaint_id,officer_id,received_on\nC-9,0001,2024-01-01\nC-10,0003,2024-02-01\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != 2 {
		t.Fatalf("version %d", v.Number)
	}
	from := map[string]int{}
	for _, f := range v.Files {
		from[f.File] = f.FromVersion
	}
	if from["complaints"] != 2 || from["officers"] != 1 {
		t.Errorf("from versions: %v", from)
	}
	var n, o int
	s.db.QueryRow(`SELECT (SELECT count(*) FROM complaints), (SELECT count(*) FROM officers)`).Scan(&n, &o)
	if n != 2 || o != 3 {
		t.Errorf("complaints %d officers %d", n, o)
	}
	// Replacing officers so that kept training would point at nobody is refused.
	_, err = importDir(t, s, writeFiles(t, map[string]string{"officers.csv": officersHdr + "0002,A,B,,2010-01-01,,\n"}))
	if err == nil || !strings.Contains(err.Error(), "row(s) of the current training refer to officer_id values this file no longer has (e.g. 0001, 0003)") {
		t.Errorf("kept children check: %v", err)
	}
}
