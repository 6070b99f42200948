package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"deesc/internal/contract"
)

// The import fuzz targets write the fuzzed bytes as complaints.csv (or
// complaints.parquet) and import that one file over the minimal dataset. An
// import must either commit exactly the rows the contract allows or be
// refused with clear problems and the database left as it was. Seeds live in
// testdata/fuzz; run one for longer with, e.g.,
// go test -run='^$' -fuzz='^FuzzImportCSV$' -fuzztime=10m ./internal/store/

// fuzzImportStore opens an in-memory store holding the minimal dataset, once
// per fuzz worker: each exec then imports only the fuzzed file, whose
// outcome does not depend on earlier complaints.
func fuzzImportStore(f *testing.F) *Store {
	f.Helper()
	s, err := Open(context.Background(), ":memory:", Options{KeepVersions: 1, Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	dir := f.TempDir()
	for name, content := range minimal() {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := s.Import(context.Background(), dir, ImportOptions{Now: testNow, Source: "minimal"}); err != nil {
		f.Fatal(err)
	}
	return s
}

// complaintRow is a committed complaint, as text for comparison.
type complaintRow struct{ id, officer, received, allegation, finding string }

func (c complaintRow) String() string {
	return fmt.Sprintf("%q,%q,%s,%q,%q", c.id, c.officer, c.received, c.allegation, c.finding)
}

func sortComplaints(rows []complaintRow) {
	slices.SortFunc(rows, func(a, b complaintRow) int { return strings.Compare(a.String(), b.String()) })
}

// complaintRows returns the current dataset's complaints, sorted.
func complaintRows(t *testing.T, s *Store) []complaintRow {
	t.Helper()
	rows, err := s.db.Query(`SELECT complaint_id, officer_id, strftime(received_on, '%Y-%m-%d'), coalesce(allegation, '<NULL>'), coalesce(finding, '<NULL>') FROM complaints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []complaintRow
	for rows.Next() {
		var c complaintRow
		if err := rows.Scan(&c.id, &c.officer, &c.received, &c.allegation, &c.finding); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sortComplaints(out)
	return out
}

// keptFingerprint summarises the tables an import of complaints alone must
// not touch.
func keptFingerprint(t *testing.T, s *Store) string {
	t.Helper()
	out := ""
	for _, tbl := range []string{"officers", "courses", "training", "use_of_force", "injuries", "commendations", "activity"} {
		var n int64
		var h any
		if err := s.db.QueryRow("SELECT count(*), bit_xor(hash(x)) FROM "+tbl+" x").Scan(&n, &h); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s:%d:%v;", tbl, n, h)
	}
	return out
}

// checkRefusal fails unless err is a *ValidationError whose every problem
// names a file, gives a line for a bad value, and reads on one line.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("import failed without a validation error: %v", err)
	}
	if len(ve.Problems) == 0 {
		t.Fatalf("validation error without problems: %v", err)
	}
	for _, p := range ve.Problems {
		msg := p.String()
		if p.File == "" || strings.TrimSpace(p.Message) == "" {
			t.Fatalf("problem without a file or message: %q", msg)
		}
		if p.HasVal && p.Line <= 0 {
			t.Fatalf("problem with a value but no line: %q", msg)
		}
		if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
			t.Fatalf("problem holds a raw control character at byte %d: %q", i, msg)
		}
	}
}

// importFuzzed imports data as the one file name over s's current dataset
// and checks that a refusal leaves the database exactly as it was. It
// returns the import's error.
func importFuzzed(t *testing.T, s *Store, name string, data []byte) error {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, s)
	_, err := s.Import(context.Background(), dir, ImportOptions{Now: testNow, Source: "fuzz"})
	if err != nil {
		checkRefusal(t, err)
		if after := fingerprint(t, s); after != before {
			t.Fatalf("a refused import changed the database:\nbefore %s\nafter  %s\n%v", before, after, err)
		}
	}
	return err
}

// checkComplaints fails unless every committed complaint satisfies the
// contract: identifiers present, an existing officer, a date from 1950 to
// today, a known finding, and a unique key.
func checkComplaints(t *testing.T, rows []complaintRow) {
	t.Helper()
	keys := map[[2]string]bool{}
	for _, r := range rows {
		k := [2]string{r.id, r.officer}
		if r.id == "" || r.officer == "" || keys[k] {
			t.Fatalf("committed a blank or duplicate key: %v", r)
		}
		keys[k] = true
		if !slices.Contains([]string{"0001", "0002", "0003"}, r.officer) {
			t.Fatalf("committed a complaint about no officer: %v", r)
		}
		d, err := contract.ParseDate(r.received)
		if err != nil || d.Before(contract.Earliest) || d.After(testNow) {
			t.Fatalf("committed received_on %q: %v", r.received, err)
		}
		if r.finding != "<NULL>" && !slices.Contains(contract.Findings, r.finding) {
			t.Fatalf("committed finding %q", r.finding)
		}
	}
}

// expectComplaints reads data as the contract defines complaints.csv and
// returns the rows it must commit, or ok = false when it must be refused.
// Values are trimmed of spaces only, as the importer does; the contract's
// own parsers then judge them.
// known is false when the file is outside what the oracle decides: a bare
// quote inside an unquoted field, which encoding/csv refuses and DuckDB reads
// as text.
func expectComplaints(data []byte) (rows []complaintRow, ok, known bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, false, true
	}
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if errors.Is(err, csv.ErrBareQuote) {
		return nil, false, false
	}
	if err != nil || len(header) == 1 && strings.ContainsAny(header[0], ";\t|") {
		return nil, false, true
	}
	f, _ := contract.Lookup("complaints")
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, known := f.Column(name); !known {
			return nil, false, true
		}
		if _, dup := col[name]; dup {
			return nil, false, true
		}
		col[name] = i
	}
	for _, c := range f.Required() {
		if _, has := col[c]; !has {
			return nil, false, true
		}
	}
	get := func(rec []string, name string) (string, bool) {
		i, has := col[name]
		if !has {
			return "", false
		}
		return rec[i], true
	}
	keys := map[[2]string]bool{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if errors.Is(err, csv.ErrBareQuote) {
			return nil, false, false
		}
		if err != nil {
			return nil, false, true
		}
		var c complaintRow
		id, _ := get(rec, "complaint_id")
		officer, _ := get(rec, "officer_id")
		received, _ := get(rec, "received_on")
		c.id, c.officer, received = strings.Trim(id, " "), strings.Trim(officer, " "), strings.Trim(received, " ")
		if c.id == "" || c.officer == "" || keys[[2]string{c.id, c.officer}] || !slices.Contains([]string{"0001", "0002", "0003"}, c.officer) {
			return nil, false, true
		}
		keys[[2]string{c.id, c.officer}] = true
		d, err := contract.ParseDate(received)
		if err != nil || received != strings.TrimSpace(received) || d.Before(contract.Earliest) || d.After(testNow) {
			return nil, false, true
		}
		c.received = d.Format(time.DateOnly)
		c.allegation = "<NULL>"
		if a, has := get(rec, "allegation"); has && strings.Trim(a, " ") != "" {
			c.allegation = a
		}
		c.finding = "<NULL>"
		if v, has := get(rec, "finding"); has && strings.Trim(v, " ") != "" {
			v = strings.Trim(v, " ")
			if v != strings.TrimSpace(v) {
				return nil, false, true
			}
			if c.finding, err = contract.ParseEnum(v, contract.Findings); err != nil {
				return nil, false, true
			}
		}
		rows = append(rows, c)
	}
	sortComplaints(rows)
	return rows, true, true
}

// FuzzImportCSV: a fuzzed complaints.csv either commits exactly the rows an
// independent reading of the contract (encoding/csv and the contract
// parsers) expects, or is refused with clear problems and nothing changed.
func FuzzImportCSV(f *testing.F) {
	for _, s := range []string{
		minimal()["complaints.csv"],
		"complaint_id,officer_id,received_on\n",
		"complaint_id,officer_id,received_on,allegation,finding\r\nC-1, 0001 ,2020-01-01,\"one\r\ntwo\",Not_Sustained\r\n\r\nC-2,0003,2026-06-30,,\r\n",
		"\xef\xbb\xbfComplaint_ID , OFFICER_ID,received_on\nC-1,0001,1950-01-01\n",
		"complaint_id,officer_id,received_on\nC-1,0001,2027-01-01\nC-1,0001,1949-12-31\nC-2,9999,2020-02-30\n",
		"complaint_id,officer_id,received_on\nC-1,0001,2020-01-01\nC-1,0001,2020-01-02\n",
		"complaint_id,officer_id,received_on,finding\nC-1,0001,2020-01-01,\tpending\n",
		"complaint_id;officer_id;received_on\nC-1;0001;2020-01-01\n",
		"complaint_id,officer_id,recieved_on\n",
		"complaint_id,officer_id,received_on\n\"C-1\nstill\",0001,2020-01-01,extra\nC-3,0001\n",
		"complaint_id,officer_id,received_on\nC\"1,0001,2020-01-01\n",
		"complaint_id,officer_id,received_on\n\"C-1\"x,0001,2020-01-01\n",
		"complaint_id,officer_id,received_on\nC-1,0001,\"2020-01-01\n",
		"complaint_id,officer_id,received_on\n\x00\x01\xff\xfe,0001,2020-01-01\n",
		"\x00\x01\xff\xfe\x89PNG\r\n\x1a\n",
		"",
		"complaint_id,officer_id,received_on,allegation\nC-1,0001,2020-01-01,\"a \x1b[31m red\"\n",
	} {
		f.Add([]byte(s))
	}
	s := fuzzImportStore(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		kept := keptFingerprint(t, s)
		err := importFuzzed(t, s, "complaints.csv", data)
		want, valid, known := expectComplaints(data)
		if err != nil {
			if valid && known {
				t.Fatalf("refused a file the contract accepts (%d rows): %v", len(want), err)
			}
			return
		}
		got := complaintRows(t, s)
		checkComplaints(t, got)
		if !known {
			return
		}
		if !valid {
			t.Fatalf("committed %d rows from a file the contract refuses: %v", len(got), got)
		}
		for i := range got {
			// encoding/csv reads a quoted CRLF as LF; the importer keeps it.
			got[i].allegation = strings.ReplaceAll(got[i].allegation, "\r\n", "\n")
		}
		sortComplaints(got)
		if !slices.Equal(got, want) {
			t.Fatalf("committed rows differ from the file's:\ngot  %v\nwant %v", got, want)
		}
		if keptFingerprint(t, s) != kept {
			t.Fatalf("importing complaints alone changed other tables")
		}
	})
}

// parquetSeeds writes complaints files with DuckDB's COPY and returns their
// bytes: valid ones, ones with typed or wrongly typed columns, ones that
// break a rule, and a truncated one.
func parquetSeeds(f *testing.F, s *Store) [][]byte {
	f.Helper()
	var out [][]byte
	for _, sel := range []string{
		`SELECT 'C-1' AS complaint_id, '0001' AS officer_id, DATE '2020-01-01' AS received_on, 'Rudeness, discourtesy' AS allegation, 'Not Sustained' AS finding`,
		`SELECT * FROM (VALUES ('C-1', '0001', '2020-01-01'), ('C-2', ' 0003 ', '2026-06-30')) t(complaint_id, officer_id, received_on)`,
		`SELECT 'C-1' AS complaint_id, '0002' AS officer_id, TIMESTAMP '2020-01-01 23:59:59' AS received_on`,
		`SELECT 'C-1' AS complaint_id, '0002' AS officer_id, TIMESTAMPTZ '2020-01-01 23:59:59+05' AS received_on`,
		`SELECT 'C-1' AS complaint_id, 1 AS officer_id, DATE '2020-01-01' AS received_on`,
		`SELECT 'C-1' AS complaint_id, '0001' AS officer_id, 20200101 AS received_on`,
		`SELECT 'C-1' AS complaint_id, '0001' AS officer_id, '2020-02-30' AS received_on, 'resisting' AS finding`,
		`SELECT 'C-1' AS complaint_id, '0001' AS officer_id`,
		`SELECT 'C-1' AS complaint_id, '0001' AS officer_id, DATE '2020-01-01' AS received_on, 1 AS extra`,
		`SELECT NULL::VARCHAR AS complaint_id, '0001' AS officer_id, DATE '1949-12-31' AS received_on`,
		`SELECT 'C-' || (i % 2) AS complaint_id, '0001' AS officer_id, DATE '2020-01-01' + i::INTEGER AS received_on FROM range(3) r(i)`,
		`SELECT 'C-1' AS complaint_id, '0001' AS officer_id, [DATE '2020-01-01'] AS received_on`,
		`SELECT 'C-1' AS complaint_id, '0001' AS officer_id, DATE '2020-01-01' AS received_on, 'x' AS "Finding ", 'y' AS finding`,
	} {
		path := filepath.Join(f.TempDir(), "seed.parquet")
		if _, err := s.db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", sel, path)); err != nil {
			f.Fatalf("%s: %v", sel, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, out[0][:len(out[0])/2], []byte("PAR1"), []byte("PAR1\x00\x00\x00\x00PAR1"))
}

// FuzzImportParquet: a fuzzed complaints.parquet either commits every row of
// the file, each within the contract, or is refused with clear problems and
// nothing changed.
func FuzzImportParquet(f *testing.F) {
	s := fuzzImportStore(f)
	for _, b := range parquetSeeds(f, s) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kept := keptFingerprint(t, s)
		if err := importFuzzed(t, s, "complaints.parquet", data); err != nil {
			return
		}
		got := complaintRows(t, s)
		checkComplaints(t, got)
		var n int
		path := filepath.Join(t.TempDir(), "complaints.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow("SELECT count(*) FROM read_parquet(?)", path).Scan(&n); err != nil {
			t.Fatalf("committed a Parquet file DuckDB cannot count: %v", err)
		}
		if n != len(got) {
			t.Fatalf("committed %d rows from a Parquet file of %d", len(got), n)
		}
		if keptFingerprint(t, s) != kept {
			t.Fatalf("importing complaints alone changed other tables")
		}
	})
}
