package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// resultCache keeps successful JSON answers keyed by dataset version, route
// and parameters. A new dataset version changes every key, and the cache
// drops what it held for older versions, so no answer computed on one
// dataset is served once another is current.
type resultCache struct {
	mu      sync.Mutex
	version int
	entries map[string]cached
	bytes   int
	max     int // bytes
}

type cached struct {
	body  []byte
	etag  string
	ctype string // the answer's Content-Type (JSON, or a chart's SVG/PNG)
	rows  int64  // rows the answer holds, for the audit log of a hit
	// gz is the body gzipped, made the first time a client that accepts
	// gzip is answered from the cache; nil for answers not worth it.
	gz *gzipped
}

// gzipped is a cached answer's gzip-encoded body, made once.
type gzipped struct {
	once sync.Once
	body []byte // nil when gzip did not make it smaller
}

// minGzip is the smallest answer worth compressing: below it, the gzip
// header and the client's work outweigh the bytes saved.
const minGzip = 1024

// get returns body gzipped, compressing it on the first call; nil when
// that does not make it smaller.
func (g *gzipped) get(body []byte) []byte {
	g.once.Do(func() {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed) // a valid level: no error
		if _, err := w.Write(body); err != nil || w.Close() != nil || b.Len() >= len(body) {
			return
		}
		g.body = b.Bytes()
	})
	return g.body
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip: named
// (or "*") with a quality above 0. A request without the header gets the
// answer as it is, as clients that send none expect.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		ok := true
		for _, p := range strings.Split(params, ";") {
			if k, v, found := strings.Cut(strings.TrimSpace(p), "="); found && strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				ok = err == nil && q > 0
			}
		}
		if name == "*" {
			star = ok
			continue
		}
		return ok
	}
	return star
}

// matches reports whether an If-None-Match header names the answer in
// either form: both hold the same answer, so either tag revalidates.
func (e cached) matches(ifNoneMatch string) bool {
	return ifNoneMatch != "" && (strings.Contains(ifNoneMatch, e.etag) || strings.Contains(ifNoneMatch, gzipTag(e.etag)))
}

// gzipTag is the ETag of an answer's gzip-encoded form: another
// representation of the same answer, so another tag.
func gzipTag(etag string) string { return strings.TrimSuffix(etag, `"`) + `-gzip"` }

func newResultCache(maxBytes int) *resultCache {
	return &resultCache{entries: map[string]cached{}, max: maxBytes}
}

// cacheKey is the caller's role, the route and its parameters in a canonical order.
func cacheKey(c *fiber.Ctx) string {
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The role is part of the key: an answer may depend on it (suppression
	// for leadership, a catalogue query a role may not run), and a cached
	// answer must never reach a role that could not have computed it.
	var b strings.Builder
	if id, ok := identityOf(c); ok {
		b.WriteString(string(id.Role))
	}
	b.WriteString("\x00")
	b.WriteString(c.Path())
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			fmt.Fprintf(&b, "&%s=%s", url.QueryEscape(k), url.QueryEscape(v))
		}
	}
	return b.String()
}

func (rc *resultCache) get(version int, key string) (cached, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if version != rc.version {
		return cached{}, false
	}
	e, ok := rc.entries[key]
	return e, ok
}

func (rc *resultCache) put(version int, key string, body []byte, ctype string, rows int64) cached {
	sum := sha256.Sum256(append([]byte(fmt.Sprintf("%d\x00%s\x00", version, key)), body...))
	e := cached{body: append([]byte(nil), body...), etag: `"` + hex.EncodeToString(sum[:16]) + `"`, ctype: ctype, rows: rows}
	if len(body) >= minGzip && !strings.HasPrefix(ctype, "image/png") {
		e.gz = &gzipped{}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	// Any other version — a newer import, or an older one restored by a
	// rollback — replaces what is kept. get only answers for the version a
	// request read when it started, so a late answer computed on the
	// previous version can never be served on this one.
	if version != rc.version {
		rc.version, rc.entries, rc.bytes = version, map[string]cached{}, 0
	}
	// An answer that may be gzipped counts twice: its gzipped form, made
	// later, is never larger.
	size := len(body)
	if e.gz != nil {
		size *= 2
	}
	if size > rc.max/4 {
		return e
	}
	if rc.bytes+size > rc.max {
		rc.entries, rc.bytes = map[string]cached{}, 0
	}
	rc.entries[key] = e
	rc.bytes += size
	return e
}

// cache serves GET /api answers from the result cache — gzipped to a
// client that accepts it, once the answer is cached and worth it —
// answering 304 when the client's If-None-Match holds either form's ETag,
// and stores fresh 200 answers.
func (s *Server) cache(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodGet || s.results == nil {
		return c.Next()
	}
	gen := s.store.Generation()
	version, err := s.store.CurrentVersionNumber(c.UserContext())
	if err != nil {
		return c.Next() // no dataset: the handler answers
	}
	key := cacheKey(c)
	// Whether an answer is sent gzipped depends on the request's
	// Accept-Encoding: shared caches must key on it.
	c.Vary(fiber.HeaderAcceptEncoding)
	if e, ok := s.results.get(version, key); ok {
		body, etag := e.body, e.etag
		var gz []byte
		if e.gz != nil && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
			gz = e.gz.get(e.body)
		}
		if gz != nil {
			body, etag = gz, gzipTag(e.etag)
		}
		c.Set(fiber.HeaderETag, etag)
		c.Set("X-Deesc-Cache", "hit")
		if e.matches(c.Get(fiber.HeaderIfNoneMatch)) {
			return c.SendStatus(fiber.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, e.ctype)
		if gz != nil {
			c.Set(fiber.HeaderContentEncoding, "gzip")
		}
		c.Locals(localRows, e.rows)
		return c.Send(body)
	}
	if err := c.Next(); err != nil {
		return err
	}
	// Keep the answer only if no dataset switch began or ended while it was
	// computed: otherwise it may belong to another version than the one read.
	if c.Response().StatusCode() != fiber.StatusOK || gen%2 != 0 || s.store.Generation() != gen {
		return nil
	}
	rows, _ := c.Locals(localRows).(int64)
	e := s.results.put(version, key, c.Response().Body(), string(c.Response().Header.ContentType()), rows)
	c.Set(fiber.HeaderETag, e.etag)
	c.Set("X-Deesc-Cache", "miss")
	if e.matches(c.Get(fiber.HeaderIfNoneMatch)) {
		c.Response().ResetBody()
		return c.SendStatus(fiber.StatusNotModified)
	}
	return nil
}
