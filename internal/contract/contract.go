// Package contract defines deesc's data contract: the files an agency supplies,
// their columns, the kind of value each column holds and the rules a file must
// satisfy. The importer turns these definitions into set-based SQL checks; the
// README's contract table is written from the same facts.
package contract

import (
	"slices"
	"strings"
)

// Kind is the kind of value a column holds.
type Kind int

// The kinds of value a contract column can hold.
const (
	Text      Kind = iota // free text, stored verbatim
	ID                    // identifier text, trimmed, never parsed as a number
	Date                  // YYYY-MM-DD
	Timestamp             // YYYY-MM-DD or an ISO-8601 timestamp; stored as its date
	Month                 // YYYY-MM
	Bool                  // true/false, yes/no, y/n, 1/0; blank = unknown
	Int                   // a whole number
	Number                // a decimal number with a point
	Enum                  // one of Column.Values, any case, '_' or ' ' for '-'
)

// String names the kind as users read it in error messages.
func (k Kind) String() string {
	return [...]string{"text", "identifier", "date", "date or timestamp", "month", "boolean", "whole number", "number", "enumeration"}[k]
}

// Column is one column of a contract file.
type Column struct {
	Name     string
	Kind     Kind
	Required bool     // the header must have it and no value may be blank
	Values   []string // allowed values of an Enum, canonical spelling
	Min, Max float64  // bounds of an Int or Number when HasRange
	HasRange bool
	MinOpen  bool // Min itself is not allowed (hours > 0)
}

// File is one file of the contract and the table it loads into.
type File struct {
	Name     string   // file name without extension: officers, courses, ...
	Table    string   // DuckDB table name
	Optional bool     // the dataset is complete without it
	Columns  []Column // in the order of the README table
	Key      []string // columns that together must be unique
	// Refs lists the columns that must name an existing row of another file.
	Refs []Ref
	Doc  string // the rules, as the README states them
}

// Ref says that Column must match a key of File.
type Ref struct {
	Column string
	File   string
	Key    string
}

