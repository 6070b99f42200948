package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// datasetPrint summarises every table of the served dataset (not the
// version records), so two moments can be shown to serve the same data.
func datasetPrint(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, tbl := range viewNames() {
		var n int64
		var h any
		if err := s.db.QueryRow("SELECT count(*), bit_xor(hash(x)) FROM "+tbl+" x").Scan(&n, &h); err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		fmt.Fprintf(&b, "%s:%d:%v;", tbl, n, h)
	}
	return b.String()
}

// imimAll returns IMIM compliance over every unit on 2025-06-30: officers
// in service, current, overdue.
func imimAll(t *testing.T, s *Store) [3]int64 {
	t.Helper()
	rows, err := s.ComplianceByUnit(context.Background(), time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), Filter{}, "IMIM")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Level == "all" {
			return [3]int64{r.Officers, r.Current, r.Overdue}
		}
	}
	t.Fatalf("no overall IMIM row in %+v", rows)
	return [3]int64{}
}

// currentFlags returns the version numbers Versions marks current, and the kept ones.
func currentFlags(t *testing.T, s *Store) (current, kept []int) {
	t.Helper()
	vs, err := s.Versions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Current {
			current = append(current, v.Number)
		}
		if v.Kept {
			kept = append(kept, v.Number)
		}
	}
	return current, kept
}

// TestRollback imports two datasets and moves between them. By hand, IMIM
// (recert 365 days, mandatory) on 2025-06-30: v1 has 0001 (done 2025-02-01,
// current) and 0003 (2024-01-15, overdue; 0002 left in 2024), so 2 officers,
// 1 current, 1 overdue; v2 adds 0004 (done 2025-06-01, current): 3, 2, 1.
func TestRollback(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
		t.Fatal(err)
	}
	v1print := datasetPrint(t, s)
	if got := imimAll(t, s); got != [3]int64{2, 1, 1} {
		t.Fatalf("v1 IMIM = %v, want [2 1 1]", got)
	}
	v2files := with(map[string]string{
		"officers.csv": minimal()["officers.csv"] + "0004,South 2,South,constable,2022-01-01,,M\n",
		"training.csv": minimal()["training.csv"] + "0004,IMIM,2025-06-01,,online\n",
	})
	if _, err := importDir(t, s, writeFiles(t, v2files)); err != nil {
		t.Fatal(err)
	}
	v2print := datasetPrint(t, s)
	if got := imimAll(t, s); got != [3]int64{3, 2, 1} {
		t.Fatalf("v2 IMIM = %v, want [3 2 1]", got)
	}

	v, err := s.Rollback(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != 1 || !v.Current || len(v.Files) == 0 {
		t.Errorf("Rollback(1) = %+v", v)
	}
	if n, err := s.CurrentVersionNumber(ctx); err != nil || n != 1 {
		t.Errorf("CurrentVersionNumber after Rollback(1) = %d, %v", n, err)
	}
	if got := imimAll(t, s); got != [3]int64{2, 1, 1} {
		t.Errorf("IMIM after Rollback(1) = %v, want [2 1 1]", got)
	}
	if p := datasetPrint(t, s); p != v1print {
		t.Errorf("after Rollback(1) the dataset is not v1's:\n%s\nwant\n%s", p, v1print)
	}
	if cur, _ := currentFlags(t, s); len(cur) != 1 || cur[0] != 1 {
		t.Errorf("Versions marks %v current, want [1]", cur)
	}
	// The current version again: nothing changes.
	if v, err := s.Rollback(ctx, 1); err != nil || v.Number != 1 {
		t.Errorf("Rollback to the current version = %+v, %v", v, err)
	}

	if v, err := s.Rollback(ctx, 2); err != nil || v.Number != 2 {
		t.Fatalf("Rollback(2) = %+v, %v", v, err)
	}
	if p := datasetPrint(t, s); p != v2print {
		t.Errorf("after Rollback(2) the dataset is not v2's")
	}
	if got := imimAll(t, s); got != [3]int64{3, 2, 1} {
		t.Errorf("IMIM after Rollback(2) = %v, want [3 2 1]", got)
	}

	// Survives reopening: back to 1, close, open.
	if _, err := s.Rollback(ctx, 1); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{KeepVersions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.CurrentVersionNumber(ctx); err != nil || n != 1 {
		t.Errorf("after reopening, current = %d, %v; want 1", n, err)
	}
	if p := datasetPrint(t, s); p != v1print {
		t.Errorf("after reopening the dataset is not v1's")
	}
	if got := imimAll(t, s); got != [3]int64{2, 1, 1} {
		t.Errorf("IMIM after reopening = %v, want [2 1 1]", got)
	}

	// An import on top of a rolled-back dataset carries over v1's files and
	// takes the next free number.
	v, err = importDir(t, s, writeFiles(t, map[string]string{"complaints.csv": minimal()["complaints.csv"]}))
	if err != nil || v.Number != 3 {
		t.Fatalf("import after rollback = %+v, %v", v, err)
	}
	var officers int
	if err := s.db.QueryRow("SELECT count(*) FROM officers").Scan(&officers); err != nil || officers != 3 {
		t.Errorf("officers after importing complaints on v1 = %d, %v; want v1's 3", officers, err)
	}
}

func TestRollbackErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t) // keeps 3 versions
	if _, err := s.Rollback(ctx, 1); !errors.Is(err, ErrNoVersion) || !strings.Contains(err.Error(), "no dataset has been imported") {
		t.Errorf("Rollback on an empty database: %v", err)
	}
	for i := 1; i <= 4; i++ {
		if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
			t.Fatal(err)
		}
	}
	before := datasetPrint(t, s)
	_, err := s.Rollback(ctx, 9)
	if !errors.Is(err, ErrNoVersion) || !strings.Contains(err.Error(), "version 9") || !strings.Contains(err.Error(), "the versions are 1, 2, 3, 4") {
		t.Errorf("Rollback(9): %v", err)
	}
	_, err = s.Rollback(ctx, 1)
	if !errors.Is(err, ErrNotKept) || !strings.Contains(err.Error(), "the kept versions are 2, 3, 4") {
		t.Errorf("Rollback to a pruned version: %v", err)
	}
	if _, err := s.Rollback(ctx, 0); !errors.Is(err, ErrNoVersion) {
		t.Errorf("Rollback(0): %v", err)
	}
	if cur, kept := currentFlags(t, s); fmt.Sprint(cur, kept) != "[4] [4 3 2]" {
		t.Errorf("after refused rollbacks: current %v kept %v", cur, kept)
	}
	if datasetPrint(t, s) != before {
		t.Errorf("a refused rollback changed the dataset")
	}
	// A kept record whose schema has gone is refused, not served.
	if _, err := s.db.Exec("DROP SCHEMA ds_2 CASCADE"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rollback(ctx, 2); !errors.Is(err, ErrNotKept) || !strings.Contains(err.Error(), "ds_2 is missing") {
		t.Errorf("Rollback to a version whose schema is missing: %v", err)
	}
	if n, _ := s.CurrentVersionNumber(ctx); n != 4 || datasetPrint(t, s) != before {
		t.Errorf("a refused rollback changed the current version (%d) or the dataset", n)
	}
}

