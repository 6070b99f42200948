package charts

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.svg golden files")

var nan = math.NaN()

// cases are one chart of each kind, shaped like the server's JSON.
func cases() map[string]*Chart {
	months := []string{}
	trained := LineSeries{Name: "Trained"}
	untrained := LineSeries{Name: "Not yet trained"}
	for i := 0; i < 24; i++ {
		months = append(months, fmt.Sprintf("%d-%02d", 2023+i/12, i%12+1))
		a := 0.30 + 0.01*float64(i%7)
		b := 0.42 - 0.005*float64(i%5)
		trained.Y = append(trained.Y, a)
		trained.Lo = append(trained.Lo, a-0.08)
		trained.Hi = append(trained.Hi, a+0.09)
		untrained.Y = append(untrained.Y, b)
		untrained.Lo = append(untrained.Lo, b-0.07)
		untrained.Hi = append(untrained.Hi, b+0.08)
	}
	trained.Y[0], trained.Y[1], trained.Y[9] = nan, nan, nan // not yet rolled out; a suppressed month

	eventX := []string{"-4", "-3", "-2", "-1", "0", "1", "2", "3", "4"}
	att := LineSeries{Name: "ATT(e)", Y: []float64{0.02, -0.01, 0.01, 0, -0.05, -0.08, -0.07, -0.1, nan},
		Lo: []float64{-0.06, -0.08, -0.05, 0, -0.12, -0.16, -0.16, -0.21, nan},
		Hi: []float64{0.1, 0.06, 0.07, 0, 0.02, 0, 0.02, 0.01, nan}}

	return map[string]*Chart{
		"bars": Bars("Compliance by division", "% current", []Bar{
			{Label: "D1", Value: 94.2, Lo: 92.7, Hi: 95.4, Note: "1,204 officers"},
			{Label: "D2", Value: 88.1, Lo: nan, Hi: nan},
			{Label: "D3", Value: nan, Lo: nan, Hi: nan, Note: "suppressed"},
			{Label: "Central Patrol Division", Value: 76.5, Lo: 70.2, Hi: 82},
		}),
		"grouped": GroupedBars("Training hours per officer-year", "hours", []string{"North", "South", "Traffic and Highway Patrol"},
			[]BarSeries{{Name: "De-escalation", Values: []float64{6.5, 4.25, nan}}, {Name: "Use of force", Values: []float64{8, 9.5, 3}}}),
		"lines": Lines("Use-of-force incidents per officer-year", "rate", months, []LineSeries{trained, untrained}),
		"event": Lines("Event study: change in rate after training", "ATT", eventX, []LineSeries{att}).WithReference(0),
		"heatmap": Heatmap("Force used by subject behaviour", "Highest response", "Subject behaviour",
			[]string{"Presence", "Verbal commands", "Soft physical", "Hard physical", "Intermediate weapon", "Lethal"},
			[]string{"Cooperative", "Passive resistant", "Active resistant", "Assaultive", "Life-threatening"},
			[][]float64{
				{120, 45, 3, nan, 0, 0},
				{30, 88, 41, 6, 1, 0},
				{4, 52, 96, 48, 12, 0},
				{0, 8, 60, 142, 37, 2},
				{0, 1, 5, 22, 18, 9},
			}, func(v float64) string { return Number(v) }),
		"forest": Forest("Rate ratio, trained vs not yet trained", "Rate ratio (log scale)", []ForestRow{
			{Label: "Crude", Est: 0.82, Lo: 0.71, Hi: 0.95},
			{Label: "Adjusted (unit and month fixed effects)", Est: 0.88, Lo: 0.74, Hi: 1.05},
			{Label: "Within officer", Est: 0.91, Lo: 0.77, Hi: 1.08},
			{Label: "Staggered (Callaway–Sant'Anna)", Est: nan, Lo: nan, Hi: nan, Note: "not computable: no never-treated officers"},
		}, 1, true),
		"empty": Bars("Compliance by division", "% current", nil),
	}
}

