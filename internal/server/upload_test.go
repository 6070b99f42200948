package server

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deesc/internal/auth"
	"deesc/internal/demo"
)

// multipartFiles builds a multipart body with each file of dir as a part
// of the field "files".
func multipartFiles(t *testing.T, files map[string][]byte) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, content := range files {
		part, err := w.CreateFormFile("files", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(content)
	}
	w.Close()
	return &body, w.FormDataContentType()
}

// TestUpload: only admin may import; a valid upload becomes the next
// dataset version and the dashboards answer from it; a bad file answers
// 422 naming the file, line and column, with the dataset unchanged.
func TestUpload(t *testing.T) {
	app, st, secrets := authServer(t)
	dir := t.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.Seed, o.End = 200, 2, 5, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	post := func(token string, files map[string][]byte) (int, []byte) {
		body, ct := multipartFiles(t, files)
		req := httptest.NewRequest("POST", "/api/import", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	if status, _ := post(secrets[auth.Auditor], files); status != 403 {
		t.Errorf("auditor import: %d, want 403", status)
	}
	status, body := post(secrets[auth.Admin], files)
	if status != 201 {
		t.Fatalf("admin import: %d %s", status, body)
	}
	var v struct {
		Version int    `json:"version"`
		Source  string `json:"source"`
	}
	json.Unmarshal(body, &v)
	if v.Version != 2 || !strings.Contains(v.Source, "user-admin") {
		t.Errorf("import answered %s", body)
	}
	if n, _ := st.CurrentVersionNumber(t.Context()); n != 2 {
		t.Errorf("current version %d after the upload", n)
	}
	status, body = post(secrets[auth.Admin], map[string][]byte{"complaints.csv": []byte("complaint_id,officer_id,received_on\nC-1,nobody,2024-02-30\n")})
	if status != 422 || !strings.Contains(string(body), "received_on") || !strings.Contains(string(body), `"line":2`) {
		t.Errorf("bad upload: %d %s", status, body)
	}
	if n, _ := st.CurrentVersionNumber(t.Context()); n != 2 {
		t.Errorf("a refused upload changed the version to %d", n)
	}
	if status, body := post(secrets[auth.Admin], map[string][]byte{"notes.txt": []byte("x")}); status != 400 || !strings.Contains(string(body), "files") {
		t.Errorf("a file that is not CSV or Parquet: %d %s", status, body)
	}
	// A path in a part's file name is reduced to its base name by the
	// multipart reader, so nothing is written outside the upload folder.
	if status, body := post(secrets[auth.Admin], map[string][]byte{"../../etc/passwd.csv": []byte("x")}); status != 422 || !strings.Contains(string(body), `"file":"passwd.csv"`) {
		t.Errorf("path in a file name: %d %s", status, body)
	}
}

// TestUploadLimit: an upload over limits.upload_bytes is refused (413, or
// the connection closed while still sending) and the dataset is unchanged,
// while a body over limits.body_bytes is refused on other routes.
func TestUploadLimit(t *testing.T) {
	_, st, secrets := authServer(t)
	app := New(st, Options{Now: func() time.Time { return testToday }, Auth: true, Tokens: auth.NewTokens(st.DB()),
		BodyBytes: 4 << 10, UploadBytes: 64 << 10})
	base := serveLoopback(t, app)
	body, ct := multipartFiles(t, map[string][]byte{"complaints.csv": bytes.Repeat([]byte("x"), 128<<10)})
	req, _ := http.NewRequest("POST", base+"/api/import", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+secrets[auth.Admin])
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("128 KiB upload over a 64 KiB limit: %d, want 413", resp.StatusCode)
		}
	} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("128 KiB upload over a 64 KiB limit: %v", err)
	}
	if n, _ := st.CurrentVersionNumber(t.Context()); n != 1 {
		t.Errorf("version %d after a refused upload", n)
	}
	req, _ = http.NewRequest("POST", base+"/api/session", bytes.NewReader(bytes.Repeat([]byte("x"), 8<<10)))
	req.Header.Set("Content-Type", "application/json")
	resp, err = (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("8 KiB sign-in body over a 4 KiB limit: %d, want 413", resp.StatusCode)
		}
	}
}
