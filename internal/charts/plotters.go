package charts

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// plotterFunc adapts a drawing function to plot.Plotter.
type plotterFunc func(c draw.Canvas, p *plot.Plot)

func (f plotterFunc) Plot(c draw.Canvas, p *plot.Plot) { f(c, p) }

// newPlot returns a plot styled with t: no title or background (the frame
// draws those), grey axes, Liberation Sans text.
func (t theme) newPlot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil
	label, tick := t.style(labelSize, false, ink), t.style(tickSize, false, ink)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font, a.Label.TextStyle.Handler, a.Label.TextStyle.Color = label.Font, t.hdlr, ink
		a.Label.Padding = 6
		a.Tick.Label.Font, a.Tick.Label.Handler, a.Tick.Label.Color = tick.Font, t.hdlr, ink
		a.Tick.LineStyle = draw.LineStyle{Color: rule, Width: 1}
		a.Tick.Length = 4
		a.LineStyle = draw.LineStyle{Color: rule, Width: 1}
		a.Padding = 0
	}
	p.Legend.TextStyle.Font, p.Legend.TextStyle.Handler = tick.Font, t.hdlr
	return p
}

// categoryTicks returns one labelled tick per category at 0, 1, …; an empty
// label makes a minor (unlabelled) tick.
func categoryTicks(labels []string) plot.ConstantTicks {
	ts := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		ts[i] = plot.Tick{Value: float64(i), Label: l}
	}
	return ts
}

// valueTicks returns about five labelled ticks at a 1–2–2.5–5 step within
// [lo, hi], labelled with thousands separators and the step's decimals.
func valueTicks(lo, hi float64) plot.ConstantTicks {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return nil
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, dec := 10*mag, -int(math.Floor(math.Log10(mag)))-1
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step, dec = m*mag, -int(math.Floor(math.Log10(mag)))
			if m == 2.5 {
				dec++
			}
			break
		}
	}
	dec = max(dec, 0)
	var ts plot.ConstantTicks
	for k := math.Ceil(lo / step); k*step <= hi*(1+1e-12)+1e-300; k++ {
		v := k * step
		label := thousands(strconv.FormatFloat(v, 'f', dec, 64))
		if strings.Trim(label, "-0.,") == "" {
			v, label = 0, "0"
		}
		ts = append(ts, plot.Tick{Value: v, Label: label})
	}
	return ts
}

// logTicks returns labelled ticks at 1–2–5 steps (finer when the range is
// narrow) within [lo, hi], both > 0.
func logTicks(lo, hi float64) plot.ConstantTicks {
	if !(lo > 0 && hi > lo) || math.IsInf(hi, 0) {
		return nil
	}
	for _, mant := range [][]float64{{1, 2, 5}, {1, 1.5, 2, 3, 5, 7}, {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}} {
		var ts plot.ConstantTicks
		for e := math.Floor(math.Log10(lo)) - 1; e <= math.Ceil(math.Log10(hi)); e++ {
			for _, m := range mant {
				v := m * math.Pow(10, e)
				if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
					ts = append(ts, plot.Tick{Value: v, Label: Number(v)})
				}
			}
		}
		if len(ts) >= 3 {
			return ts
		}
	}
	return plot.ConstantTicks{{Value: lo, Label: Number(lo)}, {Value: hi, Label: Number(hi)}}
}

// yAxisWidth mirrors gonum's vertical axis size for these ticks and label.
func (t theme) yAxisWidth(ticks []plot.Tick, label string) float64 {
	ls := t.style(labelSize, false, ink)
	ts := t.style(tickSize, false, ink)
	w := 0.5 + 4.0 // half the axis line, tick length
	var tw float64
	for _, tk := range ticks {
		if tk.Label != "" {
			tw = math.Max(tw, float64(ts.Width(tk.Label)))
		}
	}
	if tw > 0 {
		w += tw + float64(ls.Width(" "))
	}
	if label != "" {
		w += float64(ls.FontExtents().Descent+ls.Height(label)) + 6
	}
	return w
}

