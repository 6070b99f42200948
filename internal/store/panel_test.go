package store

import (
	"context"
	"testing"
)

// TestPanelByHand checks the panel of the minimal dataset against values
// worked out by hand: no activity file, so each officer has one row per
// month of service within the months the outcome files cover (2023-04 to
// 2024-03).
func TestPanelByHand(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
		t.Fatal(err)
	}
	q := func(query string, dest ...any) {
		t.Helper()
		if err := s.DB().QueryRowContext(context.Background(), query).Scan(dest...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	var n, n1, n2, n3 int
	q(`SELECT count(*), count(*) FILTER (WHERE officer_id = '0001'), count(*) FILTER (WHERE officer_id = '0002'), count(*) FILTER (WHERE officer_id = '0003') FROM panel JOIN officer_keys USING (officer_key)`, &n, &n1, &n2, &n3)
	// 0002 separated 2024-01-31: 2023-04..2024-01 is 10 months.
	if n != 34 || n1 != 12 || n2 != 10 || n3 != 12 {
		t.Errorf("rows = %d (%d, %d, %d), want 34 (12, 10, 12)", n, n1, n2, n3)
	}
	var start, end string
	q(`SELECT strftime(start_month, '%Y-%m'), strftime(end_month, '%Y-%m') FROM panel_info`, &start, &end)
	if start != "2023-04" || end != "2024-03" {
		t.Errorf("window %s..%s", start, end)
	}
	// 0001 completed ICAT (16 h, de-escalation) on 2023-05-10: trained from May inclusive.
	var apr, may, mar float64
	q(`SELECT max(deesc_hours_cum) FILTER (WHERE month = '2023-04-01'), max(deesc_hours_cum) FILTER (WHERE month = '2023-05-01'),
		max(deesc_hours_12m) FILTER (WHERE month = '2024-03-01') FROM panel JOIN officer_keys USING (officer_key) WHERE officer_id = '0001'`, &apr, &may, &mar)
	if apr != 0 || may != 16 || mar != 16 {
		t.Errorf("0001 de-escalation hours: Apr %v May %v Mar %v, want 0 16 16", apr, may, mar)
	}
	// 0003's IMIM (use-of-force) 7.5 h on 2024-01-15.
	var dec, jan float64
	q(`SELECT max(uof_hours_cum) FILTER (WHERE month = '2023-12-01'), max(uof_hours_12m) FILTER (WHERE month = '2024-01-01') FROM panel JOIN officer_keys USING (officer_key) WHERE officer_id = '0003'`, &dec, &jan)
	if dec != 0 || jan != 7.5 {
		t.Errorf("0003 use-of-force hours: Dec %v Jan %v, want 0 7.5", dec, jan)
	}
	var force, subj, rev, compl, inj int
	q(`SELECT sum(n_force), sum(n_subject_injuries), sum(n_reviewed), sum(n_complaints), sum(n_injuries) FROM panel`, &force, &subj, &rev, &compl, &inj)
	// Incident F-1 involved two officers: one force incident each.
	if force != 2 || subj != 1 || rev != 1 || compl != 1 || inj != 1 {
		t.Errorf("counts force %d subject injuries %d reviewed %d complaints %d injuries %d", force, subj, rev, compl, inj)
	}
	var first string
	q(`SELECT strftime(first_month, '%Y-%m') FROM officer_courses WHERE officer_id = '0001' AND course_id = 'ICAT'`, &first)
	if first != "2023-05" {
		t.Errorf("first ICAT month %s", first)
	}
	var exp float64
	q(`SELECT sum(exposure) FROM panel`, &exp)
	if d := exp - 34.0/12; d > 1e-12 || d < -1e-12 {
		t.Errorf("exposure %v", exp)
	}
}

// TestPanelFromActivity: with an activity file the panel has exactly its
// rows, and events in months without a row are counted as outside.
func TestPanelFromActivity(t *testing.T) {
	files := minimal()
	files["activity.csv"] = "officer_id,month,calls_for_service\n0001,2024-02,10\n0001,2024-03,\n0003,2024-03,7\n"
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, files)); err != nil {
		t.Fatal(err)
	}
	var n, calls, known int
	var outside int64
	if err := s.DB().QueryRow(`SELECT count(*), sum(calls), count(calls) FROM panel`).Scan(&n, &calls, &known); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRow(`SELECT outside_n_complaints FROM panel_info`).Scan(&outside); err != nil {
		t.Fatal(err)
	}
	if n != 3 || calls != 17 || known != 2 || outside != 1 {
		t.Errorf("rows %d calls %d known %d complaints outside %d; want 3 17 2 1", n, calls, known, outside)
	}
}

