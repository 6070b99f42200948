// Package queries holds deesc's named SQL queries, one per .sql file. Each
// file starts with a header of "-- key: value" lines:
//
//	-- name: compliance_trend              (must equal the file name)
//	-- title: Monthly compliance rate
//	-- description: what it answers (may repeat; the lines are joined)
//	-- param: as_of date = today : the day compliance is judged on
//	-- param: months int(1..120) = 24 : how many months back
//	-- columns: on_date, course_id, officers, current
//	-- suppress: officers, current         (optional: small counts hidden from leadership)
//	-- roles: leadership, evaluator, auditor, admin
//
// A parameter is "NAME TYPE [= DEFAULT] : DESCRIPTION"; TYPE is date
// (YYYY-MM-DD; the default may be "today"), month (YYYY-MM), int(MIN..MAX),
// number(MIN..MAX), text, or enum(a|b|c). A parameter without "= DEFAULT"
// is required; an empty default (two single quotes) is blank, which the SQL
// reads as "not set".
// Parameters are bound by name ($as_of) through Query.Bind, never spliced
// into the text.
package queries

import (
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

//go:embed *.sql
var files embed.FS

// MaxText is the longest text parameter value, in bytes.
const MaxText = 200

// ReservedParam is the parameter name the store binds the small-cell
// threshold to when it suppresses counts; no query may declare it.
const ReservedParam = "min_cell"

// Param is a declared parameter of a query.
type Param struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // date, month, int, number, text, or enum
	Values      []string `json:"values,omitempty"`
	Min         *float64 `json:"min,omitempty"` // bounds of an int or number, inclusive
	Max         *float64 `json:"max,omitempty"`
	Default     string   `json:"default,omitempty"`
	Required    bool     `json:"required,omitempty"` // declared without a default
	Description string   `json:"description"`
}

// Query is one named query.
type Query struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Params      []Param  `json:"params"`
	Columns     []string `json:"columns"`
	Suppress    []string `json:"suppress,omitempty"` // count columns hidden when 1..min_cell-1
	// SuppressWith lists, per suppressed count, the columns hidden with it
	// (a rate that would give the count back).
	SuppressWith map[string][]string `json:"suppress_with,omitempty"`
	// ExportOrder sorts an export of a query that has no ORDER BY of its own
	// (an analysis input, left unsorted for speed), so that the same
	// parameters on the same dataset always give the same file and sha256.
	ExportOrder []string `json:"export_order,omitempty"`
	Roles       []string `json:"roles"`
	SQL         string   `json:"-"`
}

// ParamError says which parameter of a query is wrong and what it expects.
type ParamError struct {
	Param string
	Msg   string
}

// Error names the parameter (quoted when it is not a plain identifier, so a
// name sent by a client never reaches a log raw) and what is wrong.
func (e *ParamError) Error() string {
	name := e.Param
	if !identifier.MatchString(name) {
		name = quote(name)
	}
	return fmt.Sprintf("parameter %s: %s", name, e.Msg)
}

// Catalogue is the set of named queries.
type Catalogue struct{ byName map[string]Query }

// Load parses every embedded .sql file. It fails, naming the file (and the
// parameter), on a header missing a name, title, description, columns or
// roles, a name that differs from its file, an unknown role or type, an int
// or number parameter without bounds, a default its own type refuses, or a
// suppress column the query does not return.
func Load() (*Catalogue, error) { return loadFS(files) }

