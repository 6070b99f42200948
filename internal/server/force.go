package server

import (
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/contract"
	"deesc/internal/store"
)

type matrixRow struct {
	Behaviour string             `json:"subject_behaviour"`
	Total     int64              `json:"total"`
	Counts    map[string]int64   `json:"counts"` // by response
	Shares    map[string]float64 `json:"shares"` // row shares by response
}

type factorRow struct {
	Factor string           `json:"factor"`
	Value  string           `json:"value"` // yes, no, unknown
	Total  int64            `json:"total"`
	Counts map[string]int64 `json:"counts"` // by highest response
}

type matrixBody struct {
	From       string      `json:"from"`
	To         string      `json:"to"`
	Behaviours []string    `json:"behaviours"`
	Responses  []string    `json:"responses"`
	Rows       []matrixRow `json:"rows"`
	Incidents  int64       `json:"incidents"`
	Factors    []factorRow `json:"factors"`
	Method     string      `json:"method"`
}

// forceMatrix answers GET /api/force/matrix: the IMIM view of use of force.
func (s *Server) forceMatrix(c *fiber.Ctx) error {
	f, _, err := s.filterParams(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var (
		cells   []store.MatrixCell
		factors []store.FactorCell
	)
	if err := together(
		func() (err error) { cells, err = s.store.ForceMatrix(ctx, f); return err },
		func() (err error) { factors, err = s.store.ForceFactors(ctx, f); return err },
	); err != nil {
		return err
	}
	first, last, err := s.store.OutcomeSpan(c.UserContext(), "force")
	if err != nil {
		return err
	}
	body := matrixBody{From: orMonth(f.From, first), To: orMonth(f.To, last), Behaviours: append(append([]string{}, contract.SubjectBehaviours...), "unknown"),
		Responses: append(append([]string{}, contract.Responses...), "unknown"),
		Method:    "Each incident counted once: the subject's behaviour and the highest response any officer used; shares are of the row (behaviour) total."}
	byB := map[string]*matrixRow{}
	for _, b := range body.Behaviours {
		body.Rows = append(body.Rows, matrixRow{Behaviour: b, Counts: map[string]int64{}, Shares: map[string]float64{}})
	}
	for i := range body.Rows {
		byB[body.Rows[i].Behaviour] = &body.Rows[i]
	}
	for _, cell := range cells {
		r := byB[cell.Behaviour]
		r.Counts[cell.Response] += cell.Incidents
		r.Total += cell.Incidents
		body.Incidents += cell.Incidents
	}
	for i := range body.Rows {
		r := &body.Rows[i]
		for _, resp := range body.Responses {
			if _, ok := r.Counts[resp]; !ok {
				r.Counts[resp] = 0
			}
			if r.Total > 0 {
				r.Shares[resp] = round(float64(r.Counts[resp])/float64(r.Total), 6)
			}
		}
	}
	idx := map[[2]string]int{}
	for _, fc := range factors {
		k := [2]string{fc.Factor, fc.Value}
		i, ok := idx[k]
		if !ok {
			i = len(body.Factors)
			idx[k] = i
			body.Factors = append(body.Factors, factorRow{Factor: fc.Factor, Value: fc.Value, Counts: map[string]int64{}})
		}
		body.Factors[i].Counts[fc.Response] += fc.Incidents
		body.Factors[i].Total += fc.Incidents
	}
	if body.Factors == nil {
		body.Factors = []factorRow{}
	}
	return c.JSON(body)
}

// Cell is a count that may be suppressed to protect small groups.
type Cell struct {
	Count      *int64   `json:"count"` // nil when suppressed
	Share      *float64 `json:"share"` // of the total, nil when suppressed
	Suppressed string   `json:"suppressed,omitempty"`
}

type disparityGroup struct {
	Group          string `json:"group"`
	Incidents      Cell   `json:"incidents"`
	SubjectInjured Cell   `json:"subject_injured"`
	// InjuryRate is the share of the group's incidents in which the
	// subject was injured; Unstable when it rests on few events.
	InjuryRate *float64 `json:"injury_rate"`
	Unstable   bool     `json:"unstable"`
}

type disparitiesBody struct {
	Outcome    string           `json:"outcome"`
	By         string           `json:"by"`
	From       string           `json:"from"`
	To         string           `json:"to"`
	Total      *int64           `json:"total_incidents"` // nil when it would reveal a suppressed count
	Groups     []disparityGroup `json:"groups"`
	MinCell    int64            `json:"min_cell"`
	Unstable   int64            `json:"unstable_below"`
	Suppressed string           `json:"suppression"`
}

// suppress returns cells for counts with every count from 1 to min-1
// hidden, and, when exactly one cell of the set would be hidden, the
// smallest other non-zero count hidden too, so that no hidden count can be
// recovered by subtracting the shown ones from the total. When no other
// cell can be hidden, hideTotal is true: the total itself would reveal it.
func suppress(counts []int64, total, min int64) (cells []Cell, hideTotal bool) {
	out := make([]Cell, len(counts))
	hidden := 0
	for i, n := range counts {
		if n > 0 && n < min {
			out[i].Suppressed = "small cell"
			hidden++
		}
	}
	if hidden == 1 {
		best := -1
		for i, n := range counts {
			if out[i].Suppressed == "" && n > 0 && (best < 0 || n < counts[best]) {
				best = i
			}
		}
		if best >= 0 {
			out[best].Suppressed = "complementary"
		} else {
			hideTotal = true
		}
	}
	for i, n := range counts {
		if out[i].Suppressed != "" {
			continue
		}
		n := n
		out[i].Count = &n
		if total > 0 {
			out[i].Share = ptr(round(float64(n)/float64(total), 6))
		}
	}
	return out, hideTotal
}

// disparities answers GET /api/disparities: use-of-force incidents by a
// subject attribute with small-cell suppression.
func (s *Server) disparities(c *fiber.Ctx) error {
	if _, err := enumParam(c, "outcome", "force", "force"); err != nil {
		return err
	}
	by, err := enumParam(c, "by", "subject_race", "subject_race", "subject_gender")
	if err != nil {
		return err
	}
	f, _, err := s.filterParams(c)
	if err != nil {
		return err
	}
	rows, err := s.store.Disparities(c.UserContext(), by, f)
	if err != nil {
		return err
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Incidents > rows[j].Incidents })
	first, last, err := s.store.OutcomeSpan(c.UserContext(), "force")
	if err != nil {
		return err
	}
	body := disparitiesBody{Outcome: "force", By: by, From: orMonth(f.From, first), To: orMonth(f.To, last), MinCell: s.opt.MinCell, Unstable: s.opt.UnstableEvents,
		Groups: []disparityGroup{},
		Suppressed: "Counts from 1 to min_cell-1 are suppressed; when only one cell of a column would be, the next smallest is suppressed " +
			"too so that no hidden count can be recovered from the total. Injury rates on fewer than unstable_below incidents are flagged."}
	inc := make([]int64, len(rows))
	inj := make([]int64, len(rows))
	var total, injTotal int64
	for i, r := range rows {
		inc[i], inj[i] = r.Incidents, r.SubjectInjury
		total += r.Incidents
		injTotal += r.SubjectInjury
	}
	incCells, hideTotal := suppress(inc, total, s.opt.MinCell)
	injCells, _ := suppress(inj, injTotal, s.opt.MinCell)
	if !hideTotal {
		body.Total = &total
	}
	for i, r := range rows {
		g := disparityGroup{Group: r.Group, Incidents: incCells[i], SubjectInjured: injCells[i], Unstable: r.Incidents < s.opt.UnstableEvents}
		if incCells[i].Count != nil && injCells[i].Count != nil {
			g.InjuryRate = ratio(float64(r.SubjectInjury), float64(r.Incidents))
		}
		body.Groups = append(body.Groups, g)
	}
	return c.JSON(body)
}

// orMonth returns m, or the month of def when m is blank.
func orMonth(m string, def time.Time) string {
	if m == "" {
		return def.Format("2006-01")
	}
	return m
}
