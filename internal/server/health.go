package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/store"
)

// healthBody is GET /api/health: the service is up, and which dataset it serves.
type healthBody struct {
	Status  string         `json:"status"`
	Version string         `json:"deesc_version"`
	Dataset *store.Version `json:"dataset"`
}

// health answers 200 with the current dataset version (null before the
// first import) or 500 when the database cannot be read.
func (s *Server) health(c *fiber.Ctx) error {
	v, err := s.store.CurrentVersion(c.UserContext())
	body := healthBody{Status: "ok", Version: s.opt.Version}
	switch {
	case err == nil:
		body.Dataset = &v
	case errors.Is(err, store.ErrNoDataset):
		body.Status = "empty"
	default:
		return err
	}
	return c.JSON(body)
}
