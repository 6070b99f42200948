package server

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/store"
)

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

// rollback makes a kept dataset version current again (admin): 200 with
// the version, 404 for a version that never existed, 409 for one whose
// tables were pruned.
func (s *Server) rollback(c *fiber.Ctx) error {
	n, err := strconv.Atoi(c.Params("version"))
	if err != nil || n < 1 {
		return badParam("version", "%q is not a dataset version number", c.Params("version"))
	}
	v, err := s.store.Rollback(c.UserContext(), n)
	switch {
	case errors.Is(err, store.ErrNoVersion):
		return fiber.NewError(fiber.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrNotKept):
		return fiber.NewError(fiber.StatusConflict, err.Error())
	case err != nil:
		return err
	}
	c.Locals(localDetail, "dataset version "+strconv.Itoa(v.Number)+" restored")
	return c.JSON(v)
}
