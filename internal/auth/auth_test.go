package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// openDB opens a fresh on-disk DuckDB with the token table.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "auth.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := EnsureSchema(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestParseRole(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Role
	}{{"leadership", Leadership}, {"evaluator", Evaluator}, {" Auditor ", Auditor}, {"ADMIN", Admin}} {
		got, err := ParseRole(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "root", "admins"} {
		_, err := ParseRole(in)
		if err == nil {
			t.Errorf("ParseRole(%q) succeeded", in)
			continue
		}
		want := fmt.Sprintf("unknown role %q: valid roles are leadership, evaluator, auditor, admin", in)
		if err.Error() != want {
			t.Errorf("ParseRole(%q) error = %q, want %q", in, err, want)
		}
	}
}

func TestAllowed(t *testing.T) {
	if !Auditor.Allowed(Auditor, Admin) || Evaluator.Allowed(Auditor, Admin) || Admin.Allowed() || !Admin.Allowed(Admin) {
		t.Error("Allowed is not membership")
	}
}

func TestRoundTrip(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	secrets := map[string]string{}
	for _, c := range []struct {
		name string
		role Role
	}{{"ana@north", Evaluator}, {"board.chair", Leadership}, {"ops_admin-1", Admin}} {
		s, err := Add(ctx, db, c.name, c.role)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^deesc_[A-Za-z0-9_-]{43}$`).MatchString(s) {
			t.Errorf("secret %q has the wrong shape", s)
		}
		secrets[c.name] = s
	}
	if secrets["ana@north"] == secrets["board.chair"] {
		t.Fatal("two tokens share a secret")
	}

	list, err := List(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tok := range list {
		got = append(got, tok.Name+":"+string(tok.Role))
		if tok.Revoked != nil || tok.Created.Before(before) || tok.Created.After(time.Now().Add(time.Second)) || tok.Created.Location() != time.UTC {
			t.Errorf("token %+v: want active, created just now in UTC", tok)
		}
	}
	if want := "ana@north:evaluator board.chair:leadership ops_admin-1:admin"; strings.Join(got, " ") != want {
		t.Errorf("List = %s, want %s", strings.Join(got, " "), want)
	}

	id, err := Lookup(ctx, db, secrets["board.chair"])
	if err != nil || id != (Identity{Name: "board.chair", Role: Leadership}) {
		t.Errorf("Lookup = %+v, %v", id, err)
	}

	if err := Revoke(ctx, db, "board.chair"); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(ctx, db, secrets["board.chair"]); !errors.Is(err, ErrNoToken) {
		t.Errorf("Lookup of revoked token = %v, want ErrNoToken", err)
	}
	if err := Revoke(ctx, db, "board.chair"); err != nil {
		t.Errorf("second Revoke = %v, want nil", err)
	}
	list, _ = List(ctx, db)
	if list[1].Name != "board.chair" || list[1].Revoked == nil || list[1].Revoked.Before(list[1].Created) {
		t.Errorf("revoked token listed as %+v", list[1])
	}
	if id, err := Lookup(ctx, db, secrets["ana@north"]); err != nil || id.Name != "ana@north" {
		t.Errorf("other token after revoke: %+v, %v", id, err)
	}

	// A revoked name may be reused, with a new secret; the old one stays dead.
	s2, err := Add(ctx, db, "board.chair", Auditor)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := Lookup(ctx, db, s2); err != nil || id != (Identity{"board.chair", Auditor}) {
		t.Errorf("Lookup of reissued token = %+v, %v", id, err)
	}
	if _, err := Lookup(ctx, db, secrets["board.chair"]); !errors.Is(err, ErrNoToken) {
		t.Errorf("old secret after reissue = %v, want ErrNoToken", err)
	}
}

func TestSecretNeverStored(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	secret, err := Add(ctx, db, "ana", Auditor)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(secret, "deesc_")
	var hits int
	err = db.QueryRow(`SELECT count(*) FROM main.auth_tokens t
		WHERE contains(CAST(to_json(t) AS VARCHAR), $body)`, sql.Named("body", body)).Scan(&hits)
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.QueryRow(`SELECT token_sha256 FROM main.auth_tokens`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if hits != 0 || stored != hashSecret(secret) || len(stored) != 64 {
		t.Errorf("secret found in %d rows; stored %q, want its sha256 %q", hits, stored, hashSecret(secret))
	}
}

func TestErrorsNameTheValue(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	if _, err := Add(ctx, db, "ana", "root"); err == nil || !strings.Contains(err.Error(), `"root"`) ||
		!strings.Contains(err.Error(), "leadership, evaluator, auditor, admin") {
		t.Errorf("bad role: %v", err)
	}
	for _, name := range []string{"", "has space", "semi;colon", "quote'", strings.Repeat("x", 65), "naïve"} {
		if _, err := Add(ctx, db, name, Admin); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("Add(%q) = %v, want an error naming it", name, err)
		}
	}
	if _, err := Add(ctx, db, strings.Repeat("x", 64), Admin); err != nil {
		t.Errorf("64-character name refused: %v", err)
	}
	if _, err := Add(ctx, db, "ana", Admin); err != nil {
		t.Fatal(err)
	}
	if _, err := Add(ctx, db, "ana", Evaluator); err == nil || !strings.Contains(err.Error(), `"ana"`) {
		t.Errorf("duplicate name: %v", err)
	}
	if err := Revoke(ctx, db, "nobody"); !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("Revoke(nobody) = %v, want ErrNoToken naming it", err)
	}
	for _, s := range []string{"", "deesc_", "deesc_" + strings.Repeat("A", 43), "Bearer x", "' OR 1=1 --"} {
		if _, err := Lookup(ctx, db, s); !errors.Is(err, ErrNoToken) {
			t.Errorf("Lookup(%q) = %v, want ErrNoToken", s, err)
		}
	}
}

func TestTokensCache(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	toks := NewTokens(db)
	s1, err := toks.Add(ctx, "ana", Evaluator)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := toks.Lookup(ctx, s1); err != nil || id != (Identity{"ana", Evaluator}) {
		t.Fatalf("Lookup = %+v, %v", id, err)
	}
	// Once loaded, lookups come from memory: they survive the table vanishing.
	if _, err := db.Exec(`ALTER TABLE main.auth_tokens RENAME TO auth_tokens_away`); err != nil {
		t.Fatal(err)
	}
	if id, err := toks.Lookup(ctx, s1); err != nil || id.Name != "ana" {
		t.Errorf("cached Lookup = %+v, %v", id, err)
	}
	if _, err := db.Exec(`ALTER TABLE main.auth_tokens_away RENAME TO auth_tokens`); err != nil {
		t.Fatal(err)
	}
	s2, err := toks.Add(ctx, "bo", Auditor)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := toks.Lookup(ctx, s2); err != nil || id.Name != "bo" {
		t.Errorf("Lookup after Add = %+v, %v", id, err)
	}
	if err := toks.Revoke(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := toks.Lookup(ctx, s1); !errors.Is(err, ErrNoToken) {
		t.Errorf("Lookup after Revoke = %v, want ErrNoToken", err)
	}
	if list, err := toks.List(ctx); err != nil || len(list) != 2 {
		t.Errorf("List = %+v, %v", list, err)
	}
}

func TestConcurrentLookups(t *testing.T) {
	db := openDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	toks := NewTokens(db)
	secrets := make([]string, 5)
	for i := range secrets {
		var err error
		if secrets[i], err = toks.Add(ctx, fmt.Sprintf("user%d", i), Roles[i%len(Roles)]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(secrets)
				// Half the goroutines go through the cache, half straight to SQL.
				var id Identity
				var err error
				if g%2 == 0 {
					id, err = toks.Lookup(ctx, secrets[k])
				} else {
					id, err = Lookup(ctx, db, secrets[k])
				}
				if err == nil && id != (Identity{fmt.Sprintf("user%d", k), Roles[k%len(Roles)]}) {
					err = fmt.Errorf("secret %d resolved to %+v", k, id)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Churn the cache while the lookups run.
	for i := range 5 {
		if _, err := toks.Add(ctx, fmt.Sprintf("extra%d", i), Admin); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
