package analysis

import (
	"context"
	"errors"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"deesc/internal/contract"
	"deesc/internal/demo"
	"deesc/internal/store"
)

// The fuzz targets feed request parsing raw URL query strings, as the
// server receives them, against a small demo dataset. Seeds live in
// testdata/fuzz; run one for longer with, e.g.,
// go test -run='^$' -fuzz='^FuzzParseRequest$' -fuzztime=10m ./internal/analysis/

// fuzzStore returns an in-memory store holding a small demo dataset, with
// the names and categories a request may use. Each fuzz worker opens its
// own, once; parsing only reads it.
func fuzzStore(f *testing.F) (*store.Store, store.Names, []string) {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.End = 60, 2, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		f.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(f.TempDir(), "fuzz.duckdb"), store.Options{KeepVersions: 1, Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if _, err := st.Import(ctx, dir, store.ImportOptions{Now: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
		f.Fatal(err)
	}
	names, err := st.Names(ctx)
	if err != nil {
		f.Fatal(err)
	}
	cats, err := st.Categories(ctx)
	if err != nil {
		f.Fatal(err)
	}
	return st, names, cats
}

// addQuerySeeds adds raw query strings that reach every branch, using the
// dataset's own names where a valid one is wanted.
func addQuerySeeds(f *testing.F, names store.Names, cats []string) {
	unit, division, course, cat := url.QueryEscape(names.Units[0]), url.QueryEscape(names.Divisions[0]), url.QueryEscape(names.Courses[0]), url.QueryEscape(cats[0])
	for _, s := range []string{
		"",
		"course=" + course,
		"course=" + course + "&outcome=complaints&estimand=event&from=2024-01&to=2024-12&unit=" + unit + "&division=" + division,
		"category=" + cat + "&min_hours=8",
		"category=" + strings.ToUpper(cat) + "&min_hours=0x1p3",
		"category=" + cat + "&min_hours=NaN",
		"category=" + cat + "&min_hours=-1",
		"category=" + cat + "&min_hours=1e400",
		"min_hours=8",
		"course=" + course + "&category=" + cat,
		"course=NOPE",
		"course=" + course + "&from=2024-12&to=2024-01",
		"course=" + course + "&from=2024-13",
		"course=" + course + "&to=%202024-1",
		"course=" + course + "&unit=nowhere%0A&division=%00",
		"outcome=Force&course=" + course,
		"estimand=simple%0D%0A&course=" + course,
		"window=0", "window=120", "window=121", "window=%2B7", "window=1e2", "window=99999999999999999999",
		"course=" + course + "&course=other",
		"%zz=1&course=" + course,
		"window=6&outcome=injuries&from=2024-01",
	} {
		f.Add(s)
	}
}

// checkParamError fails unless err is a *ParamError naming one of params,
// with a message free of raw control characters.
func checkParamError(t *testing.T, raw string, err error, params ...string) {
	t.Helper()
	var pe *ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("%q: %v is not a *ParamError", raw, err)
	}
	if !slices.Contains(params, pe.Param) {
		t.Fatalf("%q: error names %q, not one of %v", raw, pe.Param, params)
	}
	msg := err.Error()
	if strings.TrimSpace(pe.Message) == "" {
		t.Fatalf("%q: empty message for %s", raw, pe.Param)
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Fatalf("%q: error holds a raw control character at byte %d: %q", raw, i, msg)
	}
}

// checkFilter fails unless an accepted filter names real months in order
// and a unit and division of the dataset.
func checkFilter(t *testing.T, raw string, fl store.Filter, names store.Names) {
	t.Helper()
	var from, to time.Time
	for _, m := range []struct {
		s string
		t *time.Time
	}{{fl.From, &from}, {fl.To, &to}} {
		if m.s == "" {
			continue
		}
		v, err := contract.ParseMonth(m.s)
		if err != nil || v.Format("2006-01") != m.s {
			t.Fatalf("%q: accepted month %q (%v)", raw, m.s, err)
		}
		*m.t = v
	}
	if fl.From != "" && fl.To != "" && from.After(to) {
		t.Fatalf("%q: accepted from %s after to %s", raw, fl.From, fl.To)
	}
	if fl.Unit != "" && !slices.Contains(names.Units, fl.Unit) {
		t.Fatalf("%q: accepted unit %q", raw, fl.Unit)
	}
	if fl.Division != "" && !slices.Contains(names.Divisions, fl.Division) {
		t.Fatalf("%q: accepted division %q", raw, fl.Division)
	}
}

// filterValues writes a filter back as query values.
func filterValues(fl store.Filter) url.Values {
	return url.Values{"from": {fl.From}, "to": {fl.To}, "unit": {fl.Unit}, "division": {fl.Division}}
}

// FuzzParseRequest: a request is refused with a *ParamError naming one of
// its parameters, or names one treatment, an outcome, an estimand and a
// filter that exist, and reads the same when written back as a query.
func FuzzParseRequest(f *testing.F) {
	st, names, cats := fuzzStore(f)
	addQuerySeeds(f, names, cats)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		vals, _ := url.ParseQuery(raw) // the server reads what parses
		r, err := ParseRequest(ctx, st, vals.Get)
		if err != nil {
			checkParamError(t, raw, err, "outcome", "estimand", "course", "category", "min_hours", "from", "to", "unit", "division")
			return
		}
		if !slices.Contains(Outcomes, r.Outcome) || !slices.Contains(Estimands, r.Estimand) {
			t.Fatalf("%q: outcome %q, estimand %q", raw, r.Outcome, r.Estimand)
		}
		if (r.Course == "") == (r.Category == "") {
			t.Fatalf("%q: course %q and category %q: want exactly one", raw, r.Course, r.Category)
		}
		if r.Course != "" && !slices.Contains(names.Courses, r.Course) || r.Category != "" && !slices.Contains(cats, r.Category) {
			t.Fatalf("%q: accepted course %q, category %q", raw, r.Course, r.Category)
		}
		if r.MinHours < 0 || math.IsNaN(r.MinHours) || math.IsInf(r.MinHours, 0) || r.MinHours > 0 && r.Category == "" {
			t.Fatalf("%q: min_hours %v with category %q", raw, r.MinHours, r.Category)
		}
		checkFilter(t, raw, r.Filter, names)
		// What was accepted, written back as a query, reads the same.
		back := filterValues(r.Filter)
		back.Set("outcome", r.Outcome)
		back.Set("estimand", r.Estimand)
		back.Set("course", r.Course)
		back.Set("category", r.Category)
		if r.MinHours > 0 {
			back.Set("min_hours", strconv.FormatFloat(r.MinHours, 'g', -1, 64))
		}
		again, err := ParseRequest(ctx, st, back.Get)
		if err != nil || again != r {
			t.Fatalf("%q gave %+v; written back as %q it gives %+v, %v", raw, r, back.Encode(), again, err)
		}
	})
}

