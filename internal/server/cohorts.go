package server

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/analysis"
	"deesc/internal/store"
)

// cohorts answers GET /api/cohorts: crude rates of trained and untrained
// person-time and the adjusted Poisson rate ratio with unit and
// calendar-month fixed effects (analysis.Cohorts).
func (s *Server) cohorts(c *fiber.Ctx) error {
	return s.treatmentAnalysis(c, func(ctx context.Context, st *store.Store, r analysis.Request) (any, error) {
		return analysis.Cohorts(ctx, st, r)
	})
}

// staggered answers GET /api/staggered: the Callaway–Sant'Anna estimate of
// the roll-out on the balanced panel (analysis.Staggered).
func (s *Server) staggered(c *fiber.Ctx) error {
	return s.treatmentAnalysis(c, func(ctx context.Context, st *store.Store, r analysis.Request) (any, error) {
		return analysis.Staggered(ctx, st, r)
	})
}

// prepost answers GET /api/prepost: the within-officer rate ratio with
// officer and calendar-month fixed effects (analysis.Prepost).
func (s *Server) prepost(c *fiber.Ctx) error {
	return s.treatmentAnalysis(c, func(ctx context.Context, st *store.Store, r analysis.Request) (any, error) {
		return analysis.Prepost(ctx, st, r)
	})
}

// treatmentAnalysis parses the treatment request shared by the three
// analyses, runs one and maps its errors: a bad parameter → 400 naming it,
// data that cannot support the estimate → 422 with the reason.
func (s *Server) treatmentAnalysis(c *fiber.Ctx, run func(context.Context, *store.Store, analysis.Request) (any, error)) error {
	r, err := analysis.ParseRequest(c.UserContext(), s.store, queryOf(c))
	if err != nil {
		return err
	}
	res, err := run(c.UserContext(), s.store, r)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
