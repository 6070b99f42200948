package server

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"deesc/internal/contract"
	"deesc/internal/store"
)

// dateParam reads a YYYY-MM-DD parameter, def when absent.
func dateParam(c *fiber.Ctx, name string, def time.Time) (time.Time, error) {
	v := c.Query(name)
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
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	if !slices.Contains(values, v) {
		return "", badParam(name, "%q is not one of %s", v, strings.Join(values, ", "))
	}
	return v, nil
}

// intParam reads a whole number between lo and hi; def when absent.
func intParam(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
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
	f := store.Filter{From: c.Query("from"), To: c.Query("to"), Unit: c.Query("unit"), Division: c.Query("division")}
	var from, to time.Time
	if f.From != "" {
		if from, err = contract.ParseMonth(f.From); err != nil {
			return f, names, badParam("from", "%s", err.Error())
		}
	}
	if f.To != "" {
		if to, err = contract.ParseMonth(f.To); err != nil {
			return f, names, badParam("to", "%s", err.Error())
		}
	}
	if f.From != "" && f.To != "" && from.After(to) {
		return f, names, badParam("from", "%s is after to (%s)", f.From, f.To)
	}
	if f.Unit != "" && !slices.Contains(names.Units, f.Unit) {
		return f, names, badParam("unit", "no unit named %q in the current dataset", f.Unit)
	}
	if f.Division != "" && !slices.Contains(names.Divisions, f.Division) {
		return f, names, badParam("division", "no division named %q in the current dataset", f.Division)
	}
	return f, names, nil
}

// courseParam reads an optional course id that must exist.
func courseParam(c *fiber.Ctx, names store.Names) (string, error) {
	v := c.Query("course")
	if v != "" && !slices.Contains(names.Courses, v) {
		return "", badParam("course", "no course %q in the current dataset", v)
	}
	return v, nil
}