// valueRange returns the value-axis range of bars and lines: every finite
// value, interval end and reference line; bars always include 0.
func (c *Chart) valueRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	add := func(v float64) {
		if finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	switch c.kind {
	case kindBars:
		add(0)
		for _, b := range c.bars {
			if finite(b.Value) {
				add(b.Value)
				add(b.Lo)
				add(b.Hi)
			}
		}
	case kindGrouped:
		add(0)
		for _, s := range c.series {
			for _, v := range s.Values {
				add(v)
			}
		}
	case kindLines:
		for _, s := range c.lines {
			for i, v := range s.Y {
				add(v)
				if s.Lo != nil {
					add(s.Lo[i])
					add(s.Hi[i])
				}
			}
		}
	}
	if c.hasRef {
		add(c.ref)
	}
	if lo > hi {
		return 0, 1
	}
	if lo == hi {
		if lo == 0 {
			return 0, 1
		}
		return lo - math.Abs(lo)/2, hi + math.Abs(hi)/2
	}
	span := hi - lo
	if c.kind == kindLines || lo < 0 {
		lo -= 0.05 * span
	}
	hi += 0.05 * span
	return lo, hi
}

// cats is the category axis layout: labels (possibly multi-line), whether
// they are turned a quarter, and the height they take.
type cats struct {
	labels  []string
	rotated bool
	height  float64
}

// categoryLayout fits labels into slots of slot px: wrapped at spaces, or,
// when a word is still too wide, turned to read upwards, shortened to
// maxTurned px and thinned if even the turned labels would touch.
func (t theme) categoryLayout(labels []string, slot, maxTurned float64) cats {
	ts := t.style(tickSize, false, ink)
	avail := slot - 6
	out := cats{labels: make([]string, len(labels))}
	for i, l := range labels {
		lines := t.wrap(tickSize, false, l, avail)
		for _, ln := range lines {
			if t.width(tickSize, false, ln) > avail {
				out.rotated = true
			}
		}
		out.labels[i] = strings.Join(lines, "\n")
	}
	if !out.rotated {
		for _, l := range out.labels {
			out.height = math.Max(out.height, float64(ts.Height(l)))
		}
		return out
	}
	step := max(1, int(math.Ceil((lineH(tickSize)+2)/slot)))
	for i, l := range labels {
		out.labels[i] = ""
		if i%step == 0 {
			out.labels[i] = t.truncate(tickSize, l, maxTurned)
			out.height = math.Max(out.height, float64(ts.Width(out.labels[i])))
		}
	}
	return out
}

// thinned keeps every step-th label so that none overlap in slots of slot
// px, anchored at "0" when present (event time), else at the first.
func (t theme) thinned(labels []string, slot float64) cats {
	var widest float64
	for _, l := range labels {
		widest = math.Max(widest, t.width(tickSize, false, l))
	}
	step := int(math.Ceil((widest + 10) / slot))
	if step < 1 {
		step = 1
	}
	anchor := 0
	for i, l := range labels {
		if l == "0" {
			anchor = i
			break
		}
	}
	out := cats{labels: make([]string, len(labels)), height: float64(t.style(tickSize, false, ink).Height("0"))}
	for i, l := range labels {
		if ((i-anchor)%step+step)%step == 0 {
			out.labels[i] = l
		}
	}
	return out
}

// xLayout returns the value ticks, the category layout and the data width
// of a bar or line chart at width.
func (c *Chart) xLayout(t theme, width float64) (plot.ConstantTicks, cats) {
	lo, hi := c.valueRange()
	yt := valueTicks(lo, hi)
	dataW := width - 2*pad - t.yAxisWidth(yt, c.yLabel)
	var labels []string
	switch c.kind {
	case kindBars:
		for _, b := range c.bars {
			labels = append(labels, b.Label)
		}
	case kindGrouped:
		labels = c.groups
	case kindLines:
		// Leave room for the first and last labels to overhang the data.
		var widest float64
		for _, l := range c.x {
			widest = math.Max(widest, t.width(tickSize, false, l))
		}
		return yt, t.thinned(c.x, math.Max(1, dataW-widest)/float64(len(c.x)))
	}
	return yt, t.categoryLayout(labels, dataW/float64(len(labels)), math.Max(80, 0.3*width))
}