// Column returns the named column and whether the file has it.
func (f File) Column(name string) (Column, bool) {
	for _, c := range f.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Required returns the names of the file's required columns.
func (f File) Required() []string {
	var out []string
	for _, c := range f.Columns {
		if c.Required {
			out = append(out, c.Name)
		}
	}
	return out
}

// IMIM subject-behaviour categories, least to most serious.
var SubjectBehaviours = []string{"cooperative", "passive-resistant", "active-resistant", "assaultive", "grievous-bodily-harm-or-death"}

// Officer responses, least to most serious; force.response is the highest used.
var Responses = []string{"presence", "communication", "physical-control-soft", "physical-control-hard", "intermediate-weapon", "lethal-force"}

// Findings of a complaint.
var Findings = []string{"sustained", "not-sustained", "unfounded", "exonerated", "pending"}

// Severities of an officer injury.
var Severities = []string{"minor", "lost-time", "hospitalized", "fatal"}

func req(name string, k Kind) Column { return Column{Name: name, Kind: k, Required: true} }
func opt(name string, k Kind) Column { return Column{Name: name, Kind: k} }
func enum(name string, vals []string) Column {
	return Column{Name: name, Kind: Enum, Values: vals}
}
func hours(name string, required bool, minOpen bool) Column {
	return Column{Name: name, Kind: Number, Required: required, Min: 0, Max: 200, HasRange: true, MinOpen: minOpen}
}

// Files returns the contract, in dependency order (a file only refers to files before it).
func Files() []File {
	return []File{
		{
			Name: "officers", Table: "officers",
			Columns: []Column{req("officer_id", ID), req("unit", ID), req("division", ID), opt("rank", Text),
				req("hire_date", Date), opt("separation_date", Date), opt("gender", Text)},
			Key: []string{"officer_id"},
			Doc: "officer_id unique, text (never parsed as a number); separation_date ≥ hire_date",
		},
		{
			Name: "courses", Table: "courses",
			Columns: []Column{req("course_id", ID), req("title", Text), req("category", ID), hours("hours", true, true),
				{Name: "recert_days", Kind: Int, Min: 1, Max: 36500, HasRange: true}, opt("mandatory", Bool)},
			Key: []string{"course_id"},
			Doc: "course_id unique; 0 < hours ≤ 200; recert_days > 0 = must be retaken within that many days to stay current; category is free text",
		},
		{
			Name: "training", Table: "training",
			Columns: []Column{req("officer_id", ID), req("course_id", ID), req("completed_on", Date), hours("hours", false, false), opt("delivery", Text)},
			Key:     []string{"officer_id", "course_id", "completed_on"},
			Refs:    []Ref{{"officer_id", "officers", "officer_id"}, {"course_id", "courses", "course_id"}},
			Doc:     "one row per completion; officer and course must exist; hours default to the course's, 0 ≤ hours ≤ 200; (officer_id, course_id, completed_on) unique",
		},
		{
			Name: "activity", Table: "activity", Optional: true,
			Columns: []Column{req("officer_id", ID), req("month", Month), {Name: "calls_for_service", Kind: Int, Min: 0, Max: 100000, HasRange: true}},
			Key:     []string{"officer_id", "month"},
			Refs:    []Ref{{"officer_id", "officers", "officer_id"}},
			Doc:     "exposure; (officer_id, month) unique; calls ≥ 0, blank = unknown. Absent: exposure = months of service between hire and separation",
		},
		{
			Name: "force", Table: "use_of_force",
			Columns: []Column{req("incident_id", ID), req("officer_id", ID), req("occurred_on", Timestamp), opt("unit", ID),
				enum("subject_behaviour", SubjectBehaviours), enum("response", Responses), opt("weapon", Text),
				opt("subject_injured", Bool), opt("officer_injured", Bool), opt("mental_health_crisis", Bool),
				opt("substance_use", Bool), opt("subject_weapon", Bool), opt("de_escalation_attempted", Bool),
				opt("reviewed", Bool), opt("subject_race", Text), opt("subject_gender", Text),
				{Name: "subject_age", Kind: Int, Min: 0, Max: 120, HasRange: true}},
			Key:  []string{"incident_id", "officer_id"},
			Refs: []Ref{{"officer_id", "officers", "officer_id"}},
			Doc:  "one row per officer per incident, (incident_id, officer_id) unique. subject_behaviour ∈ " + strings.Join(SubjectBehaviours, ", ") + " (the IMIM categories); response ∈ " + strings.Join(Responses, ", "),
		},
		{
			Name: "complaints", Table: "complaints",
			Columns: []Column{req("complaint_id", ID), req("officer_id", ID), req("received_on", Date), opt("allegation", Text), enum("finding", Findings)},
			Key:     []string{"complaint_id", "officer_id"},
			Refs:    []Ref{{"officer_id", "officers", "officer_id"}},
			Doc:     "(complaint_id, officer_id) unique; finding ∈ " + strings.Join(Findings, ", "),
		},
		{
			Name: "injuries", Table: "injuries",
			Columns: []Column{req("injury_id", ID), req("officer_id", ID), req("occurred_on", Timestamp), opt("incident_id", ID), enum("severity", Severities)},
			Key:     []string{"injury_id", "officer_id"},
			Refs:    []Ref{{"officer_id", "officers", "officer_id"}},
			Doc:     "officer injuries; (injury_id, officer_id) unique; severity ∈ " + strings.Join(Severities, ", "),
		},
		{
			Name: "commendations", Table: "commendations", Optional: true,
			Columns: []Column{req("officer_id", ID), req("awarded_on", Date), req("kind", ID), opt("incident_id", ID)},
			Refs:    []Ref{{"officer_id", "officers", "officer_id"}},
			Doc:     "recognition of de-escalation and other good work",
		},
	}
}

// Lookup returns the contract file with the given name.
func Lookup(name string) (File, bool) {
	i := slices.IndexFunc(Files(), func(f File) bool { return f.Name == name })
	if i < 0 {
		return File{}, false
	}
	return Files()[i], true
}
