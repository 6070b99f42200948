package charts

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Width limits in CSS px.
const (
	MinWidth = 200
	MaxWidth = 2400
)

// Layout in CSS px. Text is never below 11 px.
const (
	pad        = 12
	titleSize  = 16
	labelSize  = 13
	tickSize   = 12
	legendSize = 12
	noteSize   = 11
	lineGap    = 1.25 // line height as a multiple of the font size
)

// Okabe–Ito colours, safe for the common colour-vision deficiencies; yellow
// comes last because it is faint on white.
var palette = [...]color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
}

var (
	ink     = color.RGBA{0x22, 0x22, 0x22, 0xFF}
	inkSoft = color.RGBA{0x55, 0x55, 0x55, 0xFF}
	rule    = color.RGBA{0x88, 0x88, 0x88, 0xFF}
	grid    = color.RGBA{0xE3, 0xE3, 0xE3, 0xFF}
	missing = color.RGBA{0xD9, 0xD9, 0xD9, 0xFF}
)

func seriesColor(i int) color.RGBA { return palette[i%len(palette)] }

// theme measures and styles text with the embedded Liberation Sans faces.
type theme struct{ hdlr text.Plain }

func newTheme() theme {
	return theme{hdlr: text.Plain{Fonts: font.NewCache(liberation.Collection())}}
}

func (t theme) style(size float64, bold bool, clr color.Color) text.Style {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Length(size)}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return text.Style{Color: clr, Font: f, XAlign: draw.XLeft, YAlign: draw.YTop, Handler: t.hdlr}
}

func (t theme) width(size float64, bold bool, s string) float64 {
	return float64(t.style(size, bold, ink).Width(s))
}

// wrap breaks s at spaces into lines no wider than max; a single word wider
// than max keeps its own line.
func (t theme) wrap(size float64, bold bool, s string, max float64) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil
	}
	var lines []string
	cur := words[0]
	for _, w := range words[1:] {
		if t.width(size, bold, cur+" "+w) <= max {
			cur += " " + w
			continue
		}
		lines = append(lines, cur)
		cur = w
	}
	return append(lines, cur)
}

// fit wraps s like wrap and shortens any line still wider than max with an
// ellipsis.
func (t theme) fit(size float64, s string, max float64) string {
	lines := t.wrap(size, false, s, max)
	for i, l := range lines {
		lines[i] = t.truncate(size, l, max)
	}
	return strings.Join(lines, "\n")
}

