package server

import "github.com/gofiber/fiber/v2"

// routes lists every route deesc serves.
func (s *Server) routes(app *fiber.App) {
	api := app.Group("/api")
	api.Get("/health", s.health)
	api.Use(func(c *fiber.Ctx) error { return fiber.NewError(fiber.StatusNotFound, "no such endpoint: "+c.Path()) })
}
