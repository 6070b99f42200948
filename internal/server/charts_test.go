package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"strings"
	"testing"

	"deesc/internal/auth"
)

// TestChartTwins: every chart answers as SVG and as PNG (twice the
// pixels), the SVG is an accessible image whose text alternative carries
// the figures of its JSON source, and the same request draws the same bytes.
func TestChartTwins(t *testing.T) {
	app, _, secrets := authServer(t)
	admin := secrets[auth.Admin]
	srv := &Server{}
	for name := range srv.chartSpecs() {
		q := "?width=640"
		if name == "cohorts" || name == "event-study" {
			q += "&course=ICAT"
		}
		status, svg := call(t, app, "GET", "/charts/"+name+".svg"+q, admin)
		if status != 200 || !bytes.Contains(svg, []byte(`role="img"`)) || !bytes.Contains(svg, []byte("<desc")) || bytes.Contains(svg, []byte("NaN")) {
			t.Errorf("%s.svg: %d %.200s", name, status, svg)
		}
		if _, again := call(t, app, "GET", "/charts/"+name+".svg"+q+"&x=1", admin); !bytes.Equal(svg, again) {
			t.Errorf("%s.svg: two requests drew different bytes", name)
		}
		status, pngBytes := call(t, app, "GET", "/charts/"+name+".png"+q, admin)
		img, err := png.Decode(bytes.NewReader(pngBytes))
		if status != 200 || err != nil || img.Bounds().Dx() != 1280 {
			t.Errorf("%s.png: %d %v", name, status, err)
		}
	}
	// The compliance chart's text alternative states each division's share
	// as the JSON source computes it.
	status, body := call(t, app, "GET", "/api/compliance", admin)
	var c complianceBody
	if status != 200 || json.Unmarshal(body, &c) != nil {
		t.Fatal(status)
	}
	cur, all := map[string]int64{}, map[string]int64{}
	for _, cc := range c.Courses {
		for _, d := range cc.Divisions {
			cur[d.Division] += d.Current
			all[d.Division] += d.Officers
		}
	}
	_, svg := call(t, app, "GET", "/charts/compliance-divisions.svg", admin)
	for d := range all {
		want := fmt.Sprintf("%s: %.1f%%", d, 100*float64(cur[d])/float64(all[d]))
		if !strings.Contains(string(svg), want) {
			t.Errorf("compliance-divisions text alternative lacks %q", want)
		}
	}
	if status, body := call(t, app, "GET", "/charts/nothing.svg", admin); status != 404 {
		t.Errorf("unknown chart: %d %s", status, body)
	}
	if status, body := call(t, app, "GET", "/charts/dose.svg?width=50", admin); status != 400 || !strings.Contains(string(body), "width") {
		t.Errorf("width=50: %d %s", status, body)
	}
}
