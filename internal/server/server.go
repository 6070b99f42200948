// Package server serves deesc's JSON API and pages over HTTP with Fiber.
package server

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"deesc/internal/store"
)

// Options configures the server.
type Options struct {
	Log     *slog.Logger
	Version string // deesc's build version, shown by /api/health
}

// Server holds what handlers need.
type Server struct {
	store *store.Store
	opt   Options
	log   *slog.Logger
}

// New builds the Fiber app with every route registered.
func New(st *store.Store, opt Options) *fiber.App {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	s := &Server{store: st, opt: opt, log: opt.Log}
	app := fiber.New(fiber.Config{
		AppName:               "deesc",
		ErrorHandler:          errorHandler(opt.Log),
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          5 * time.Minute,
		IdleTimeout:           2 * time.Minute,
	})
	app.Use(recover.New())
	s.routes(app)
	return app
}
