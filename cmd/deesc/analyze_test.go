package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"deesc/internal/analysis"
	"deesc/internal/store"
)

// TestAnalyze runs each analysis from the command line and checks that it
// prints what the analysis functions behind the API return, and that bad
// flags and uncomputable data exit with status 2 and 1.
func TestAnalyze(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	db := filepath.Join(t.TempDir(), "a.duckdb")
	cfg := smallConfig(t)
	if _, _, err := deesc(t, ctx, "demo", dir, "--officers", "400", "--years", "3", "--end", "2025-05", "--seed", "3"); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := deesc(t, ctx, "import", dir, "--db", db, "--config", cfg); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	runs := []struct {
		args []string
		kind string
		get  map[string]string
	}{
		{[]string{"cohorts", "--course", "ICAT", "--outcome", "force"}, "cohorts", map[string]string{"course": "ICAT", "outcome": "force"}},
		{[]string{"staggered", "--course", "ICAT", "--outcome", "complaints", "--estimand", "event", "--from", "2023-01"}, "staggered",
			map[string]string{"course": "ICAT", "outcome": "complaints", "estimand": "event", "from": "2023-01"}},
		{[]string{"prepost", "--category", "de-escalation", "--min-hours", "16"}, "prepost", map[string]string{"category": "de-escalation", "min_hours": "16"}},
		{[]string{"dose", "--outcome", "complaints", "--window", "6"}, "dose", map[string]string{"outcome": "complaints", "window": "6"}},
	}
	outs := make([]string, len(runs))
	for i, r := range runs {
		out, errOut, err := deesc(t, ctx, append(append([]string{"analyze"}, r.args...), "--db", db, "--config", cfg)...)
		if err != nil {
			t.Fatalf("analyze %v: %v\n%s", r.args, err, errOut)
		}
		outs[i] = out
	}
	// The same requests through the analysis functions, once the command
	// has closed the database.
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, r := range runs {
		want, err := runAnalysis(ctx, st, r.kind, func(k string) string { return r.get[k] }, []float64{0, 8, 16, 40})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(want)
		var got, exp any
		if err := json.Unmarshal([]byte(outs[i]), &got); err != nil {
			t.Fatalf("analyze %v printed no JSON: %v\n%s", r.args, err, outs[i])
		}
		json.Unmarshal(b, &exp)
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("analyze %v printed\n%s\nthe analysis returns\n%s", r.args, outs[i], b)
		}
	}
	// The parse and run functions are the server's.
	if _, err := analysis.ParseRequest(ctx, st, func(string) string { return "" }); err == nil {
		t.Error("a request without a treatment parsed")
	}
	st.Close()

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"cohorts", "--course", "ICAT", "--min-hours", "8"}, 2, "--min-hours"},
		{[]string{"cohorts", "--course", "NOPE"}, 2, "--course"},
		{[]string{"staggered", "--course", "ICAT", "--estimand", "median"}, 2, "--estimand"},
		{[]string{"cohorts", "--course", "ICAT", "--from", "2025-03", "--to", "2024-01"}, 2, "--from"},
		{[]string{"regress", "--course", "ICAT"}, 2, "analyze needs one of"},
		{[]string{"cohorts", "--course", "ICAT", "--to", "2021-01"}, 1, "not computable"},
	} {
		_, _, err := deesc(t, ctx, append(append([]string{"analyze"}, c.args...), "--db", db, "--config", cfg)...)
		if exitCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("analyze %v: exit %d, %v; want %d mentioning %q", c.args, exitCode(err), err, c.code, c.msg)
		}
	}
}
