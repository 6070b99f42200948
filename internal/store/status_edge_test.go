package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// statusBySearch is compliance_status as it was defined before status_spans:
// every officer in service on the day joined to every recertified course and
// to the latest completion on or before the day. The edge-case test holds
// status_spans (and the trend's compliance_steps) to it.
const statusBySearch = `CREATE OR REPLACE MACRO main.status_by_search(as_of) AS TABLE
WITH recert_spans AS (
SELECT officer_key, course_id, completed_on,
	coalesce(lead(completed_on) OVER (PARTITION BY officer_key, course_id ORDER BY completed_on), DATE '9999-12-31') AS until
FROM (SELECT k.officer_key, t.course_id, t.completed_on FROM main.training t JOIN main.officer_keys k ON k.officer_id = t.officer_id
	WHERE t.course_id IN (SELECT course_id FROM main.courses WHERE recert_days IS NOT NULL))),
inservice AS (
	SELECT k.officer_key, k.unit_key, o.officer_id, o.unit, o.division, o.hire_date
	FROM main.officers o JOIN main.officer_keys k ON k.officer_id = o.officer_id
	WHERE o.hire_date <= as_of AND (o.separation_date IS NULL OR o.separation_date >= as_of)
),
rc AS (SELECT course_id, title, CAST(recert_days AS INTEGER) AS recert_days, coalesce(mandatory, false) AS mandatory FROM main.courses WHERE recert_days IS NOT NULL),
last AS (
	SELECT officer_key, course_id, completed_on AS last_completed FROM recert_spans
	WHERE completed_on <= as_of AND (until > as_of OR until = DATE '9999-12-31')
)
SELECT rc.course_id, rc.title, rc.mandatory, rc.recert_days, i.officer_id, i.unit, i.division, l.last_completed,
	CAST(coalesce(l.last_completed, i.hire_date) + rc.recert_days AS DATE) AS expires_on,
	CAST(date_diff('day', as_of, CAST(coalesce(l.last_completed, i.hire_date) + rc.recert_days AS DATE)) AS INTEGER) AS days_left,
	i.unit_key
FROM inservice i CROSS JOIN rc LEFT JOIN last l ON l.officer_key = i.officer_key AND l.course_id = rc.course_id
WHERE rc.mandatory OR l.last_completed IS NOT NULL`

func edgeData() map[string]string {
	m := minimal()
	m["officers.csv"] = "officer_id,unit,division,rank,hire_date,separation_date,gender\n" +
		"A,Shared,North,constable,2020-01-01,,F\n" +
		"B,Shared,South,constable,2018-01-01,2020-06-15,M\n" +
		"C,North 1,North,constable,2021-01-01,2021-01-01,F\n" +
		"D,North 1,North,constable,2019-01-31,,M\n" +
		"E,South 2,South,constable,2020-02-29,2024-12-31,F\n"
	m["courses.csv"] = "course_id,title,category,hours,recert_days,mandatory\n" +
		"IMIM,IMIM,use-of-force,8,365,true\n" +
		"WQ,Weapon,use-of-force,4,180,false\n" +
		"WB,Weapon blank,use-of-force,4,30,\n" +
		"ICAT,ICAT,de-escalation,16,,false\n" +
		"ICM,ICAT mandatory,de-escalation,16,,true\n"
	m["training.csv"] = "officer_id,course_id,completed_on,hours,delivery\n" +
		"A,IMIM,2019-06-01,,in-person\n" +
		"A,IMIM,2019-12-31,,in-person\n" +
		"A,IMIM,2020-01-01,,in-person\n" +
		"A,IMIM,2021-05-01,,in-person\n" +
		"A,WQ,2019-02-01,,in-person\n" +
		"B,IMIM,2020-07-01,,in-person\n" +
		"B,WQ,2020-06-15,,in-person\n" +
		"C,IMIM,2021-01-01,,in-person\n" +
		"C,WB,2021-01-01,,in-person\n" +
		"D,WQ,2020-02-01,,in-person\n" +
		"D,WQ,2022-02-01,,in-person\n" +
		"D,IMIM,2019-01-31,,in-person\n" +
		"D,IMIM,2020-01-31,,in-person\n" +
		"D,ICAT,2020-01-31,,in-person\n" +
		"E,WB,2026-06-01,,in-person\n" +
		"E,IMIM,2025-01-01,,in-person\n"
	m["force.csv"] = "incident_id,officer_id,occurred_on,unit,subject_behaviour,response,weapon,subject_injured,officer_injured,mental_health_crisis,substance_use,subject_weapon,de_escalation_attempted,reviewed,subject_race,subject_gender,subject_age\n" +
		"F-1,A,2024-03-02,,active-resistant,communication,,,,,,,,,,,\n"
	m["complaints.csv"] = "complaint_id,officer_id,received_on,allegation,finding\n" + "C-1,A,2023-04-01,x,not sustained\n"
	m["injuries.csv"] = "injury_id,officer_id,occurred_on,incident_id,severity\n" + "I-1,A,2024-03-02,F-1,minor\n"
	return m
}

