package server

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/demo"
	"deesc/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testToday is the server's clock in tests.
var testToday = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

// newTestServer imports the files of dir into a fresh database and returns
// the app serving it.
func newTestServer(t testing.TB, dir string) (*fiber.App, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.duckdb"), store.Options{KeepVersions: 2, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Import(context.Background(), dir, store.ImportOptions{Now: testToday, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	return New(st, Options{Now: func() time.Time { return testToday }, Version: "test"}), st
}

// get requests path and decodes the JSON answer, checking the status.
func get(t testing.TB, app *fiber.App, path string, status int) map[string]any {
	t.Helper()
	resp, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, status, b)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("GET %s: not JSON: %v\n%s", path, err, b)
	}
	return v
}

// writeFiles writes a dataset into a temp dir.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// handDataset is small enough to work every figure out by hand.
func handDataset() map[string]string {
	return map[string]string{
		"officers.csv": "officer_id,unit,division,rank,hire_date,separation_date,gender\n" +
			"0001,North 1,North,constable,2010-03-01,,F\n" +
			"0002,North 1,North,sergeant,2005-07-15,2024-01-31,M\n" +
			"0003,South 2,South,constable,2019-09-01,,F\n",
		"courses.csv": "course_id,title,category,hours,recert_days,mandatory\n" +
			"IMIM,IMIM recertification,use-of-force,8,365,true\n" +
			"ICAT,Integrating Communications Assessment and Tactics,de-escalation,16,,false\n",
		"training.csv": "officer_id,course_id,completed_on,hours,delivery\n" +
			"0001,IMIM,2025-02-01,,in-person\n" +
			"0001,ICAT,2024-11-10,16,in-person\n" +
			"0003,IMIM,2024-01-15,7.5,online\n",
		"activity.csv": "officer_id,month,calls_for_service\n" +
			"0001,2025-01,10\n0001,2025-02,20\n0001,2025-03,\n0003,2025-01,5\n0003,2025-02,5\n0003,2025-03,5\n",
		"force.csv": "incident_id,officer_id,occurred_on,unit,subject_behaviour,response,weapon,subject_injured,officer_injured,mental_health_crisis,substance_use,subject_weapon,de_escalation_attempted,reviewed,subject_race,subject_gender,subject_age\n" +
			"F-1,0001,2025-01-20,,active-resistant,physical-control-hard,none,yes,no,yes,no,no,yes,true,White,M,34\n" +
			"F-1,0003,2025-01-20,,active-resistant,communication,,no,,yes,,,,true,White,M,34\n" +
			"F-2,0003,2025-03-05,,assaultive,intermediate-weapon,CEW,no,no,,,,,false,Black,F,22\n",
		"complaints.csv": "complaint_id,officer_id,received_on,allegation,finding\n" +
			"C-1,0001,2025-02-11,Discourtesy,sustained\n",
		"injuries.csv": "injury_id,officer_id,occurred_on,incident_id,severity\n",
	}
}

func TestComplianceByHand(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	v := get(t, app, "/api/compliance?as_of=2025-06-30", 200)
	// On 2025-06-30 officers 0001 and 0003 are in service (0002 left in
	// January 2024). 0001's IMIM from 2025-02-01 expires 2026-02-01 (216 days
	// left: current); 0003's from 2024-01-15 expired 2025-01-14 (167 days overdue).
	courses := v["courses"].([]any)
	if len(courses) != 1 {
		t.Fatalf("courses: %v", courses)
	}
	total := courses[0].(map[string]any)["total"].(map[string]any)
	if total["officers"] != 2.0 || total["current"] != 1.0 || total["overdue"] != 1.0 || total["current_pct"] != 50.0 {
		t.Errorf("IMIM total: %v", total)
	}
	over := v["overdue"].([]any)
	if len(over) != 1 || over[0].(map[string]any)["officer_id"] != "0003" || over[0].(map[string]any)["days_overdue"] != 167.0 ||
		over[0].(map[string]any)["expires_on"] != "2025-01-14" {
		t.Errorf("overdue: %v", over)
	}
	// On 2026-01-15 0001 is due within 30 days (expires 2026-02-01: 17 days).
	v = get(t, app, "/api/compliance?as_of=2026-01-15&unit=North+1", 200)
	total = v["courses"].([]any)[0].(map[string]any)["total"].(map[string]any)
	if total["officers"] != 1.0 || total["current"] != 1.0 || total["due_30"] != 1.0 {
		t.Errorf("due within 30 days: %v", total)
	}
	// Trend: the last point is as_of itself.
	trend := v["trend"].([]any)
	if last := trend[len(trend)-1].(map[string]any); last["on_date"] != "2026-01-15" || last["current_pct"] != 100.0 {
		t.Errorf("trend end: %v", last)
	}
}

