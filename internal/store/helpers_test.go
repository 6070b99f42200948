package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testNow is "today" for imports in tests, so that future-date checks do not
// depend on the clock.
var testNow = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// openTest opens a fresh on-disk database in a temp dir.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.duckdb"), Options{KeepVersions: 3, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeFiles writes name → content into a new temp dir and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// minimal is a small valid dataset in the contract.
func minimal() map[string]string {
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
			"0001,ICAT,2023-05-10,16,in-person\n" +
			"0003,IMIM,2024-01-15,7.5,online\n",
		"force.csv": "incident_id,officer_id,occurred_on,unit,subject_behaviour,response,weapon,subject_injured,officer_injured,mental_health_crisis,substance_use,subject_weapon,de_escalation_attempted,reviewed,subject_race,subject_gender,subject_age\n" +
			"F-1,0001,2024-03-02T22:15:00,North 1,Active Resistant,physical_control_hard,none,yes,no,Y,n,0,1,true,White,M,34\n" +
			"F-1,0003,2024-03-02,,active-resistant,communication,,,,,,,,,,,\n",
		"complaints.csv": "complaint_id,officer_id,received_on,allegation,finding\n" +
			"C-1,0002,2023-04-01,\"Rudeness, discourtesy\",not sustained\n",
		"injuries.csv": "injury_id,officer_id,occurred_on,incident_id,severity\n" +
			"I-1,0001,2024-03-02,F-1,minor\n",
	}
}

func importDir(t testing.TB, s *Store, dir string) (Version, error) {
	t.Helper()
	return s.Import(context.Background(), dir, ImportOptions{Now: testNow, Source: "test"})
}