// bodyHeight returns the height of the plot below title and legend.
func (c *Chart) bodyHeight(t theme, width float64) float64 {
	if c.empty() {
		return math.Max(120, 0.3*width)
	}
	tickLine := float64(t.style(tickSize, false, ink).Height("0"))
	switch c.kind {
	case kindHeatmap:
		rows, cols := c.heatLayout(t, width)
		h := 0.0
		for _, r := range rows.labels {
			h += cellHeight(t, r)
		}
		h += cols.height + 2
		if c.xLabel != "" {
			h += lineH(labelSize) + 6
		}
		return h
	case kindForest:
		labels := c.forestLabels(t, width)
		h := 0.0
		for _, l := range labels {
			h += rowHeight(t, l)
		}
		h += 6 + 4 + tickLine
		if c.xLabel != "" {
			h += lineH(labelSize) + 6
		}
		return h
	}
	_, xc := c.xLayout(t, width)
	base := math.Min(math.Max(0.5*width, 220), 480)
	return base + math.Max(0, xc.height-tickLine)
}

// drawBars draws Bars and GroupedBars into body.
func (c *Chart) drawBars(t theme, body draw.Canvas, width float64) {
	p := t.newPlot()
	yt, xc := c.xLayout(t, width)
	n := len(c.bars)
	if c.kind == kindGrouped {
		n = len(c.groups)
	}
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.X.Tick.Marker = categoryTicks(xc.labels)
	p.X.Tick.Length = 0
	if xc.rotated {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	p.Y.Min, p.Y.Max = c.valueRange()
	p.Y.Tick.Marker = yt
	p.Y.Label.Text = c.yLabel
	p.Add(gridLines(yt))

	p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&dc)
		base := trY(math.Max(p.Y.Min, math.Min(0, p.Y.Max)))
		note := t.style(noteSize, false, inkSoft)
		note.Font.Style = xfont.StyleItalic
		whisker := draw.LineStyle{Color: ink, Width: 1.5}
		bar := func(x0, x1, v float64, clr color.Color) {
			r := vg.Rectangle{Min: vg.Point{X: trX(x0), Y: base}, Max: vg.Point{X: trX(x1), Y: trY(v)}}
			if r.Min.Y > r.Max.Y {
				r.Min.Y, r.Max.Y = r.Max.Y, r.Min.Y
			}
			dc.SetColor(clr)
			dc.Fill(r.Path())
		}
		gap := func(x, slot float64, label string) {
			w := float64(t.style(noteSize, false, ink).Width(label))
			s := note
			s.XAlign, s.YAlign = draw.XCenter, draw.YBottom
			if w > float64(trX(x+slot/2)-trX(x-slot/2))-2 {
				s.Rotation = math.Pi / 2
				s.XAlign, s.YAlign = draw.XLeft, draw.YCenter
			}
			dc.FillText(s, vg.Point{X: trX(x), Y: base + 3}, label)
		}
		if c.kind == kindBars {
			for i, b := range c.bars {
				x := float64(i)
				if !finite(b.Value) {
					gap(x, 0.7, orDefault(b.Note, "no data"))
					continue
				}
				bar(x-0.35, x+0.35, b.Value, palette[0])
				if hasWhisker(b.Value, b.Lo, b.Hi) {
					lo, hi := finiteOr(b.Lo, b.Value), finiteOr(b.Hi, b.Value)
					cap := vg.Length(math.Min(6, float64(trX(x+0.1)-trX(x))))
					xm, y0, y1 := trX(x), trY(lo), trY(hi)
					dc.StrokeLine2(whisker, xm, y0, xm, y1)
					dc.StrokeLine2(whisker, xm-cap, y0, xm+cap, y0)
					dc.StrokeLine2(whisker, xm-cap, y1, xm+cap, y1)
				}
			}
			return
		}
		k := float64(len(c.series))
		w := 0.8 / k
		for i := range c.groups {
			for j, s := range c.series {
				x0 := float64(i) - 0.4 + float64(j)*w
				v := s.Values[i]
				if !finite(v) {
					gap(x0+w/2, w, "–")
					continue
				}
				bar(x0+0.05*w, x0+0.95*w, v, seriesColor(j))
			}
		}
	}))
	c.addReference(p)
	p.Draw(body)
}

