package server

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// rateLimiter is a token bucket per caller: rate requests per second on
// average, burst at once.
type rateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// take spends one request of key's allowance. When none is left it
// returns false and how long until one is.
func (l *rateLimiter) take(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.sweep) > time.Minute {
		// Forget callers whose buckets have refilled, so memory stays bounded.
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// limited answers 429 with Retry-After when the caller (its token's name,
// or its address when anonymous) has used up its allowance.
func (s *Server) limited(c *fiber.Ctx) error {
	if s.limiter == nil {
		return c.Next()
	}
	key := "ip:" + c.IP()
	if id, ok := identityOf(c); ok && s.opt.Auth {
		key = "token:" + id.Name
	}
	ok, wait := s.limiter.take(key)
	if !ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return fiber.NewError(fiber.StatusTooManyRequests, "too many requests: at most "+
			strconv.FormatFloat(s.opt.RequestsPerSecond, 'g', -1, 64)+" per second (limits.requests_per_second); retry after "+wait.Round(time.Millisecond).String())
	}
	return c.Next()
}
