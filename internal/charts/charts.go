// Package charts draws deesc's dashboard charts server-side with gonum plot:
// bars, grouped bars, lines with confidence bands, heatmaps and forest
// plots, rendered deterministically as SVG (inline-able, accessible) and PNG.
//
// Lengths are CSS pixels: a chart drawn at width 640 has a 640-unit viewBox
// and 12-unit text is 12 px on screen. Text is measured with the Liberation
// Sans faces embedded in Go, so layout never depends on the machine's fonts.
package charts

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

type kind int

const (
	kindBars kind = iota
	kindGrouped
	kindLines
	kindHeatmap
	kindForest
)

// Chart is a drawing ready to render. Build one with Bars, GroupedBars,
// Lines, Heatmap or Forest; a Chart is not modified by rendering and may be
// rendered many times.
type Chart struct {
	kind           kind
	title          string
	xLabel, yLabel string

	bars []Bar

	groups []string
	series []BarSeries

	x     []string
	lines []LineSeries

	cols, rows []string
	cells      [][]float64
	format     func(float64) string

	forest   []ForestRow
	logScale bool

	ref    float64
	hasRef bool

	embedFonts bool
}

// Bar is one vertical bar. Lo and Hi are the confidence interval; both NaN,
// or both equal to Value, draw no whisker. A NaN Value draws a gap labelled
// with Note (e.g. "suppressed"); for other bars Note only annotates Alt
// (e.g. "1,204 officers").
type Bar struct {
	Label  string
	Value  float64
	Lo, Hi float64
	Note   string
}

// BarSeries is one series of GroupedBars: one value per group, NaN missing.
type BarSeries struct {
	Name   string
	Values []float64
}

// LineSeries is one series of Lines: one Y per x category, NaN a gap. Lo and
// Hi, when not nil, draw a confidence band of the same length.
type LineSeries struct {
	Name      string
	Y, Lo, Hi []float64
}

// ForestRow is one row of a forest plot: estimate and confidence interval.
// A NaN Est shows the row with Note (e.g. "not computable: no events").
type ForestRow struct {
	Label       string
	Est, Lo, Hi float64
	Note        string
}

// Bars returns a chart of vertical bars with optional confidence whiskers,
// one bar per element of bars in order. No bars draws "No data".
func Bars(title, yLabel string, bars []Bar) *Chart {
	c := &Chart{kind: kindBars, title: clean(title), yLabel: clean(yLabel)}
	for _, b := range bars {
		b.Label, b.Note = clean(b.Label), clean(b.Note)
		c.bars = append(c.bars, b)
	}
	return c
}

// GroupedBars returns a chart of bars grouped by groups, one bar per series
// in each group, with a legend naming the series. Values missing from a
// series (short slices) count as NaN.
func GroupedBars(title, yLabel string, groups []string, series []BarSeries) *Chart {
	c := &Chart{kind: kindGrouped, title: clean(title), yLabel: clean(yLabel), groups: cleanAll(groups)}
	for _, s := range series {
		v := make([]float64, len(groups))
		for i := range v {
			v[i] = at(s.Values, i)
		}
		c.series = append(c.series, BarSeries{Name: clean(s.Name), Values: v})
	}
	return c
}

// Lines returns a line chart over the category labels x (months such as
// "2024-01" or event times such as "-3"), one line per series with an
// optional confidence band; tick labels are thinned so they never overlap.
func Lines(title, yLabel string, x []string, series []LineSeries) *Chart {
	c := &Chart{kind: kindLines, title: clean(title), yLabel: clean(yLabel), x: cleanAll(x)}
	for _, s := range series {
		l := LineSeries{Name: clean(s.Name), Y: make([]float64, len(x))}
		band := s.Lo != nil && s.Hi != nil
		if band {
			l.Lo, l.Hi = make([]float64, len(x)), make([]float64, len(x))
		}
		for i := range x {
			l.Y[i] = at(s.Y, i)
			if band {
				l.Lo[i], l.Hi[i] = at(s.Lo, i), at(s.Hi, i)
			}
		}
		c.lines = append(c.lines, l)
	}
	return c
}