func render(t *testing.T, c *Chart, width float64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.SVG(&b, width); err != nil {
		t.Fatalf("SVG: %v", err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for name, c := range cases() {
		t.Run(name, func(t *testing.T) {
			got := render(t, c, 640)
			if dir := os.Getenv("CHARTS_DUMP"); dir != "" { // for looking at the charts
				var b bytes.Buffer
				if err := c.PNG(&b, 640); err != nil {
					t.Fatal(err)
				}
				_ = os.WriteFile(filepath.Join(dir, name+".png"), b.Bytes(), 0o644)
			}
			path := filepath.Join("testdata", name+".svg")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (%d vs %d bytes); run go test -update and review the diff", path, len(got), len(want))
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for name, c := range cases() {
		for _, w := range []float64{200, 455.5, 1280} {
			a, b := render(t, c, w), render(t, cases()[name], w)
			if !bytes.Equal(a, b) {
				t.Errorf("%s at %v: two SVG renders differ", name, w)
			}
			var p1, p2 bytes.Buffer
			if err := c.PNG(&p1, w); err != nil {
				t.Fatal(err)
			}
			if err := c.PNG(&p2, w); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p1.Bytes(), p2.Bytes()) {
				t.Errorf("%s at %v: two PNG renders differ", name, w)
			}
		}
	}
}

// TestSVGStructure decodes every token of the output and checks the root
// element's attributes and that <title> and <desc> come first.
func TestSVGStructure(t *testing.T) {
	for name, c := range cases() {
		for _, w := range []float64{200, 640, 2400} {
			out := render(t, c, w)
			if bytes.HasPrefix(out, []byte("<?xml")) || !bytes.HasPrefix(out, []byte("<svg ")) {
				t.Errorf("%s: output does not start with <svg: %.40q", name, out)
			}
			dec := xml.NewDecoder(bytes.NewReader(out))
			var (
				depth    int
				root     xml.StartElement
				children []string
				ids      = map[string]string{}
				texts    = map[string]string{}
				cur      string
			)
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s at %v: not well-formed XML: %v", name, w, err)
				}
				switch e := tok.(type) {
				case xml.StartElement:
					if depth == 0 {
						root = e
					}
					if depth == 1 {
						children = append(children, e.Name.Local)
					}
					for _, a := range e.Attr {
						if a.Name.Local == "id" {
							ids[a.Value] = e.Name.Local
						}
					}
					cur = e.Name.Local
					depth++
				case xml.EndElement:
					depth--
					cur = ""
				case xml.CharData:
					if cur == "title" || cur == "desc" {
						texts[cur] += string(e)
					}
				}
			}
			attr := map[string]string{}
			for _, a := range root.Attr {
				attr[a.Name.Local] = a.Value
			}
			h := c.Height(w)
			want := map[string]string{"role": "img", "width": num(w), "height": num(h), "viewBox": "0 0 " + num(w) + " " + num(h)}
			for k, v := range want {
				if attr[k] != v {
					t.Errorf("%s at %v: %s=%q, want %q", name, w, k, attr[k], v)
				}
			}
			if root.Name.Local != "svg" {
				t.Errorf("%s: root is <%s>", name, root.Name.Local)
			}
			if len(children) < 2 || children[0] != "title" || children[1] != "desc" {
				t.Errorf("%s: first children %v, want title, desc", name, children[:min(2, len(children))])
			}
			refs := strings.Fields(attr["aria-labelledby"])
			if len(refs) != 2 || ids[refs[0]] != "title" || ids[refs[1]] != "desc" {
				t.Errorf("%s: aria-labelledby=%q does not name the title and desc (ids %v)", name, attr["aria-labelledby"], ids)
			}
			if texts["title"] != c.title || texts["desc"] != c.Alt() {
				t.Errorf("%s: title %q desc %q, want %q and Alt()", name, texts["title"], texts["desc"], c.title)
			}
		}
	}
}

func TestAlt(t *testing.T) {
	tests := []struct {
		name string
		c    *Chart
		want string
	}{
		{"bars", cases()["bars"], "Compliance by division (% current). D1: 94.2% (95% CI 92.7%–95.4%; 1,204 officers); " +
			"D2: 88.1%; D3: suppressed; Central Patrol Division: 76.5% (95% CI 70.2%–82%)."},
		{"grouped", cases()["grouped"], "Training hours per officer-year (hours). North: De-escalation 6.5, Use of force 8; " +
			"South: De-escalation 4.25, Use of force 9.5; Traffic and Highway Patrol: De-escalation –, Use of force 3."},
		{"event", Lines("Event study", "ATT", []string{"-1", "0", "1"}, []LineSeries{{Name: "ATT(e)", Y: []float64{0, -0.05, nan},
			Lo: []float64{0, -0.12, nan}, Hi: []float64{0, 0.02, nan}}}).WithReference(0),
			"Event study (ATT). ATT(e): -1 0, 0 -0.05 (95% CI -0.12–0.02), 1 –. Reference line at 0."},
		{"heatmap", Heatmap("Force", "Response", "Behaviour", []string{"Verbal", "Physical"}, []string{"Passive", "Assaultive"},
			[][]float64{{12, nan}, {3, 1450}}, nil),
			"Force. Passive: Verbal 12, Physical –; Assaultive: Verbal 3, Physical 1,450."},
		{"forest", cases()["forest"], "Rate ratio, trained vs not yet trained. Crude: 0.82 (95% CI 0.71–0.95); " +
			"Adjusted (unit and month fixed effects): 0.88 (95% CI 0.74–1.05); Within officer: 0.91 (95% CI 0.77–1.08); " +
			"Staggered (Callaway–Sant'Anna): not computable: no never-treated officers. Reference line at 1."},
		{"empty", cases()["empty"], "Compliance by division (% current). No data."},
	}
	for _, tt := range tests {
		if got := tt.c.Alt(); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{94.2, "94.2"}, {94.26, "94.3"}, {1204, "1,204"}, {1234567.4, "1,234,567"}, {999.6, "1,000"},
		{1.5, "1.5"}, {12, "12"}, {0.0123, "0.0123"}, {0.012345, "0.0123"}, {0, "0"}, {-0.05, "-0.05"},
		{-1500, "-1,500"}, {-0.0001, "-0.0001"}, {nan, "–"}, {math.Inf(1), "–"},
	}
	for _, tt := range tests {
		if got := Number(tt.v); got != tt.want {
			t.Errorf("Number(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestPNG(t *testing.T) {
	for name, c := range cases() {
		var b bytes.Buffer
		if err := c.PNG(&b, 400); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("%s: decode PNG: %v", name, err)
		}
		if got := img.Bounds().Dx(); got != 800 {
			t.Errorf("%s: PNG %d px wide, want 800", name, got)
		}
		if got, want := img.Bounds().Dy(), int(2*c.Height(400)); got != want {
			t.Errorf("%s: PNG %d px tall, want %d", name, got, want)
		}
	}
}

// TestNaN feeds NaN and Inf everywhere a number goes.
func TestNaN(t *testing.T) {
	inf := math.Inf(1)
	all := []*Chart{
		Bars("b", "y", []Bar{{Label: "a", Value: nan, Lo: nan, Hi: nan}, {Label: "b", Value: inf, Lo: 1, Hi: 2}, {Label: "c", Value: 1, Lo: nan, Hi: 2}}),
		Bars("all missing", "y", []Bar{{Label: "a", Value: nan}}),
		GroupedBars("g", "y", []string{"a", "b"}, []BarSeries{{Name: "s", Values: []float64{nan}}}),
		Lines("l", "y", []string{"1", "2", "3"}, []LineSeries{{Name: "s", Y: []float64{nan, nan, nan}, Lo: []float64{nan}, Hi: []float64{}}}),
		Lines("l", "y", []string{"1", "2"}, []LineSeries{{Y: []float64{1, nan}, Lo: []float64{nan, 0}, Hi: []float64{2, inf}}}).WithReference(nan),
		Heatmap("h", "x", "y", []string{"a"}, []string{"r1", "r2"}, [][]float64{{nan}}, nil),
		Forest("f", "x", []ForestRow{{Label: "a", Est: nan, Lo: nan, Hi: nan}, {Label: "b", Est: -1, Lo: -2, Hi: 0.5}, {Label: "c", Est: 2, Lo: nan, Hi: 3}}, 1, true),
		Forest("f", "x", []ForestRow{{Label: "a", Est: nan}}, nan, false),
	}
	for i, c := range all {
		for _, w := range []float64{200, 800} {
			out := render(t, c, w)
			if bytes.Contains(out, []byte("NaN")) || bytes.Contains(out, []byte("Inf")) {
				k := max(bytes.Index(out, []byte("NaN")), bytes.Index(out, []byte("Inf")))
				t.Logf("%s", out[max(0, k-200):k+50])
				t.Errorf("chart %d (%s) at %v: output contains NaN or Inf", i, c.title, w)
			}
			if h := c.Height(w); !finite(h) || h <= 0 {
				t.Errorf("chart %d: Height(%v) = %v", i, w, h)
			}
		}
	}
}

func TestHeightGrows(t *testing.T) {
	forest := func(n int) *Chart {
		rows := make([]ForestRow, n)
		for i := range rows {
			rows[i] = ForestRow{Label: fmt.Sprint("row ", i), Est: 1, Lo: 0.5, Hi: 2}
		}
		return Forest("f", "RR", rows, 1, true)
	}
	heat := func(n int) *Chart {
		rows := make([]string, n)
		vals := make([][]float64, n)
		for i := range rows {
			rows[i], vals[i] = fmt.Sprint("r", i), []float64{1, 2}
		}
		return Heatmap("h", "x", "y", []string{"a", "b"}, rows, vals, nil)
	}
	for _, w := range []float64{200, 640} {
		if a, b := forest(2).Height(w), forest(10).Height(w); !(b > a) {
			t.Errorf("forest at %v: Height 2 rows %v, 10 rows %v", w, a, b)
		}
		if a, b := heat(2).Height(w), heat(10).Height(w); !(b > a) {
			t.Errorf("heatmap at %v: Height 2 rows %v, 10 rows %v", w, a, b)
		}
	}
	// Many bars with long labels need more room than a few short ones.
	short := Bars("b", "y", []Bar{{Label: "A", Value: 1}, {Label: "B", Value: 2}})
	var many []Bar
	for i := range 12 {
		many = append(many, Bar{Label: fmt.Sprint("Division number ", i), Value: float64(i)})
	}
	if a, b := short.Height(640), Bars("b", "y", many).Height(640); !(b > a) {
		t.Errorf("bars: Height with 2 short labels %v, 12 long labels %v", a, b)
	}
	if got := forest(3).Height(640); got != math.Ceil(got) {
		t.Errorf("Height %v is not a whole number of px", got)
	}
}

func TestWidthLimits(t *testing.T) {
	c := cases()["bars"]
	for _, w := range []float64{199, 2401, nan, 0, -5} {
		if err := c.SVG(io.Discard, w); err == nil || !strings.Contains(err.Error(), "width") {
			t.Errorf("SVG width %v: err = %v, want a width error", w, err)
		}
		if err := c.PNG(io.Discard, w); err == nil || !strings.Contains(err.Error(), "width") {
			t.Errorf("PNG width %v: err = %v, want a width error", w, err)
		}
	}
}

// TestThinning checks that the labels Lines keeps are at least their own
// width apart at the narrowest width, and that "0" stays labelled.
func TestThinning(t *testing.T) {
	th := newTheme()
	var x []string
	for i := -24; i <= 24; i++ {
		x = append(x, fmt.Sprint(i))
	}
	c := Lines("l", "y", x, []LineSeries{{Y: make([]float64, len(x))}})
	for _, w := range []float64{200, 640, 2400} {
		_, xc := c.xLayout(th, w)
		lo, hi := c.valueRange()
		dataW := w - 2*pad - th.yAxisWidth(valueTicks(lo, hi), "y")
		prev := -1
		shown := 0
		for i, l := range xc.labels {
			if l == "" {
				continue
			}
			shown++
			if prev >= 0 {
				need := (th.width(tickSize, false, l) + th.width(tickSize, false, xc.labels[prev])) / 2
				if gap := float64(i-prev) * dataW / float64(len(x)); gap < need+4 {
					t.Errorf("width %v: labels %q and %q are %.1f px apart, need %.1f", w, xc.labels[prev], l, gap, need+4)
				}
			}
			prev = i
		}
		if xc.labels[24] != "0" {
			t.Errorf("width %v: event time 0 not labelled", w)
		}
		if shown < 3 {
			t.Errorf("width %v: only %d labels shown", w, shown)
		}
	}
}

func TestTextContrast(t *testing.T) {
	if textOn(sequential(0)) != textOn(missing) || fmt.Sprint(textOn(sequential(0))) != fmt.Sprint(textOn(sequential(0.05))) {
		t.Errorf("light cells should share a text colour")
	}
	r, g, b, _ := textOn(sequential(1)).RGBA()
	if r != 0xFFFF || g != 0xFFFF || b != 0xFFFF {
		t.Errorf("darkest cell: text colour %v, want white", textOn(sequential(1)))
	}
	r, _, _, _ = textOn(sequential(0)).RGBA()
	if r != 0 {
		t.Errorf("lightest cell: text not black")
	}
}

func TestEscaping(t *testing.T) {
	c := Bars("A & B <script>", "y", []Bar{{Label: "x<y & \"q\"\x00\x1b", Value: 1}})
	out := render(t, c, 300)
	dec := xml.NewDecoder(bytes.NewReader(out))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
	}
	if bytes.Contains(out, []byte("<script")) {
		t.Errorf("title not escaped")
	}
}

func TestEmbeddedFonts(t *testing.T) {
	c := Bars("b", "y", []Bar{{Label: "a", Value: 1}}).WithEmbeddedFonts()
	a, b := render(t, c, 300), render(t, c, 300)
	if !bytes.Equal(a, b) || !bytes.Contains(a, []byte("@font-face")) {
		t.Errorf("embedded-font SVG not deterministic or has no @font-face")
	}
	if bytes.Contains(render(t, cases()["bars"], 300), []byte("@font-face")) {
		t.Errorf("default SVG embeds fonts")
	}
}

// TestNoOverlap measures every unrotated text of the SVG with the embedded
// font and fails when two on the same baseline overlap.
func TestNoOverlap(t *testing.T) {
	th := newTheme()
	type span struct {
		x0, x1 float64
		s      string
	}
	all := cases()
	var many []Bar
	for i := range 30 {
		many = append(many, Bar{Label: fmt.Sprint("Unit ", i), Value: float64(i)})
	}
	all["many"] = Bars("Many units", "% current", many)
	for name, c := range all {
		for _, w := range []float64{200, 333, 640, 1280} {
			dec := xml.NewDecoder(bytes.NewReader(render(t, c, w)))
			var rotated []bool // per open <g>
			byY := map[string][]span{}
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				switch e := tok.(type) {
				case xml.StartElement:
					attr := map[string]string{}
					for _, a := range e.Attr {
						attr[a.Name.Local] = a.Value
					}
					if e.Name.Local == "g" {
						rotated = append(rotated, strings.HasPrefix(attr["transform"], "rotate"))
					}
					if e.Name.Local != "text" || slices.Contains(rotated, true) {
						continue
					}
					var x, size float64
					fmt.Sscan(attr["x"], &x)
					_, after, _ := strings.Cut(attr["style"], "font-size:")
					sz, _, _ := strings.Cut(after, "px")
					if _, err := fmt.Sscan(sz, &size); err != nil || size < 11 {
						t.Errorf("%s at %v: font-size %q, want ≥ 11 px", name, w, sz)
					}
					bold := strings.Contains(attr["style"], "font-weight:bold")
					var s string
					if err := dec.DecodeElement(&s, &e); err != nil {
						t.Fatal(err)
					}
					byY[attr["y"]] = append(byY[attr["y"]], span{x, x + th.width(size, bold, s), s})
				case xml.EndElement:
					if e.Name.Local == "g" {
						rotated = rotated[:len(rotated)-1]
					}
				}
			}
			for y, spans := range byY {
				for i, a := range spans {
					for _, b := range spans[i+1:] {
						if a.x0 < b.x1-0.5 && b.x0 < a.x1-0.5 {
							t.Errorf("%s at %v: %q and %q overlap at y=%s", name, w, a.s, b.s, y)
						}
					}
				}
			}
		}
	}
}