func finiteOr(v, def float64) float64 {
	if finite(v) {
		return v
	}
	return def
}

// gridLines draws light horizontal lines at the labelled ticks.
func gridLines(ticks []plot.Tick) plot.Plotter {
	return plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
		_, trY := p.Transforms(&dc)
		for _, tk := range ticks {
			if tk.Label == "" || tk.Value < p.Y.Min || tk.Value > p.Y.Max {
				continue
			}
			y := trY(tk.Value)
			dc.StrokeLine2(draw.LineStyle{Color: grid, Width: 1}, dc.Min.X, y, dc.Max.X, y)
		}
	})
}

// addReference adds the dashed horizontal reference line, if any.
func (c *Chart) addReference(p *plot.Plot) {
	if !c.hasRef {
		return
	}
	p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
		_, trY := p.Transforms(&dc)
		y := trY(c.ref)
		dc.StrokeLine2(refStyle(), dc.Min.X, y, dc.Max.X, y)
	}))
}

func refStyle() draw.LineStyle {
	return draw.LineStyle{Color: inkSoft, Width: 1.25, Dashes: []vg.Length{5, 4}}
}

// drawLines draws Lines into body: bands first, then lines and points.
func (c *Chart) drawLines(t theme, body draw.Canvas, width float64) {
	p := t.newPlot()
	yt, xc := c.xLayout(t, width)
	n := len(c.x)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.X.Tick.Marker = categoryTicks(xc.labels)
	p.Y.Min, p.Y.Max = c.valueRange()
	p.Y.Tick.Marker = yt
	p.Y.Label.Text = c.yLabel
	p.Add(gridLines(yt))
	c.addReference(p)
	p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&dc)
		for j, s := range c.lines {
			if s.Lo == nil {
				continue
			}
			clr := seriesColor(j)
			band := color.NRGBA{clr.R, clr.G, clr.B, 0x38}
			for _, run := range runs(n, func(i int) bool { return finite(s.Y[i]) && finite(s.Lo[i]) && finite(s.Hi[i]) }) {
				if len(run) == 1 {
					i := run[0]
					dc.StrokeLine2(draw.LineStyle{Color: band, Width: 4}, trX(float64(i)), trY(s.Lo[i]), trX(float64(i)), trY(s.Hi[i]))
					continue
				}
				var poly []vg.Point
				for _, i := range run {
					poly = append(poly, vg.Point{X: trX(float64(i)), Y: trY(s.Hi[i])})
				}
				for k := len(run) - 1; k >= 0; k-- {
					i := run[k]
					poly = append(poly, vg.Point{X: trX(float64(i)), Y: trY(s.Lo[i])})
				}
				dc.FillPolygon(band, poly)
			}
		}
		for j, s := range c.lines {
			clr := seriesColor(j)
			for _, run := range runs(n, func(i int) bool { return finite(s.Y[i]) }) {
				var pts []vg.Point
				for _, i := range run {
					pts = append(pts, vg.Point{X: trX(float64(i)), Y: trY(s.Y[i])})
				}
				if len(pts) > 1 {
					dc.StrokeLines(draw.LineStyle{Color: clr, Width: 2}, pts)
				}
				if len(pts) == 1 || trX(1)-trX(0) >= 14 {
					for _, pt := range pts {
						dc.DrawGlyph(draw.GlyphStyle{Color: clr, Radius: 3, Shape: draw.CircleGlyph{}}, pt)
					}
				}
			}
		}
	}))
	p.Draw(body)
}