func loadFS(fsys fs.FS) (*Catalogue, error) {
	c := &Catalogue{byName: map[string]Query{}}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		q, err := parse(string(b))
		if err != nil {
			return fmt.Errorf("queries/%s: %w", path, err)
		}
		if q.Name != strings.TrimSuffix(path, ".sql") {
			return fmt.Errorf("queries/%s: name %q differs from the file name", path, q.Name)
		}
		c.byName[q.Name] = q
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// MustLoad is Load for program start-up, where a broken embedded query is a
// build defect.
func MustLoad() *Catalogue {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Get returns the named query and whether it exists.
func (c *Catalogue) Get(name string) (Query, bool) {
	q, ok := c.byName[name]
	return q, ok
}

// SQL returns the text of a query that the program itself names; an
// unknown name is a programming error.
func (c *Catalogue) SQL(name string) string {
	q, ok := c.byName[name]
	if !ok {
		panic("queries: no query named " + name)
	}
	return q.SQL
}

// All returns every query, sorted by name.
func (c *Catalogue) All() []Query {
	out := make([]Query, 0, len(c.byName))
	for _, q := range c.byName {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ForRole returns the queries a role may run, sorted by name.
func (c *Catalogue) ForRole(role string) []Query {
	var out []Query
	for _, q := range c.All() {
		if q.Allows(role) {
			out = append(out, q)
		}
	}
	return out
}

// Allows reports whether role may run the query.
func (q Query) Allows(role string) bool { return slices.Contains(q.Roles, role) }

// validRole reports whether r is one of deesc's roles.
func validRole(r string) bool {
	switch r {
	case "leadership", "evaluator", "auditor", "admin":
		return true
	}
	return false
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func parse(text string) (Query, error) {
	q := Query{SQL: strings.TrimSpace(text)}
	hasRoles := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			if line == "" {
				continue
			}
			break
		}
		key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "--")), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "name":
			q.Name = val
		case "title":
			q.Title = val
		case "description":
			q.Description = strings.TrimSpace(q.Description + " " + val)
		case "columns":
			q.Columns = splitList(val)
		case "suppress":
			// "n_force(force_rate)": force_rate is hidden with n_force, so
			// a small count cannot be worked back from its rate.
			for _, item := range splitList(val) {
				name, deps, _ := strings.Cut(item, "(")
				name = strings.TrimSpace(name)
				q.Suppress = append(q.Suppress, name)
				for _, d := range strings.Split(strings.TrimSuffix(deps, ")"), "|") {
					if d = strings.TrimSpace(d); d != "" {
						if q.SuppressWith == nil {
							q.SuppressWith = map[string][]string{}
						}
						q.SuppressWith[name] = append(q.SuppressWith[name], d)
					}
				}
			}
		case "export_order":
			q.ExportOrder = splitList(val)
		case "roles":
			hasRoles = true
			q.Roles = splitList(val)
		case "param":
			p, err := parseParam(val)
			if err != nil {
				return q, err
			}
			q.Params = append(q.Params, p)
		}
	}
	if q.Name == "" || q.Title == "" || q.Description == "" {
		return q, fmt.Errorf("header needs name, title and description")
	}
	if len(q.Columns) == 0 {
		return q, fmt.Errorf("header needs columns")
	}
	if !hasRoles || len(q.Roles) == 0 {
		return q, fmt.Errorf("header needs roles (leadership, evaluator, auditor, admin)")
	}
	for _, r := range q.Roles {
		if !validRole(r) {
			return q, fmt.Errorf("roles: unknown role %q (want leadership, evaluator, auditor or admin)", r)
		}
	}
	for _, c := range q.Columns {
		if !identifier.MatchString(c) {
			return q, fmt.Errorf("columns: %q is not a lower-case identifier", c)
		}
	}
	for _, c := range q.Suppress {
		if !slices.Contains(q.Columns, c) {
			return q, fmt.Errorf("suppress: %q is not among the columns", c)
		}
		for _, d := range q.SuppressWith[c] {
			if !slices.Contains(q.Columns, d) {
				return q, fmt.Errorf("suppress: %q (hidden with %s) is not among the columns", d, c)
			}
		}
	}
	for _, c := range q.ExportOrder {
		if !slices.Contains(q.Columns, c) {
			return q, fmt.Errorf("export_order: %q is not among the columns", c)
		}
	}
	seen := map[string]bool{}
	for _, p := range q.Params {
		if seen[p.Name] {
			return q, fmt.Errorf("param %s: declared twice", p.Name)
		}
		seen[p.Name] = true
	}
	return q, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseParam reads "NAME TYPE [= DEFAULT] : DESCRIPTION", TYPE being date,
// month, int(MIN..MAX), number(MIN..MAX), text or enum(a|b|c).
func parseParam(s string) (Param, error) {
	spec, desc, _ := strings.Cut(s, " : ")
	spec, def, hasDef := strings.Cut(spec, "=")
	fields := strings.Fields(spec)
	if len(fields) != 2 {
		return Param{}, fmt.Errorf("param %q: want NAME TYPE [= DEFAULT] : DESCRIPTION", s)
	}
	p := Param{Name: fields[0], Type: fields[1], Description: strings.TrimSpace(desc), Required: !hasDef}
	if !identifier.MatchString(p.Name) {
		return Param{}, fmt.Errorf("param %q: the name must be a lower-case identifier", p.Name)
	}
	if p.Name == ReservedParam {
		return Param{}, fmt.Errorf("param %s: the name is reserved for suppression", p.Name)
	}
	if hasDef {
		def = strings.TrimSpace(def)
		if strings.HasPrefix(def, "'") || strings.HasSuffix(def, "'") {
			if len(def) < 2 || !strings.HasPrefix(def, "'") || !strings.HasSuffix(def, "'") || strings.Contains(def[1:len(def)-1], "'") {
				return Param{}, fmt.Errorf("param %s: default %s: quote it as 'VALUE' or not at all", p.Name, quote(def))
			}
			def = def[1 : len(def)-1]
		}
		if def != strings.TrimSpace(def) {
			return Param{}, fmt.Errorf("param %s: default %q: values are trimmed, so a default may not start or end with a space", p.Name, def)
		}
		p.Default = def
	}
	base, args, hasArgs := strings.Cut(p.Type, "(")
	if hasArgs {
		if !strings.HasSuffix(args, ")") {
			return Param{}, fmt.Errorf("param %s: type %q lacks its closing parenthesis", p.Name, p.Type)
		}
		args = strings.TrimSuffix(args, ")")
		p.Type = base
	}
	switch p.Type {
	case "enum":
		if !hasArgs || args == "" {
			return Param{}, fmt.Errorf("param %s: enum needs its values, e.g. enum(a|b)", p.Name)
		}
		p.Values = strings.Split(args, "|")
		for _, v := range p.Values {
			if v == "" || strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0 {
				return Param{}, fmt.Errorf("param %s: enum value %s must be printable and without spaces", p.Name, quote(v))
			}
		}
	case "int", "number":
		if !hasArgs {
			return Param{}, fmt.Errorf("param %s: %s needs bounds, e.g. %s(1..120)", p.Name, p.Type, p.Type)
		}
		lo, hi, ok := strings.Cut(args, "..")
		min, err1 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
		max, err2 := strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if !ok || err1 != nil || err2 != nil || math.IsNaN(min) || math.IsNaN(max) || math.IsInf(min, 0) || math.IsInf(max, 0) || min > max {
			return Param{}, fmt.Errorf("param %s: bounds %q: want MIN..MAX with MIN ≤ MAX", p.Name, args)
		}
		if p.Type == "int" && (min != math.Trunc(min) || max != math.Trunc(max)) {
			return Param{}, fmt.Errorf("param %s: bounds of an int must be whole numbers", p.Name)
		}
		p.Min, p.Max = &min, &max
	case "date", "month", "text":
		if hasArgs {
			return Param{}, fmt.Errorf("param %s: type %s takes no arguments", p.Name, p.Type)
		}
	default:
		return Param{}, fmt.Errorf("param %s: unknown type %q", p.Name, p.Type)
	}
	if p.Default != "" && !(p.Type == "date" && p.Default == "today") {
		if _, err := p.value(p.Default); err != nil {
			return Param{}, fmt.Errorf("param %s: default %q: %s", p.Name, p.Default, err.(*ParamError).Msg)
		}
	}
	return p, nil
}

// Bind checks values (parameter name → value as text) against the query's
// declared parameters and returns the arguments to run it with, one
// sql.Named per declared parameter, and the effective value of each (as
// text, for a manifest). A blank or absent value takes the default; a date
// default "today" is today's date. It fails with a *ParamError on an
// unknown name, a missing required parameter, or a value its type refuses.
func (q Query) Bind(values map[string]string, today time.Time) ([]any, map[string]string, error) {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.ContainsFunc(q.Params, func(p Param) bool { return p.Name == name }) {
			return nil, nil, &ParamError{Param: name, Msg: fmt.Sprintf("unknown parameter; %s takes %s", q.Name, q.paramNames())}
		}
	}
	args := make([]any, 0, len(q.Params))
	eff := make(map[string]string, len(q.Params))
	for _, p := range q.Params {
		raw := strings.TrimSpace(values[p.Name])
		if raw == "" {
			if p.Required {
				return nil, nil, &ParamError{Param: p.Name, Msg: "required: " + p.expect()}
			}
			raw = p.Default
			if p.Type == "date" && raw == "today" {
				raw = today.Format(time.DateOnly)
			}
		}
		v, err := p.value(raw)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, sql.Named(p.Name, v))
		eff[p.Name] = FormatValue(v)
	}
	return args, eff, nil
}