// truncate shortens s with "…" until it is no wider than max.
func (t theme) truncate(size float64, s string, max float64) string {
	if t.width(size, false, s) <= max {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && t.width(size, false, string(r)+"…") > max {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "…"
}

func lineH(size float64) float64 { return size * lineGap }

// frame is the chart's vertical layout at one width.
type frame struct {
	title  []string
	legend [][]legendItem
	body   float64
}

type legendItem struct {
	name string
	clr  color.Color
	line bool
	w    float64
}

const (
	swatch    = 14
	legendGap = 16
)

func (f frame) height() float64 {
	h := 2*pad + f.body
	if len(f.title) > 0 {
		h += float64(len(f.title))*lineH(titleSize) + 6
	}
	if len(f.legend) > 0 {
		h += float64(len(f.legend))*lineH(legendSize+4) + 4
	}
	return h
}

func (c *Chart) frame(t theme, width float64) frame {
	f := frame{title: t.wrap(titleSize, true, c.title, width-2*pad)}
	var items []legendItem
	switch c.kind {
	case kindGrouped:
		for i, s := range c.series {
			items = append(items, legendItem{name: s.Name, clr: seriesColor(i)})
		}
	case kindLines:
		for i, s := range c.lines {
			items = append(items, legendItem{name: s.Name, clr: seriesColor(i), line: true})
		}
	}
	if len(items) == 1 && items[0].name == "" || c.empty() {
		items = nil
	}
	var row []legendItem
	var used float64
	for _, it := range items {
		it.w = swatch + 6 + t.width(legendSize, false, it.name)
		if len(row) > 0 && used+legendGap+it.w > width-2*pad {
			f.legend = append(f.legend, row)
			row, used = nil, 0
		}
		if len(row) > 0 {
			used += legendGap
		}
		row = append(row, it)
		used += it.w
	}
	if len(row) > 0 {
		f.legend = append(f.legend, row)
	}
	f.body = c.bodyHeight(t, width)
	return f
}

// Height returns the height in px the chart needs at width (clamped to
// MinWidth..MaxWidth): about 0.5×width for bars and lines, more for wrapped
// or rotated labels and legends, and a fixed height per row for heatmaps
// and forest plots, so it grows with the number of rows.
func (c *Chart) Height(width float64) float64 {
	width = clampWidth(width)
	return math.Ceil(c.frame(newTheme(), width).height())
}

func clampWidth(w float64) float64 {
	if !(w >= MinWidth) {
		return MinWidth
	}
	return math.Min(w, MaxWidth)
}

func checkWidth(width float64) error {
	if !(width >= MinWidth && width <= MaxWidth) {
		return fmt.Errorf("charts: width %v outside %d..%d px", width, MinWidth, MaxWidth)
	}
	return nil
}

// SVG writes the chart as an inline-able SVG document width CSS px wide and
// Height(width) tall, with <title> and <desc> (Alt) first. The output is the
// same bytes for the same chart and width. It fails if width is outside
// 200..2400 or w fails.
func (c *Chart) SVG(w io.Writer, width float64) error {
	if err := checkWidth(width); err != nil {
		return err
	}
	h := c.Height(width)
	cv := vgsvg.NewWith(vgsvg.UseWH(vg.Length(width), vg.Length(h)), vgsvg.EmbedFonts(c.embedFonts))
	c.draw(draw.New(cv), width)
	var raw bytes.Buffer
	if _, err := cv.WriteTo(&raw); err != nil {
		return fmt.Errorf("charts: render SVG: %w", err)
	}
	out, err := c.finishSVG(raw.String(), width, h)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, out); err != nil {
		return fmt.Errorf("charts: write SVG: %w", err)
	}
	return nil
}

// finishSVG replaces gonum's prolog and root element with one sized in px
// and labelled for assistive technology.
func (c *Chart) finishSVG(raw string, width, h float64) (string, error) {
	start := strings.Index(raw, "<svg")
	if start < 0 {
		return "", fmt.Errorf("charts: render SVG: no <svg> element")
	}
	end := strings.IndexByte(raw[start:], '>')
	if end < 0 {
		return "", fmt.Errorf("charts: render SVG: unterminated <svg> element")
	}
	body := raw[start+end+1:]
	body = strings.ReplaceAll(body, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")

	alt := c.Alt()
	hs := fnv.New64a()
	fmt.Fprintf(hs, "%d\x00%s\x00%s\x00%v", c.kind, c.title, alt, width)
	id := fmt.Sprintf("chart-%016x", hs.Sum64())
	ws, hstr := num(width), num(h)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc">`,
		ws, hstr, ws, hstr, id, id)
	fmt.Fprintf(&b, "\n<title id=\"%s-title\">%s</title>\n<desc id=\"%s-desc\">%s</desc>", id, escape(c.title), id, escape(alt))
	b.WriteString(body)
	return b.String(), nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// PNG writes the chart as a PNG image at 2× pixel density: 2×width pixels
// wide and 2×Height(width) tall. It fails if width is outside 200..2400 or w
// fails.
func (c *Chart) PNG(w io.Writer, width float64) error {
	if err := checkWidth(width); err != nil {
		return err
	}
	h := c.Height(width)
	// vg lengths are points (1/72 in); 144 dpi makes one point two pixels.
	cv := vgimg.NewWith(vgimg.UseWH(vg.Length(width), vg.Length(h)), vgimg.UseDPI(144))
	c.draw(draw.New(cv), width)
	if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(w); err != nil {
		return fmt.Errorf("charts: write PNG: %w", err)
	}
	return nil
}

// draw lays out title, legend and body on dc.
func (c *Chart) draw(dc draw.Canvas, width float64) {
	t := newTheme()
	f := c.frame(t, width)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	y := dc.Max.Y - pad
	ts := t.style(titleSize, true, ink)
	for _, l := range f.title {
		dc.FillText(ts, vg.Point{X: dc.Min.X + pad, Y: y}, l)
		y -= vg.Length(lineH(titleSize))
	}
	if len(f.title) > 0 {
		y -= 6
	}
	ls := t.style(legendSize, false, ink)
	ls.YAlign = draw.YCenter
	rowH := vg.Length(lineH(legendSize + 4))
	for _, row := range f.legend {
		x := dc.Min.X + pad
		mid := y - rowH/2
		for _, it := range row {
			if it.line {
				dc.StrokeLine2(draw.LineStyle{Color: it.clr, Width: 2.5}, x, mid, x+swatch, mid)
			} else {
				r := vg.Rectangle{Min: vg.Point{X: x, Y: mid - swatch/2}, Max: vg.Point{X: x + swatch, Y: mid + swatch/2}}
				dc.SetColor(it.clr)
				dc.Fill(r.Path())
			}
			dc.FillText(ls, vg.Point{X: x + swatch + 6, Y: mid}, it.name)
			x += vg.Length(it.w + legendGap)
		}
		y -= rowH
	}
	if len(f.legend) > 0 {
		y -= 4
	}
	body := draw.Crop(dc, pad, -pad, pad, y-dc.Max.Y)
	if c.empty() {
		drawNoData(t, body)
		return
	}
	switch c.kind {
	case kindBars, kindGrouped:
		c.drawBars(t, body, width)
	case kindLines:
		c.drawLines(t, body, width)
	case kindHeatmap:
		c.drawHeatmap(t, body, width)
	case kindForest:
		c.drawForest(t, body, width)
	}
}

func drawNoData(t theme, body draw.Canvas) {
	body.StrokeLines(draw.LineStyle{Color: grid, Width: 1}, []vg.Point{
		body.Min, {X: body.Max.X, Y: body.Min.Y}, body.Max, {X: body.Min.X, Y: body.Max.Y}, body.Min})
	s := t.style(14, false, inkSoft)
	s.XAlign, s.YAlign = draw.XCenter, draw.YCenter
	body.FillText(s, body.Center(), "No data")
}
