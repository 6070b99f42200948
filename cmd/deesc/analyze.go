package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"deesc/internal/analysis"
	"deesc/internal/store"
)

// analyses are the kinds `deesc analyze` runs, as the API's routes name them.
var analyses = []string{"cohorts", "staggered", "prepost", "dose"}

// cmdAnalyze is `deesc analyze KIND`: run one analysis on the current
// dataset and print the JSON the API answers for it. A bad flag exits with
// status 2 naming it; data that cannot support the estimate with status 1
// and the reason.
func cmdAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	// Every value is read as text and checked by the same code as the
	// API's parameters; min_hours is spelled --min-hours.
	params := map[string]*string{}
	for _, p := range []struct{ name, usage string }{
		{"course", "treatment: first completion of this course ID"},
		{"category", "treatment: cumulative hours in this course category (with --min-hours)"},
		{"min_hours", "hours in --category that make an officer trained (default: any completion)"},
		{"outcome", "force, complaints, sustained-complaints, injuries or subject-injuries (default force)"},
		{"estimand", "staggered: simple, cohort, calendar or event (default simple)"},
		{"window", "dose: trailing months of training counted (default 12)"},
		{"from", "first month YYYY-MM (default: the data's first)"},
		{"to", "last month YYYY-MM (default: the data's last)"},
		{"unit", "only this unit"},
		{"division", "only this division"},
	} {
		params[p.name] = fs.String(flagName(p.name), "", p.usage)
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc analyze cohorts|staggered|prepost|dose --course ID | --category NAME [--min-hours H]\n"+
			"       [--outcome O] [--estimand E] [--from YYYY-MM] [--to YYYY-MM] [--db FILE] [--config FILE]\n\n"+
			"Runs one analysis on the current dataset and prints the JSON /api/KIND answers.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !slices.Contains(analyses, pos[0]) {
		fs.Usage()
		return &exitError{2, fmt.Errorf("analyze needs one of %s", strings.Join(analyses, ", "))}
	}
	cfg, err := c.load(nil)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	get := func(name string) string { return *params[name] }
	res, err := runAnalysis(ctx, st, pos[0], get, cfg.Analysis.DoseBins)
	if err != nil {
		var pe *analysis.ParamError
		switch reason, ok := analysis.IsNotComputable(err); {
		case errors.As(err, &pe):
			return &exitError{2, fmt.Errorf("--%s: %s", flagName(pe.Param), pe.Message)}
		case ok:
			return &exitError{1, fmt.Errorf("%s: not computable: %s", pos[0], reason)}
		case errors.Is(err, store.ErrNoDataset):
			return &exitError{1, errors.New("no dataset has been imported yet: run deesc import DIR first")}
		}
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// runAnalysis parses the request of kind through get and runs it with the
// functions the server's handlers call.
func runAnalysis(ctx context.Context, st *store.Store, kind string, get func(string) string, doseBins []float64) (any, error) {
	if kind == "dose" {
		q, err := analysis.ParseDose(ctx, st, get)
		if err != nil {
			return nil, err
		}
		q.Edges = doseBins
		return analysis.Dose(ctx, st, q)
	}
	r, err := analysis.ParseRequest(ctx, st, get)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "cohorts":
		return analysis.Cohorts(ctx, st, r)
	case "staggered":
		return analysis.Staggered(ctx, st, r)
	default:
		return analysis.Prepost(ctx, st, r)
	}
}

// flagName spells an API parameter as a flag: min_hours → min-hours.
func flagName(param string) string { return strings.ReplaceAll(param, "_", "-") }
