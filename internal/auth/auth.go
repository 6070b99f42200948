// Package auth keeps deesc's roles and API tokens. Tokens live in
// main.auth_tokens of the data's DuckDB database, stored only as the SHA-256
// of the secret, so reading the database does not reveal a usable token.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Role is what a token's holder may do; the server decides which routes each
// role reaches.
type Role string

// The roles, from the narrowest view to the widest.
const (
	Leadership Role = "leadership"
	Evaluator  Role = "evaluator"
	Auditor    Role = "auditor"
	Admin      Role = "admin"
)

// Roles lists every role in order.
var Roles = []Role{Leadership, Evaluator, Auditor, Admin}

// ParseRole returns the role named s (case and surrounding space ignored). It
// fails with an error naming s and the valid roles when s is not one.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.valid() {
		return "", unknownRole(s)
	}
	return r, nil
}

func (r Role) valid() bool { return slices.Contains(Roles, r) }

func unknownRole(s string) error {
	valid := make([]string, len(Roles))
	for i, r := range Roles {
		valid[i] = string(r)
	}
	return fmt.Errorf("unknown role %q: valid roles are %s", s, strings.Join(valid, ", "))
}

// Allowed reports whether r is one of roles. No role implies another: a route
// open to admins lists Admin.
func (r Role) Allowed(roles ...Role) bool { return slices.Contains(roles, r) }

// ErrNoToken is returned for a token name or secret that is unknown or revoked.
var ErrNoToken = errors.New("no such token")

// InputError is a request the caller must change: a malformed name, or a
// name already in use.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Token describes a stored token; the secret itself is never kept.
type Token struct {
	Name    string
	Role    Role
	Created time.Time
	Revoked *time.Time // nil while the token is active
}

// Identity is who presented a valid token.
type Identity struct {
	Name string
	Role Role
}

// secretPrefix marks deesc secrets so they are recognisable in logs and by
// secret scanners; 32 random bytes follow as 43 characters of base64url.
const secretPrefix = "deesc_"

var validName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// EnsureSchema creates main.auth_tokens if it does not exist. It fails only
// when the statement fails.
func EnsureSchema(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS main.auth_tokens (
		name         VARCHAR PRIMARY KEY,
		role         VARCHAR NOT NULL,
		token_sha256 VARCHAR NOT NULL UNIQUE,
		created_at   TIMESTAMP NOT NULL,
		revoked_at   TIMESTAMP
	)`)
	if err != nil {
		return fmt.Errorf("auth.EnsureSchema: %w", err)
	}
	return nil
}

// Add creates a token called name with role and returns its secret, which is
// shown once and never stored. A revoked token's name may be reused. It fails
// when name is not 1–64 characters of [A-Za-z0-9._@-], when role is unknown,
// or when an active token already has the name.
func Add(ctx context.Context, db *sql.DB, name string, role Role) (secret string, err error) {
	if !validName.MatchString(name) {
		return "", &InputError{fmt.Sprintf("invalid token name %q: use 1 to 64 characters from A-Z a-z 0-9 . _ @ -", name)}
	}
	if !role.valid() {
		return "", fmt.Errorf("auth.Add: token %q: %w", name, unknownRole(string(role)))
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("auth.Add: %w", err)
	}
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(raw)

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("auth.Add %q: %w", name, err)
	}
	defer tx.Rollback()
	var revoked sql.NullTime
	err = tx.QueryRowContext(ctx, `SELECT revoked_at FROM main.auth_tokens WHERE name = $name`,
		sql.Named("name", name)).Scan(&revoked)
	switch {
	case err == nil && !revoked.Valid:
		return "", &InputError{fmt.Sprintf("an active token named %q already exists; revoke it first", name)}
	case err == nil:
		// A revoked token's row gives way to the new one; the audit log keeps its history.
		if _, err := tx.ExecContext(ctx, `DELETE FROM main.auth_tokens WHERE name = $name`, sql.Named("name", name)); err != nil {
			return "", fmt.Errorf("auth.Add %q: %w", name, err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("auth.Add %q: %w", name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO main.auth_tokens (name, role, token_sha256, created_at)
		VALUES ($name, $role, $hash, make_timestamp(CAST($us AS BIGINT)))`,
		sql.Named("name", name), sql.Named("role", string(role)), sql.Named("hash", hashSecret(secret)),
		sql.Named("us", time.Now().UnixMicro()))
	if err != nil {
		return "", fmt.Errorf("auth.Add %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("auth.Add %q: %w", name, err)
	}
	return secret, nil
}

// List returns every token, active and revoked, ordered by name. It fails when
// the table cannot be read.
func List(ctx context.Context, db *sql.DB) ([]Token, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, role, epoch_us(created_at), epoch_us(revoked_at)
		FROM main.auth_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("auth.List: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&t.Name, &t.Role, &created, &revoked); err != nil {
			return nil, fmt.Errorf("auth.List: %w", err)
		}
		t.Created = time.UnixMicro(created).UTC()
		if revoked.Valid {
			r := time.UnixMicro(revoked.Int64).UTC()
			t.Revoked = &r
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auth.List: %w", err)
	}
	return out, nil
}

// Revoke marks the token called name as revoked, after which Lookup refuses
// it; revoking a revoked token changes nothing. It returns ErrNoToken when no
// token has that name.
func Revoke(ctx context.Context, db *sql.DB, name string) error {
	res, err := db.ExecContext(ctx, `UPDATE main.auth_tokens SET revoked_at = make_timestamp(CAST($us AS BIGINT))
		WHERE name = $name AND revoked_at IS NULL`,
		sql.Named("us", time.Now().UnixMicro()), sql.Named("name", name))
	if err != nil {
		return fmt.Errorf("auth.Revoke %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	var exists bool
	err = db.QueryRowContext(ctx, `SELECT count(*) > 0 FROM main.auth_tokens WHERE name = $name`,
		sql.Named("name", name)).Scan(&exists)
	if err != nil {
		return fmt.Errorf("auth.Revoke %q: %w", name, err)
	}
	if !exists {
		return fmt.Errorf("auth.Revoke %q: %w", name, ErrNoToken)
	}
	return nil
}

// Lookup returns the identity holding secret. It returns ErrNoToken for a
// secret that is malformed, unknown or revoked, and fails when the table
// cannot be read.
func Lookup(ctx context.Context, db *sql.DB, secret string) (Identity, error) {
	if !wellFormed(secret) {
		return Identity{}, ErrNoToken
	}
	var id Identity
	err := db.QueryRowContext(ctx, `SELECT name, role FROM main.auth_tokens
		WHERE token_sha256 = $hash AND revoked_at IS NULL`, sql.Named("hash", hashSecret(secret))).Scan(&id.Name, &id.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, ErrNoToken
	}
	if err != nil {
		return Identity{}, fmt.Errorf("auth.Lookup: %w", err)
	}
	return id, nil
}

// wellFormed reports whether s has the shape of a deesc secret, so that junk
// is refused without a query.
func wellFormed(s string) bool {
	return len(s) == len(secretPrefix)+43 && strings.HasPrefix(s, secretPrefix)
}

// hashSecret returns the hex SHA-256 under which a secret is stored.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
