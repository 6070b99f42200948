package store

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPlacedIncidentsMatchRows: the incidents placed_incidents combines from
// the monthly summary equal those combined from the rows themselves
// (force_rows: behaviour and response at their highest, factors if any row
// has them, placement by recorded unit or first officer) for every filter,
// on a demo dataset where every seventh incident also has a row 35 days
// later by another officer (an incident across two months, some with no
// recorded unit), so that a period boundary cuts incidents in two.
func TestPlacedIncidentsMatchRows(t *testing.T) {
	ctx := context.Background()
	dir := demoDir(t, 300, 3)
	path := filepath.Join(dir, "force.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(out)
	w.WriteAll(recs)
	// Columns: incident_id, officer_id, occurred_on, unit, subject_behaviour, response, …
	added := 0
	for i := 1; i+1 < len(recs); i += 7 {
		r, next := append([]string(nil), recs[i]...), recs[i+1]
		if next[1] == r[1] || next[0] == r[0] {
			continue
		}
		d, err := time.Parse(time.DateOnly, r[2][:10])
		if err != nil {
			t.Fatal(err)
		}
		r[1], r[2], r[4], r[5] = next[1], d.AddDate(0, 0, 35).Format(time.DateOnly), next[4], next[5]
		if added%2 == 0 {
			r[3] = ""
		}
		w.Write(r)
		added++
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	s := openTest(t)
	if _, err := importDir(t, s, dir); err != nil {
		t.Fatal(err)
	}
	var multi int
	if err := s.DB().QueryRowContext(ctx, "SELECT count(DISTINCT incident_id) FROM force_incident_months WHERE incident_months > 1").Scan(&multi); err != nil {
		t.Fatal(err)
	}
	if multi < 10 {
		t.Fatalf("only %d incidents across months (%d rows added)", multi, added)
	}
	reference := fmt.Sprintf(`SELECT incident_id, any_value(incident_unit) AS unit, any_value(incident_division) AS division,
		max(list_position(%s, subject_behaviour)) AS b, max(list_position(%s, response)) AS r,
		bool_or(mental_health_crisis), bool_or(substance_use), bool_or(subject_weapon), max(subject_race), max(subject_gender), bool_or(subject_injured)
		FROM force_rows($from, $to, $unit, $division) GROUP BY incident_id`, behaviourScale, responseScale)
	summary := `SELECT incident_id, unit, division, b, r, mental_health_crisis, substance_use, subject_weapon, subject_race, subject_gender, subject_injured
		FROM placed_incidents($from, $to, $unit, $division)`
	var unit, division string
	if err := s.DB().QueryRowContext(ctx, "SELECT unit, division FROM units ORDER BY unit_key LIMIT 1").Scan(&unit, &division); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][4]string{{"", "", "", ""}, {"2024-03", "2024-09", "", ""}, {"2023-06", "", "", division}, {"", "2024-12", unit, ""}, {"2024-05", "2024-05", "", ""}} {
		var n, onlySummary, onlyRows int
		err := s.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (`+summary+`)), (SELECT count(*) FROM ((`+summary+`) EXCEPT ALL (`+reference+`))),
			(SELECT count(*) FROM ((`+reference+`) EXCEPT ALL (`+summary+`)))`,
			namedArg("from", p[0]), namedArg("to", p[1]), namedArg("unit", p[2]), namedArg("division", p[3])).Scan(&n, &onlySummary, &onlyRows)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || onlySummary != 0 || onlyRows != 0 {
			t.Errorf("from %q to %q unit %q division %q: %d incidents, %d only from the summary, %d only from the rows", p[0], p[1], p[2], p[3], n, onlySummary, onlyRows)
		}
	}
}