// WithReference adds a dashed reference line at y (e.g. 0 for an event
// study) to bars and lines; on a forest plot it moves the vertical
// reference line to y; heatmaps ignore it. It returns c.
func (c *Chart) WithReference(y float64) *Chart {
	if !finite(y) {
		return c
	}
	c.ref, c.hasRef = y, true
	return c
}

// WithEmbeddedFonts makes SVG output carry the Liberation Sans font files
// (about 1 MB), for standalone files shown where Arial and Liberation Sans may
// both be missing. Without it the SVG names Liberation Sans and its
// metric-compatible Arial, so inline charts stay small. It returns c.
func (c *Chart) WithEmbeddedFonts() *Chart {
	c.embedFonts = true
	return c
}

// Heatmap returns a grid of cells, values[row][col], each labelled with
// format(v) in a colour chosen for contrast on a sequential blue scale; NaN
// cells are grey and labelled "–". A nil format uses a general number format.
func Heatmap(title, xLabel, yLabel string, cols, rows []string, values [][]float64, format func(float64) string) *Chart {
	c := &Chart{kind: kindHeatmap, title: clean(title), xLabel: clean(xLabel), yLabel: clean(yLabel),
		cols: cleanAll(cols), rows: cleanAll(rows), format: format}
	if c.format == nil {
		c.format = Number
	}
	for i := range rows {
		var src []float64
		if i < len(values) {
			src = values[i]
		}
		r := make([]float64, len(cols))
		for j := range r {
			r[j] = at(src, j)
		}
		c.cells = append(c.cells, r)
	}
	return c
}

// Forest returns a forest plot: one row per element of rows, top to bottom,
// with a point at Est, a line from Lo to Hi, the label on the left, the
// estimate and interval on the right and a dashed vertical line at ref
// (1 for rate ratios). With logScale the x axis is logarithmic and
// non-positive values are not drawn.
func Forest(title, xLabel string, rows []ForestRow, ref float64, logScale bool) *Chart {
	c := &Chart{kind: kindForest, title: clean(title), xLabel: clean(xLabel), logScale: logScale}
	if finite(ref) && (!logScale || ref > 0) {
		c.ref, c.hasRef = ref, true
	}
	for _, r := range rows {
		r.Label, r.Note = clean(r.Label), clean(r.Note)
		c.forest = append(c.forest, r)
	}
	return c
}

// empty reports whether the chart has nothing to draw.
func (c *Chart) empty() bool {
	switch c.kind {
	case kindBars:
		return len(c.bars) == 0
	case kindGrouped:
		return len(c.groups) == 0 || len(c.series) == 0
	case kindLines:
		return len(c.x) == 0 || len(c.lines) == 0
	case kindHeatmap:
		return len(c.rows) == 0 || len(c.cols) == 0
	default:
		return len(c.forest) == 0
	}
}

