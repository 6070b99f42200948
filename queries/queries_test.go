package queries

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestLoadEmbedded: the embedded catalogue loads, holds the auditors'
// queries, and gives the row-level ones to auditors and admins only.
func TestLoadEmbedded(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	rowLevel := []string{"training_completions", "force_incidents", "complaints", "cohort_inputs", "audit_log"}
	for _, name := range append(rowLevel, "rates_by_unit", "compliance_overdue") {
		if _, ok := c.Get(name); !ok {
			t.Errorf("no query %s", name)
		}
	}
	for _, name := range rowLevel {
		q, _ := c.Get(name)
		if q.Allows("leadership") || q.Allows("evaluator") || !q.Allows("auditor") || !q.Allows("admin") {
			t.Errorf("%s: roles %v, want auditor and admin only", name, q.Roles)
		}
	}
	q, _ := c.Get("rates_by_unit")
	if !q.Allows("leadership") || strings.Join(q.Suppress, ",") != "n_force,n_complaints,n_injuries" {
		t.Errorf("rates_by_unit: roles %v suppress %v", q.Roles, q.Suppress)
	}
	for _, q := range c.ForRole("leadership") {
		if slices.Contains(rowLevel, q.Name) {
			t.Errorf("ForRole(leadership) gave %s", q.Name)
		}
	}
	if len(c.ForRole("auditor")) != len(c.All()) {
		t.Errorf("auditors may not run every query")
	}
	q, _ = c.Get("compliance_trend")
	if p := q.Params[1]; p.Name != "months" || p.Type != "int" || *p.Min != 1 || *p.Max != 120 || p.Default != "24" {
		t.Errorf("compliance_trend months: %+v", p)
	}
}

const header = "-- name: q\n-- title: T\n-- description: D\n-- columns: a, n\n"