// TestComplianceByDivision: level=division gives the same courses, totals
// and divisions as the default answer without the units, and the hours
// balance per division: the sums of its units' hours and officer-years,
// divided afterwards (not an average of the units' rates).
func TestComplianceByDivision(t *testing.T) {
	app := newDemoServer(t)
	const q = "/api/compliance?as_of=2025-05-31&overdue_limit=5"
	all, byDiv := get(t, app, q, 200), get(t, app, q+"&level=division", 200)
	if all["level"] != "unit" || byDiv["level"] != "division" {
		t.Fatalf("levels %v, %v", all["level"], byDiv["level"])
	}
	ac, dc := all["courses"].([]any), byDiv["courses"].([]any)
	if len(ac) == 0 || len(ac) != len(dc) {
		t.Fatalf("courses: %d vs %d", len(ac), len(dc))
	}
	for i := range ac {
		a, d := ac[i].(map[string]any), dc[i].(map[string]any)
		if fmt.Sprint(a["total"]) != fmt.Sprint(d["total"]) {
			t.Errorf("course %v total %v vs %v", a["course_id"], a["total"], d["total"])
		}
		ad, dd := a["divisions"].([]any), d["divisions"].([]any)
		if len(ad) < 2 || len(ad) != len(dd) {
			t.Fatalf("course %v divisions: %d vs %d", a["course_id"], len(ad), len(dd))
		}
		for j := range ad {
			x, y := ad[j].(map[string]any), dd[j].(map[string]any)
			units := y["units"].([]any)
			delete(x, "units")
			delete(y, "units")
			if fmt.Sprint(x) != fmt.Sprint(y) || len(units) != 0 {
				t.Errorf("division %v: %v vs %v (%d units)", x["division"], x, y, len(units))
			}
		}
	}
	for _, k := range []string{"overall", "overdue", "overdue_total", "trend"} {
		if fmt.Sprint(all[k]) != fmt.Sprint(byDiv[k]) {
			t.Errorf("%s differs", k)
		}
	}
	type sums struct{ years, de, uf float64 }
	want := map[string]*sums{}
	for _, r := range all["hours_balance"].([]any) {
		b := r.(map[string]any)
		d := b["division"].(string)
		if want[d] == nil {
			want[d] = &sums{}
		}
		want[d].years += b["officer_years"].(float64)
		want[d].de += b["deescalation_hours"].(float64)
		want[d].uf += b["use_of_force_hours"].(float64)
	}
	got := byDiv["hours_balance"].([]any)
	if len(got) != len(want) || len(got) < 2 {
		t.Fatalf("balance rows: %d, want %d", len(got), len(want))
	}
	for _, r := range got {
		b := r.(map[string]any)
		w := want[b["division"].(string)]
		if w == nil || b["unit"] != "" {
			t.Fatalf("balance row %v", b)
		}
		if abs(b["officer_years"].(float64)-w.years) > 1e-5 || b["deescalation_hours"] != w.de || b["use_of_force_hours"] != w.uf {
			t.Errorf("%v: %v, want %+v", b["division"], b, *w)
		}
		if pr := b["deescalation_hours_per_officer_year"].(float64); abs(pr-w.de/w.years) > 1e-4 {
			t.Errorf("%v: %v per officer-year, want %v", b["division"], pr, w.de/w.years)
		}
		if sh := b["deescalation_share"].(float64); abs(sh-w.de/(w.de+w.uf)) > 1e-4 {
			t.Errorf("%v: share %v, want %v", b["division"], sh, w.de/(w.de+w.uf))
		}
	}
	// A unit filter keeps the unit's own balance row, named.
	unit := all["hours_balance"].([]any)[0].(map[string]any)
	one := get(t, app, q+"&level=division&unit="+url.QueryEscape(unit["unit"].(string)), 200)["hours_balance"].([]any)
	if len(one) != 1 || fmt.Sprint(one[0]) != fmt.Sprint(unit) {
		t.Errorf("balance of unit %v at level=division: %v, want %v", unit["unit"], one, unit)
	}
}

