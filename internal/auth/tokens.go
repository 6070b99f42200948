package auth

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
)

// Tokens wraps the token functions with an in-memory copy of the active
// tokens, so that Lookup on every request costs no SQL. Changes made through
// this Tokens are seen at once; changes made through another handle are not
// seen until this one adds or revokes a token. It is safe for concurrent use.
type Tokens struct {
	db *sql.DB

	// gen counts changes; it is bumped after each change commits, so a copy
	// loaded at generation g is current while gen is still g.
	gen atomic.Uint64

	mu     sync.RWMutex
	loaded bool
	at     uint64              // generation byHash was loaded at
	byHash map[string]Identity // active tokens by hex SHA-256 of the secret
}

// NewTokens returns a Tokens reading and writing main.auth_tokens in db; the
// table must exist (EnsureSchema).
func NewTokens(db *sql.DB) *Tokens { return &Tokens{db: db} }

// Add is Add, and makes the new token visible to Lookup.
func (t *Tokens) Add(ctx context.Context, name string, role Role) (string, error) {
	secret, err := Add(ctx, t.db, name, role)
	t.gen.Add(1)
	return secret, err
}

// List is List.
func (t *Tokens) List(ctx context.Context) ([]Token, error) { return List(ctx, t.db) }

// Revoke is Revoke; once it returns, Lookup refuses the token.
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	err := Revoke(ctx, t.db, name)
	t.gen.Add(1)
	return err
}

// Lookup returns the identity holding secret, from memory when the copy is
// current. It returns ErrNoToken for a malformed, unknown or revoked secret,
// and fails when the tokens cannot be reloaded.
func (t *Tokens) Lookup(ctx context.Context, secret string) (Identity, error) {
	if !wellFormed(secret) {
		return Identity{}, ErrNoToken
	}
	return t.lookupHash(ctx, hashSecret(secret))
}

// lookupHash is Lookup of the token whose hex SHA-256 is h.
func (t *Tokens) lookupHash(ctx context.Context, h string) (Identity, error) {
	g := t.gen.Load()
	t.mu.RLock()
	current := t.loaded && t.at == g
	id, ok := t.byHash[h]
	t.mu.RUnlock()
	if !current {
		var err error
		if id, ok, err = t.reload(ctx, h); err != nil {
			return Identity{}, err
		}
	}
	if !ok {
		return Identity{}, ErrNoToken
	}
	return id, nil
}

// reload replaces the copy with the active tokens in the database, unless a
// concurrent caller already did, and looks h up in it.
func (t *Tokens) reload(ctx context.Context, h string) (Identity, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Read the generation before the table: a change committed after this
	// point bumps gen again, and the next Lookup reloads.
	g := t.gen.Load()
	if !t.loaded || t.at != g {
		rows, err := t.db.QueryContext(ctx, `SELECT token_sha256, name, role FROM main.auth_tokens WHERE revoked_at IS NULL`)
		if err != nil {
			return Identity{}, false, fmt.Errorf("auth.Tokens.Lookup: %w", err)
		}
		defer rows.Close()
		m := make(map[string]Identity)
		for rows.Next() {
			var hash string
			var id Identity
			if err := rows.Scan(&hash, &id.Name, &id.Role); err != nil {
				return Identity{}, false, fmt.Errorf("auth.Tokens.Lookup: %w", err)
			}
			m[hash] = id
		}
		if err := rows.Err(); err != nil {
			return Identity{}, false, fmt.Errorf("auth.Tokens.Lookup: %w", err)
		}
		t.byHash, t.at, t.loaded = m, g, true
	}
	id, ok := t.byHash[h]
	return id, ok, nil
}