// TestLoadRejects: each malformed header fails Load with a message naming
// the file and what is wrong (the parameter, for a parameter).
func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"no roles", header + "SELECT 1", []string{"queries/q.sql", "roles"}},
		{"empty roles", header + "-- roles:\nSELECT 1", []string{"queries/q.sql", "roles"}},
		{"unknown role", header + "-- roles: leadership, sheriff\nSELECT 1", []string{"queries/q.sql", `"sheriff"`}},
		{"int without bounds", header + "-- roles: admin\n-- param: months int = 24 : m\nSELECT 1", []string{"queries/q.sql", "param months", "bounds"}},
		{"number without bounds", header + "-- roles: admin\n-- param: h number = 0 : h\nSELECT 1", []string{"queries/q.sql", "param h", "bounds"}},
		{"bounds reversed", header + "-- roles: admin\n-- param: k int(5..1) = 3 : k\nSELECT 1", []string{"param k", "MIN ≤ MAX"}},
		{"bounds not numbers", header + "-- roles: admin\n-- param: k int(a..b) = 3 : k\nSELECT 1", []string{"param k"}},
		{"int bounds fractional", header + "-- roles: admin\n-- param: k int(0..1.5) = 1 : k\nSELECT 1", []string{"param k", "whole"}},
		{"default out of bounds", header + "-- roles: admin\n-- param: k int(1..12) = 24 : k\nSELECT 1", []string{"param k", "default", "1 to 12"}},
		{"bad date default", header + "-- roles: admin\n-- param: d date = yesterday : d\nSELECT 1", []string{"param d", "YYYY-MM-DD"}},
		{"enum default not a value", header + "-- roles: admin\n-- param: e enum(a|b) = c : e\nSELECT 1", []string{"param e", "one of a, b"}},
		{"unknown type", header + "-- roles: admin\n-- param: x blob : x\nSELECT 1", []string{"param x", `"blob"`}},
		{"reserved name", header + "-- roles: admin\n-- param: min_cell int(1..9) = 5 : x\nSELECT 1", []string{"param min_cell", "reserved"}},
		{"twice", header + "-- roles: admin\n-- param: x text = '' : x\n-- param: x text = '' : x\nSELECT 1", []string{"param x", "twice"}},
		{"suppress unknown column", header + "-- roles: admin\n-- suppress: n, m\nSELECT 1", []string{"suppress", `"m"`}},
		{"no columns", "-- name: q\n-- title: T\n-- description: D\n-- roles: admin\nSELECT 1", []string{"columns"}},
	} {
		_, err := loadFS(fstest.MapFS{"q.sql": {Data: []byte(tc.text)}})
		if err == nil {
			t.Errorf("%s: loaded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
	_, err := loadFS(fstest.MapFS{"other.sql": {Data: []byte(header + "-- roles: admin\nSELECT 1")}})
	if err == nil || !strings.Contains(err.Error(), "differs from the file name") {
		t.Errorf("name mismatch: %v", err)
	}
}

// testQuery declares one parameter of every type.
func testQuery(t *testing.T) Query {
	t.Helper()
	c, err := loadFS(fstest.MapFS{"q.sql": {Data: []byte(header + `-- roles: auditor
-- param: as_of date = today : day
-- param: from month = '' : first month
-- param: months int(1..120) = 24 : months back
-- param: hours number(0..1000) = 0.5 : hours
-- param: outcome enum(force|complaints) = force : outcome
-- param: unit text = '' : unit
-- param: must text : a required one
SELECT 1`)}})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := c.Get("q")
	return q
}

// TestBind checks each type's good and bad values, defaults, today, and
// unknown names; every error is a *ParamError naming the parameter and
// saying what it expects.
func TestBind(t *testing.T) {
	q := testQuery(t)
	today := time.Date(2026, 3, 9, 15, 4, 0, 0, time.UTC)

	args, eff, err := q.Bind(map[string]string{"must": "x"}, today)
	if err != nil {
		t.Fatal(err)
	}
	wantEff := map[string]string{"as_of": "2026-03-09", "from": "", "months": "24", "hours": "0.5", "outcome": "force", "unit": "", "must": "x"}
	wantArgs := map[string]any{"as_of": "2026-03-09", "from": "", "months": int64(24), "hours": 0.5, "outcome": "force", "unit": "", "must": "x"}
	if len(args) != len(q.Params) || len(eff) != len(wantEff) {
		t.Fatalf("args %v eff %v", args, eff)
	}
	for i, a := range args {
		na := a.(sql.NamedArg)
		if na.Name != q.Params[i].Name || na.Value != wantArgs[na.Name] {
			t.Errorf("arg %d: %s = %#v, want %#v", i, na.Name, na.Value, wantArgs[na.Name])
		}
		if eff[na.Name] != wantEff[na.Name] {
			t.Errorf("effective %s = %q, want %q", na.Name, eff[na.Name], wantEff[na.Name])
		}
	}

	good := []struct{ param, value, eff string }{
		{"as_of", "2024-02-29", "2024-02-29"},
		{"from", "2024-02", "2024-02"},
		{"months", "1", "1"},
		{"months", "120", "120"},
		{"months", " 7 ", "7"},
		{"hours", "0", "0"},
		{"hours", "1000", "1000"},
		{"hours", "7.25", "7.25"},
		{"outcome", "complaints", "complaints"},
		{"unit", "North 1", "North 1"},
		{"unit", "Île-de-France Nord", "Île-de-France Nord"},
		{"unit", "'; DROP TABLE x; --", "'; DROP TABLE x; --"},
		{"unit", strings.Repeat("u", 200), strings.Repeat("u", 200)},
		{"as_of", "", "2026-03-09"}, // blank = the default
	}
	for _, g := range good {
		_, eff, err := q.Bind(map[string]string{"must": "x", g.param: g.value}, today)
		if err != nil || eff[g.param] != g.eff {
			t.Errorf("%s=%q: %v, effective %q, want %q", g.param, g.value, err, eff[g.param], g.eff)
		}
	}

	bad := []struct{ param, value, says string }{
		{"as_of", "2024-13-01", "a date YYYY-MM-DD"},
		{"as_of", "2023-02-29", "a date YYYY-MM-DD"},
		{"as_of", "2024-1-01", "a date YYYY-MM-DD"},
		{"as_of", "2024-01-01T00:00:00", "a date YYYY-MM-DD"},
		{"from", "2024-00", "a month YYYY-MM"},
		{"from", "2024-01-01", "a month YYYY-MM"},
		{"months", "0", "a whole number from 1 to 120"},
		{"months", "121", "a whole number from 1 to 120"},
		{"months", "2.5", "a whole number from 1 to 120"},
		{"months", "1e2", "a whole number from 1 to 120"},
		{"months", "99999999999999999999", "a whole number from 1 to 120"},
		{"hours", "-0.1", "a number from 0 to 1000"},
		{"hours", "1000.5", "a number from 0 to 1000"},
		{"hours", "NaN", "a number from 0 to 1000"},
		{"hours", "Inf", "a number from 0 to 1000"},
		{"hours", "7,5", "a number from 0 to 1000"},
		{"outcome", "Force", "one of force, complaints"},
		{"outcome", "injuries", "one of force, complaints"},
		{"unit", strings.Repeat("u", 201), "printable text of at most 200 bytes"},
		{"unit", "North\n1", "printable text"},
		{"unit", "North\x001", "printable text"},
		{"unit", "bad \xff utf-8", "printable text"},
		{"must", "", "required"},
		{"sheriff", "x", "unknown parameter; q takes as_of, from, months, hours, outcome, unit, must"},
	}
	for _, b := range bad {
		vals := map[string]string{"must": "x", b.param: b.value}
		_, _, err := q.Bind(vals, today)
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%s=%q: error %v is not a *ParamError", b.param, b.value, err)
			continue
		}
		if pe.Param != b.param || !strings.Contains(pe.Msg, b.says) || !strings.HasPrefix(err.Error(), "parameter "+b.param+": ") {
			t.Errorf("%s=%q: %q (param %q), want it to say %q", b.param, b.value, err, pe.Param, b.says)
		}
	}
	// An absurdly long value is cut short in the message.
	_, _, err = q.Bind(map[string]string{"must": "x", "as_of": strings.Repeat("9", 5000)}, today)
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("long value: %v", err)
	}
}

// TestBindEmbeddedDefaults: every embedded query binds with no values at
// all (each declares a default for every parameter), one argument per
// parameter.
func TestBindEmbeddedDefaults(t *testing.T) {
	c := MustLoad()
	for _, q := range c.All() {
		args, eff, err := q.Bind(nil, time.Now())
		if err != nil || len(args) != len(q.Params) || len(eff) != len(q.Params) {
			t.Errorf("%s: %v (%d args for %d params)", q.Name, err, len(args), len(q.Params))
		}
	}
}
