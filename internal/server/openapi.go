package server

import (
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/analysis"
	"deesc/internal/auth"
	"deesc/internal/export"
	"deesc/internal/store"
	"deesc/queries"
)

// opDoc documents one operation of the route table in /api/openapi.json.
type opDoc struct {
	summary string
	params  []paramDoc
	body    any  // example of the JSON request body, nil = none
	files   bool // the request body is multipart/form-data with files
	answer  any  // a value of the answer's Go type (its schema is derived by reflection); nil = no JSON body
	status  int  // success status; 0 = 200
}

// paramDoc is one query or path parameter.
type paramDoc struct {
	name, kind, desc string // kind: date, month, int, number, text, enum, path
	values           []string
	min, max         float64
}

func pDate(name, desc string) paramDoc  { return paramDoc{name: name, kind: "date", desc: desc} }
func pMonth(name, desc string) paramDoc { return paramDoc{name: name, kind: "month", desc: desc} }
func pText(name, desc string) paramDoc  { return paramDoc{name: name, kind: "text", desc: desc} }
func pPath(name, desc string) paramDoc  { return paramDoc{name: name, kind: "path", desc: desc} }
func pInt(name string, lo, hi float64, desc string) paramDoc {
	return paramDoc{name: name, kind: "int", desc: desc, min: lo, max: hi}
}
func pEnum(name, desc string, values ...string) paramDoc {
	return paramDoc{name: name, kind: "enum", desc: desc, values: values}
}

var filterDocs = []paramDoc{
	pMonth("from", "first month counted, YYYY-MM (default: the dataset's first)"),
	pMonth("to", "last month counted, YYYY-MM (default: the dataset's last)"),
	pText("unit", "only this unit"),
	pText("division", "only this division"),
}

func withFilter(ps ...paramDoc) []paramDoc { return append(ps, filterDocs...) }

var treatmentDocs = withFilter(
	pText("course", "treatment: trained from the month of the first completion of this course"),
	pText("category", "treatment: trained once min_hours of courses in this category are completed"),
	paramDoc{name: "min_hours", kind: "number", desc: "hours of category that make an officer trained", min: 0, max: 10000},
	pEnum("outcome", "the outcome counted", analysis.Outcomes...),
)

