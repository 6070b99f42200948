package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/analysis"
	"deesc/internal/store"
)

// dose answers GET /api/dose: rates by trailing de-escalation hours, the
// correlations across officers and the Poisson rate ratio per 8 hours.
func (s *Server) dose(c *fiber.Ctx) error {
	outcome, err := enumParam(c, "outcome", "force", outcomeNames...)
	if err != nil {
		return err
	}
	window, err := intParam(c, "window", 12, 1, 120)
	if err != nil {
		return err
	}
	f, _, err := s.filterParams(c)
	if err != nil {
		return err
	}
	res, err := analysis.Dose(c.UserContext(), s.store, store.DoseQuery{Outcome: outcome, Window: window, Edges: s.opt.DoseBins, Filter: f})
	if errors.Is(err, analysis.ErrNoData) {
		return &NotComputable{Reason: "no officer-months match the selection: widen the period or the unit"}
	}
	if err != nil {
		return err
	}
	return c.JSON(res)
}
