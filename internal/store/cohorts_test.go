package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
)

// treatmentFiles is a service small enough to read every treated month
// off by hand: five officers over 2024-01..2024-06 (the activity file).
func treatmentFiles() map[string]string {
	return map[string]string{
		"officers.csv": "officer_id,unit,division,rank,hire_date,separation_date,gender\n" +
			"A,North 1,North,constable,2010-03-01,,F\n" +
			"B,North 1,North,constable,2012-03-01,,M\n" +
			"C,South 2,South,constable,2015-03-01,,F\n" +
			"D,South 2,South,constable,2015-03-01,,M\n" +
			"E,South 2,South,constable,2015-03-01,,M\n",
		// Two spellings of one category: the threshold counts both.
		"courses.csv": "course_id,title,category,hours,recert_days,mandatory\n" +
			"ICAT,ICAT,de-escalation,16,,false\n" +
			"TALK,Talking down,De_Escalation,8,,false\n" +
			"IMIM,IMIM,use-of-force,8,365,true\n",
		"training.csv": "officer_id,course_id,completed_on,hours,delivery\n" +
			"A,TALK,2024-01-20,,in-person\n" + // 8 h in January
			"A,ICAT,2024-03-31,,in-person\n" + // 24 h in March
			"B,ICAT,2023-11-02,,in-person\n" + // trained before the window
			"B,ICAT,2024-04-02,,in-person\n" + // a second completion counts only towards hours
			"C,TALK,2024-02-10,4,online\n" + // 4 h (reported) in February
			"C,TALK,2024-05-10,4,online\n" + // 8 h in May
			"D,IMIM,2024-02-01,,in-person\n",
		"activity.csv": "officer_id,month,calls_for_service\n" +
			"A,2024-01,\nA,2024-02,\nA,2024-03,\nA,2024-04,\nA,2024-05,\nA,2024-06,\n" +
			"B,2024-01,\nB,2024-02,\nB,2024-03,\nB,2024-04,\nB,2024-05,\nB,2024-06,\n" +
			"C,2024-01,\nC,2024-02,\nC,2024-03,\nC,2024-04,\nC,2024-05,\nC,2024-06,\n" +
			"D,2024-02,\nD,2024-03,\nD,2024-05,\n" + // a gap in April
			"E,2024-03,\nE,2024-04,\n",
		"force.csv": "incident_id,officer_id,occurred_on\n" +
			"F1,A,2024-01-05\nF2,A,2024-03-05\nF3,A,2024-03-06\nF4,C,2024-06-01\nF5,D,2024-05-01\n",
		"complaints.csv": "complaint_id,officer_id,received_on,allegation,finding\n",
		"injuries.csv":   "injury_id,officer_id,occurred_on,incident_id,severity\n",
	}
}

