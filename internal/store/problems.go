package store

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with an import: a value, a row, a header or a
// whole file. Line is the line a text editor shows (header = 1); 0 means the
// problem concerns the whole file. For Parquet files Line is the row number.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Row     bool   `json:"-"` // Line counts Parquet rows, not text lines
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
	Value   string `json:"value,omitempty"`
	HasVal  bool   `json:"-"`
	order   int    // position of the file in the contract, for sorting
}

// String formats the problem as FILE:LINE: column NAME: what is wrong (value).
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if p.Row {
			fmt.Fprintf(&b, ":row %d", p.Line)
		} else {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
	}
	b.WriteString(": ")
	if p.Column != "" {
		fmt.Fprintf(&b, "column %s: ", p.Column)
	}
	b.WriteString(p.Message)
	if p.HasVal {
		fmt.Fprintf(&b, " (%s)", quoteValue(p.Value))
	}
	return b.String()
}

// quoteValue shows a value so that blanks, control characters and very long
// values stay readable on one line.
func quoteValue(v string) string {
	const max = 60
	r := []rune(v)
	if len(r) > max {
		v = string(r[:max]) + "…"
	}
	if v == "" || strings.TrimSpace(v) != v || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f || r == 0xfffd }) {
		return fmt.Sprintf("%q", v)
	}
	return v
}

// ValidationError is returned by Import when the files break the contract.
// Nothing was changed in the database.
type ValidationError struct {
	Problems []Problem      // sorted by file and line, at most the cap per file
	Omitted  map[string]int // per file, problems found beyond the cap
}

// Error lists every problem kept, one per line, and how many more there were.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import refused: %d problem(s); the database is unchanged", e.Total())
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.String())
	}
	files := make([]string, 0, len(e.Omitted))
	for f := range e.Omitted {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		fmt.Fprintf(&b, "\n%s: … and %d more problem(s) not listed", f, e.Omitted[f])
	}
	return b.String()
}

// Total returns the number of problems found, listed or not.
func (e *ValidationError) Total() int {
	n := len(e.Problems)
	for _, k := range e.Omitted {
		n += k
	}
	return n
}

// problemList collects problems with a cap per file.
type problemList struct {
	cap     int
	kept    []Problem
	perFile map[string]int
	omitted map[string]int
}

func newProblemList(cap int) *problemList {
	return &problemList{cap: cap, perFile: map[string]int{}, omitted: map[string]int{}}
}

// add records p unless the file's cap is reached, in which case it is counted.
// printable escapes control characters, newlines included (from a
// reader's error about a damaged file, or a header with a line break in
// it), so that one problem is one line and never reaches a terminal raw.
func printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return s
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}

func (l *problemList) add(p Problem) {
	p.Message, p.Column, p.File = printable(p.Message), printable(p.Column), printable(p.File)
	if l.perFile[p.File] >= l.cap {
		l.omitted[p.File]++
		return
	}
	l.perFile[p.File]++
	l.kept = append(l.kept, p)
}

// addOmitted counts n further problems of file that were not listed.
func (l *problemList) addOmitted(file string, n int) {
	if n > 0 {
		l.omitted[file] += n
	}
}

func (l *problemList) empty() bool { return len(l.kept) == 0 && len(l.omitted) == 0 }

// err returns the collected problems as a *ValidationError, sorted.
func (l *problemList) err() *ValidationError {
	sort.SliceStable(l.kept, func(i, j int) bool {
		a, b := l.kept[i], l.kept[j]
		if a.order != b.order {
			return a.order < b.order
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return &ValidationError{Problems: l.kept, Omitted: l.omitted}
}
