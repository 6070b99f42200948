package server

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"deesc/internal/realdata"
	"deesc/internal/stats"
)

// num reads a number at a dotted path of a decoded JSON answer.
func num(t testing.TB, v map[string]any, path string) float64 {
	t.Helper()
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", path, cur)
		}
		cur = m[k]
	}
	f, ok := cur.(float64)
	if !ok {
		t.Fatalf("%s = %v, not a number", path, cur)
	}
	return f
}

func relDiff(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }

// TestCohortsChicago runs the three training-effect endpoints on the real
// Chicago procedural-justice panel (conversion, import, panel, SQL, fit)
// and checks them against the R package's published staggered_cs numbers
// and against computations on the source panel read independently.
func TestCohortsChicago(t *testing.T) {
	if _, ok := realdata.Dir(); !ok {
		t.Skip(realdata.ErrNoData)
	}
	if testing.Short() {
		t.Skip("imports the Chicago panel")
	}
	dir := t.TempDir()
	if _, err := realdata.ChicagoPJ(dir); err != nil {
		t.Fatal(err)
	}
	app, _ := newTestServer(t, dir)
	src, err := realdata.ChicagoPJPanel()
	if err != nil {
		t.Fatal(err)
	}
	course := realdata.PJCourseID

	// Published in the README of jonathandroth/staggered:
	//   staggered_cs(df, i = "uid", t = "period", g = "first_trained", y = "complaints", estimand = "simple")
	//   estimate -0.005176818  se 0.003928735  se_neyman 0.003930919
	v := get(t, app, "/api/staggered?course="+course+"&outcome=complaints&estimand=simple", 200)
	if got := num(t, v, "estimate"); math.Abs(got-(-0.005176818)) > 1e-9 {
		t.Errorf("staggered simple complaints: estimate %.10f, published −0.005176818", got)
	}
	if got := num(t, v, "se"); math.Abs(got-0.003930919) > 1e-6 {
		t.Errorf("staggered simple complaints: se %.10f, published se_neyman 0.003930919", got)
	}
	if got := num(t, v, "se_refined"); math.Abs(got-0.003928735) > 1e-6 {
		t.Errorf("staggered simple complaints: se_refined %.10f, published se 0.003928735", got)
	}
	if num(t, v, "officers") != 7785 || num(t, v, "excluded_officers") != float64(7785-int(num(t, v, "officers"))) {
		t.Errorf("officers %v, excluded %v", v["officers"], v["excluded_officers"])
	}
	t.Logf("staggered simple complaints: %.9f (se %.9f, refined %.9f)", num(t, v, "estimate"), num(t, v, "se"), num(t, v, "se_refined"))

	// Every outcome and estimand against stats.Staggered on the source panel.
	outcomes := map[string][]int{"complaints": src.Complaints, "sustained-complaints": src.Sustained, "force": src.Force}
	uids := map[string]int32{}
	for _, u := range src.UID {
		if _, ok := uids[u]; !ok {
			uids[u] = int32(len(uids))
		}
	}
	const T = 72
	for _, outcome := range []string{"complaints", "sustained-complaints", "force"} {
		ys := outcomes[outcome]
		p := stats.Panel{N: len(uids), T: T, Y: make([]float64, len(uids)*T), Cohort: make([]int, len(uids)), Never: -1 << 30}
		for i, u := range src.UID {
			k := uids[u]
			p.Y[int(k)*T+src.Period[i]-1] = float64(ys[i])
			p.Cohort[k] = src.FirstTrained[i] - 1
			if src.FirstTrained[i] == 0 {
				p.Cohort[k] = p.Never
			}
		}
		for _, est := range []string{"simple", "cohort", "calendar", "event"} {
			want, err := stats.Staggered(p, est, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			v := get(t, app, "/api/staggered?course="+course+"&outcome="+outcome+"&estimand="+est, 200)
			if math.Abs(num(t, v, "estimate")-want.Estimate) > 1e-9 || relDiff(num(t, v, "se"), want.SE) > 1e-9 {
				t.Errorf("%s %s: %.10g (se %.10g); source panel %.10g (se %.10g)", outcome, est, num(t, v, "estimate"), num(t, v, "se"), want.Estimate, want.SE)
			}
			if est == "event" {
				rows := v["event_study"].([]any)
				if len(rows) != len(want.Events) {
					t.Fatalf("%s: %d event-study rows, want %d", outcome, len(rows), len(want.Events))
				}
				for j, r := range rows {
					e := r.(map[string]any)
					if int(e["e"].(float64)) != want.Events[j].E || math.Abs(e["estimate"].(float64)-want.Events[j].Estimate) > 1e-9 ||
						relDiff(e["se"].(float64), want.Events[j].SE) > 1e-9 {
						t.Errorf("%s event %v: %v, want %+v", outcome, e["e"], e, want.Events[j])
					}
				}
			}
			t.Logf("%s %s: %.6f [%.6f, %.6f], relative %v", outcome, est, num(t, v, "estimate"), num(t, v, "ci_low"), num(t, v, "ci_high"), v["relative_change"])
		}
	}

	// Crude rate ratio of complaints: sums over the source panel.
	var k [2]float64
	var n [2]float64
	trained := make([]float64, len(src.UID))
	for i := range src.UID {
		tr := 0
		if src.FirstTrained[i] > 0 && src.Period[i] >= src.FirstTrained[i] {
			tr = 1
		}
		trained[i] = float64(tr)
		k[tr] += float64(src.Complaints[i])
		n[tr]++
	}
	v = get(t, app, "/api/cohorts?course="+course+"&outcome=complaints", 200)
	crudeRR := (k[1] / n[1]) / (k[0] / n[0])
	if got := num(t, v, "crude.rate_ratio"); relDiff(got, crudeRR) > 1e-12 || math.Abs(got-0.71) > 0.02 {
		t.Errorf("crude complaint rate ratio %v; the source panel's sums give %v (about 0.71)", got, crudeRR)
	}
	if num(t, v, "crude.trained.events") != k[1] || num(t, v, "crude.untrained.officer_months") != n[0] {
		t.Errorf("crude arms: %v", v["crude"])
	}

	// Adjusted: stats.FitGLM on every officer-month, calendar-month dummies
	// (one unit), officer clusters.
	month := make([]int32, len(src.UID))
	cluster := make([]int32, len(src.UID))
	off := make([]float64, len(src.UID))
	y := make([]float64, len(src.UID))
	for i := range src.UID {
		month[i], cluster[i], off[i], y[i] = int32(src.Period[i]-1), uids[src.UID[i]], math.Log(1.0/12), float64(src.Complaints[i])
	}
	ref, err := stats.FitGLM(stats.Data{Y: y, Offset: off, X: []stats.Column{{Name: "trained", Values: trained}},
		Factors: []stats.Factor{{Name: "month", Codes: month, Levels: T}}, Cluster: cluster}, stats.Poisson(), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := ref.Coef("trained")
	if relDiff(num(t, v, "adjusted.coefficient"), c.Estimate) > 1e-6 || relDiff(num(t, v, "adjusted.se"), c.Robust.SE) > 1e-6 ||
		relDiff(num(t, v, "adjusted.ci_low"), c.Robust.RRLo) > 1e-6 || relDiff(num(t, v, "adjusted.ci_high"), c.Robust.RRHi) > 1e-6 {
		t.Errorf("adjusted %v; row-level FitGLM: coef %v se %v [%v, %v]", v["adjusted"], c.Estimate, c.Robust.SE, c.Robust.RRLo, c.Robust.RRHi)
	}
	if rr := num(t, v, "adjusted.rate_ratio"); math.Abs(rr-1) > 0.1 {
		t.Errorf("adjusted complaint rate ratio %v, expected about 1.0", rr)
	}
	t.Logf("complaints: crude RR %.4f [%.4f, %.4f]; adjusted RR %.4f [%.4f, %.4f] (FitGLM on rows: %.4f, se %.6f vs %.6f); "+
		"Pearson χ²/df %.3f, NB2 α %.3f", num(t, v, "crude.rate_ratio"), num(t, v, "crude.ci_low"), num(t, v, "crude.ci_high"),
		num(t, v, "adjusted.rate_ratio"), num(t, v, "adjusted.ci_low"), num(t, v, "adjusted.ci_high"), c.RR, c.Robust.SE,
		num(t, v, "adjusted.se"), num(t, v, "adjusted.pearson_chi2_per_df"), num(t, v, "adjusted.nb2_alpha"))
	golden(t, "cohorts_chicago_complaints", v)

	// Within officer: stats.FitPoissonAbsorbed on every officer-month.
	abs, err := stats.FitPoissonAbsorbed(stats.Data{Y: y, X: []stats.Column{{Name: "trained", Values: trained}},
		Factors: []stats.Factor{{Name: "month", Codes: month, Levels: T}}, Cluster: cluster},
		stats.Factor{Name: "officer", Codes: cluster, Levels: len(uids)}, stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = abs.Coef("trained")
	v = get(t, app, "/api/prepost?course="+course+"&outcome=complaints", 200)
	if relDiff(num(t, v, "coefficient"), c.Estimate) > 1e-6 || relDiff(num(t, v, "se"), c.Robust.SE) > 1e-6 ||
		num(t, v, "officers") != float64(abs.Clusters) || num(t, v, "officer_months") != float64(abs.N) {
		t.Errorf("prepost %v; row-level FitPoissonAbsorbed: coef %v se %v, %d officers, %d officer-months", v, c.Estimate, c.Robust.SE, abs.Clusters, abs.N)
	}
	t.Logf("complaints within officer: RR %.4f [%.4f, %.4f] (%v officers, %v switching, %v patterns)", num(t, v, "rate_ratio"),
		num(t, v, "ci_low"), num(t, v, "ci_high"), v["officers"], v["switching_officers"], v["patterns"])
	golden(t, "cohorts_chicago_prepost_complaints", v)
	golden(t, "cohorts_chicago_staggered_event_complaints",
		get(t, app, "/api/staggered?course="+course+"&outcome=complaints&estimand=event", 200))
}

// TestCohortsDemoGolden keeps the three analyses' answers on a small demo
// dataset as golden files.
func TestCohortsDemoGolden(t *testing.T) {
	app := newDemoServer(t)
	for name, path := range map[string]string{
		"cohorts_demo_force":            "/api/cohorts?course=ICAT&outcome=force",
		"cohorts_demo_category":         "/api/cohorts?category=de-escalation&min_hours=16&outcome=complaints&from=2023-01",
		"cohorts_demo_staggered_simple": "/api/staggered?course=ICAT&outcome=force",
		"cohorts_demo_staggered_event":  "/api/staggered?course=ICAT&outcome=complaints&estimand=event&from=2023-06",
		"cohorts_demo_prepost":          "/api/prepost?course=ICAT&outcome=force",
	} {
		golden(t, name, get(t, app, path, 200))
	}
}

// effectFiles is a service of four officers in one unit over six months
// with enough force to fit, and courses that leave an arm or the comparison
// group empty.
func effectFiles() map[string]string {
	var act, force strings.Builder
	act.WriteString("officer_id,month,calls_for_service\n")
	force.WriteString("incident_id,officer_id,occurred_on\n")
	for i, o := range []string{"X", "Y", "Z", "W"} {
		for m := 1; m <= 6; m++ {
			fmt.Fprintf(&act, "%s,2024-%02d,\n", o, m)
			for k := range 1 + (i+m)%3 {
				fmt.Fprintf(&force, "F-%s-%d-%d,%s,2024-%02d-1%d\n", o, m, k, o, m, k)
			}
		}
	}
	return map[string]string{
		"officers.csv": "officer_id,unit,division,rank,hire_date,separation_date,gender\n" +
			"X,U1,D1,constable,2010-03-01,,F\nY,U1,D1,constable,2010-03-01,,M\nZ,U1,D1,constable,2010-03-01,,F\nW,U1,D1,constable,2010-03-01,,M\n",
		"courses.csv": "course_id,title,category,hours,recert_days,mandatory\n" +
			"NEVER,Nobody took it,talking,8,,false\nOLD,Everybody took it long ago,talking,8,,false\n" +
			"ONE,Everybody took it in March,talking,8,,false\nMIX,Two took it,listening,8,,false\n",
		"training.csv": "officer_id,course_id,completed_on,hours,delivery\n" +
			"X,OLD,2023-06-01,,in-person\nY,OLD,2023-06-01,,in-person\nZ,OLD,2023-06-01,,in-person\nW,OLD,2023-06-01,,in-person\n" +
			"X,ONE,2024-03-05,,in-person\nY,ONE,2024-03-05,,in-person\nZ,ONE,2024-03-05,,in-person\nW,ONE,2024-03-05,,in-person\n" +
			"X,MIX,2024-03-05,,in-person\nY,MIX,2024-03-25,,in-person\n",
		"activity.csv":   act.String(),
		"force.csv":      force.String(),
		"complaints.csv": "complaint_id,officer_id,received_on,allegation,finding\n",
		"injuries.csv":   "injury_id,officer_id,occurred_on,incident_id,severity\n",
	}
}

// TestCohortsNotComputable checks that data which cannot support an
// estimate gives a 422 saying why, and that the answers that can be
// computed carry only finite numbers.
func TestCohortsNotComputable(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, effectFiles()))
	for path, why := range map[string]string{
		"/api/cohorts?course=NEVER":                  "no officer is trained",
		"/api/cohorts?course=OLD":                    "every officer-month in the window is trained",
		"/api/prepost?course=OLD":                    "trained throughout",
		"/api/prepost?course=NEVER":                  "no officer with events is trained",
		"/api/staggered?course=ONE":                  "only one cohort",
		"/api/staggered?course=OLD":                  "no cohort",
		"/api/cohorts?course=MIX&outcome=complaints": "only 0 events",
		"/api/staggered?course=MIX&from=2024-07":     "no officer-months",
		"/api/cohorts?course=MIX&to=2024-01":         "no officer is trained",
	} {
		v := get(t, app, path, 422)
		if msg, _ := v["error"].(string); !strings.Contains(msg, why) {
			t.Errorf("%s: %q does not say %q", path, msg, why)
		}
	}
	// MIX: two officers trained in March, two never.
	v := get(t, app, "/api/cohorts?course=MIX", 200)
	if num(t, v, "selection.officers") != 4 || num(t, v, "switching_officers") != 2 || num(t, v, "crude.trained.officer_months") != 4+4 {
		t.Errorf("MIX cohorts: %v", v)
	}
	get(t, app, "/api/prepost?course=MIX", 200)
	v = get(t, app, "/api/staggered?course=MIX&estimand=event", 200)
	if num(t, v, "officers") != 4 || num(t, v, "treated_cohorts") != 1 {
		t.Errorf("MIX staggered: %v", v)
	}
	// The hand dataset has three force incidents.
	app, _ = newTestServer(t, writeFiles(t, handDataset()))
	v = get(t, app, "/api/cohorts?course=IMIM", 422)
	if !strings.Contains(v["error"].(string), "only 3 events") {
		t.Errorf("hand dataset: %v", v)
	}
}

// TestCohortsBadParameters checks that malformed or contradictory
// parameters answer 400 naming the parameter.
func TestCohortsBadParameters(t *testing.T) {
	app, _ := newTestServer(t, writeFiles(t, handDataset()))
	for path, param := range map[string]string{
		"/api/cohorts":                                               "course",
		"/api/cohorts?course=NOPE":                                   "course",
		"/api/staggered?course=NOPE&outcome=force":                   "course",
		"/api/cohorts?course=ICAT&outcome=arrests":                   "outcome",
		"/api/prepost?course=ICAT&outcome=Force":                     "outcome",
		"/api/cohorts?course=ICAT&category=de-escalation":            "category",
		"/api/cohorts?category=basket-weaving":                       "category",
		"/api/cohorts?course=ICAT&min_hours=8":                       "min_hours",
		"/api/staggered?min_hours=8":                                 "min_hours",
		"/api/prepost?category=de-escalation&min_hours=-1":           "min_hours",
		"/api/prepost?category=de-escalation&min_hours=eight":        "min_hours",
		"/api/cohorts?course=ICAT&from=2025-03&to=2025-01":           "from",
		"/api/staggered?course=ICAT&from=2025-13":                    "from",
		"/api/prepost?course=ICAT&to=March":                          "to",
		"/api/staggered?course=ICAT&estimand=median":                 "estimand",
		"/api/cohorts?course=ICAT&unit=Nowhere":                      "unit",
		"/api/prepost?course=ICAT&division=Atlantis":                 "division",
		"/api/cohorts?category=de-escalation&min_hours=16&to=x":      "to",
		"/api/staggered?category=De_Escalation&min_hours=1e400":      "min_hours",
		"/api/cohorts?course=ICAT&from=2025-01&to=2024-12&x=1":       "from",
		"/api/prepost?course=ICAT&category=use-of-force&min_hours=8": "category",
	} {
		v := get(t, app, path, 400)
		if v["param"] != param || !strings.Contains(v["error"].(string), param) {
			t.Errorf("%s: %v, want param %s", path, v, param)
		}
	}
}
