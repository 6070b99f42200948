package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSessions: a sign-in gives a session secret that is not the token and
// identifies its holder until it is ended, expires, or its token is revoked;
// a token is not a session secret; the oldest sessions go beyond the bound.
func TestSessions(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	toks := NewTokens(db)
	secret, err := toks.Add(ctx, "ana", Evaluator)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	ss := NewSessions(toks, time.Hour, 100)
	ss.now = func() time.Time { return now }

	if _, _, _, err := ss.Start(ctx, "deesc_not-a-token"); !errors.Is(err, ErrNoToken) {
		t.Errorf("starting with an unknown token: %v, want ErrNoToken", err)
	}
	s1, id, expires, err := ss.Start(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if s1 == secret || strings.Contains(s1, secret) || !strings.HasPrefix(s1, sessionPrefix) {
		t.Errorf("session secret %q must be its own, not the token", s1)
	}
	if id.Name != "ana" || id.Role != Evaluator || !expires.Equal(now.Add(time.Hour)) {
		t.Errorf("started %+v until %s", id, expires)
	}
	if got, err := ss.Lookup(ctx, s1); err != nil || got != id {
		t.Errorf("lookup: %+v, %v", got, err)
	}
	if _, err := ss.Lookup(ctx, secret); !errors.Is(err, ErrNoSession) {
		t.Errorf("the token as a session secret: %v, want ErrNoSession", err)
	}

	// Expiry: live one second before, gone at the hour.
	now = now.Add(time.Hour - time.Second)
	if _, err := ss.Lookup(ctx, s1); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := ss.Lookup(ctx, s1); !errors.Is(err, ErrNoSession) {
		t.Errorf("at expiry: %v, want ErrNoSession", err)
	}

	// Signing out.
	s2, _, _, err := ss.Start(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	ss.End(s2)
	if _, err := ss.Lookup(ctx, s2); !errors.Is(err, ErrNoSession) {
		t.Errorf("after End: %v, want ErrNoSession", err)
	}

	// Revoking the token ends its sessions.
	s3, _, _, err := ss.Start(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := toks.Revoke(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Lookup(ctx, s3); !errors.Is(err, ErrNoSession) {
		t.Errorf("after revoking the token: %v, want ErrNoSession", err)
	}

	// Bounds: one token's sign-ins end only its own oldest sessions, so a
	// holder cannot sign others out; past the bound in all, the oldest go.
	admin, err := toks.Add(ctx, "root", Admin)
	if err != nil {
		t.Fatal(err)
	}
	adminSession, _, _, err := ss.Start(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	other, err := toks.Add(ctx, "bo", Auditor)
	if err != nil {
		t.Fatal(err)
	}
	var started []string
	for range SessionsPerToken + 5 {
		now = now.Add(time.Second)
		s, _, _, err := ss.Start(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		started = append(started, s)
	}
	if _, err := ss.Lookup(ctx, adminSession); err != nil {
		t.Errorf("another token's sign-ins ended the admin's session: %v", err)
	}
	for i, s := range started {
		_, err := ss.Lookup(ctx, s)
		if live := i >= 5; live != (err == nil) {
			t.Errorf("sign-in %d of %d by one token: live %v, error %v", i+1, len(started), live, err)
		}
	}
	small := NewSessions(toks, time.Hour, 3)
	small.now = ss.now
	var all []string
	for _, tok := range []string{admin, other, admin, other} {
		now = now.Add(time.Second)
		s, _, _, err := small.Start(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
		if n := len(small.byHash); n > 3 {
			t.Fatalf("%d sessions kept, bound 3", n)
		}
	}
	if _, err := small.Lookup(ctx, all[0]); !errors.Is(err, ErrNoSession) {
		t.Errorf("the oldest session beyond the bound in all: %v, want ErrNoSession", err)
	}
}
