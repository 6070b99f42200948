package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"deesc/internal/contract"
	"deesc/internal/stats"
	"deesc/internal/store"
)

// Outcomes are the counts a training-effect analysis may model, as
// /api/outcomes names them.
var Outcomes = []string{"force", "complaints", "sustained-complaints", "injuries", "subject-injuries"}

// Estimands are the Callaway–Sant'Anna aggregates /api/staggered offers.
var Estimands = []string{"simple", "cohort", "calendar", "event"}

// MinEvents is the fewest events an effect estimate is attempted on: below
// it the normal-approximation intervals mean little.
const MinEvents = 10

// ParamError is a request parameter that is malformed, names nothing in
// the dataset, or contradicts another: the server answers 400 naming Param,
// the command line exits with status 2.
type ParamError struct {
	Param   string
	Message string
}

func (e *ParamError) Error() string { return fmt.Sprintf("parameter %s: %s", e.Param, e.Message) }

func badParam(param, format string, args ...any) error {
	return &ParamError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// BadParam returns a *ParamError for param.
func BadParam(param, format string, args ...any) error { return badParam(param, format, args...) }

// notComputable is the error for data that cannot support an estimate; the
// server answers 422 with the reason.
func notComputable(format string, args ...any) error {
	return stats.ErrNotComputable{Reason: fmt.Sprintf(format, args...)}
}

// Request is a training-effect request as the API and the command line take
// it: the treatment (a course, or hours in a category), the outcome, the
// window and, for the staggered roll-out, the estimand.
type Request struct {
	Outcome  string
	Course   string
	Category string // normalised
	MinHours float64
	Estimand string
	store.Filter
}

// ParseRequest reads a Request through get, which returns a parameter's
// value or "" (a URL query, or command-line flags): outcome (default force),
// course, category, min_hours, estimand (default simple), from, to, unit and
// division. It returns a *ParamError naming the parameter when a value is
// malformed or unknown in the current dataset, when both or neither of
// course and category are given, when min_hours comes without category, or
// when from is after to; and store.ErrNoDataset before the first import.
func ParseRequest(ctx context.Context, st *store.Store, get func(string) string) (Request, error) {
	var r Request
	var err error
	if r.Outcome, err = enumParam(get, "outcome", "force", Outcomes); err != nil {
		return r, err
	}
	if r.Estimand, err = enumParam(get, "estimand", "simple", Estimands); err != nil {
		return r, err
	}
	names, err := st.Names(ctx)
	if err != nil {
		return r, err
	}
	r.Course, r.Category = strings.TrimSpace(get("course")), contract.NormalizeEnum(get("category"))
	hours := strings.TrimSpace(get("min_hours"))
	switch {
	case r.Course != "" && r.Category != "":
		return r, badParam("category", "give either course or category (with min_hours), not both")
	case hours != "" && r.Category == "":
		return r, badParam("min_hours", "min_hours needs category: the hours counted are those of courses in that category")
	case r.Course == "" && r.Category == "":
		return r, badParam("course", "give the treatment: course=ID (its first completion) or category=NAME&min_hours=H")
	case r.Course != "" && !slices.Contains(names.Courses, r.Course):
		return r, badParam("course", "no course %q in the current dataset", r.Course)
	}
	if r.Category != "" {
		cats, err := st.Categories(ctx)
		if err != nil {
			return r, err
		}
		if !slices.Contains(cats, r.Category) {
			return r, badParam("category", "no course category %q in the current dataset (there are: %s)", get("category"), strings.Join(cats, ", "))
		}
	}
	if hours != "" {
		h, err := strconv.ParseFloat(hours, 64)
		if err != nil || !(h > 0) || math.IsInf(h, 0) {
			return r, badParam("min_hours", "%q is not a positive number of hours", hours)
		}
		r.MinHours = h
	}
	r.Filter, err = parseFilter(get, names)
	return r, err
}

// ParseDose reads a dose-response request through get, as ParseRequest
// does: outcome (default force), window (trailing months, default 12,
// 1 to 120), from, to, unit and division. The caller sets the bin edges.
func ParseDose(ctx context.Context, st *store.Store, get func(string) string) (store.DoseQuery, error) {
	q := store.DoseQuery{Window: 12}
	var err error
	if q.Outcome, err = enumParam(get, "outcome", "force", Outcomes); err != nil {
		return q, err
	}
	if v := strings.TrimSpace(get("window")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 120 {
			return q, badParam("window", "%q is not a whole number from 1 to 120", v)
		}
		q.Window = n
	}
	names, err := st.Names(ctx)
	if err != nil {
		return q, err
	}
	q.Filter, err = parseFilter(get, names)
	return q, err
}

// EnumParam reads a parameter that must be one of values; def when absent.
func EnumParam(get func(string) string, name, def string, values []string) (string, error) {
	return enumParam(get, name, def, values)
}

// enumParam reads a parameter that must be one of values; def when absent.
func enumParam(get func(string) string, name, def string, values []string) (string, error) {
	v := strings.TrimSpace(get(name))
	if v == "" {
		return def, nil
	}
	if !slices.Contains(values, v) {
		return "", badParam(name, "%q is not one of %s", v, strings.Join(values, ", "))
	}
	return v, nil
}

// ParseFilter reads from, to (YYYY-MM, from not after to), unit and
// division (which must exist in names).
func ParseFilter(get func(string) string, names store.Names) (store.Filter, error) {
	return parseFilter(get, names)
}

// parseFilter reads from, to (YYYY-MM, from not after to), unit and
// division (which must exist).
func parseFilter(get func(string) string, names store.Names) (store.Filter, error) {
	f := store.Filter{From: strings.TrimSpace(get("from")), To: strings.TrimSpace(get("to")),
		Unit: strings.TrimSpace(get("unit")), Division: strings.TrimSpace(get("division"))}
	var from, to time.Time
	var err error
	if f.From != "" {
		if from, err = contract.ParseMonth(f.From); err != nil {
			return f, badParam("from", "%s", err.Error())
		}
	}
	if f.To != "" {
		if to, err = contract.ParseMonth(f.To); err != nil {
			return f, badParam("to", "%s", err.Error())
		}
	}
	if f.From != "" && f.To != "" && from.After(to) {
		return f, badParam("from", "%s is after to (%s)", f.From, f.To)
	}
	if f.Unit != "" && !slices.Contains(names.Units, f.Unit) {
		return f, badParam("unit", "no unit named %q in the current dataset", f.Unit)
	}
	if f.Division != "" && !slices.Contains(names.Divisions, f.Division) {
		return f, badParam("division", "no division named %q in the current dataset", f.Division)
	}
	return f, nil
}

// Query returns the store query that selects the request's officer-months.
func (r Request) Query() store.TreatmentQuery {
	return store.TreatmentQuery{Outcome: r.Outcome, Course: r.Course, Category: r.Category, MinHours: r.MinHours, Filter: r.Filter}
}

// Treatment describes the treatment of a request in a response.
type Treatment struct {
	Course     string   `json:"course,omitempty"`
	Category   string   `json:"category,omitempty"`
	MinHours   *float64 `json:"min_hours,omitempty"`
	Definition string   `json:"definition"`
}

func (r Request) treatment() Treatment {
	t := Treatment{Course: r.Course, Category: r.Category}
	switch {
	case r.Course != "":
		t.Definition = fmt.Sprintf("trained from the calendar month of the officer's first completion of course %s, inclusive", r.Course)
	case r.MinHours > 0:
		h := r.MinHours
		t.MinHours = &h
		t.Definition = fmt.Sprintf("trained from the first calendar month in which the officer's cumulative hours in %s courses reach %g, inclusive", r.Category, h)
	default:
		t.Definition = fmt.Sprintf("trained from the calendar month of the officer's first completion of any %s course, inclusive", r.Category)
	}
	return t
}

// Selection is what an analysis used: the window of calendar months and
// the officers and officer-months in it.
type Selection struct {
	From          string `json:"from"`
	To            string `json:"to"`
	Months        int    `json:"months"`
	Unit          string `json:"unit,omitempty"`
	Division      string `json:"division,omitempty"`
	Officers      int64  `json:"officers"`
	OfficerMonths int64  `json:"officer_months"`
}

func selection(r Request, w store.Window) Selection {
	return Selection{From: monthLabel(w.First), To: monthLabel(w.Last), Months: w.Months(), Unit: r.Unit, Division: r.Division,
		Officers: w.Officers, OfficerMonths: w.OfficerMonths}
}

// checkWindow returns ErrNoData when the selection is empty.
func checkWindow(w store.Window) error {
	if w.Months() == 0 || w.OfficerMonths == 0 {
		return ErrNoData
	}
	return nil
}

// monthLabel formats a month index (year·12 + month − 1) as YYYY-MM.
func monthLabel(i int32) string { return fmt.Sprintf("%04d-%02d", i/12, i%12+1) }

// z95 is the standard normal 97.5% quantile.
const z95 = 1.959963984540054

// allFinite reports whether every value is a finite number, so that no
// response carries NaN or Inf.
func allFinite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// IsNotComputable reports whether err says the data cannot support the
// estimate, and why.
func IsNotComputable(err error) (string, bool) {
	var nc stats.ErrNotComputable
	if errors.As(err, &nc) {
		return nc.Reason, true
	}
	var pnc *stats.ErrNotComputable
	if errors.As(err, &pnc) {
		return pnc.Reason, true
	}
	if errors.Is(err, ErrNoData) {
		return "no officer-months match the selection: widen the period or the unit", true
	}
	return "", false
}
