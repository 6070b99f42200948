package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// ErrNoSession is returned for a session secret that is malformed, unknown,
// ended or expired, or whose token has been revoked.
var ErrNoSession = errors.New("no such session")

// sessionPrefix starts every session secret, so that one is never mistaken
// for an API token in a log or a form.
const sessionPrefix = "deesc_session_"

// SessionsPerToken bounds the live sessions of one token: signing in once
// more ends that token's oldest, so no holder can push others' sessions out.
const SessionsPerToken = 20

// Sessions are browser sign-ins: a sign-in with a token starts a session
// whose own random secret goes in the browser's cookie, so the token itself
// is never stored in the browser. A session ends when its holder signs out,
// when it expires (a fixed time after it started) or when its token is
// revoked. Sessions live in this process's memory, hashed: a restart signs
// every browser out. It is safe for concurrent use.
type Sessions struct {
	tokens *Tokens
	ttl    time.Duration
	max    int
	now    func() time.Time

	mu     sync.Mutex
	byHash map[string]session // by hex SHA-256 of the session secret
}

type session struct {
	token   string // hex SHA-256 of the token it was started with
	expires time.Time
}

// NewSessions returns sessions that last ttl and identify their holder
// through tokens; at most SessionsPerToken per token and max in all are
// kept (the oldest go first).
func NewSessions(tokens *Tokens, ttl time.Duration, max int) *Sessions {
	return &Sessions{tokens: tokens, ttl: ttl, max: max, now: time.Now, byHash: map[string]session{}}
}

// Start checks token and starts a session for its holder: it returns the
// session's secret, the identity and when the session expires. It returns
// ErrNoToken for an unknown or revoked token.
func (s *Sessions) Start(ctx context.Context, token string) (secret string, id Identity, expires time.Time, err error) {
	if id, err = s.tokens.Lookup(ctx, token); err != nil {
		return "", Identity{}, time.Time{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Identity{}, time.Time{}, err
	}
	secret = sessionPrefix + base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	expires = now.Add(s.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	th := hashSecret(token)
	s.prune(now, th)
	s.byHash[hashSecret(secret)] = session{token: th, expires: expires}
	return secret, id, expires, nil
}

// Lookup returns the identity holding the session secret. It returns
// ErrNoSession when there is no such live session, and fails when the
// tokens cannot be read.
func (s *Sessions) Lookup(ctx context.Context, secret string) (Identity, error) {
	if len(secret) != len(sessionPrefix)+43 || secret[:len(sessionPrefix)] != sessionPrefix {
		return Identity{}, ErrNoSession
	}
	h := hashSecret(secret)
	s.mu.Lock()
	ss, ok := s.byHash[h]
	if ok && !s.now().Before(ss.expires) {
		delete(s.byHash, h)
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return Identity{}, ErrNoSession
	}
	id, err := s.tokens.lookupHash(ctx, ss.token)
	if errors.Is(err, ErrNoToken) {
		s.End(secret)
		return Identity{}, ErrNoSession
	}
	return id, err
}

// End ends the session (signing out); ending one that is not live does nothing.
func (s *Sessions) End(secret string) {
	s.mu.Lock()
	delete(s.byHash, hashSecret(secret))
	s.mu.Unlock()
}

// prune makes room for one more session of token: it drops expired
// sessions, then token's own beyond SessionsPerToken − 1 and, beyond max − 1
// in all, those expiring first. The caller holds mu.
func (s *Sessions) prune(now time.Time, token string) {
	mine := 0
	for h, ss := range s.byHash {
		switch {
		case !now.Before(ss.expires):
			delete(s.byHash, h)
		case ss.token == token:
			mine++
		}
	}
	oldest := func(of func(session) bool) {
		first := ""
		for h, ss := range s.byHash {
			if of(ss) && (first == "" || ss.expires.Before(s.byHash[first].expires)) {
				first = h
			}
		}
		delete(s.byHash, first)
	}
	for ; mine >= SessionsPerToken; mine-- {
		oldest(func(ss session) bool { return ss.token == token })
	}
	for len(s.byHash) >= s.max && len(s.byHash) > 0 {
		oldest(func(session) bool { return true })
	}
}
