package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/auth"
	"deesc/internal/charts"
)

// chartSpec is one chart served at /charts/{name}.svg and .png: the JSON
// routes it is drawn from (run with the chart's own query parameters) and
// how their answers become a drawing.
type chartSpec struct {
	roles   []auth.Role
	sources []chartSource
	draw    func(answers [][]byte) (*charts.Chart, error)
	doc     string
}

// chartSource is a JSON handler a chart reads, with parameters it forces
// (e.g. group_by=month for a monthly trend).
type chartSource struct {
	handler fiber.Handler
	set     map[string]string
}

// chartSpecs lists every chart, by name.
func (s *Server) chartSpecs() map[string]chartSpec {
	one := func(h fiber.Handler, set map[string]string) []chartSource { return []chartSource{{h, set}} }
	return map[string]chartSpec{
		"compliance-divisions": {everyone, one(s.compliance, nil), drawComplianceDivisions, "Compliance by division (by unit when the answer lists one division with level=unit), from /api/compliance"},
		"compliance-trend":     {everyone, one(s.compliance, nil), drawComplianceTrend, "Compliance trend, from /api/compliance"},
		"outcome-trend":        {everyone, one(s.outcomes, map[string]string{"group_by": "month"}), drawOutcomeTrend, "Monthly outcome rate with 95% CI, from /api/outcomes?group_by=month"},
		"force-matrix":         {everyone, one(s.forceMatrix, nil), drawForceMatrix, "IMIM subject behaviour × officer response, from /api/force/matrix"},
		"hours-balance":        {everyone, one(s.compliance, nil), drawHoursBalance, "De-escalation vs use-of-force hours per officer-year, from /api/compliance"},
		"disparities":          {everyone, one(s.disparities, nil), drawDisparities, "Shares of incidents and subject injuries by group, from /api/disparities"},
		"dose":                 {everyone, one(s.dose, nil), drawDose, "Outcome rate by trailing de-escalation hours, from /api/dose"},
		"cohorts": {analysts, []chartSource{{s.cohorts, nil}, {s.prepost, nil}, {s.staggered, map[string]string{"estimand": "simple"}}},
			drawForest, "Crude, adjusted, within-officer and staggered rate ratios, from /api/cohorts, /api/prepost and /api/staggered"},
		"event-study": {analysts, one(s.staggered, map[string]string{"estimand": "event"}), drawEventStudy, "Event study with pre-period placebos, from /api/staggered?estimand=event"},
	}
}

// chartFile splits "name.svg" into the chart and its format, or fails with 404.
func (s *Server) chartFile(c *fiber.Ctx) (chartSpec, string, error) {
	file := c.Params("file")
	name, format, _ := strings.Cut(file, ".")
	spec, ok := s.charts[name]
	if !ok || (format != "svg" && format != "png") {
		return spec, "", fiber.NewError(fiber.StatusNotFound, "no chart "+file+": see /api/openapi.json for the charts (NAME.svg or NAME.png)")
	}
	return spec, format, nil
}

// chartAccess admits the roles of the chart's sources.
func (s *Server) chartAccess(c *fiber.Ctx) error {
	spec, _, err := s.chartFile(c)
	if err != nil {
		return err
	}
	return allow(spec.roles)(c)
}

