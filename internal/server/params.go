package server

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/analysis"
	"deesc/internal/contract"
	"deesc/internal/store"
)

// The request parameters are parsed by package analysis, shared with the
// command line; these adapt it to a Fiber request. Errors are
// *analysis.ParamError, which errorHandler answers with 400 naming the
// parameter.

// badParam returns an *analysis.ParamError.
func badParam(param, format string, args ...any) error {
	return analysis.BadParam(param, format, args...)
}

// dateParam reads a YYYY-MM-DD parameter, def when absent.
func dateParam(c *fiber.Ctx, name string, def time.Time) (time.Time, error) {
	v := strings.TrimSpace(c.Query(name))
	if v == "" {
		return def, nil
	}
	t, err := contract.ParseDate(v)
	if err != nil {
		return t, badParam(name, "%s", err.Error())
	}
	return t, nil
}

// enumParam reads a parameter that must be one of values; def when absent.
func enumParam(c *fiber.Ctx, name, def string, values ...string) (string, error) {
	return analysis.EnumParam(queryOf(c), name, def, values)
}

// intParam reads a whole number between lo and hi; def when absent.
func intParam(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(c.Query(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "%q is not a whole number from %d to %d", v, lo, hi)
	}
	return n, nil
}

// filterParams reads from, to (YYYY-MM), unit and division, checking that the
// months are well formed and in order and that the unit and division exist.
func (s *Server) filterParams(c *fiber.Ctx) (store.Filter, store.Names, error) {
	names, err := s.store.Names(c.UserContext())
	if err != nil {
		return store.Filter{}, names, err
	}
	f, err := analysis.ParseFilter(queryOf(c), names)
	return f, names, err
}

// courseParam reads an optional course id that must exist.
func courseParam(c *fiber.Ctx, names store.Names) (string, error) {
	v := strings.TrimSpace(c.Query("course"))
	if v != "" && !slices.Contains(names.Courses, v) {
		return "", badParam("course", "no course %q in the current dataset", v)
	}
	return v, nil
}

// queryOf returns a request's query parameters as the getter analysis takes.
func queryOf(c *fiber.Ctx) func(string) string {
	return func(name string) string { return c.Query(name) }
}