// TestTreatment checks the treated months of each treatment definition and
// the shape of the panel read for the analyses.
func TestTreatment(t *testing.T) {
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, treatmentFiles())); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cats, err := s.Categories(ctx)
	if err != nil || !slices.Equal(cats, []string{"de-escalation", "use-of-force"}) {
		t.Fatalf("categories %v, %v", cats, err)
	}
	// Month offsets from 2024-01; −2 is 2023-11.
	never := int32(NeverTreated)
	for _, c := range []struct {
		name string
		q    TreatmentQuery
		want map[string]int32 // officer → first trained month
	}{
		{"course", TreatmentQuery{Course: "ICAT"}, map[string]int32{"A": 2, "B": -2, "C": never, "D": never, "E": never}},
		{"category, any hours", TreatmentQuery{Category: "de-escalation"}, map[string]int32{"A": 0, "B": -2, "C": 1, "D": never, "E": never}},
		{"category, 8 hours", TreatmentQuery{Category: "de-escalation", MinHours: 8}, map[string]int32{"A": 0, "B": -2, "C": 4, "D": never, "E": never}},
		{"category, 24 hours", TreatmentQuery{Category: "de-escalation", MinHours: 24}, map[string]int32{"A": 2, "B": 3, "C": never, "D": never, "E": never}},
		{"other category", TreatmentQuery{Category: "use-of-force", MinHours: 8}, map[string]int32{"A": never, "B": never, "C": never, "D": 1, "E": never}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.q.Outcome = "force"
			p, err := s.Treatment(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			ids := officerIDs(t, s, p.Officers.Key)
			for i, id := range ids {
				if got := p.Officers.Treated[i]; got != c.want[id] {
					t.Errorf("officer %s first trained at %d, want %d", id, got, c.want[id])
				}
			}
		})
	}
	p, err := s.Treatment(ctx, TreatmentQuery{Outcome: "force", Course: "ICAT", Filter: Filter{From: "2024-02"}})
	if err != nil {
		t.Fatal(err)
	}
	w := p.Window
	if w.First != 2024*12+1 || w.Last != 2024*12+5 || w.Officers != 5 || w.OfficerMonths != 5+5+5+3+2 || p.Exposure != 1.0/12 {
		t.Errorf("window %+v, exposure %v", w, p.Exposure)
	}
	ids := officerIDs(t, s, p.Officers.Key)
	d := slices.Index(ids, "D")
	if got := p.Gaps[int32(d)]; !slices.Equal(got, []int32{0, 1, 3}) || len(p.Gaps) != 1 {
		t.Errorf("gaps %v: D's months should be 0, 1, 3", p.Gaps)
	}
	e := slices.Index(ids, "E")
	if p.Officers.First[e] != 1 || p.Officers.Last[e] != 2 {
		t.Errorf("E's months %d..%d, want 1..2", p.Officers.First[e], p.Officers.Last[e])
	}
	// Events from February: A's two in March (offset 1), C's in June (4), D's in May (3).
	type ev struct {
		id    string
		month int32
		n     float64
	}
	var got []ev
	for k, i := range p.Events.Officer {
		got = append(got, ev{ids[i], p.Events.Month[k], p.Events.Count[k]})
	}
	if want := []ev{{"A", 1, 2}, {"C", 4, 1}, {"D", 3, 1}}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	a := slices.Index(ids, "A")
	if p.TrainedFrom(a) != 1 || p.TrainedFrom(slices.Index(ids, "C")) != 5 || p.TrainedFrom(slices.Index(ids, "B")) != 0 {
		t.Errorf("trained from: A %d, B %d, C %d; want 1, 0, 5", p.TrainedFrom(a), p.TrainedFrom(slices.Index(ids, "B")), p.TrainedFrom(slices.Index(ids, "C")))
	}
	// A window outside the data selects nothing.
	p, err = s.Treatment(ctx, TreatmentQuery{Outcome: "force", Course: "ICAT", Filter: Filter{From: "2030-01"}})
	if err != nil || p.Window.OfficerMonths != 0 || p.Window.Months() != 0 {
		t.Errorf("outside the data: %+v, %v", p.Window, err)
	}
}