// chart draws a chart from the answers of its JSON sources. A source that
// fails fails the chart with the same error, except for "not computable"
// answers of the forest, which become a row that says why.
func (s *Server) chart(c *fiber.Ctx) error {
	spec, format, err := s.chartFile(c)
	if err != nil {
		return err
	}
	width := 800
	if v := c.Query("width"); v != "" {
		if width, err = strconv.Atoi(v); err != nil || width < 200 || width > 2400 {
			return badParam("width", "%q is not a whole number of pixels from 200 to 2400", v)
		}
	}
	answers := make([][]byte, len(spec.sources))
	args := c.Request().URI().QueryArgs()
	for i, src := range spec.sources {
		saved := map[string][]byte{}
		for k, v := range src.set {
			saved[k] = append([]byte(nil), args.Peek(k)...)
			args.Set(k, v)
		}
		err := src.handler(c)
		for k, v := range saved {
			if len(v) == 0 {
				args.Del(k)
			} else {
				args.SetBytesV(k, v)
			}
		}
		if err != nil {
			// A forest row may say why its estimate cannot be made; anything
			// else (a timeout, a hang-up, an internal error) fails the chart,
			// so that no degraded drawing is cached.
			if len(spec.sources) == 1 || !explainable(err) {
				return err
			}
			msg, _ := json.Marshal(map[string]string{"error": errMessage(err)})
			answers[i] = msg
		} else {
			answers[i] = append([]byte(nil), c.Response().Body()...)
		}
		c.Response().ResetBody()
	}
	ch, err := spec.draw(answers)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if format == "svg" {
		err = ch.SVG(&buf, float64(width))
		c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
	} else {
		err = ch.PNG(&buf, float64(width))
		c.Set(fiber.HeaderContentType, "image/png")
	}
	if err != nil {
		return err
	}
	c.Status(fiber.StatusOK)
	return c.Send(buf.Bytes())
}

// errMessage is what a client may read of err (classify's message for an
// answer about the data or the request), otherwise a generic line.
func errMessage(err error) string {
	if status, body := classify(err); status < 500 && body.Error != "" {
		return body.Error
	}
	return "could not be computed"
}

// explainable reports whether err is an answer about the data or the
// request (not computable, a bad parameter, another 4xx) rather than a failure.
func explainable(err error) bool {
	status, _ := classify(err)
	return status >= 400 && status < 499
}

// formatInt writes n with thousands separators: 12,345.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func decode[T any](b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("chart source answer: %w", err)
	}
	return v, nil
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func percent(n, d int64) float64 {
	if d == 0 {
		return math.NaN()
	}
	return 100 * float64(n) / float64(d)
}

func drawComplianceDivisions(a [][]byte) (*charts.Chart, error) {
	body, err := decode[complianceBody](a[0])
	if err != nil {
		return nil, err
	}
	// Sum every course's counts per division (or per unit when a single
	// division is shown), as the headline figure does.
	type agg struct{ cur, all int64 }
	var order []string
	sums := map[string]*agg{}
	add := func(k string, c Counts) {
		if sums[k] == nil {
			sums[k] = &agg{}
			order = append(order, k)
		}
		sums[k].cur += c.Current
		sums[k].all += c.Officers
	}
	divisions := map[string]bool{}
	for _, cc := range body.Courses {
		for _, d := range cc.Divisions {
			divisions[d.Division] = true
		}
	}
	byUnit := len(divisions) == 1 && body.Level != "division"
	for _, cc := range body.Courses {
		for _, d := range cc.Divisions {
			if !byUnit {
				add(d.Division, d.Counts)
				continue
			}
			for _, u := range d.Units {
				add(u.Unit, u.Counts)
			}
		}
	}
	bars := make([]charts.Bar, 0, len(order))
	for _, k := range order {
		bars = append(bars, charts.Bar{Label: k, Value: percent(sums[k].cur, sums[k].all), Lo: math.NaN(), Hi: math.NaN()})
	}
	title := "Officers current on recertification, by division (%)"
	if byUnit {
		title = "Officers current on recertification, by unit (%)"
	}
	return charts.Bars(title, "% current", bars), nil
}

func drawComplianceTrend(a [][]byte) (*charts.Chart, error) {
	body, err := decode[complianceBody](a[0])
	if err != nil {
		return nil, err
	}
	x := make([]string, len(body.Trend))
	y := make([]float64, len(body.Trend))
	for i, p := range body.Trend {
		x[i], y[i] = p.OnDate, val(p.CurrentPct)
	}
	return charts.Lines("Officers current on recertification (%)", "% current", x, []charts.LineSeries{{Name: "current", Y: y}}), nil
}