var (
	docHealth        = opDoc{summary: "Service status and the dataset version served", answer: healthBody{}}
	docOpenAPI       = opDoc{summary: "This document"}
	docSessionGet    = opDoc{summary: "Who the caller is: user, role, and whether authentication is on", answer: sessionBody{}}
	docSessionPost   = opDoc{summary: "Sign a browser in: checks a token, starts a session (auth.session, 12 h) and sets its own secret, not the token, as an HttpOnly cookie", body: map[string]string{"token": "deesc_…"}, answer: sessionBody{}}
	docSessionDelete = opDoc{summary: "Sign out: ends the session and clears its cookie", status: 204}
	docCompliance    = opDoc{summary: "Recertification compliance on a day by course, division and unit; overdue officers; monthly trend; hours balance",
		params: withFilter(pDate("as_of", "the day compliance is judged on (default today)"), pText("course", "only this course"),
			pInt("months", 1, 120, "months of trend (default 24)"), pInt("overdue_limit", 0, 1000000, "overdue officers listed (default 500)"),
			pEnum("level", "finest level listed: unit (default; divisions with their units, hours balance per unit) or division (no unit rows, hours balance per division; with a unit filter, the unit's own balance rows)", "unit", "division")),
		answer: complianceBody{}}
	docOutcomes = opDoc{summary: "Outcome rates per officer-year with exact 95% CIs, by group",
		params: withFilter(pEnum("outcome", "the outcome counted", analysis.Outcomes...), pEnum("group_by", "grouping", "division", "unit", "year", "month")),
		answer: outcomesBody{}}
	docMatrix      = opDoc{summary: "IMIM subject behaviour × highest officer response, with incident factors", params: filterDocs, answer: matrixBody{}}
	docDisparities = opDoc{summary: "Force incidents and subject injuries by subject group, small cells suppressed",
		params: withFilter(pEnum("outcome", "the outcome", "force"), pEnum("by", "grouping", "subject_race", "subject_gender")), answer: disparitiesBody{}}
	docDose = opDoc{summary: "Outcome rate by trailing de-escalation hours (dose-response bins) with a per-8-hours rate ratio",
		params: withFilter(pEnum("outcome", "the outcome counted", analysis.Outcomes...), pInt("window", 1, 120, "trailing months of hours (default 12)")),
		answer: analysis.DoseResult{}}
	docOutline   = opDoc{summary: "The current dataset's months, divisions and units, courses and categories", answer: store.Outline{}}
	docCohorts   = opDoc{summary: "Trained vs untrained: crude rate ratio (a description) and the adjusted Poisson rate ratio", params: treatmentDocs, answer: analysis.CohortResult{}}
	docStaggered = opDoc{summary: "Staggered roll-out difference-in-differences (Callaway–Sant'Anna) and event study",
		params: append(append([]paramDoc{}, treatmentDocs...), pEnum("estimand", "aggregation", analysis.Estimands...)), answer: analysis.StaggeredResult{}}
	docPrepost       = opDoc{summary: "Within-officer before/after rate ratio (officer and month fixed effects)", params: treatmentDocs, answer: analysis.PrepostResult{}}
	docQueryList     = opDoc{summary: "The named queries the caller's role may run, with typed parameters", answer: []queries.Query{}}
	docQueryRun      = opDoc{summary: "Rows of a named query (parameters as declared by the query; see GET /api/queries)", params: []paramDoc{pPath("name", "the query"), pInt("limit", 1, queryRowsMax, "rows answered (default 1000); truncated says when there are more")}, answer: queryAnswer{}}
	docQueryExport   = opDoc{summary: "The whole result of a named query as a file, no row cap; manifest in X-Deesc-* headers", params: []paramDoc{pPath("name", "the query"), pEnum("format", "file format (default csv)", "csv", "json", "parquet")}}
	docQueryManifest = opDoc{summary: "The manifest of the export with the same parameters: rows, sha256, dataset version, suppression", params: []paramDoc{pPath("name", "the query"), pEnum("format", "file format (default csv)", "csv", "json", "parquet")}, answer: export.Manifest{}}
	docVersions      = opDoc{summary: "Dataset versions, newest first, with their files' sha256", answer: []store.Version{}}
	docImport        = opDoc{summary: "Import the files of a multipart form (field files: officers.csv, force.parquet, …) as a new dataset version; 422 lists every problem and changes nothing",
		files: true, answer: store.Version{}, status: 201}
	docRollback    = opDoc{summary: "Make a kept dataset version current again; answers the version now served", params: []paramDoc{pPath("version", "the dataset version")}, answer: store.Version{}}
	docTokenList   = opDoc{summary: "API tokens (never their secrets)", answer: []tokenBody{}}
	docTokenAdd    = opDoc{summary: "Create a token; its secret is in this answer only", body: map[string]string{"name": "analyst-1", "role": "evaluator"}, answer: tokenBody{}, status: 201}
	docTokenRevoke = opDoc{summary: "Revoke a token", params: []paramDoc{pPath("name", "the token's name")}, status: 204}
)

// openAPI answers the OpenAPI 3 description of every route, built from the
// route table so that it cannot drift from what is served.
func (s *Server) openAPI(c *fiber.Ctx) error {
	return c.JSON(s.openAPIDoc())
}

type obj = map[string]any

func (s *Server) openAPIDoc() obj {
	paths := obj{}
	schemas := obj{}
	add := func(path, method string, op obj) {
		oapi := openAPIPath(path)
		if paths[oapi] == nil {
			paths[oapi] = obj{}
		}
		paths[oapi].(obj)[strings.ToLower(method)] = op
	}
	for _, r := range s.apiRoutes() {
		add(r.path, r.method, operation(r.path, r.roles, r.doc, schemas))
	}
	names := make([]string, 0, len(s.charts))
	for n := range s.charts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		spec := s.charts[n]
		for _, f := range []string{"svg", "png"} {
			op := operation("/charts/"+n+"."+f, spec.roles, opDoc{summary: spec.doc + " (" + strings.ToUpper(f) + "; other parameters as the source's)",
				params: []paramDoc{pInt("width", 200, 2400, "width in CSS pixels (default 800)")}}, schemas)
			resp := op["responses"].(obj)["200"].(obj)
			mime := "image/svg+xml"
			if f == "png" {
				mime = "image/png"
			}
			resp["content"] = obj{mime: obj{"schema": obj{"type": "string", "format": "binary"}}}
			add("/charts/"+n+"."+f, "GET", op)
		}
	}
	schemas["Error"] = obj{"type": "object", "required": []string{"error"}, "properties": obj{
		"error": obj{"type": "string"}, "param": obj{"type": "string"}, "id": obj{"type": "string"}}}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "deesc", "version": s.opt.Version,
			"description": "Training compliance and outcome analytics. Send a token as Authorization: Bearer TOKEN (or sign in at /login for a session cookie)."},
		"paths": paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{
			"bearer":  obj{"type": "http", "scheme": "bearer"},
			"session": obj{"type": "apiKey", "in": "cookie", "name": sessionCookie}}},
	}
}

