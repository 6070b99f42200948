package server

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"

	"deesc/internal/auth"
)

// TestOpenAPIMatchesRoutes: the document lists exactly the routes Fiber
// serves under /api and /charts, with their methods; each documented query
// parameter is really read (a malformed value answers 400 naming it); and
// each JSON answer has exactly the properties its schema documents.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	app, _, secrets := authServer(t)
	admin := secrets[auth.Admin]
	status, body := call(t, app, "GET", "/api/openapi.json", "")
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if status != 200 || json.Unmarshal(body, &doc) != nil || doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi.json: %d %.200s", status, body)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/") || r.Method == "HEAD" {
			continue
		}
		served[r.Method+" "+openAPIPath(r.Path)] = true
	}
	srv := &Server{}
	for name := range srv.chartSpecs() {
		served["GET /charts/"+name+".svg"], served["GET /charts/"+name+".png"] = true, true
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("served but not documented: %s", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("documented but not served: %s", k)
		}
	}

	type param struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Schema struct {
			Type   string   `json:"type"`
			Format string   `json:"format"`
			Enum   []string `json:"enum"`
			Max    *float64 `json:"maximum"`
		} `json:"schema"`
	}
	type op struct {
		Parameters []param `json:"parameters"`
		Responses  map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	base := map[string]string{"/api/cohorts": "course=ICAT", "/api/staggered": "course=ICAT", "/api/prepost": "course=ICAT",
		"/charts/cohorts.svg": "course=ICAT", "/charts/event-study.svg": "course=ICAT"}
	checked := 0
	for path, ops := range doc.Paths {
		raw, ok := ops["get"]
		if !ok || strings.Contains(path, "{") || strings.HasSuffix(path, ".png") {
			continue
		}
		var o op
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		for _, p := range o.Parameters {
			bad := map[string]string{"date": "2024-02-30", "integer": "99999999999", "number": "lots"}[p.Schema.Type]
			switch {
			case p.Schema.Format == "date":
				bad = "2024-02-30"
			case len(p.Schema.Enum) > 0:
				bad = "no-such-value"
			case strings.Contains(p.Name, "from") || p.Name == "to":
				bad = "2024-13"
			case p.Schema.Type == "string":
				bad = "no such thing"
			}
			if p.Name == "min_hours" {
				continue // read only with category; its check is in the analysis tests
			}
			q := url.Values{}
			if b, ok := base[path]; ok {
				q, _ = url.ParseQuery(b)
			}
			if p.Name == "course" && q.Get("course") != "" {
				q.Del("course")
			}
			q.Set(p.Name, bad)
			status, body := call(t, app, "GET", path+"?"+q.Encode(), admin)
			var e errorBody
			if status != 400 || json.Unmarshal(body, &e) != nil || e.Param != p.Name {
				t.Errorf("GET %s?%s: %d %.200s — want 400 naming %s", path, q.Encode(), status, body, p.Name)
			}
			checked++
		}
		// The answer has exactly the documented top-level properties.
		resp := o.Responses["200"].Content["application/json"]
		if resp.Schema == nil {
			continue
		}
		props := schemaProps(t, resp.Schema, doc.Components.Schemas)
		if props == nil {
			continue
		}
		p := path
		if b, ok := base[path]; ok {
			p += "?" + b
		}
		status, body := call(t, app, "GET", p, admin)
		var got map[string]json.RawMessage
		if status != 200 || json.Unmarshal(body, &got) != nil {
			continue // arrays and refusals are checked elsewhere
		}
		var keys []string
		for k := range got {
			keys = append(keys, k)
			if !props[k] {
				t.Errorf("GET %s: property %q is not in its schema", path, k)
			}
		}
		sort.Strings(keys)
	}
	if checked < 30 {
		t.Errorf("only %d documented parameters checked", checked)
	}
}

// schemaProps returns the property names of an object schema, following a $ref.
func schemaProps(t *testing.T, raw json.RawMessage, schemas map[string]json.RawMessage) map[string]bool {
	t.Helper()
	var s struct {
		Ref        string                     `json:"$ref"`
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Ref != "" {
		return schemaProps(t, schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], schemas)
	}
	if s.Type != "object" {
		return nil
	}
	out := map[string]bool{}
	for k := range s.Properties {
		out[k] = true
	}
	return out
}