// Alt returns a plain-text alternative that lists every figure of the
// chart, e.g. "Compliance by division (% current). D1: 94.2% (1,204
// officers); D2: suppressed." Values take a % sign when the axis label
// contains one.
func (c *Chart) Alt() string {
	var b strings.Builder
	b.WriteString(c.title)
	unit := c.yLabel
	if c.kind == kindForest || c.kind == kindHeatmap {
		unit = ""
	}
	if unit != "" {
		b.WriteString(" (" + unit + ")")
	}
	b.WriteString(".")
	if c.empty() {
		b.WriteString(" No data.")
		return b.String()
	}
	pct := ""
	if strings.Contains(c.yLabel, "%") {
		pct = "%"
	}
	num := func(v float64) string { return Number(v) + pct }
	var items []string
	switch c.kind {
	case kindBars:
		for _, r := range c.bars {
			if !finite(r.Value) {
				items = append(items, r.Label+": "+orDefault(r.Note, "no value"))
				continue
			}
			var extra []string
			if ci := interval(r.Value, r.Lo, r.Hi, num); ci != "" {
				extra = append(extra, ci)
			}
			if r.Note != "" {
				extra = append(extra, r.Note)
			}
			s := r.Label + ": " + num(r.Value)
			if len(extra) > 0 {
				s += " (" + strings.Join(extra, "; ") + ")"
			}
			items = append(items, s)
		}
	case kindGrouped:
		for i, g := range c.groups {
			var parts []string
			for _, s := range c.series {
				parts = append(parts, s.Name+" "+valueOr(s.Values[i], num))
			}
			items = append(items, g+": "+strings.Join(parts, ", "))
		}
	case kindLines:
		for _, s := range c.lines {
			var parts []string
			for i, x := range c.x {
				p := x + " " + valueOr(s.Y[i], num)
				if s.Lo != nil && finite(s.Y[i]) {
					if ci := interval(s.Y[i], s.Lo[i], s.Hi[i], num); ci != "" {
						p += " (" + ci + ")"
					}
				}
				parts = append(parts, p)
			}
			name := s.Name
			if name == "" {
				name = "Values"
			}
			items = append(items, name+": "+strings.Join(parts, ", "))
		}
	case kindHeatmap:
		for i, r := range c.rows {
			var parts []string
			for j, col := range c.cols {
				parts = append(parts, col+" "+valueOr(c.cells[i][j], c.format))
			}
			items = append(items, r+": "+strings.Join(parts, ", "))
		}
	case kindForest:
		for _, r := range c.forest {
			if !finite(r.Est) {
				items = append(items, r.Label+": "+orDefault(r.Note, "not computable"))
				continue
			}
			s := r.Label + ": " + Number(r.Est)
			if ci := interval(r.Est, r.Lo, r.Hi, Number); ci != "" {
				s += " (" + ci + ")"
			}
			if r.Note != "" {
				s += ", " + r.Note
			}
			items = append(items, s)
		}
	}
	b.WriteString(" " + strings.Join(items, "; ") + ".")
	if c.hasRef {
		b.WriteString(" Reference line at " + Number(c.ref) + ".")
	}
	return b.String()
}

// interval returns "95% CI lo–hi", or "" when the interval draws no whisker.
func interval(v, lo, hi float64, num func(float64) string) string {
	if !hasWhisker(v, lo, hi) {
		return ""
	}
	return "95% CI " + valueOr(lo, num) + "–" + valueOr(hi, num)
}

// hasWhisker reports whether lo/hi around v are worth drawing.
func hasWhisker(v, lo, hi float64) bool {
	if !finite(lo) && !finite(hi) {
		return false
	}
	return !(lo == v && hi == v)
}

func valueOr(v float64, f func(float64) string) string {
	if !finite(v) {
		return "–"
	}
	return f(v)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Number formats v for people: three significant figures below 1,000
// (94.2, 1.5, 0.0123), whole numbers with thousands separators from 1,000
// (1,204), and "–" for NaN or infinite values.
func Number(v float64) string {
	if !finite(v) {
		return "–"
	}
	a := math.Abs(v)
	dec := 0
	if a > 0 && a < 1000 {
		dec = 2 - int(math.Floor(math.Log10(a)))
		if dec < 0 {
			dec = 0
		}
	}
	s := trimZeros(strconv.FormatFloat(v, 'f', dec, 64))
	if s == "-0" {
		s = "0"
	}
	return thousands(s)
}

// thousands inserts commas into the integer part of a formatted number.
func thousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + frac
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// at returns v[i], or NaN past the end.
func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return math.NaN()
}

// clean makes s safe for XML text and single-line layout: invalid UTF-8 and
// control characters become spaces, runs of space collapse.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, r == 0x7f, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s)
	}
	return out
}
