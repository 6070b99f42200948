package queries

import (
	"database/sql"
	"errors"
	"io/fs"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets check the catalogue's two parsers: the header of a .sql
// file (parse) and a request's values (Query.Bind). Seeds live in
// testdata/fuzz; run one for longer with, e.g.,
// go test -run='^$' -fuzz='^FuzzBind$' -fuzztime=10m ./queries/

// fuzzHeader declares one parameter of every type, with bounds and defaults
// near the edges of what their types hold.
const fuzzHeader = `-- name: fuzz
-- title: Every type
-- description: one parameter of each type
-- param: as_of date = today : day
-- param: from month = '' : first month
-- param: months int(1..120) = 24 : months back
-- param: delta int(-9000000000..9000000000) = '' : a wide whole number
-- param: hours number(0..1000) = 0.5 : hours
-- param: ratio number(-1e300..1e300) = '' : a wide number
-- param: outcome enum(force|complaints|sustained-complaints) = force : outcome
-- param: unit text = '' : unit
-- param: must text : a required one
-- columns: a, n
-- roles: auditor
SELECT 1`

// checkClear fails unless msg is a non-empty reason without raw control
// characters (it ends up on a terminal, in a log line and in JSON).
func checkClear(t *testing.T, what string, msg string) {
	t.Helper()
	if strings.TrimSpace(msg) == "" {
		t.Fatalf("%s: empty error", what)
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Fatalf("%s: error holds a raw control character at byte %d: %q", what, i, msg)
	}
}

// checkBound fails unless the accepted value lies within the parameter's
// bounds, compared exactly (not in float64, which rounds large integers).
func checkBound(t *testing.T, p Param, v *big.Float) {
	t.Helper()
	if v.Cmp(big.NewFloat(*p.Min)) < 0 || v.Cmp(big.NewFloat(*p.Max)) > 0 {
		t.Fatalf("%s = %s accepted outside %g..%g", p.Name, v.Text('g', 20), *p.Min, *p.Max)
	}
}

// checkArgs checks each bound argument against its parameter's type, and
// the effective values against the arguments.
func checkArgs(t *testing.T, q Query, args []any, eff map[string]string) {
	t.Helper()
	if len(args) != len(q.Params) || len(eff) != len(q.Params) {
		t.Fatalf("%d args, %d effective values for %d parameters", len(args), len(eff), len(q.Params))
	}
	for i, a := range args {
		p := q.Params[i]
		na, ok := a.(sql.NamedArg)
		if !ok || na.Name != p.Name {
			t.Fatalf("argument %d is %#v, want sql.Named(%q, …)", i, a, p.Name)
		}
		if eff[p.Name] != FormatValue(na.Value) {
			t.Fatalf("%s: effective %q, bound %#v", p.Name, eff[p.Name], na.Value)
		}
		if na.Value == nil {
			if p.Type != "int" && p.Type != "number" {
				t.Fatalf("%s (%s) bound to NULL", p.Name, p.Type)
			}
			continue
		}
		switch v := na.Value.(type) {
		case int64:
			if p.Type != "int" {
				t.Fatalf("%s (%s) bound to an int64", p.Name, p.Type)
			}
			checkBound(t, p, new(big.Float).SetInt64(v))
		case float64:
			if p.Type != "number" || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s (%s) bound to %v", p.Name, p.Type, v)
			}
			checkBound(t, p, big.NewFloat(v))
		case string:
			switch p.Type {
			case "date":
				if d, err := time.Parse(time.DateOnly, v); v != "" && (err != nil || d.Format(time.DateOnly) != v) {
					t.Fatalf("%s bound to %q, not a date YYYY-MM-DD", p.Name, v)
				}
			case "month":
				if v != "" {
					if m, err := time.Parse("2006-01", v); err != nil || m.Format("2006-01") != v {
						t.Fatalf("%s bound to %q, not a month YYYY-MM", p.Name, v)
					}
				}
			case "enum":
				if v != "" && !slices.Contains(p.Values, v) {
					t.Fatalf("%s bound to %q, not one of %v", p.Name, v, p.Values)
				}
			case "text":
				if len(v) > MaxText || !utf8.ValidString(v) || strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
					t.Fatalf("%s bound to %q: not printable text of at most %d bytes", p.Name, v, MaxText)
				}
				if v != strings.TrimSpace(v) {
					t.Fatalf("%s bound to %q: not trimmed", p.Name, v)
				}
			default:
				t.Fatalf("%s (%s) bound to a string", p.Name, p.Type)
			}
		default:
			t.Fatalf("%s bound to %T", p.Name, na.Value)
		}
	}
}

