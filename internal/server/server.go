// Package server serves deesc's JSON API and pages over HTTP with Fiber.
package server

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/valyala/fasthttp"

	"deesc/internal/audit"
	"deesc/internal/auth"
	"deesc/internal/stats"
	"deesc/internal/store"
)

// Options configures the server.
type Options struct {
	Log     *slog.Logger
	Version string           // deesc's build version, shown by /api/health
	Now     func() time.Time // the clock, for "today" defaults; nil = time.Now
	// Privacy thresholds: counts from 1 to MinCell-1 are suppressed, and
	// rates on fewer than UnstableEvents events are flagged unstable.
	MinCell        int64
	UnstableEvents int64
	DoseBins       []float64 // upper edges of the dose-response bins; nil = analysis.DefaultDoseBins
	// CacheBytes bounds the answers kept per dataset version; 0 = 64 MiB,
	// negative = no caching.
	CacheBytes int
	// Auth: requests must carry a token of Tokens. Off, everyone acts as admin.
	Auth   bool
	Tokens *auth.Tokens
	// SessionTTL is how long a browser sign-in lasts; 0 = 12 hours.
	SessionTTL time.Duration
	// Audit receives one entry per API call; nil = no audit log (tests only).
	Audit *audit.Log
	// QueryTimeout bounds each API request's work; 0 = none.
	QueryTimeout time.Duration
	// BodyBytes caps request bodies (413 beyond); 0 = 1 MiB. UploadBytes
	// caps POST /api/import's; 0 = 4 GiB.
	BodyBytes   int
	UploadBytes int
	// Import configures imports uploaded to POST /api/import (file
	// mappings, panel options); Source and Now are set per upload.
	Import store.ImportOptions
	// RequestsPerSecond and Burst rate-limit each caller (429); 0 = no limit.
	RequestsPerSecond float64
	Burst             int
}

// Server holds what handlers need.
type Server struct {
	store   *store.Store
	opt     Options
	log     *slog.Logger
	results *resultCache // nil when caching is off
	errors  fiber.ErrorHandler
	charts  map[string]chartSpec
	limiter *rateLimiter // nil = no rate limit
	// sessions are the browsers signed in at /login; nil without Tokens.
	sessions *auth.Sessions
	// cis remembers the rates' exact 95% intervals by count.
	cis *stats.PoissonCIs
}

// maxSessions bounds the browser sign-ins kept; beyond it the one expiring
// first ends.
const maxSessions = 10000

// New builds the Fiber app with every route registered.
func New(st *store.Store, opt Options) *fiber.App {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MinCell == 0 {
		opt.MinCell = 10
	}
	if opt.UnstableEvents == 0 {
		opt.UnstableEvents = 20
	}
	if opt.BodyBytes == 0 {
		opt.BodyBytes = 1 << 20
	}
	if opt.UploadBytes == 0 {
		opt.UploadBytes = 4 << 30
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	s := &Server{store: st, opt: opt, log: opt.Log, errors: errorHandler(opt.Log), cis: stats.NewPoissonCIs(0.95, 1<<16)}
	if opt.Tokens != nil {
		s.sessions = auth.NewSessions(opt.Tokens, opt.SessionTTL, maxSessions)
	}
	s.charts = s.chartSpecs()
	if opt.RequestsPerSecond > 0 {
		s.limiter = newRateLimiter(opt.RequestsPerSecond, max(opt.Burst, 1), time.Now)
	}
	switch {
	case opt.CacheBytes == 0:
		s.results = newResultCache(64 << 20)
	case opt.CacheBytes > 0:
		s.results = newResultCache(opt.CacheBytes)
	}
	app := fiber.New(fiber.Config{
		AppName:           "deesc",
		ErrorHandler:      s.errors,
		BodyLimit:         opt.BodyBytes,
		StreamRequestBody: true, // uploads are read as they arrive, not held whole in memory
		// Nothing is parsed before the handler: a multipart body is read only
		// by the upload, after its caller was identified as admin.
		DisablePreParseMultipartForm: true,
		DisableStartupMessage:        true,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 5 * time.Minute,
		IdleTimeout:                  2 * time.Minute,
	})
	// An upload may take longer than other requests to arrive. (With a
	// streamed body fasthttp's size limit only bounds what it buffers:
	// the limits themselves are smallBodies'.)
	app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if string(h.Method()) == fiber.MethodPost && string(h.RequestURI()) == "/api/import" {
			return fasthttp.RequestConfig{ReadTimeout: time.Hour}
		}
		return fasthttp.RequestConfig{}
	}
	app.Use(recover.New())
	s.routes(app)
	return app
}

// today returns the current date (UTC midnight) by the server's clock.
func (s *Server) today() time.Time {
	y, m, d := s.opt.Now().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
