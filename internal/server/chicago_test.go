package server

import (
	"testing"
	"time"

	"deesc/internal/realdata"
)

// TestChicagoPJ runs the leadership and evaluator endpoints on the real
// Chicago procedural-justice panel (7,785 officers × 72 months), checks the
// totals against the source file read independently, and keeps the answers
// as golden files.
func TestChicagoPJ(t *testing.T) {
	if _, ok := realdata.Dir(); !ok {
		t.Skip(realdata.ErrNoData)
	}
	dir := t.TempDir()
	info, err := realdata.ChicagoPJ(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	app, _ := newTestServer(t, dir)
	t.Logf("imported the Chicago panel in %.1fs", time.Since(start).Seconds())
	src, err := realdata.ChicagoPJPanel()
	if err != nil {
		t.Fatal(err)
	}
	var complaints, sustained, force int64
	for i := range src.UID {
		complaints += int64(src.Complaints[i])
		sustained += int64(src.Sustained[i])
		force += int64(src.Force[i])
	}
	for outcome, want := range map[string]int64{"complaints": complaints, "sustained-complaints": sustained, "force": force} {
		v := get(t, app, "/api/outcomes?group_by=year&outcome="+outcome, 200)
		tot := v["total"].(map[string]any)
		if int64(tot["events"].(float64)) != want || tot["officer_months"] != float64(len(src.UID)) {
			t.Errorf("%s: total %v events over %v officer-months; the source has %d over %d", outcome, tot["events"], tot["officer_months"], want, len(src.UID))
		}
		golden(t, "chicago_outcomes_"+outcome, v)
	}
	if info.Officers != 7785 {
		t.Errorf("officers %d", info.Officers)
	}
	for name, path := range map[string]string{
		"chicago_compliance":  "/api/compliance?as_of=2016-12-31&months=12",
		"chicago_matrix":      "/api/force/matrix",
		"chicago_disparities": "/api/disparities?by=subject_race",
		"chicago_dose":        "/api/dose?outcome=complaints",
	} {
		golden(t, name, get(t, app, path, 200))
	}
}
