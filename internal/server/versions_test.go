package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"deesc/internal/auth"
	"deesc/internal/demo"
	"deesc/internal/store"
)

// TestRollbackOverHTTP: after a second import, an admin's rollback makes
// version 1 current; answers cached on version 2 are never served again,
// and other roles may not roll back.
func TestRollbackOverHTTP(t *testing.T) {
	app, st, secrets := authServer(t)
	admin := secrets[auth.Admin]
	officers := func() float64 {
		status, body := call(t, app, "GET", "/api/compliance", admin)
		var v struct{ Overall struct{ Officers float64 } }
		if status != 200 || json.Unmarshal(body, &v) != nil {
			t.Fatalf("compliance: %d %s", status, body)
		}
		return v.Overall.Officers
	}
	v1 := officers()
	dir := t.TempDir()
	o := demo.DefaultOptions()
	o.Officers, o.Years, o.Seed, o.End = 500, 2, 9, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), dir, store.ImportOptions{Now: testToday, Source: "second"}); err != nil {
		t.Fatal(err)
	}
	v2 := officers()
	if v1 == v2 {
		t.Fatalf("the two datasets give the same figure (%v)", v1)
	}
	if status, _ := call(t, app, "POST", "/api/versions/1/rollback", secrets[auth.Auditor]); status != 403 {
		t.Errorf("auditor rollback: %d, want 403", status)
	}
	status, body := call(t, app, "POST", "/api/versions/1/rollback", admin)
	if status != 200 {
		t.Fatalf("rollback: %d %s", status, body)
	}
	if got := officers(); got != v1 {
		t.Errorf("after rollback: %v officer-course pairs, want version 1's %v (version 2 had %v)", got, v1, v2)
	}
	if status, _ := call(t, app, "POST", "/api/versions/7/rollback", admin); status != 404 {
		t.Errorf("rollback to a version that never existed: %d, want 404", status)
	}
	if status, _ := call(t, app, "POST", "/api/versions/x/rollback", admin); status != 400 {
		t.Errorf("rollback to x: %d, want 400", status)
	}
}
