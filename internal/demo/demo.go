// Package demo writes a synthetic, deterministic dataset in deesc's data
// contract: officers, courses, training, activity, use of force, complaints,
// injuries and commendations for a police service whose units receive the
// de-escalation course (DeescalationCourse) in staggered waves.
//
// The model, so that every number on a dashboard built from it can be traced:
//
//   - Units (about 125 officers each; about √units divisions) keep a slowly
//     growing headcount: officers serving at the window start have tenures
//     spread over up to 40 years; separations follow a tenure hazard (early
//     attrition, a long career, retirement), about 4–5 % a year; recruit
//     classes three times a year refill each unit.
//   - Outcomes of officer i in month m are Poisson with rate
//     base × unit × rank × frailty_i × Trend^(years since start) × season(m)
//     × Effect.X once i has completed the course (from the completion month
//     on), scaled by the share of the month served. Frailty is Gamma(2) (mean
//     1), so counts are over-dispersed. Base rates per constable-year: force
//     0.30, complaints 0.30, officer injuries not linked to force 0.015; 12 %
//     of force rows injure the officer, about 22 % the subject.
//   - Units are shuffled independently of their rates; about 10 % are never
//     reached, the rest are dealt to 4–8 waves six months apart (less in
//     short windows) from 40 % into the window. Officers complete the course
//     in their wave month or up to two months later; 7 % miss it (half catch
//     up 4–12 months later); recruits hired after the wave take it within
//     their first months.
//   - Recertifications follow each officer's diligence: most renew every
//     330–360 days, some are late by weeks or months, 4 % stop at some point.
//
// The generator streams unit by unit, so memory stays bounded by the largest
// unit whatever the number of officers. Every random draw comes from PCG
// streams derived from Options.Seed, two per unit, so the output is
// byte-identical for identical options however many workers run.
package demo

import (
	"fmt"
	"math"
	"time"
)

// Course IDs written to courses.csv and referred to by training.csv.
const (
	// DeescalationCourse is the 16-hour de-escalation course rolled out to
	// units in staggered waves; outcome rates change by Options.Effect from
	// the month an officer completes it.
	DeescalationCourse = "ICAT"
	// UseOfForceRecertCourse is the annual, mandatory use-of-force (IMIM)
	// recertification.
	UseOfForceRecertCourse = "IMIM-RECERT"
	// FirearmsCourse is the annual, mandatory firearms requalification.
	FirearmsCourse = "FIREARMS-QUAL"
	// CEWCourse is the conducted-energy-weapon recertification (every 730
	// days), taken only by officers who carry a CEW; not mandatory for all.
	CEWCourse = "CEW-RECERT"
	// FirstAidCourse is the mandatory first-aid certificate, renewed every
	// 1095 days.
	FirstAidCourse = "FIRST-AID"
	// CrisisInterventionCourse is the 40-hour CIT course taken once by
	// volunteers.
	CrisisInterventionCourse = "CIT-40"
	// ProceduralJusticeCourse is a one-off procedural-justice course given to
	// part of the service early in the window.
	ProceduralJusticeCourse = "PJ-8"
)

// File names written by Write (with ".gz" appended when Options.Gzip is set),
// in the order Summary lists them.
const (
	OfficersFile      = "officers.csv"
	CoursesFile       = "courses.csv"
	TrainingFile      = "training.csv"
	ActivityFile      = "activity.csv"
	ForceFile         = "force.csv"
	ComplaintsFile    = "complaints.csv"
	InjuriesFile      = "injuries.csv"
	CommendationsFile = "commendations.csv"
)

// Limits enforced by Options.Validate.
const (
	MinOfficers = 20
	MaxOfficers = 5_000_000
	MaxYears    = 40
)

