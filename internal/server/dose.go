package server

import (
	"github.com/gofiber/fiber/v2"

	"deesc/internal/analysis"
)

// dose answers GET /api/dose: rates by trailing de-escalation hours, the
// correlations across officers and the Poisson rate ratio per 8 hours.
func (s *Server) dose(c *fiber.Ctx) error {
	q, err := analysis.ParseDose(c.UserContext(), s.store, queryOf(c))
	if err != nil {
		return err
	}
	q.Edges = s.opt.DoseBins
	res, err := analysis.Dose(c.UserContext(), s.store, q)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