// TestReadsDuringRollback reads while the served dataset is switched back
// and forth: every read sees one dataset whole, never a mix.
func TestReadsDuringRollback(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, demoDir(t, 200, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := importDir(t, s, demoDir(t, 500, 2)); err != nil {
		t.Fatal(err)
	}
	type snapshot struct{ officers, months, force int64 }
	read := func() (snapshot, error) {
		var v snapshot
		err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM officers), (SELECT count(*) FROM panel), (SELECT sum(n_force) FROM panel)`).Scan(&v.officers, &v.months, &v.force)
		return v, err
	}
	want := map[snapshot]int{}
	for _, n := range []int{1, 2} {
		if _, err := s.Rollback(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		v, err := read()
		if err != nil {
			t.Fatal(err)
		}
		want[v] = n
	}
	if len(want) != 2 {
		t.Fatalf("the two datasets read the same: %v", want)
	}
	done := make(chan struct{})
	bad := make(chan string, 1)
	reads := make(chan int, 1)
	go func() {
		n := 0
		defer func() { reads <- n }()
		for {
			select {
			case <-done:
				return
			default:
			}
			v, err := read()
			n++
			if _, ok := want[v]; err != nil || !ok {
				select {
				case bad <- fmt.Sprintf("read %+v, %v", v, err):
				default:
				}
				return
			}
		}
	}()
	for i := range 10 {
		if _, err := s.Rollback(context.Background(), 1+i%2); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	select {
	case n := <-reads:
		t.Logf("%d reads during 10 rollbacks", n)
	case <-time.After(30 * time.Second):
		t.Fatal("the reader did not stop within 30 s")
	}
	select {
	case msg := <-bad:
		t.Errorf("a read during a rollback saw neither dataset: %s", msg)
	default:
	}
}

// TestNamesFollowTheDataset: what a request may name is remembered between
// dataset switches, never across one: an import that adds a unit and a
// course, and a rollback that takes them away, show at once.
func TestNamesFollowTheDataset(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
		t.Fatal(err)
	}
	before, err := s.Names(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Names(ctx); err != nil { // remembered
		t.Fatal(err)
	}
	files := minimal()
	files["officers.csv"] += "0004,West 9,West,constable,2021-01-04,,M\n"
	files["courses.csv"] += "TALK,Talking down,de-escalation,8,,false\n"
	files["complaints.csv"] += "C-2,0003,2024-09-01,Rudeness,not sustained\n"
	span := func() string {
		first, last, err := s.OutcomeSpan(ctx, "complaints")
		if err != nil {
			t.Fatal(err)
		}
		return first.Format("2006-01") + ".." + last.Format("2006-01")
	}
	if got := span(); got != "2023-04..2023-04" {
		t.Errorf("complaints span %s before the import, want 2023-04..2023-04", got)
	}
	if _, err := importDir(t, s, writeFiles(t, files)); err != nil {
		t.Fatal(err)
	}
	after, err := s.Names(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(after.Units, "West 9") || !slices.Contains(after.Divisions, "West") || !slices.Contains(after.Courses, "TALK") {
		t.Errorf("after the import: %+v", after)
	}
	if got := span(); got != "2023-04..2024-09" {
		t.Errorf("complaints span %s after the import, want 2023-04..2024-09", got)
	}
	if _, err := s.Rollback(ctx, 1); err != nil {
		t.Fatal(err)
	}
	back, err := s.Names(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, before) {
		t.Errorf("after the rollback %+v, before the import %+v", back, before)
	}
	if got := span(); got != "2023-04..2023-04" {
		t.Errorf("complaints span %s after the rollback, want 2023-04..2023-04", got)
	}
}