// spaced drops labels from ticks (keeping the tick marks) until
// neighbouring labels are at least 8 px apart over an axis of length px,
// where pos maps a value to its fraction of the axis.
func (t theme) spaced(ticks plot.ConstantTicks, length float64, pos func(float64) float64) plot.ConstantTicks {
	out := make(plot.ConstantTicks, len(ticks))
	copy(out, ticks)
	lastRight := math.Inf(-1)
	for i, tk := range out {
		if tk.Label == "" {
			continue
		}
		w := t.width(tickSize, false, tk.Label)
		x := pos(tk.Value) * length
		if x-w/2 < lastRight+8 {
			out[i].Label = ""
			continue
		}
		lastRight = x + w/2
	}
	return out
}

// runs returns the maximal runs of consecutive indices below n where ok.
func runs(n int, ok func(int) bool) [][]int {
	var out [][]int
	var cur []int
	for i := 0; i < n; i++ {
		if ok(i) {
			cur = append(cur, i)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// heatLayout returns the wrapped row labels and the column label layout.
func (c *Chart) heatLayout(t theme, width float64) (rows, cols cats) {
	maxLabel := 0.3 * (width - 2*pad)
	if width < 400 {
		maxLabel = 0.25 * (width - 2*pad)
	}
	rows.labels = make([]string, len(c.rows))
	var rw float64
	for i, r := range c.rows {
		rows.labels[i] = t.fit(tickSize, r, maxLabel)
		rw = math.Max(rw, float64(t.style(tickSize, false, ink).Width(rows.labels[i])))
	}
	yw := 4 + rw + float64(t.style(labelSize, false, ink).Width(" "))
	if c.yLabel != "" {
		ls := t.style(labelSize, false, ink)
		yw += float64(ls.FontExtents().Descent+ls.Height(c.yLabel)) + 6
	}
	cols = t.categoryLayout(c.cols, (width-2*pad-yw)/float64(len(c.cols)), math.Max(80, 0.3*width))
	return rows, cols
}

// descent is how far gonum draws vertical-axis tick labels above their
// tick; heatmap and forest rows (one data unit ≈ one px) subtract it so
// labels centre on their row.
func descent(t theme) float64 {
	return float64(t.style(tickSize, false, ink).FontExtents().Descent)
}

func cellHeight(t theme, label string) float64 {
	return math.Max(32, float64(t.style(tickSize, false, ink).Height(label))+10)
}

// drawHeatmap draws the grid of cells, row 0 at the top.
func (c *Chart) drawHeatmap(t theme, body draw.Canvas, width float64) {
	p := t.newPlot()
	rows, cols := c.heatLayout(t, width)
	nr, nc := len(c.rows), len(c.cols)
	// Rows may differ in height (wrapped labels): y runs over cumulative
	// heights, top row first.
	heights := make([]float64, nr)
	var total float64
	for i, l := range rows.labels {
		heights[i] = cellHeight(t, l)
		total += heights[i]
	}
	top := make([]float64, nr) // y of each row's top edge, total at the top
	y := total
	for i := range heights {
		top[i] = y
		y -= heights[i]
	}
	yt := make(plot.ConstantTicks, nr)
	for i, l := range rows.labels {
		yt[i] = plot.Tick{Value: top[i] - heights[i]/2 - descent(t), Label: l}
	}
	p.X.Min, p.X.Max = -0.5, float64(nc)-0.5
	p.X.Tick.Marker = categoryTicks(cols.labels)
	if cols.rotated {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	p.Y.Min, p.Y.Max = 0, total
	p.Y.Tick.Marker = yt
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Length = 0
		a.LineStyle.Width = 0
	}
	p.X.Label.Text, p.Y.Label.Text = c.xLabel, c.yLabel

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range c.cells {
		for _, v := range r {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo >= 0 {
		lo = 0
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&dc)
		for i := range c.rows {
			for j := range c.cols {
				v := c.cells[i][j]
				r := vg.Rectangle{
					Min: vg.Point{X: trX(float64(j)-0.5) + 1, Y: trY(top[i]-heights[i]) + 1},
					Max: vg.Point{X: trX(float64(j)+0.5) - 1, Y: trY(top[i]) - 1},
				}
				fill, label := color.Color(missing), "–"
				if finite(v) {
					fill, label = sequential((v-lo)/(hi-lo)), c.format(v)
				}
				dc.SetColor(fill)
				dc.Fill(r.Path())
				s := t.style(tickSize, false, textOn(fill))
				room := float64(r.Max.X-r.Min.X) - 4
				if float64(s.Width(label)) > room {
					s.Font.Size = noteSize
				}
				if float64(s.Width(label)) > room {
					continue // too narrow to label; Alt lists the value
				}
				s.XAlign, s.YAlign = draw.XCenter, draw.YCenter
				dc.FillText(s, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2}, label)
			}
		}
	}))
	p.Draw(body)
}

// sequential maps f in [0, 1] to a single-hue blue scale (ColorBrewer
// Blues, light to dark).
func sequential(f float64) color.RGBA {
	stops := [...]color.RGBA{
		{0xF7, 0xFB, 0xFF, 0xFF}, {0xDE, 0xEB, 0xF7, 0xFF}, {0xC6, 0xDB, 0xEF, 0xFF},
		{0x9E, 0xCA, 0xE1, 0xFF}, {0x6B, 0xAE, 0xD6, 0xFF}, {0x42, 0x92, 0xC6, 0xFF},
		{0x21, 0x71, 0xB5, 0xFF}, {0x08, 0x51, 0x9C, 0xFF}, {0x08, 0x30, 0x6B, 0xFF},
	}
	f = math.Max(0, math.Min(1, f)) * float64(len(stops)-1)
	i := int(f)
	if i >= len(stops)-1 {
		return stops[len(stops)-1]
	}
	u := f - float64(i)
	a, b := stops[i], stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-u) + float64(y)*u)) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xFF}
}