// FuzzParseDose: as FuzzParseRequest, for the dose-response parameters.
func FuzzParseDose(f *testing.F) {
	st, names, cats := fuzzStore(f)
	addQuerySeeds(f, names, cats)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		vals, _ := url.ParseQuery(raw)
		q, err := ParseDose(ctx, st, vals.Get)
		if err != nil {
			checkParamError(t, raw, err, "outcome", "window", "from", "to", "unit", "division")
			return
		}
		if !slices.Contains(Outcomes, q.Outcome) || q.Window < 1 || q.Window > 120 {
			t.Fatalf("%q: outcome %q, window %d", raw, q.Outcome, q.Window)
		}
		if strings.TrimSpace(vals.Get("window")) == "" && q.Window != 12 {
			t.Fatalf("%q: default window %d, want 12", raw, q.Window)
		}
		checkFilter(t, raw, q.Filter, names)
		back := filterValues(q.Filter)
		back.Set("outcome", q.Outcome)
		back.Set("window", strconv.Itoa(q.Window))
		again, err := ParseDose(ctx, st, back.Get)
		if err != nil || again.Outcome != q.Outcome || again.Window != q.Window || again.Filter != q.Filter {
			t.Fatalf("%q gave %+v; written back as %q it gives %+v, %v", raw, q, back.Encode(), again, err)
		}
	})
}