// TestComplianceStatusEdgeCases: on a dataset of edge cases — completions
// before hire, on the hire day, on and after the separation day, several
// before hire, hire and separation on one day, a leap-day hire, a course
// that is not mandatory and one whose mandatory is blank, courses without a
// recertification period (one mandatory), a unit name in two divisions — the
// status read from status_spans equals the status found by searching every
// completion on every day a status can change on (completions, hires,
// separations, expiries), the day before and the day after, and on
// 3000-01-01, 9999-12-30 and 9999-12-31; and the trend's month-ends equal the searched
// status counted on each, with and without filters (one matching nothing).
func TestComplianceStatusEdgeCases(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := importDir(t, s, writeFiles(t, edgeData())); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, statusBySearch); err != nil {
		t.Fatal(err)
	}
	// Every day a status can change on, the day before and the day after:
	// completions, hires, separations and the expiries of each.
	days := []time.Time{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT CAST(x + o AS DATE) AS d FROM (
			SELECT completed_on AS x FROM training
			UNION ALL SELECT completed_on + CAST(recert_days AS INTEGER) FROM training JOIN courses USING (course_id) WHERE recert_days IS NOT NULL
			UNION ALL SELECT hire_date FROM officers
			UNION ALL SELECT hire_date + CAST(recert_days AS INTEGER) FROM officers, courses WHERE recert_days IS NOT NULL
			UNION ALL SELECT separation_date FROM officers WHERE separation_date IS NOT NULL
		), (VALUES (-1), (0), (1)) v(o) ORDER BY d`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		days = append(days, d)
	}
	rows.Close()
	if len(days) < 100 {
		t.Fatalf("only %d days to compare", len(days))
	}
	bad := 0
	for _, d := range days {
		var n1, n2 int
		q := `SELECT count(*) FROM (SELECT course_id, title, mandatory, recert_days, officer_id, unit, division, last_completed, expires_on, days_left, unit_key FROM %s($d)
			EXCEPT ALL SELECT course_id, title, mandatory, recert_days, officer_id, unit, division, last_completed, expires_on, days_left, unit_key FROM %s($d))`
		if err := s.db.QueryRowContext(ctx, fmt.Sprintf(q, "status_by_search", "compliance_status"), sql.Named("d", d)).Scan(&n1); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRowContext(ctx, fmt.Sprintf(q, "compliance_status", "status_by_search"), sql.Named("d", d)).Scan(&n2); err != nil {
			t.Fatal(err)
		}
		if n1+n2 > 0 {
			bad++
			if bad < 8 {
				t.Errorf("%s: %d rows only by search, %d only from status_spans", d.Format(time.DateOnly), n1, n2)
			}
		}
	}
	// The trend's month-ends (compliance_steps) equal the status counted on
	// each month-end by the search.
	for _, asOf := range []time.Time{time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)} {
		for _, f := range []Filter{{}, {Unit: "Shared"}, {Division: "North"}, {Unit: "nope"}} {
			trend, err := s.ComplianceTrend(ctx, asOf, 120, f, "")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][2]int64{}
			for _, r := range trend {
				got[r.OnDate.Format(time.DateOnly)+" "+r.CourseID] = [2]int64{r.Officers, r.Current}
			}
			rows, err = s.db.QueryContext(ctx, `WITH d AS (SELECT CAST(date_trunc('month', CAST($a AS DATE)) - INTERVAL (i) MONTH - INTERVAL 1 DAY AS DATE) AS on_date
				FROM (SELECT unnest(generate_series(0, 119)) AS i) UNION ALL SELECT CAST($a AS DATE))
				SELECT d.on_date, c.course_id, count(*), count(*) FILTER (WHERE days_left >= 0) FROM d, LATERAL (SELECT * FROM status_by_search(d.on_date)) c
				WHERE ($u = '' OR c.unit = $u) AND ($v = '' OR c.division = $v) GROUP BY ALL`, sql.Named("a", asOf), sql.Named("u", f.Unit), sql.Named("v", f.Division))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][2]int64{}
			for rows.Next() {
				var d time.Time
				var c string
				var a, b int64
				if err := rows.Scan(&d, &c, &a, &b); err != nil {
					t.Fatal(err)
				}
				want[d.Format(time.DateOnly)+" "+c] = [2]int64{a, b}
			}
			rows.Close()
			for k, v := range want {
				if got[k] != v {
					t.Errorf("trend %s %v %s: got %v want %v", asOf.Format(time.DateOnly), f, k, got[k], v)
				}
			}
			for k, v := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("trend %s %v %s: extra %v", asOf.Format(time.DateOnly), f, k, v)
				}
			}
		}
	}
}
