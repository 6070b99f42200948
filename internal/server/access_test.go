package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/audit"
	"deesc/internal/auth"
	"deesc/internal/demo"
	"deesc/internal/store"
)

// authServer serves a small demo dataset with authentication on and the
// audit log written; it returns a token per role.
func authServer(t testing.TB) (*fiber.App, *store.Store, map[auth.Role]string) {
	t.Helper()
	dir := t.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.End = 300, 2, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.duckdb"), store.Options{KeepVersions: 2, MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Import(ctx, dir, store.ImportOptions{Now: testToday, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(ctx, st.DB(), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	tokens := auth.NewTokens(st.DB())
	secrets := map[auth.Role]string{}
	for _, r := range auth.Roles {
		if secrets[r], err = tokens.Add(ctx, "user-"+string(r), r); err != nil {
			t.Fatal(err)
		}
	}
	app := New(st, Options{Now: func() time.Time { return testToday }, Version: "test", Auth: true, Tokens: tokens, Audit: log, QueryTimeout: time.Minute})
	return app, st, secrets
}

// call sends a request with an optional bearer token and returns the status and body.
func call(t testing.TB, app *fiber.App, method, path, token string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// concretePath fills a route's path parameters with values that exist.
func concretePath(path string) string {
	path = strings.Replace(path, "/api/queries/:name", "/api/queries/rates_by_unit", 1)
	path = strings.Replace(path, ":name", "nobody", 1)
	switch path {
	case "/api/cohorts", "/api/staggered", "/api/prepost":
		path += "?course=ICAT"
	}
	return path
}

// TestAccessMatrix walks every route and chart with no token, a wrong
// token and each role's token: 401 without a valid token, 403 for a role
// the route does not list, and an answer (never 401/403) for the others.
func TestAccessMatrix(t *testing.T) {
	app, _, secrets := authServer(t)
	type caller struct {
		name  string
		token string
		role  auth.Role
	}
	callers := []caller{{"no token", "", ""}, {"wrong token", "deesc_wrongwrongwrongwrongwrongwrongwrongwrong", ""}}
	for _, r := range auth.Roles {
		callers = append(callers, caller{string(r), secrets[r], r})
	}
	srv := &Server{}
	routes := srv.apiRoutes()
	for _, r := range routes {
		if r.method != "GET" || strings.Contains(r.path, "/export") {
			continue // writes and exports have their own tests
		}
		for _, cl := range callers {
			status, body := call(t, app, r.method, concretePath(r.path), cl.token)
			switch {
			case r.roles == nil:
				if status == 403 || status == 401 && !(r.path == "/api/session" && cl.role == "") {
					t.Errorf("%s %s as %s: %d for a public route: %s", r.method, r.path, cl.name, status, body)
				}
			case cl.role == "":
				if status != 401 || !strings.Contains(string(body), "sign in") {
					t.Errorf("%s %s as %s: %d, want 401 saying how to sign in: %s", r.method, r.path, cl.name, status, body)
				}
			case !cl.role.Allowed(r.roles...):
				if status != 403 || !strings.Contains(string(body), string(cl.role)) {
					t.Errorf("%s %s as %s: %d, want 403 naming the role: %s", r.method, r.path, cl.name, status, body)
				}
			default:
				if status != 200 {
					t.Errorf("%s %s as %s: %d, want 200: %.300s", r.method, r.path, cl.name, status, body)
				}
			}
		}
	}
	// Charts declare the roles of their sources.
	for name, spec := range srv.chartSpecs() {
		path := "/charts/" + name + ".svg"
		if name == "cohorts" || name == "event-study" {
			path += "?course=ICAT"
		}
		for _, cl := range callers {
			status, body := call(t, app, "GET", path, cl.token)
			want := 200
			switch {
			case cl.role == "":
				want = 401
			case !cl.role.Allowed(spec.roles...):
				want = 403
			}
			if status != want {
				t.Errorf("GET %s as %s: %d, want %d: %.200s", path, cl.name, status, want, body)
			}
		}
	}
	// Pages: anonymous visitors go to the sign-in page; a role that may not
	// see a page gets a page saying so.
	for page, roles := range pageRoles {
		for _, cl := range callers {
			status, body := call(t, app, "GET", page, cl.token)
			switch {
			case cl.role == "":
				if status != 302 {
					t.Errorf("GET %s as %s: %d, want 302 to /login", page, cl.name, status)
				}
			case !cl.role.Allowed(roles...):
				if status != 403 || !strings.Contains(string(body), "Not available to your role") {
					t.Errorf("GET %s as %s: %d, want 403 page", page, cl.name, status)
				}
			default:
				if status != 200 || !strings.Contains(string(body), "<html") {
					t.Errorf("GET %s as %s: %d, want the page", page, cl.name, status)
				}
			}
		}
	}
}

// TestQueryRoles: each catalogue query is listed to, and runs for, exactly
// the roles its header names; row-level queries never reach leadership.
func TestQueryRoles(t *testing.T) {
	app, st, secrets := authServer(t)
	for _, r := range auth.Roles {
		status, body := call(t, app, "GET", "/api/queries", secrets[r])
		if status != 200 {
			t.Fatalf("list as %s: %d %s", r, status, body)
		}
		var listed []struct{ Name string }
		if err := json.Unmarshal(body, &listed); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, q := range listed {
			seen[q.Name] = true
		}
		for _, q := range st.Queries().All() {
			may := false
			for _, qr := range q.Roles {
				may = may || qr == string(r)
			}
			if seen[q.Name] != may {
				t.Errorf("as %s: %s listed = %v, its roles are %v", r, q.Name, seen[q.Name], q.Roles)
			}
			status, body := call(t, app, "GET", "/api/queries/"+q.Name+"?limit=5", secrets[r])
			if may && status != 200 || !may && status != 403 {
				t.Errorf("run %s as %s: %d (roles %v): %.200s", q.Name, r, status, q.Roles, body)
			}
		}
	}
	for _, name := range []string{"force_incidents", "complaints", "training_completions", "audit_log", "cohort_inputs"} {
		if status, _ := call(t, app, "GET", "/api/queries/"+name, secrets[auth.Leadership]); status != 403 {
			t.Errorf("leadership may run row-level query %s: %d", name, status)
		}
	}
}

// TestAuditLogRecordsEveryCall: each API call, refusals included, adds one
// entry with the caller, route, parameters and status, and the chain verifies.
func TestAuditLogRecordsEveryCall(t *testing.T) {
	app, st, secrets := authServer(t)
	ctx := context.Background()
	count := func() int64 {
		var n int64
		if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM audit_log").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	call(t, app, "GET", "/api/outcomes?group_by=year&outcome=complaints", secrets[auth.Evaluator])
	call(t, app, "GET", "/api/versions", secrets[auth.Leadership]) // 403
	call(t, app, "GET", "/api/compliance", "")                     // 401
	if got := count() - before; got != 3 {
		t.Fatalf("%d entries for 3 calls", got)
	}
	rows, err := st.DB().QueryContext(ctx, "SELECT user_name, role, route, params, status FROM audit_log ORDER BY seq DESC LIMIT 3")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var u, r, route, p string
		var status int
		if err := rows.Scan(&u, &r, &route, &p, &status); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{u, r, route, p, itoaTest(status)}, " "))
	}
	want := []string{
		"  /api/compliance  401",
		"user-leadership leadership /api/versions  403",
		"user-evaluator evaluator /api/outcomes group_by=year&outcome=complaints 200",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit entries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rep, err := audit.Verify(ctx, st.DB())
	if err != nil || !rep.OK {
		t.Errorf("chain: %+v %v", rep, err)
	}
}