// Options controls the size, randomness and planted effects of a dataset.
type Options struct {
	// Officers in service at the end of the window, approximately.
	Officers int
	// Years is the length of the window.
	Years int
	// Seed makes output reproducible: same options, byte-identical files.
	Seed uint64
	// End is the last day of the window and must be the last day of a
	// month; only its calendar date is used. No date written is after End.
	End time.Time
	// Effect multiplies outcome rates from the month an officer completes
	// DeescalationCourse (1 = no effect).
	Effect Effect
	// Trend multiplies every outcome rate per year since the window start
	// (0.97 = −3 %/yr; 1 = none).
	Trend float64
	// Gzip writes name.csv.gz instead of name.csv.
	Gzip bool
	// Workers is the number of goroutines generating units; 0 means
	// GOMAXPROCS. Output does not depend on it.
	Workers int
}

// Effect holds multiplicative training effects on the rate of each outcome
// once an officer has completed DeescalationCourse. The injury effects act
// through the share of the officer's force rows that injure (scaled by
// X/Force) plus, for officer injuries, the rate of injuries outside force
// incidents; they are exact unless X/Force is large enough to push a share
// to its cap (0.95 for subjects, 0.9 for officers).
type Effect struct {
	Force           float64 // use-of-force rows per officer-month
	Complaints      float64 // complaint rows per officer-month
	SubjectInjuries float64 // force rows with subject_injured=true per officer-month
	OfficerInjuries float64 // injuries rows per officer-month
}

// NoEffect returns an Effect that leaves every rate unchanged.
func NoEffect() Effect {
	return Effect{Force: 1, Complaints: 1, SubjectInjuries: 1, OfficerInjuries: 1}
}

// DefaultOptions returns the options of the built-in demo: 2,000 officers,
// 6 years, seed 1, effects like those reported for Louisville's ICAT
// evaluation and a 2 %/yr secular decline. End is left zero: the caller must
// set it.
func DefaultOptions() Options {
	return Options{
		Officers: 2000,
		Years:    6,
		Seed:     1,
		Effect:   Effect{Force: 0.72, Complaints: 0.95, SubjectInjuries: 0.74, OfficerInjuries: 0.64},
		Trend:    0.98,
	}
}

// Summary lists the files Write produced, in a fixed order.
type Summary struct {
	Files []FileSummary
}

// FileSummary is one written file and its number of data rows (header
// excluded).
type FileSummary struct {
	Name string
	Rows int
}

// Start returns the first day of the window: the first day of the month
// after End, Years earlier. It is meaningful only for valid options.
func (o Options) Start() time.Time {
	y, m, _ := o.End.Date()
	return time.Date(y-o.Years, m+1, 1, 0, 0, 0, 0, time.UTC)
}

// Validate returns an error naming the first invalid option, or nil.
func (o Options) Validate() error {
	if o.Officers < MinOfficers || o.Officers > MaxOfficers {
		return fmt.Errorf("Options.Officers must be between %d and %d, got %d", MinOfficers, MaxOfficers, o.Officers)
	}
	if o.Years < 1 || o.Years > MaxYears {
		return fmt.Errorf("Options.Years must be between 1 and %d, got %d", MaxYears, o.Years)
	}
	if o.End.IsZero() {
		return fmt.Errorf("Options.End must be set (the last day of a month)")
	}
	y, m, d := o.End.Date()
	if time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Day() != 1 {
		return fmt.Errorf("Options.End must be the last day of a month, got %s", o.End.Format(time.DateOnly))
	}
	if y > 2200 || o.Start().Year() < 1990 {
		return fmt.Errorf("Options.End must be before 2200 and the window it closes must start in 1990 or later, got End %s and %d years", o.End.Format(time.DateOnly), o.Years)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"Options.Effect.Force", o.Effect.Force},
		{"Options.Effect.Complaints", o.Effect.Complaints},
		{"Options.Effect.SubjectInjuries", o.Effect.SubjectInjuries},
		{"Options.Effect.OfficerInjuries", o.Effect.OfficerInjuries},
		{"Options.Trend", o.Trend},
	} {
		if !(f.v > 0 && f.v <= 5) || math.IsNaN(f.v) {
			return fmt.Errorf("%s must be in (0, 5] (1 = no change), got %v", f.name, f.v)
		}
	}
	if o.Workers < 0 {
		return fmt.Errorf("Options.Workers must be ≥ 0, got %d", o.Workers)
	}
	return nil
}