// openAPIPath turns /api/queries/:name into /api/queries/{name}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func operation(path string, roles []auth.Role, d opDoc, schemas obj) obj {
	op := obj{"summary": d.summary, "operationId": strings.Trim(strings.NewReplacer("/", "_", ":", "", ".", "_", "{", "", "}", "").Replace(path), "_")}
	responses422 := false
	var params []obj
	for _, p := range d.params {
		in, required := "query", false
		if p.kind == "path" {
			in, required = "path", true
		}
		params = append(params, obj{"name": p.name, "in": in, "required": required, "description": p.desc, "schema": paramSchema(p)})
	}
	if params != nil {
		op["parameters"] = params
	}
	if d.files {
		op["requestBody"] = obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": obj{"type": "object", "required": []string{"files"},
			"properties": obj{"files": obj{"type": "array", "items": obj{"type": "string", "format": "binary"}}}}}}}
		responses422 = true
	}
	if d.body != nil {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": schemaOf(reflect.TypeOf(d.body), schemas)}}}
	}
	status := d.status
	if status == 0 {
		status = 200
	}
	ok := obj{"description": "success"}
	if d.answer != nil {
		ok["content"] = obj{"application/json": obj{"schema": schemaOf(reflect.TypeOf(d.answer), schemas)}}
	}
	errResp := func(why string) obj {
		return obj{"description": why, "content": obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/Error"}}}}
	}
	responses := obj{strconv.Itoa(status): ok, "400": errResp("a parameter is malformed (param names it)"), "500": errResp("internal error (id to quote)")}
	if responses422 {
		responses["422"] = obj{"description": "the files break the data contract: every problem, the dataset unchanged", "content": obj{"application/json": obj{"schema": schemaOf(reflect.TypeOf(importAnswer{}), schemas)}}}
	}
	if roles != nil {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		op["security"] = []obj{{"bearer": []string{}}, {"session": []string{}}}
		op["x-roles"] = names
		op["description"] = "Roles: " + strings.Join(names, ", ") + "."
		responses["401"] = errResp("no valid token")
		responses["403"] = errResp("the caller's role may not use this")
		responses["503"] = errResp("no dataset yet, the query timed out, or the audit log cannot be written")
	}
	op["responses"] = responses
	return op
}

func paramSchema(p paramDoc) obj {
	switch p.kind {
	case "date":
		return obj{"type": "string", "format": "date"}
	case "month":
		return obj{"type": "string", "pattern": `^\d{4}-(0[1-9]|1[0-2])$`}
	case "int":
		return obj{"type": "integer", "minimum": p.min, "maximum": p.max}
	case "number":
		return obj{"type": "number", "minimum": p.min, "maximum": p.max}
	case "enum":
		return obj{"type": "string", "enum": p.values}
	}
	return obj{"type": "string"}
}

var timeType = reflect.TypeOf(time.Time{})

// schemaOf derives a JSON schema from a Go type the way encoding/json
// writes it; named struct types become components.
func schemaOf(t reflect.Type, schemas obj) obj {
	switch {
	case t == timeType:
		return obj{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		s := schemaOf(t.Elem(), schemas)
		if _, ref := s["$ref"]; ref {
			return obj{"allOf": []obj{s}, "nullable": true}
		}
		s["nullable"] = true
		return s
	}
	switch t.Kind() {
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case reflect.Interface:
		return obj{}
	case reflect.Struct:
		name := t.Name()
		if name != "" {
			ref := obj{"$ref": "#/components/schemas/" + schemaName(t)}
			if _, done := schemas[schemaName(t)]; done {
				return ref
			}
			schemas[schemaName(t)] = obj{} // placeholder against recursion
			schemas[schemaName(t)] = structSchema(t, schemas)
			return ref
		}
		return structSchema(t, schemas)
	}
	return obj{}
}

func schemaName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	n := t.Name()
	return strings.ToUpper(pkg[:1]) + pkg[1:] + strings.ToUpper(n[:1]) + n[1:]
}

func structSchema(t reflect.Type, schemas obj) obj {
	props := obj{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type, schemas)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	s := obj{"type": "object", "properties": props}
	if required != nil {
		s["required"] = required
	}
	return s
}
