package stats

// ErrNotComputable reports that the data do not allow the requested estimate
// (no events, a singular design, perfect separation, non-convergence, ...).
// Reason is a sentence for the user; the HTTP layer answers 422 with it.
// It is returned as a value: match it with errors.As and a *ErrNotComputable
// target.
type ErrNotComputable struct {
	Reason string
}

func (e ErrNotComputable) Error() string { return "not computable: " + e.Reason }

func notComputable(reason string) error { return ErrNotComputable{Reason: reason} }