func itoaTest(n int) string { b, _ := json.Marshal(n); return string(b) }

// newLimitedServer serves st with authentication on and a rate limit.
func newLimitedServer(t testing.TB, st *store.Store, rate float64, burst int) *fiber.App {
	t.Helper()
	return New(st, Options{Now: func() time.Time { return testToday }, Version: "test", Auth: true, Tokens: auth.NewTokens(st.DB()),
		RequestsPerSecond: rate, Burst: burst})
}

// TestSessionCookie: signing in at /login sets an HttpOnly, SameSite=Strict
// cookie holding a session secret, not the token; the cookie identifies
// the browser until it signs out or the token is revoked, and the token
// itself is not accepted as a cookie.
func TestSessionCookie(t *testing.T) {
	app, _, secrets := authServer(t)
	withCookie := func(method, path, cookie string) int {
		t.Helper()
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Cookie", sessionCookie+"="+cookie)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	signIn := func(token, cookie string) string {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/session", strings.NewReader(`{"token": "`+token+`"}`))
		req.Header.Set("Content-Type", "application/json")
		if cookie != "" {
			req.Header.Set("Cookie", sessionCookie+"="+cookie)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body sessionBody
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("sign-in: %d %v", resp.StatusCode, err)
		}
		if body.User != "user-leadership" || body.Expires == "" {
			t.Errorf("sign-in answered %+v", body)
		}
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie {
				if c.Value == token || strings.Contains(c.Value, token) || !c.HttpOnly || c.SameSite != 3 /* http.SameSiteStrictMode */ {
					t.Errorf("cookie %+v: must be HttpOnly, SameSite=Strict and not the token", c)
				}
				if until := time.Until(c.Expires); until < 11*time.Hour || until > 12*time.Hour+time.Minute {
					t.Errorf("cookie expires in %s, want 12h", until)
				}
				return c.Value
			}
		}
		t.Fatal("sign-in set no session cookie")
		return ""
	}
	token := secrets[auth.Leadership]
	cookie := signIn(token, "")
	if got := withCookie("GET", "/api/session", cookie); got != 200 {
		t.Errorf("GET /api/session with the cookie: %d", got)
	}
	if got := withCookie("GET", "/api/compliance?as_of=2025-05-31", cookie); got != 200 {
		t.Errorf("GET /api/compliance with the cookie: %d", got)
	}
	if got := withCookie("GET", "/api/session", token); got != 401 {
		t.Errorf("the token itself as the cookie: %d, want 401", got)
	}
	if got := withCookie("DELETE", "/api/session", cookie); got != 204 {
		t.Errorf("sign-out: %d", got)
	}
	if got := withCookie("GET", "/api/session", cookie); got != 401 {
		t.Errorf("the cookie after signing out: %d, want 401", got)
	}
	cookie = signIn(token, "")
	again := signIn(token, cookie)
	if got := withCookie("GET", "/api/session", cookie); got != 401 {
		t.Errorf("the first cookie after signing in again with it: %d, want 401", got)
	}
	cookie = again
	if got := withCookie("GET", "/api/session", cookie); got != 200 {
		t.Errorf("the new cookie: %d", got)
	}
	if status, body := call(t, app, "DELETE", "/api/tokens/user-leadership", secrets[auth.Admin]); status != 204 {
		t.Fatalf("revoking: %d %s", status, body)
	}
	if got := withCookie("GET", "/api/session", cookie); got != 401 {
		t.Errorf("the cookie after its token was revoked: %d, want 401", got)
	}
}