// TestComplianceOverdueList: the overdue list is the first overdue_limit of
// every overdue officer-course pair, most overdue first, and overdue_total
// (taken from the status counts) equals the length of the whole list.
func TestComplianceOverdueList(t *testing.T) {
	app := newDemoServer(t)
	first := get(t, app, "/api/compliance?as_of=2025-05-31", 200)["courses"].([]any)[0].(map[string]any)["divisions"].([]any)[0].(map[string]any)
	unit := first["units"].([]any)[0].(map[string]any)["unit"].(string)
	for _, q := range []string{"as_of=2025-05-31", "as_of=2024-01-15&division=" + url.QueryEscape(first["division"].(string)),
		"as_of=2025-05-31&course=CEW-RECERT", "as_of=2023-07-01&unit=" + url.QueryEscape(unit)} {
		all := get(t, app, "/api/compliance?overdue_limit=1000000&"+q, 200)
		list := all["overdue"].([]any)
		total := all["overdue_total"].(float64)
		if int(total) != len(list) || total < 2 {
			t.Errorf("%s: overdue_total %v, %d listed with no limit", q, total, len(list))
			continue
		}
		for _, limit := range []int{0, 1, len(list) / 2} {
			v := get(t, app, fmt.Sprintf("/api/compliance?overdue_limit=%d&%s", limit, q), 200)
			if got := v["overdue"].([]any); v["overdue_total"] != total || v["overdue_listed"] != float64(limit) || !reflect.DeepEqual(got, list[:limit]) {
				t.Errorf("%s, overdue_limit=%d: total %v, listed %v, %v; want %v of %v: %v", q, limit, v["overdue_total"], v["overdue_listed"], got, limit, total, list[:limit])
			}
		}
	}
}

func TestOutcomesByHand(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	v := get(t, app, "/api/outcomes?outcome=force&group_by=division", 200)
	groups := v["groups"].([]any)
	// North: 0001's 3 months (0.25 officer-years), 1 incident. South: 0003's 3 months, 2 incidents.
	north, south := groups[0].(map[string]any), groups[1].(map[string]any)
	if north["group"] != "North" || north["events"] != 1.0 || north["officer_years"] != 0.25 || north["rate"] != 4.0 {
		t.Errorf("North: %v", north)
	}
	// Exact CI for k=1: (0.0253, 5.5716) / 0.25 officer-years.
	if lo, hi := north["ci_low"].(float64), north["ci_high"].(float64); abs(lo-0.025318/0.25) > 1e-4 || abs(hi-5.571643/0.25) > 1e-4 {
		t.Errorf("North CI: %v %v", lo, hi)
	}
	// South: 2 incidents over 15 calls; North: 1 incident in January over 30 known calls (March unknown).
	if south["per_1000_calls"] != 1000*2/15.0 || north["per_1000_calls"] != 1000*1/30.0 {
		t.Errorf("per 1,000 calls: North %v South %v", north["per_1000_calls"], south["per_1000_calls"])
	}
	if south["reviewed_share"] != 0.5 {
		t.Errorf("reviewed share: %v", south["reviewed_share"])
	}
	tot := v["total"].(map[string]any)
	if tot["events"] != 3.0 || tot["officer_years"] != 0.5 {
		t.Errorf("total: %v", tot)
	}
	v = get(t, app, "/api/outcomes?outcome=complaints&group_by=month&from=2025-02&to=2025-02", 200)
	groups = v["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["group"] != "2025-02" || groups[0].(map[string]any)["events"] != 1.0 {
		t.Errorf("complaints by month: %v", groups)
	}
}