// FuzzBind: Bind refuses with a *ParamError naming a given or declared
// parameter, or binds one in-range, well-typed argument per parameter whose
// effective values bind again to the same arguments.
func FuzzBind(f *testing.F) {
	q, err := parse(fuzzHeader)
	if err != nil {
		f.Fatal(err)
	}
	cat, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	queries := append([]Query{q}, cat.All()...)
	for _, s := range [][5]string{
		{"2024-02-29", "2024-02", "7", "x", ""},
		{"", "", "", "", ""},
		{"2023-02-29", "2024-13", "121", "", "sheriff"},
		{" 2024-01-01 ", "-9000000000", "9000000001", "1e300", ""},
		{"0000-01-01", "1.5e2", "NaN", "Inf", "as_of"},
		{"sustained-complaints", "Force", "North\n1", "bad \xff", ""},
		{"99999999999999999999", "-0", "0x10", "1_000", "unit"},
	} {
		f.Add(uint8(0), s[0], s[1], s[2], s[3], s[4])
		f.Add(uint8(3), s[0], s[1], s[2], s[3], s[4])
	}
	today := time.Date(2026, 3, 9, 15, 4, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, which uint8, v0, v1, v2, v3, extra string) {
		q := queries[int(which)%len(queries)]
		values := map[string]string{}
		// The fuzzed values go to the query's own parameters, from an
		// offset the selector picks, so that every parameter gets tried.
		for i, v := range []string{v0, v1, v2, v3} {
			if len(q.Params) > 0 {
				values[q.Params[(int(which)/len(queries)+i)%len(q.Params)].Name] = v
			}
		}
		if q.Name == "fuzz" && values["must"] == "" {
			values["must"] = "x"
		}
		if extra != "" {
			values[extra] = v0
		}
		args, eff, err := q.Bind(values, today)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("Bind(%q): %v is not a *ParamError", values, err)
			}
			if _, given := values[pe.Param]; !given && !slices.ContainsFunc(q.Params, func(p Param) bool { return p.Name == pe.Param }) {
				t.Fatalf("Bind(%q): error names %q, neither given nor declared", values, pe.Param)
			}
			checkClear(t, "Bind", err.Error())
			return
		}
		checkArgs(t, q, args, eff)
		// The effective values are what a manifest records: binding them
		// again must give the same arguments.
		again, eff2, err := q.Bind(eff, today)
		if err != nil || !reflect.DeepEqual(again, args) || !reflect.DeepEqual(eff2, eff) {
			t.Fatalf("Bind(%q) = %v; rebinding its effective values %q gives %v, %v", values, args, eff, again, err)
		}
	})
}

// FuzzParseHeader: parse refuses with a clear error, or returns a query whose
// names, roles, columns and bounds are valid and whose defaults bind.
func FuzzParseHeader(f *testing.F) {
	f.Add(fuzzHeader)
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := fs.ReadFile(files, path); err == nil {
				f.Add(string(b))
			}
		}
		return nil
	})
	for _, s := range []string{
		"-- name: q\n-- title: T\n-- description: D\n-- columns: a, n\n-- roles: admin\n-- param: k int(5..1) = 3 : k\nSELECT 1",
		"-- name: q\n-- title: T\n-- description: D\n-- columns: a\n-- roles: admin\n-- param: e enum(|) = '' : e\n-- param: x number(-0..0) = -0 : x\nSELECT 1",
		"-- name: q\n-- title: T\n-- description: D\n-- columns: a\n-- roles: admin\n-- param: x text = 'a = b' : has = and : in it\nSELECT 1",
		"-- name: q\n-- title: T\n-- description: D\n-- columns: a\n-- roles: admin\n-- param: d date = today : d\n-- param: d month = '' : twice\nSELECT 1",
		"-- name: q\n-- title: T\n-- description: D\n-- columns: A\n-- roles: admin,\tsheriff\nSELECT 1",
	} {
		f.Add(s)
	}
	today := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, text string) {
		q, err := parse(text)
		if err != nil {
			checkClear(t, "parse", err.Error())
			return
		}
		if q.Name == "" || q.Title == "" || q.Description == "" || len(q.Columns) == 0 || len(q.Roles) == 0 {
			t.Fatalf("parse accepted a header without name, title, description, columns or roles: %+v", q)
		}
		for _, r := range q.Roles {
			if !validRole(r) {
				t.Fatalf("parse accepted role %q", r)
			}
		}
		for _, c := range append(slices.Clone(q.Columns), q.Suppress...) {
			if !identifier.MatchString(c) || !slices.Contains(q.Columns, c) {
				t.Fatalf("parse accepted column %q", c)
			}
		}
		seen := map[string]bool{}
		var required string
		for _, p := range q.Params {
			if seen[p.Name] || !identifier.MatchString(p.Name) || p.Name == ReservedParam {
				t.Fatalf("parse accepted parameter name %q (twice, not an identifier, or reserved)", p.Name)
			}
			seen[p.Name] = true
			switch p.Type {
			case "int", "number":
				if p.Min == nil || p.Max == nil || !(*p.Min <= *p.Max) || math.IsInf(*p.Min, 0) || math.IsInf(*p.Max, 0) {
					t.Fatalf("%s: bounds %v..%v", p.Name, p.Min, p.Max)
				}
				if p.Type == "int" && (*p.Min != math.Trunc(*p.Min) || *p.Max != math.Trunc(*p.Max)) {
					t.Fatalf("%s: int bounds %v..%v not whole", p.Name, *p.Min, *p.Max)
				}
			case "enum":
				if len(p.Values) == 0 {
					t.Fatalf("%s: enum without values", p.Name)
				}
			case "date", "month", "text":
			default:
				t.Fatalf("%s: type %q accepted", p.Name, p.Type)
			}
			if p.Required && required == "" {
				required = p.Name
			}
		}
		// Defaults were checked when parsing, so binding nothing succeeds
		// unless a parameter is required, and then names the first one.
		args, eff, err := q.Bind(nil, today)
		if required != "" {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param != required {
				t.Fatalf("Bind(nil) = %v, want a *ParamError for the required %s", err, required)
			}
			return
		}
		if err != nil {
			t.Fatalf("parse accepted a default that Bind refuses: %v", err)
		}
		checkArgs(t, q, args, eff)
	})
}
