// Package queries holds deesc's named SQL queries, one per .sql file. Each
// file starts with a header of "-- key: value" lines:
//
//	-- name: compliance_by_unit            (must equal the file name)
//	-- title: Compliance by unit
//	-- description: what it answers
//	-- param: as_of date = today : the day compliance is judged on
//	-- columns: course_id, division, unit, officers, current, ...
//	-- roles: leadership, evaluator, auditor, admin
//
// Parameters are bound by name ($as_of), never spliced into the text.
package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Param is a declared parameter of a query.
type Param struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // date, month, int, number, text, or enum
	Values      []string `json:"values,omitempty"`
	Default     string   `json:"default,omitempty"`
	Description string   `json:"description"`
}

// Query is one named query.
type Query struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Params      []Param  `json:"params"`
	Columns     []string `json:"columns"`
	Roles       []string `json:"roles"`
	SQL         string   `json:"-"`
}

// Catalogue is the set of named queries.
type Catalogue struct{ byName map[string]Query }

// Load parses every embedded .sql file. It fails on a header that is
// missing a name, title or description, or whose name differs from its file.
func Load() (*Catalogue, error) {
	c := &Catalogue{byName: map[string]Query{}}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		b, err := files.ReadFile(path)
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
	return c, err
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

func parse(text string) (Query, error) {
	q := Query{SQL: text}
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
		case "roles":
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
// month, int, number, text or enum(a|b|c).
func parseParam(s string) (Param, error) {
	spec, desc, _ := strings.Cut(s, " : ")
	spec, def, hasDef := strings.Cut(spec, "=")
	fields := strings.Fields(spec)
	if len(fields) != 2 {
		return Param{}, fmt.Errorf("param %q: want NAME TYPE [= DEFAULT] : DESCRIPTION", s)
	}
	p := Param{Name: fields[0], Type: fields[1], Description: strings.TrimSpace(desc)}
	if hasDef {
		p.Default = strings.Trim(strings.TrimSpace(def), "'")
	}
	if strings.HasPrefix(p.Type, "enum(") && strings.HasSuffix(p.Type, ")") {
		p.Values = strings.Split(strings.TrimSuffix(strings.TrimPrefix(p.Type, "enum("), ")"), "|")
		p.Type = "enum"
	}
	switch p.Type {
	case "date", "month", "int", "number", "text", "enum":
	default:
		return Param{}, fmt.Errorf("param %s: unknown type %q", p.Name, p.Type)
	}
	return p, nil
}
