package server

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
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