func TestForceMatrixByHand(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	v := get(t, app, "/api/force/matrix", 200)
	if v["incidents"] != 2.0 {
		t.Errorf("incidents %v", v["incidents"])
	}
	for _, r := range v["rows"].([]any) {
		row := r.(map[string]any)
		counts := row["counts"].(map[string]any)
		switch row["subject_behaviour"] {
		case "active-resistant": // F-1: highest response of its two officers is physical-control-hard
			if counts["physical-control-hard"] != 1.0 || counts["communication"] != 0.0 || row["total"] != 1.0 {
				t.Errorf("active-resistant row: %v", row)
			}
		case "assaultive":
			if counts["intermediate-weapon"] != 1.0 {
				t.Errorf("assaultive row: %v", row)
			}
		}
	}
	found := false
	for _, f := range v["factors"].([]any) {
		fr := f.(map[string]any)
		if fr["factor"] == "mental_health_crisis" && fr["value"] == "yes" {
			found = true
			if fr["total"] != 1.0 {
				t.Errorf("mental-health crisis incidents: %v", fr)
			}
		}
	}
	if !found {
		t.Errorf("factors: %v", v["factors"])
	}
}

func TestSuppression(t *testing.T) {
	cases := []struct {
		counts []int64
		hidden []bool
	}{
		{[]int64{50, 30, 5}, []bool{false, true, true}},           // one small cell: the next smallest goes too
		{[]int64{50, 30, 5, 3}, []bool{false, false, true, true}}, // two small cells protect each other
		{[]int64{50, 30, 0}, []bool{false, false, false}},         // zeros are shown
		{[]int64{5}, []bool{true}},
	}
	for _, tc := range cases {
		var total int64
		for _, n := range tc.counts {
			total += n
		}
		cells, hideTotal := suppress(tc.counts, total, 10)
		if hideTotal != (len(tc.counts) == 1 && tc.counts[0] < 10) {
			t.Errorf("%v: hideTotal = %v", tc.counts, hideTotal)
		}
		for i, c := range cells {
			if (c.Count == nil) != tc.hidden[i] {
				t.Errorf("%v: cell %d hidden=%v, want %v", tc.counts, i, c.Count == nil, tc.hidden[i])
			}
		}
	}
}

func TestBadParameters(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	for path, param := range map[string]string{
		"/api/outcomes?outcome=arrests":         "outcome",
		"/api/outcomes?group_by=shift":          "group_by",
		"/api/outcomes?from=2025-03&to=2025-01": "from",
		"/api/outcomes?from=2025-13":            "from",
		"/api/outcomes?to=March":                "to",
		"/api/outcomes?unit=Nowhere":            "unit",
		"/api/outcomes?division=Atlantis":       "division",
		"/api/compliance?as_of=2025-02-30":      "as_of",
		"/api/compliance?as_of=yesterday":       "as_of",
		"/api/compliance?course=NOPE":           "course",
		"/api/force/matrix?from=2025-1":         "from",
		"/api/disparities?by=shoe_size":         "by",
		"/api/disparities?outcome=complaints":   "outcome",
		"/api/compliance?months=0":              "months",
		"/api/compliance?level=team":            "level",
		"/api/dose?window=0":                    "window",
		"/api/dose?outcome=arrests":             "outcome",
	} {
		v := get(t, app, path, 400)
		if v["param"] != param || !strings.Contains(v["error"].(string), param) {
			t.Errorf("%s: %v, want param %s", path, v, param)
		}
	}
	get(t, app, "/api/nope", 404)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// golden compares v, as indented JSON, with testdata/NAME.golden.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Errorf("%s differs from %s (run go test ./internal/server -update after checking the change)", name, path)
	}
}

// newDemoServer serves a small demo dataset: 400 officers × 3 years to May 2025.
func newDemoServer(t testing.TB) *fiber.App {
	t.Helper()
	dir := t.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.End = 400, 3, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	app, _ := newTestServer(t, dir)
	return app
}