// TestQueriesPrepare prepares every embedded named query against the real
// schema of an imported dataset, so broken SQL fails here.
func TestQueriesPrepare(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
		t.Fatal(err)
	}
	all := s.Queries().All()
	if len(all) < 8 {
		t.Fatalf("only %d queries", len(all))
	}
	for _, q := range all {
		stmt, err := s.DB().PrepareContext(context.Background(), q.SQL)
		if err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		stmt.Close()
		if len(q.Columns) == 0 || len(q.Roles) == 0 {
			t.Errorf("%s: header declares no columns or roles", q.Name)
		}
	}
}

// TestImportDropsOrphanSchema: tables left by an import that died before its
// commit are invisible and are dropped by the next import.
func TestImportDropsOrphanSchema(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, minimal())); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, s)
	// What a kill -9 during the writing phase leaves behind.
	if _, err := s.DB().Exec(`CREATE SCHEMA ds_2; CREATE TABLE ds_2.officers AS SELECT * FROM officers LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if after := fingerprint(t, s); after != before {
		t.Fatalf("an orphan schema changed what is served")
	}
	v, err := importDir(t, s, writeFiles(t, minimal()))
	if err != nil || v.Number != 2 {
		t.Fatalf("import after a crash: %+v %v", v, err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM officers`).Scan(&n); err != nil || n != 3 {
		t.Errorf("officers %d %v", n, err)
	}
}

// TestPanelHoursAroundGaps works out by hand the cumulative and trailing
// 12-month hours of an officer whose activity has a gap, who trained long
// before the panel starts, in the gap, twice in one panel month, in the last
// month and after the panel ends.
func TestPanelHoursAroundGaps(t *testing.T) {
	files := minimal()
	files["activity.csv"] = "officer_id,month,calls_for_service\n" +
		"0001,2023-01,5\n0001,2023-02,5\n0001,2023-03,5\n" + // a gap: no April, May or June
		"0001,2023-07,5\n0001,2023-08,5\n0001,2023-09,5\n0001,2023-10,5\n0001,2023-11,5\n0001,2023-12,5\n" +
		"0001,2024-01,5\n0001,2024-02,5\n0001,2024-03,5\n"
	files["training.csv"] = trainingHdr +
		"0001,ICAT,2021-06-15,16,\n" + // de-escalation, long before
		"0001,IMIM,2022-03-10,8,\n" + // use of force, in the 12 months to 2023-01 and 2023-02 only
		"0001,IMIM,2023-05-20,4,\n" + // in the gap
		"0001,ICAT,2023-07-05,2,\n0001,IMIM,2023-07-20,3,\n" + // twice in July
		"0001,ICAT,2024-03-31,1,\n" + // the last panel month
		"0001,ICAT,2024-05-02,5,\n" // after the panel
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, files)); err != nil {
		t.Fatal(err)
	}
	type hours struct{ deescCum, deesc12, uofCum, uof12, allCum, all12 float64 }
	want := map[string]hours{
		"2023-01": {16, 0, 8, 8, 24, 8},
		"2023-02": {16, 0, 8, 8, 24, 8},
		"2023-03": {16, 0, 8, 0, 24, 0},
		"2023-07": {18, 2, 15, 7, 33, 9},
		"2023-12": {18, 2, 15, 7, 33, 9},
		"2024-03": {19, 3, 15, 7, 34, 10},
	}
	rows, err := s.DB().Query(`SELECT strftime(month, '%Y-%m'), deesc_hours_cum, deesc_hours_12m, uof_hours_cum, uof_hours_12m,
		all_hours_cum, all_hours_12m FROM panel JOIN officer_keys USING (officer_key) WHERE officer_id = '0001' ORDER BY month`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var months []string
	for rows.Next() {
		var m string
		var h hours
		if err := rows.Scan(&m, &h.deescCum, &h.deesc12, &h.uofCum, &h.uof12, &h.allCum, &h.all12); err != nil {
			t.Fatal(err)
		}
		months = append(months, m)
		if w, ok := want[m]; ok && h != w {
			t.Errorf("%s: hours %+v, want %+v", m, h, w)
		}
	}
	if len(months) != 12 || months[3] != "2023-07" {
		t.Errorf("panel months %v, want the activity file's 12", months)
	}
}
