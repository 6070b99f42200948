package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/store"
)

// complianceRule explains the statuses in every compliance response.
const complianceRule = "An officer in service on as_of is current on a course with a recertification period when they completed it " +
	"within recert_days before as_of; due_30, due_60 and due_90 count current officers whose completion expires within 30, " +
	"31–60 and 61–90 days; overdue officers have lapsed. Mandatory courses apply to every officer in service, other courses " +
	"(a weapon qualification, say) to the officers who have completed them at least once; an officer who never completed a " +
	"mandatory course is due recert_days after hire."

// Counts are recertification status counts with the share current.
type Counts struct {
	Officers   int64    `json:"officers"`
	Current    int64    `json:"current"`
	Due30      int64    `json:"due_30"`
	Due60      int64    `json:"due_60"`
	Due90      int64    `json:"due_90"`
	Overdue    int64    `json:"overdue"`
	CurrentPct *float64 `json:"current_pct"`
}

func countsOf(r store.ComplianceRow) Counts {
	c := Counts{Officers: r.Officers, Current: r.Current, Due30: r.Due30, Due60: r.Due60, Due90: r.Due90, Overdue: r.Overdue}
	if r.Officers > 0 {
		c.CurrentPct = ptr(round(100*float64(r.Current)/float64(r.Officers), 2))
	}
	return c
}

type unitCompliance struct {
	Unit string `json:"unit"`
	Counts
}

type divisionCompliance struct {
	Division string `json:"division"`
	Counts
	Units []unitCompliance `json:"units"`
}

type courseCompliance struct {
	CourseID  string               `json:"course_id"`
	Title     string               `json:"title"`
	Mandatory bool                 `json:"mandatory"`
	Total     Counts               `json:"total"`
	Divisions []divisionCompliance `json:"divisions"`
}

type trendPoint struct {
	OnDate     string   `json:"on_date"`
	Officers   int64    `json:"officers"` // officer-course pairs
	Current    int64    `json:"current"`
	CurrentPct *float64 `json:"current_pct"`
}

type overdueOfficer struct {
	OfficerID     string `json:"officer_id"`
	Unit          string `json:"unit"`
	Division      string `json:"division"`
	CourseID      string `json:"course_id"`
	Title         string `json:"title"`
	Mandatory     bool   `json:"mandatory"`
	LastCompleted string `json:"last_completed"` // blank if never completed
	ExpiresOn     string `json:"expires_on"`
	DaysOverdue   int64  `json:"days_overdue"`
}

type balance struct {
	Division                   string   `json:"division"`
	Unit                       string   `json:"unit"`
	OfficerYears               float64  `json:"officer_years"`
	DeescalationHours          float64  `json:"deescalation_hours"`
	UseOfForceHours            float64  `json:"use_of_force_hours"`
	DeescalationPerOfficerYear *float64 `json:"deescalation_hours_per_officer_year"`
	UseOfForcePerOfficerYear   *float64 `json:"use_of_force_hours_per_officer_year"`
	// DeescalationShare is de-escalation hours over both kinds; 0.5 is the
	// equal weight the CCJ task force recommends.
	DeescalationShare *float64 `json:"deescalation_share"`
}

type complianceBody struct {
	AsOf string `json:"as_of"`
	// Level is the finest level listed: "unit" (divisions with their
	// units, hours balance per unit) or "division" (divisions without
	// their units, hours balance per division).
	Level         string             `json:"level"`
	Rule          string             `json:"rule"`
	Courses       []courseCompliance `json:"courses"`
	Overall       Counts             `json:"overall"`
	Overdue       []overdueOfficer   `json:"overdue"`
	OverdueTotal  int                `json:"overdue_total"`
	OverdueListed int                `json:"overdue_listed"`
	Trend         []trendPoint       `json:"trend"`
	HoursBalance  []balance          `json:"hours_balance"`
	BalanceNote   string             `json:"hours_balance_note"`
}