func drawOutcomeTrend(a [][]byte) (*charts.Chart, error) {
	body, err := decode[outcomesBody](a[0])
	if err != nil {
		return nil, err
	}
	n := len(body.Groups)
	x, y, lo, hi := make([]string, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, g := range body.Groups {
		x[i], y[i], lo[i], hi[i] = g.Group, val(g.Rate.Rate), val(g.CILow), val(g.CIHigh)
	}
	return charts.Lines(outcomeTitle(body.Outcome)+" per officer-year, by month (95% CI)", "per officer-year", x,
		[]charts.LineSeries{{Name: body.Outcome, Y: y, Lo: lo, Hi: hi}}), nil
}

func outcomeTitle(o string) string {
	switch o {
	case "force":
		return "Use-of-force involvements"
	case "complaints":
		return "Complaints"
	case "sustained-complaints":
		return "Sustained complaints"
	case "injuries":
		return "Officer injuries"
	case "subject-injuries":
		return "Subject injuries"
	}
	return strings.ToUpper(o[:1]) + o[1:]
}

func drawForceMatrix(a [][]byte) (*charts.Chart, error) {
	body, err := decode[matrixBody](a[0])
	if err != nil {
		return nil, err
	}
	rows := make([]string, len(body.Rows))
	values := make([][]float64, len(body.Rows))
	for i, r := range body.Rows {
		rows[i] = r.Behaviour
		values[i] = make([]float64, len(body.Responses))
		for j, resp := range body.Responses {
			values[i][j] = float64(r.Counts[resp])
		}
	}
	return charts.Heatmap("Force incidents: subject behaviour × highest officer response", "officer response", "subject behaviour",
		body.Responses, rows, values, func(v float64) string { return formatInt(int64(v)) }), nil
}

func drawHoursBalance(a [][]byte) (*charts.Chart, error) {
	body, err := decode[complianceBody](a[0])
	if err != nil {
		return nil, err
	}
	groups := make([]string, len(body.HoursBalance))
	de, uf := make([]float64, len(groups)), make([]float64, len(groups))
	for i, b := range body.HoursBalance {
		groups[i] = b.Unit
		if b.Unit == "" {
			groups[i] = b.Division
		}
		de[i], uf[i] = val(b.DeescalationPerOfficerYear), val(b.UseOfForcePerOfficerYear)
	}
	return charts.GroupedBars("Training hours per officer-year, last 12 months", "hours per officer-year", groups,
		[]charts.BarSeries{{Name: "de-escalation", Values: de}, {Name: "use of force", Values: uf}}), nil
}

func drawDisparities(a [][]byte) (*charts.Chart, error) {
	body, err := decode[disparitiesBody](a[0])
	if err != nil {
		return nil, err
	}
	groups := make([]string, len(body.Groups))
	inc, inj := make([]float64, len(groups)), make([]float64, len(groups))
	for i, g := range body.Groups {
		groups[i] = g.Group
		inc[i], inj[i] = 100*val(g.Incidents.Share), 100*val(g.SubjectInjured.Share)
	}
	return charts.GroupedBars("Share of force incidents and subject injuries by "+strings.ReplaceAll(body.By, "_", " ")+" (%)", "% of total", groups,
		[]charts.BarSeries{{Name: "incidents", Values: inc}, {Name: "subject injured", Values: inj}}), nil
}

type doseAnswer struct {
	Outcome string `json:"outcome"`
	Window  int    `json:"window_months"`
	Bins    []struct {
		Label  string   `json:"label"`
		Events int64    `json:"events"`
		Rate   *float64 `json:"rate"`
		CILow  *float64 `json:"ci_low"`
		CIHigh *float64 `json:"ci_high"`
	} `json:"bins"`
}

func drawDose(a [][]byte) (*charts.Chart, error) {
	body, err := decode[doseAnswer](a[0])
	if err != nil {
		return nil, err
	}
	bars := make([]charts.Bar, len(body.Bins))
	for i, b := range body.Bins {
		bars[i] = charts.Bar{Label: b.Label, Value: val(b.Rate), Lo: val(b.CILow), Hi: val(b.CIHigh)}
		if b.Rate == nil {
			bars[i].Note = "not computable"
		}
	}
	return charts.Bars(fmt.Sprintf("%s per officer-year by de-escalation hours in the previous %d months (95%% CI)", outcomeTitle(body.Outcome), body.Window),
		"per officer-year", bars), nil
}

type ratioAnswer struct {
	Error     string   `json:"error"`
	RateRatio *float64 `json:"rate_ratio"`
	CILow     *float64 `json:"ci_low"`
	CIHigh    *float64 `json:"ci_high"`
	Reason    string   `json:"reason"`
}

type cohortsAnswer struct {
	Error    string      `json:"error"`
	Outcome  string      `json:"outcome"`
	Crude    ratioAnswer `json:"crude"`
	Adjusted ratioAnswer `json:"adjusted"`
}

type staggeredAnswer struct {
	Error          string   `json:"error"`
	RelativeChange *float64 `json:"relative_change"`
	RelativeCILow  *float64 `json:"relative_ci_low"`
	RelativeCIHigh *float64 `json:"relative_ci_high"`
	Reason         string   `json:"reason"`
	EventStudy     []struct {
		E        int      `json:"e"`
		Estimate *float64 `json:"estimate"`
		CILow    *float64 `json:"ci_low"`
		CIHigh   *float64 `json:"ci_high"`
	} `json:"event_study"`
}

// forestRow makes one row, or a row that says why there is no estimate.
func forestRow(label string, est, lo, hi *float64, why ...string) charts.ForestRow {
	r := charts.ForestRow{Label: label, Est: val(est), Lo: val(lo), Hi: val(hi)}
	if est == nil {
		r.Note = "not computable"
		for _, w := range why {
			if w != "" {
				r.Note = "not computable: " + w
				break
			}
		}
	}
	return r
}

func drawForest(a [][]byte) (*charts.Chart, error) {
	co, err := decode[cohortsAnswer](a[0])
	if err != nil {
		return nil, err
	}
	pp, err := decode[ratioAnswer](a[1])
	if err != nil {
		return nil, err
	}
	st, err := decode[staggeredAnswer](a[2])
	if err != nil {
		return nil, err
	}
	if co.Error != "" && pp.Error != "" && st.Error != "" {
		return nil, &NotComputable{Reason: co.Error}
	}
	// The staggered estimate is a difference; as a ratio it is 1 + the
	// relative change, drawable on the log scale only when its lower bound
	// is above zero.
	var stRatio, stLo, stHi *float64
	stWhy := st.Reason
	if st.RelativeChange != nil && st.RelativeCILow != nil && st.RelativeCIHigh != nil {
		if 1+*st.RelativeCILow > 0 {
			stRatio, stLo, stHi = ptr(1+*st.RelativeChange), ptr(1+*st.RelativeCILow), ptr(1+*st.RelativeCIHigh)
		} else {
			stWhy = fmt.Sprintf("change %+.0f%% (95%% CI %+.0f%% to %+.0f%%), too uncertain to draw as a ratio",
				100**st.RelativeChange, 100**st.RelativeCILow, 100**st.RelativeCIHigh)
		}
	}
	rows := []charts.ForestRow{
		forestRow("Crude (description, not an effect)", co.Crude.RateRatio, co.Crude.CILow, co.Crude.CIHigh, co.Crude.Reason, co.Error),
		forestRow("Adjusted (unit and month)", co.Adjusted.RateRatio, co.Adjusted.CILow, co.Adjusted.CIHigh, co.Adjusted.Reason, co.Error),
		forestRow("Within-officer (before vs after)", pp.RateRatio, pp.CILow, pp.CIHigh, pp.Reason, pp.Error),
		forestRow("Staggered roll-out (Callaway–Sant'Anna)", stRatio, stLo, stHi, stWhy, st.Error),
	}
	return charts.Forest("Rate ratio, trained vs untrained (95% CI)", "rate ratio (1 = no difference)", rows, 1, true), nil
}

func drawEventStudy(a [][]byte) (*charts.Chart, error) {
	st, err := decode[staggeredAnswer](a[0])
	if err != nil {
		return nil, err
	}
	n := len(st.EventStudy)
	x, y, lo, hi := make([]string, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, p := range st.EventStudy {
		x[i], y[i], lo[i], hi[i] = strconv.Itoa(p.E), val(p.Estimate), val(p.CILow), val(p.CIHigh)
	}
	return charts.Lines("Event study: change in events per officer-month by months since training (95% CI)", "difference per officer-month", x,
		[]charts.LineSeries{{Name: "estimate", Y: y, Lo: lo, Hi: hi}}).WithReference(0), nil
}