// TestDemoGolden runs every endpoint on a small demo dataset and compares
// the answers with committed golden files.
func TestDemoGolden(t *testing.T) {
	app := newDemoServer(t)
	// Two independent routes to the same figure: the trend's last point (an
	// interval computation over all completions) and the status counts on
	// as_of (the compliance_status macro).
	c := get(t, app, "/api/compliance?as_of=2025-05-31&months=3", 200)
	overall := c["overall"].(map[string]any)
	trend := c["trend"].([]any)
	last := trend[len(trend)-1].(map[string]any)
	if last["officers"] != overall["officers"] || last["current"] != overall["current"] {
		t.Errorf("trend on as_of %v differs from the status counts %v", last, overall)
	}
	for name, path := range map[string]string{
		"demo_compliance":         "/api/compliance?as_of=2025-05-31&overdue_limit=20&months=12",
		"demo_outcomes_division":  "/api/outcomes?outcome=force&group_by=division",
		"demo_outcomes_year":      "/api/outcomes?outcome=complaints&group_by=year",
		"demo_force_matrix":       "/api/force/matrix",
		"demo_disparities_race":   "/api/disparities?outcome=force&by=subject_race",
		"demo_disparities_gender": "/api/disparities?outcome=force&by=subject_gender",
		"demo_dose":               "/api/dose?outcome=force",
		"demo_dose_window6":       "/api/dose?outcome=complaints&window=6",
	} {
		golden(t, name, get(t, app, path, 200))
	}
}

// TestOutcomeOwnSpan: an outcome is counted only over the months its own
// file covers, so a complaints file that ends earlier than the force file
// (a partial refresh, say) does not add months of zero complaints.
func TestOutcomeOwnSpan(t *testing.T) {
	files := handDataset()
	files["complaints.csv"] = "complaint_id,officer_id,received_on,allegation,finding\nC-1,0001,2025-01-11,Discourtesy,sustained\n"
	app, _ := newTestServer(t, writeFiles(t, files))
	force := get(t, app, "/api/outcomes?outcome=force&group_by=month", 200)["groups"].([]any)
	complaints := get(t, app, "/api/outcomes?outcome=complaints&group_by=month", 200)["groups"].([]any)
	if len(force) != 3 || len(complaints) != 1 || complaints[0].(map[string]any)["group"] != "2025-01" {
		t.Errorf("force months %d, complaints months %v", len(force), complaints)
	}
}

// TestOutcomeUnitsThatReadAlike: unit "A / B" of division X and unit "B"
// of division "X / A" both read "X / A / B"; they stay two groups, each
// with its own officer-months and events, in unit order (grouping by the
// label would add them together).
func TestOutcomeUnitsThatReadAlike(t *testing.T) {
	files := handDataset()
	files["officers.csv"] = "officer_id,unit,division,rank,hire_date,separation_date,gender\n" +
		"0001,A / B,X,constable,2010-03-01,,F\n" +
		"0002,North 1,North,sergeant,2005-07-15,2024-01-31,M\n" +
		"0003,B,X / A,constable,2019-09-01,,F\n"
	app, _ := newTestServer(t, writeFiles(t, files))
	groups := get(t, app, "/api/outcomes?outcome=force&group_by=unit", 200)["groups"].([]any)
	var got []string
	for _, g := range groups {
		m := g.(map[string]any)
		got = append(got, fmt.Sprintf("%v %v %v", m["group"], m["officer_months"], m["events"]))
	}
	// Unit keys follow (division, unit): X's "A / B" before "X / A"'s "B".
	want := []string{"X / A / B 3 1", "X / A / B 3 2"}
	if !slices.Equal(got, want) {
		t.Errorf("groups %q, want %q", got, want)
	}
}

// TestForceMatrixSelectsWholeIncidents: an incident with officers of two
// divisions belongs to one (here its first officer's, as no unit is recorded)
// and keeps every officer's response.
func TestForceMatrixSelectsWholeIncidents(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	south := get(t, app, "/api/force/matrix?division=South", 200)
	north := get(t, app, "/api/force/matrix?division=North", 200)
	if south["incidents"] != 1.0 || north["incidents"] != 1.0 {
		t.Fatalf("incidents: South %v North %v, want 1 and 1", south["incidents"], north["incidents"])
	}
	for _, r := range north["rows"].([]any) {
		row := r.(map[string]any)
		if row["subject_behaviour"] == "active-resistant" && row["counts"].(map[string]any)["physical-control-hard"] != 1.0 {
			t.Errorf("F-1 in North: %v", row)
		}
	}
}