// compliance answers GET /api/compliance: recertification status on as_of by
// course, division and unit, the overdue officers, the monthly trend and the
// de-escalation vs use-of-force hours balance per unit. level=division leaves
// the units out and gives the balance per division: the dashboard's view of
// a whole service, whose units may number thousands.
func (s *Server) compliance(c *fiber.Ctx) error {
	ctx := c.UserContext()
	asOf, err := dateParam(c, "as_of", s.today())
	if err != nil {
		return err
	}
	f, names, err := s.filterParams(c)
	if err != nil {
		return err
	}
	course, err := courseParam(c, names)
	if err != nil {
		return err
	}
	months, err := intParam(c, "months", 24, 1, 120)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "overdue_limit", 500, 0, 1000000)
	if err != nil {
		return err
	}
	level, err := enumParam(c, "level", "unit", "unit", "division")
	if err != nil {
		return err
	}
	// The four reads are independent: run together, they share the cores
	// where one alone leaves them idle.
	var (
		rows    []store.ComplianceRow
		overdue []store.OverdueRow
		trend   []store.TrendRow
		bal     []store.BalanceRow
	)
	if err := together(
		func() (err error) { rows, err = s.store.ComplianceByUnit(ctx, asOf, f, course); return err },
		func() (err error) {
			overdue, err = s.store.ComplianceOverdue(ctx, asOf, f, course, false, limit)
			return err
		},
		func() (err error) { trend, err = s.store.ComplianceTrend(ctx, asOf, months, f, course); return err },
		func() (err error) { bal, err = s.store.HoursBalance(ctx, asOf, f); return err },
	); err != nil {
		return err
	}
	body := complianceBody{AsOf: asOf.Format(time.DateOnly), Level: level, Rule: complianceRule, Courses: []courseCompliance{}}
	var overall store.ComplianceRow
	for _, r := range rows {
		switch r.Level {
		case "all":
			body.Courses = append(body.Courses, courseCompliance{CourseID: r.CourseID, Title: r.Title, Mandatory: r.Mandatory, Total: countsOf(r), Divisions: []divisionCompliance{}})
			overall.Officers += r.Officers
			overall.Current += r.Current
			overall.Due30 += r.Due30
			overall.Due60 += r.Due60
			overall.Due90 += r.Due90
			overall.Overdue += r.Overdue
		case "division":
			cc := &body.Courses[len(body.Courses)-1]
			cc.Divisions = append(cc.Divisions, divisionCompliance{Division: r.Division, Counts: countsOf(r), Units: []unitCompliance{}})
		case "unit":
			if level == "division" {
				continue
			}
			cc := &body.Courses[len(body.Courses)-1]
			dc := &cc.Divisions[len(cc.Divisions)-1]
			dc.Units = append(dc.Units, unitCompliance{Unit: r.Unit, Counts: countsOf(r)})
		}
	}
	body.Overall = countsOf(overall)

	// The overdue list is the first limit of the officer-course pairs the
	// counts call overdue (the same status, the same filters).
	body.OverdueTotal = int(overall.Overdue)
	body.Overdue = []overdueOfficer{}
	for _, o := range overdue {
		last := ""
		if o.LastCompleted != nil {
			last = o.LastCompleted.Format(time.DateOnly)
		}
		body.Overdue = append(body.Overdue, overdueOfficer{OfficerID: o.OfficerID, Unit: o.Unit, Division: o.Division, CourseID: o.CourseID,
			Title: o.Title, Mandatory: o.Mandatory, LastCompleted: last, ExpiresOn: o.ExpiresOn.Format(time.DateOnly), DaysOverdue: o.DaysOverdue})
	}
	body.OverdueListed = len(body.Overdue)

	body.Trend = []trendPoint{}
	for _, t := range trend {
		d := t.OnDate.Format(time.DateOnly)
		if n := len(body.Trend); n == 0 || body.Trend[n-1].OnDate != d {
			body.Trend = append(body.Trend, trendPoint{OnDate: d})
		}
		p := &body.Trend[len(body.Trend)-1]
		p.Officers += t.Officers
		p.Current += t.Current
	}
	for i := range body.Trend {
		if p := &body.Trend[i]; p.Officers > 0 {
			p.CurrentPct = ptr(round(100*float64(p.Current)/float64(p.Officers), 2))
		}
	}

	if level == "division" && f.Unit == "" { // a unit filter keeps the unit's own rows
		bal = balanceByDivision(bal)
	}
	body.HoursBalance = []balance{}
	for _, b := range bal {
		body.HoursBalance = append(body.HoursBalance, balance{Division: b.Division, Unit: b.Unit, OfficerYears: round(b.OfficerYears, 6),
			DeescalationHours: b.DeescalationHours, UseOfForceHours: b.ForceHours,
			DeescalationPerOfficerYear: rounded(ratio(b.DeescalationHours, b.OfficerYears), 4), UseOfForcePerOfficerYear: rounded(ratio(b.ForceHours, b.OfficerYears), 4),
			DeescalationShare: rounded(ratio(b.DeescalationHours, b.DeescalationHours+b.ForceHours), 4)})
	}
	body.BalanceNote = "Hours completed in the twelve months to as_of, per officer-year of service in those months; de-escalation and " +
		"use-of-force are the course categories configured when the dataset was imported (analysis.deescalation_categories, analysis.use_of_force_categories)."
	return c.JSON(body)
}

// balanceByDivision sums the units' hours and officer-years per division
// (rows in division order, as hours_balance.sql returns them); Unit is
// blank.
func balanceByDivision(units []store.BalanceRow) []store.BalanceRow {
	var out []store.BalanceRow
	for _, u := range units {
		if n := len(out); n > 0 && out[n-1].Division == u.Division {
			d := &out[n-1]
			d.OfficerYears += u.OfficerYears
			d.DeescalationHours += u.DeescalationHours
			d.ForceHours += u.ForceHours
			continue
		}
		u.Unit = ""
		out = append(out, u)
	}
	return out
}