// FormatValue returns a bound value as the text a manifest records: ""
// for NULL, numbers in their shortest form.
func FormatValue(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (q Query) paramNames() string {
	if len(q.Params) == 0 {
		return "no parameters"
	}
	var names []string
	for _, p := range q.Params {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// value checks one value and returns what is bound: a string for date,
// month, text and enum (the SQL casts; blank = not set), int64 for int,
// float64 for number, nil for a blank int or number.
func (p Param) value(s string) (any, error) {
	bad := func() error {
		return &ParamError{Param: p.Name, Msg: fmt.Sprintf("want %s, got %s", p.expect(), quote(s))}
	}
	if s == "" { // only a blank default leads here: "not set"
		switch p.Type {
		case "int", "number":
			return nil, nil
		}
		return "", nil
	}
	switch p.Type {
	case "date":
		if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != 10 {
			return nil, bad()
		}
		return s, nil
	case "month":
		if _, err := time.Parse("2006-01", s); err != nil || len(s) != 7 {
			return nil, bad()
		}
		return s, nil
	case "int":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !inIntBounds(n, *p.Min, *p.Max) {
			return nil, bad()
		}
		return n, nil
	case "number":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < *p.Min || f > *p.Max {
			return nil, bad()
		}
		return f, nil
	case "enum":
		if !slices.Contains(p.Values, s) {
			return nil, bad()
		}
		return s, nil
	default: // text
		if len(s) > MaxText || !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			return nil, bad()
		}
		return s, nil
	}
}

// inIntBounds compares n with whole-number bounds exactly: as integers
// where the bounds fit in one, so no value next to a bound is rounded in.
func inIntBounds(n int64, lo, hi float64) bool {
	const two63 = 9223372036854775808.0
	if lo >= two63 || hi < -two63 {
		return false
	}
	if lo > -two63 && n < int64(lo) {
		return false
	}
	if hi < two63 && n > int64(hi) {
		return false
	}
	return true
}

// expect says in words what the parameter accepts.
func (p Param) expect() string {
	switch p.Type {
	case "date":
		return "a date YYYY-MM-DD"
	case "month":
		return "a month YYYY-MM"
	case "int":
		return fmt.Sprintf("a whole number from %g to %g", *p.Min, *p.Max)
	case "number":
		return fmt.Sprintf("a number from %g to %g", *p.Min, *p.Max)
	case "enum":
		return "one of " + strings.Join(p.Values, ", ")
	default:
		return fmt.Sprintf("printable text of at most %d bytes", MaxText)
	}
}

// quote returns a value for an error message: quoted, and cut short so a
// long value does not flood a log line.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
