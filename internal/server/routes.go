package server

import "github.com/gofiber/fiber/v2"

// routes lists every route deesc serves.
func (s *Server) routes(app *fiber.App) {
	api := app.Group("/api")
	api.Get("/health", s.health)
	api.Use(s.cache)
	api.Get("/compliance", s.compliance)
	api.Get("/outcomes", s.outcomes)
	api.Get("/force/matrix", s.forceMatrix)
	api.Get("/disparities", s.disparities)
	api.Get("/dose", s.dose)
	api.Get("/cohorts", s.cohorts)
	api.Get("/staggered", s.staggered)
	api.Get("/prepost", s.prepost)
	api.Use(func(c *fiber.Ctx) error { return fiber.NewError(fiber.StatusNotFound, "no such endpoint: "+c.Path()) })
}