// textOn returns black or white, whichever contrasts more with bg (WCAG
// relative luminance).
func textOn(bg color.Color) color.Color {
	r, g, b, _ := bg.RGBA()
	lin := func(v uint32) float64 {
		c := float64(v) / 0xFFFF
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
	// Contrast with black is (l+0.05)/0.05, with white 1.05/(l+0.05).
	if (l+0.05)/0.05 >= 1.05/(l+0.05) {
		return color.Black
	}
	return color.White
}

// forestLabels returns the row labels wrapped to 30% of the width.
func (c *Chart) forestLabels(t theme, width float64) []string {
	out := make([]string, len(c.forest))
	for i, r := range c.forest {
		out[i] = t.fit(tickSize, r.Label, 0.3*(width-2*pad))
	}
	return out
}

func rowHeight(t theme, label string) float64 {
	return math.Max(28, float64(t.style(tickSize, false, ink).Height(label))+8)
}

// forestText returns the right-hand column text of a row.
func forestText(r ForestRow) string {
	if !finite(r.Est) {
		return ""
	}
	s := Number(r.Est)
	if hasWhisker(r.Est, r.Lo, r.Hi) {
		s += " (" + Number(r.Lo) + "–" + Number(r.Hi) + ")"
	}
	return s
}

// forestRange returns the x range: every drawable estimate, interval end
// and the reference, with a little room.
func (c *Chart) forestRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	add := func(v float64) {
		if finite(v) && (!c.logScale || v > 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	for _, r := range c.forest {
		if c.drawable(r.Est) {
			add(r.Est)
			add(r.Lo)
			add(r.Hi)
		}
	}
	if c.hasRef {
		add(c.ref)
	}
	if lo > hi {
		if c.logScale {
			return 0.5, 2
		}
		return 0, 1
	}
	if c.logScale {
		if lo == hi {
			return lo / 2, hi * 2
		}
		f := math.Pow(hi/lo, 0.05)
		return lo / f, hi * f
	}
	if lo == hi {
		return lo - 1, hi + 1
	}
	span := hi - lo
	return lo - 0.05*span, hi + 0.05*span
}

func (c *Chart) drawable(v float64) bool { return finite(v) && (!c.logScale || v > 0) }

// drawForest draws one row per estimate, top to bottom, with the estimates
// in a column on the right.
func (c *Chart) drawForest(t theme, body draw.Canvas, width float64) {
	p := t.newPlot()
	labels := c.forestLabels(t, width)
	n := len(c.forest)
	heights := make([]float64, n)
	var total float64
	for i, l := range labels {
		heights[i] = rowHeight(t, l)
		total += heights[i]
	}
	mid := make([]float64, n)
	y := total
	for i := range heights {
		mid[i] = y - heights[i]/2
		y -= heights[i]
	}
	yt := make(plot.ConstantTicks, n)
	for i, l := range labels {
		yt[i] = plot.Tick{Value: mid[i] - descent(t), Label: l}
	}
	p.Y.Min, p.Y.Max = 0, total
	p.Y.Tick.Marker = yt
	p.Y.Tick.Length = 0
	p.Y.LineStyle.Width = 0
	lo, hi := c.forestRange()
	p.X.Min, p.X.Max = lo, hi
	if c.logScale {
		p.X.Scale = plot.LogScale{}
	}
	p.X.Label.Text = c.xLabel

	col := t.style(tickSize, false, ink)
	col.YAlign = draw.YCenter
	// The estimates column shows only when it leaves the data at least 40%
	// of the width; Alt always lists them.
	var colW float64
	for _, r := range c.forest {
		colW = math.Max(colW, float64(col.Width(forestText(r))))
	}
	if colW > 0 {
		colW += 12
	}
	yw := t.yAxisWidth(yt, "")
	if width-2*pad-yw-colW < 0.4*width {
		colW = 0
	}
	xt := valueTicks(lo, hi)
	if c.logScale {
		xt = logTicks(lo, hi)
	}
	p.X.Tick.Marker = t.spaced(xt, width-2*pad-yw-colW, func(v float64) float64 {
		if c.logScale {
			return math.Log(v/lo) / math.Log(hi/lo)
		}
		return (v - lo) / (hi - lo)
	})
	plotArea := draw.Crop(body, 0, -vg.Length(colW), 0, 0)

	if c.hasRef {
		p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
			trX, _ := p.Transforms(&dc)
			x := trX(c.ref)
			dc.StrokeLine2(refStyle(), x, dc.Min.Y, x, dc.Max.Y)
		}))
	}
	p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&dc)
		note := t.style(noteSize, false, inkSoft)
		note.Font.Style = xfont.StyleItalic
		note.YAlign = draw.YCenter
		line := draw.LineStyle{Color: palette[0], Width: 2}
		clampX := func(v float64) vg.Length {
			if c.logScale && v <= 0 {
				v = p.X.Min
			}
			return trX(math.Max(p.X.Min, math.Min(p.X.Max, v)))
		}
		for i, r := range c.forest {
			ym := trY(mid[i])
			if !c.drawable(r.Est) {
				msg := orDefault(r.Note, "not computable")
				if finite(r.Est) {
					msg = orDefault(r.Note, "not shown on a log scale")
				}
				msg = t.truncate(noteSize, msg, float64(body.Max.X-dc.Min.X)-4)
				dc.FillText(note, vg.Point{X: dc.Min.X + 4, Y: ym}, msg)
				continue
			}
			if hasWhisker(r.Est, r.Lo, r.Hi) {
				dc.StrokeLine2(line, clampX(finiteOr(r.Lo, r.Est)), ym, clampX(finiteOr(r.Hi, r.Est)), ym)
			}
			dc.DrawGlyph(draw.GlyphStyle{Color: palette[0], Radius: 5, Shape: draw.BoxGlyph{}}, vg.Point{X: trX(r.Est), Y: ym})
			if colW > 0 {
				dc.FillText(col, vg.Point{X: plotArea.Max.X + 12, Y: ym}, forestText(r))
			}
		}
	}))
	p.Draw(plotArea)
}