func officerIDs(t *testing.T, s *Store, keys []int32) []string {
	t.Helper()
	out := make([]string, len(keys))
	for i, k := range keys {
		if err := s.DB().QueryRow("SELECT officer_id FROM officer_keys WHERE officer_key = ?", k).Scan(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestTreatmentMatchesOfficerMonths: the panel the analyses read (runs and
// event months) is exactly cohort_officer_months' rows, officer by officer
// and month by month, for every kind of treatment and filter, on a service
// with gaps in its officers' months and on the demo.
func TestTreatmentMatchesOfficerMonths(t *testing.T) {
	ctx := context.Background()
	small := openTest(t)
	if _, err := importDir(t, small, writeFiles(t, treatmentFiles())); err != nil {
		t.Fatal(err)
	}
	demo := openTest(t)
	if _, err := importDir(t, demo, demoDir(t, 300, 3)); err != nil {
		t.Fatal(err)
	}
	// Punch gaps into some demo officers' months (a month out of service
	// each, and two for one of them), as another agency's activity file
	// has, and summarise the runs again.
	v, err := demo.CurrentVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`DELETE FROM ` + v.Schema + `.panel WHERE (officer_key % 7 = 3 AND month = DATE '2024-06-01')
			OR (officer_key = 10 AND month IN (DATE '2023-11-01', DATE '2024-02-01'))`,
		strings.Replace(officerRuns(v.Schema), "CREATE TABLE", "CREATE OR REPLACE TABLE", 1),
	} {
		if _, err := demo.DB().ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		s    *Store
		q    TreatmentQuery
	}{
		{"course", small, TreatmentQuery{Outcome: "force", Course: "ICAT"}},
		{"course from March", small, TreatmentQuery{Outcome: "force", Course: "ICAT", Filter: Filter{From: "2024-03"}}},
		{"category to April", small, TreatmentQuery{Outcome: "force", Category: "de-escalation", MinHours: 8, Filter: Filter{To: "2024-04"}}},
		{"one unit", small, TreatmentQuery{Outcome: "force", Course: "ICAT", Filter: Filter{Unit: "South 2"}}},
		{"demo course", demo, TreatmentQuery{Outcome: "force", Course: "ICAT"}},
		{"demo complaints, one division, a period", demo, TreatmentQuery{Outcome: "complaints", Course: "ICAT",
			Filter: Filter{From: "2023-05", To: "2024-08", Division: "*"}}},
		{"demo category hours", demo, TreatmentQuery{Outcome: "subject-injuries", Category: "de-escalation", MinHours: 16}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.q.Division == "*" {
				if err := c.s.DB().QueryRowContext(ctx, "SELECT min(division) FROM units").Scan(&c.q.Division); err != nil {
					t.Fatal(err)
				}
			}
			p, err := c.s.Treatment(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			type officer struct {
				unit, treated int32
				months        []int32
			}
			want := map[int32]*officer{}
			wantEvents := map[[2]int32]float64{}
			args := append(c.q.args(), namedArg("first", p.Window.First))
			rows, err := c.s.DB().QueryContext(ctx, `SELECT officer_key, unit_key, month_index - $first, coalesce(treated_index - $first, $never), events
				FROM (`+c.s.q.SQL("cohort_officer_months")+`) ORDER BY officer_key, month_index`, append(args, namedArg("never", NeverTreated))...)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for rows.Next() {
				var k, u, m, g int32
				var y float64
				if err := rows.Scan(&k, &u, &m, &g, &y); err != nil {
					t.Fatal(err)
				}
				o := want[k]
				if o == nil {
					o = &officer{unit: u, treated: g}
					want[k] = o
				}
				o.months = append(o.months, m)
				if y != 0 {
					wantEvents[[2]int32{k, m}] = y
				}
				n++
			}
			rows.Close()
			if n == 0 {
				t.Fatal("no officer-months selected")
			}
			if p.Window.OfficerMonths != n || p.Window.Officers != int64(len(want)) {
				t.Errorf("window %+v; the officer-months are %d of %d officers", p.Window, n, len(want))
			}
			gaps := 0
			for i, k := range p.Officers.Key {
				o := want[k]
				if o == nil {
					t.Errorf("officer %d read, not among the officer-months", k)
					continue
				}
				var months []int32
				p.MonthsOf(i, func(m int32) { months = append(months, m) })
				if !slices.Equal(months, o.months) || p.Officers.Unit[i] != o.unit || p.Officers.Treated[i] != o.treated {
					t.Errorf("officer %d: unit %d, treated %d, months %v; the officer-months say %d, %d, %v",
						k, p.Officers.Unit[i], p.Officers.Treated[i], months, o.unit, o.treated, o.months)
				}
				if len(o.months) != int(o.months[len(o.months)-1]-o.months[0]+1) {
					gaps++
				}
			}
			if len(p.Gaps) != gaps {
				t.Errorf("%d officers with gaps listed, %d have them", len(p.Gaps), gaps)
			}
			got := map[[2]int32]float64{}
			for j, i := range p.Events.Officer {
				got[[2]int32{p.Officers.Key[i], p.Events.Month[j]}] = p.Events.Count[j]
			}
			if !maps.Equal(got, wantEvents) {
				t.Errorf("%d event months read, the officer-months have %d", len(got), len(wantEvents))
			}
			t.Logf("%d officers, %d officer-months, %d with gaps, %d event months", len(want), n, gaps, len(got))
		})
	}
}
