package server

import (
	"github.com/gofiber/fiber/v2"

	"deesc/internal/analysis"
	"deesc/internal/store"
)

type outcomeGroup struct {
	Group string `json:"group"`
	Rate
	OfficerMonths int64 `json:"officer_months"`
	// PerThousandCalls is events per 1,000 calls for service, over the
	// officer-months whose calls are known; nil when none are.
	PerThousandCalls   *float64 `json:"per_1000_calls"`
	Calls              int64    `json:"calls"`
	EventsWithCalls    int64    `json:"events_with_calls"`
	ForceIncidents     int64    `json:"force_incidents"`
	Reviewed           int64    `json:"reviewed"`
	ReviewedShare      *float64 `json:"reviewed_share"`
	Commendations      int64    `json:"commendations"`
	CommendationsRate  *float64 `json:"commendations_per_officer_year"`
	DeescalationPraise int64    `json:"deescalation_commendations"`
}

type outcomesBody struct {
	Outcome string         `json:"outcome"`
	GroupBy string         `json:"group_by"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	Unit    string         `json:"unit,omitempty"`
	Div     string         `json:"division,omitempty"`
	Groups  []outcomeGroup `json:"groups"`
	Total   outcomeGroup   `json:"total"`
	Method  string         `json:"method"`
}

func (s *Server) outcomeGroup(r store.RateRow) outcomeGroup {
	g := outcomeGroup{Group: r.Group, Rate: newRate(s.cis, r.Events, r.OfficerYears, s.opt.UnstableEvents), OfficerMonths: r.OfficerMonths,
		Calls: r.Calls, EventsWithCalls: r.EventsWithCalls, ForceIncidents: r.ForceIncidents, Reviewed: r.Reviewed,
		Commendations: r.Commendations, DeescalationPraise: r.DeescalationCommended}
	if r.Calls > 0 {
		g.PerThousandCalls = ptr(1000 * float64(r.EventsWithCalls) / float64(r.Calls))
	}
	g.ReviewedShare = ratio(float64(r.Reviewed), float64(r.ForceIncidents))
	g.CommendationsRate = ratio(float64(r.Commendations), r.OfficerYears)
	return g
}

// outcomes answers GET /api/outcomes: events, officer-years and the rate per
// officer-year with its exact 95% CI, per group.
func (s *Server) outcomes(c *fiber.Ctx) error {
	outcome, err := enumParam(c, "outcome", "force", analysis.Outcomes...)
	if err != nil {
		return err
	}
	groupBy, err := enumParam(c, "group_by", "division", "division", "unit", "year", "month")
	if err != nil {
		return err
	}
	f, _, err := s.filterParams(c)
	if err != nil {
		return err
	}
	rows, err := s.store.OutcomeRates(c.UserContext(), outcome, groupBy, f)
	if err != nil {
		return err
	}
	body := outcomesBody{Outcome: outcome, GroupBy: groupBy, From: f.From, To: f.To, Unit: f.Unit, Div: f.Division, Groups: []outcomeGroup{},
		Method: "Rate = events / officer-years of service (each officer-month is 1/12 officer-year) from the officer-month panel; " +
			"95% CI exact (Garwood) for a Poisson count. Force counts each officer's involvement in an incident."}
	// Report the months actually counted: the outcome's own span, narrowed
	// by from and to.
	first, last, err := s.store.OutcomeSpan(c.UserContext(), outcome)
	if err != nil {
		return err
	}
	if body.From == "" || body.From < first.Format("2006-01") {
		body.From = first.Format("2006-01")
	}
	if body.To == "" || body.To > last.Format("2006-01") {
		body.To = last.Format("2006-01")
	}
	var total store.RateRow
	total.Group = "total"
	for _, r := range rows {
		body.Groups = append(body.Groups, s.outcomeGroup(r))
		total.Events += r.Events
		total.OfficerMonths += r.OfficerMonths
		total.OfficerYears += r.OfficerYears
		total.EventsWithCalls += r.EventsWithCalls
		total.Calls += r.Calls
		total.ForceIncidents += r.ForceIncidents
		total.Reviewed += r.Reviewed
		total.Commendations += r.Commendations
		total.DeescalationCommended += r.DeescalationCommended
	}
	body.Total = s.outcomeGroup(total)
	return c.JSON(body)
}
