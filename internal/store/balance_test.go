package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestHoursBalanceHandWorked: hours_balance on a dataset worked by hand —
// the twelve months to 2025-06-15 are 2024-07-01..2025-06-15 for hours
// (both ends included; the day after and the day before are not) and the
// months 2024-07..2025-06 for officer-years; a category spelled
// "De_Escalation" counts as de-escalation; first aid counts as neither.
func TestHoursBalanceHandWorked(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	activity := "officer_id,month,calls_for_service\n"
	for _, m := range []string{"2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"} {
		activity += "A," + m + ",10\n"
		if m < "2025-01" {
			activity += "B," + m + ",10\n"
		} else {
			activity += "C," + m + ",10\n"
		}
	}
	activity += "C,2024-01,10\n" // outside the twelve months
	files := map[string]string{
		"officers.csv": "officer_id,unit,division,rank,hire_date,separation_date,gender\n" +
			"A,North 1,North,constable,2010-03-01,,F\n" +
			"B,North 1,North,sergeant,2005-07-15,2024-12-31,M\n" +
			"C,South 2,South,constable,2019-09-01,,F\n",
		"courses.csv": "course_id,title,category,hours,recert_days,mandatory\n" +
			"IMIM,IMIM recertification,use-of-force,8,365,true\n" +
			"ICAT,ICAT,de-escalation,16,,false\n" +
			"TALK,Talking it down,De_Escalation,2,,false\n" +
			"FA,First aid,first-aid,4,,false\n",
		"training.csv": "officer_id,course_id,completed_on,hours,delivery\n" +
			"A,ICAT,2025-03-10,16,in-person\n" +
			"A,IMIM,2025-06-15,8,in-person\n" + // as_of itself: in
			"A,IMIM,2025-06-16,8,in-person\n" + // the day after: out
			"B,IMIM,2024-07-01,8,in-person\n" + // the first day: in
			"C,IMIM,2024-06-30,8,in-person\n" + // the day before: out
			"C,ICAT,2024-06-30,16,in-person\n" +
			"C,TALK,2025-05-01,2,online\n" +
			"C,FA,2025-01-01,4,in-person\n",
		"activity.csv": activity,
		"force.csv": "incident_id,officer_id,occurred_on,unit,subject_behaviour,response,weapon,subject_injured,officer_injured,mental_health_crisis,substance_use,subject_weapon,de_escalation_attempted,reviewed,subject_race,subject_gender,subject_age\n" +
			"F-1,A,2024-09-02,,active-resistant,communication,,,,,,,,,,,\n",
		"complaints.csv": "complaint_id,officer_id,received_on,allegation,finding\nC-1,B,2024-08-01,Rudeness,not sustained\n",
		"injuries.csv":   "injury_id,officer_id,occurred_on,incident_id,severity\nI-1,A,2024-09-02,F-1,minor\n",
	}
	if _, err := importDir(t, s, writeFiles(t, files)); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)
	got, err := s.HoursBalance(ctx, asOf, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []BalanceRow{
		// A 12 months + B 6 = 18 officer-months; de-escalation A's ICAT 16; use of force A's IMIM on as_of 8 + B's on the first day 8.
		{Division: "North", Unit: "North 1", OfficerYears: 1.5, DeescalationHours: 16, ForceHours: 16},
		// C 6 months (2024-01 is outside); de-escalation TALK 2 (ICAT and IMIM were the day before).
		{Division: "South", Unit: "South 2", OfficerYears: 0.5, DeescalationHours: 2, ForceHours: 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hours balance on %s:\n got %+v\nwant %+v", asOf.Format(time.DateOnly), got, want)
	}
	got, err = s.HoursBalance(ctx, asOf, Filter{Division: "South"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("hours balance for division South:\n got %+v\nwant %+v", got, want[1:])
	}
}
