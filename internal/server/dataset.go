package server

import "github.com/gofiber/fiber/v2"

// outline answers the current dataset's months, divisions and units,
// courses and categories: what the pages' forms offer.
func (s *Server) outline(c *fiber.Ctx) error {
	o, err := s.store.Outline(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// versions answers the dataset versions kept and recorded, newest first,
// with their files' hashes, so an export manifest's version can be resolved.
func (s *Server) versions(c *fiber.Ctx) error {
	vs, err := s.store.Versions(c.UserContext())
	if err != nil {
		return err
	}
	setRows(c, len(vs))
	return c.JSON(vs)
}
