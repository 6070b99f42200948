package server

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"deesc/internal/auth"
)

// TestRequestHygiene: a change sent by a page on another site is refused;
// a parameter given twice answers 400 naming it; a chart served from the
// cache keeps its content type; the page guard ignores case and a
// trailing slash.
func TestRequestHygiene(t *testing.T) {
	app, _, secrets := authServer(t)
	admin := secrets[auth.Admin]
	do := func(method, path string, header map[string]string) (int, string, string) {
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if status, _, body := do("POST", "/api/versions/1/rollback", map[string]string{"Origin": "https://evil.example"}); status != 403 || !strings.Contains(body, "another origin") {
		t.Errorf("cross-origin rollback: %d %s", status, body)
	}
	if status, _, body := do("POST", "/api/versions/1/rollback", map[string]string{"Sec-Fetch-Site": "cross-site"}); status != 403 || !strings.Contains(body, "another site") {
		t.Errorf("cross-site rollback: %d %s", status, body)
	}
	if status, _, body := do("POST", "/api/versions/1/rollback", map[string]string{"Sec-Fetch-Site": "same-origin"}); status != 200 {
		t.Errorf("same-origin rollback: %d %s", status, body)
	}
	if status, _, body := do("GET", "/api/outcomes?unit=A&unit=B", nil); status != 400 || !strings.Contains(body, `"param":"unit"`) {
		t.Errorf("repeated parameter: %d %s", status, body)
	}
	for i := 0; i < 2; i++ {
		status, ctype, _ := do("GET", "/charts/dose.svg", nil)
		if status != 200 || !strings.HasPrefix(ctype, "image/svg+xml") {
			t.Errorf("chart request %d: %d %q", i+1, status, ctype)
		}
	}
	status, body := call(t, app, "GET", "/AUDIT/", secrets[auth.Leadership])
	if status != 403 || !strings.Contains(string(body), "Not available to your role") {
		t.Errorf("/AUDIT/ as leadership: %d", status)
	}
}
