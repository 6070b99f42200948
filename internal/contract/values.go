package contract

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Earliest is the earliest date the contract accepts.
var Earliest = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	dateRE   = regexp.MustCompile(DatePattern)
	monthRE  = regexp.MustCompile(MonthPattern)
	numberRE = regexp.MustCompile(NumberPattern)
)

// ParseDate parses a YYYY-MM-DD date. It fails with a reason a person can act on
// when the text is not in that form or names a day that does not exist.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if !dateRE.MatchString(s) {
		return time.Time{}, fmt.Errorf("not a date in the form YYYY-MM-DD (%q)", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("no such day (%q)", s)
	}
	return t, nil
}

// ParseMonth parses a YYYY-MM month into the first day of that month.
func ParseMonth(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if !monthRE.MatchString(s) {
		return time.Time{}, fmt.Errorf("not a month in the form YYYY-MM (%q)", s)
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("no such month (%q)", s)
	}
	return t, nil
}

// boolWords maps the accepted spellings of a boolean (lower case) to its value.
var boolWords = map[string]bool{"true": true, "false": false, "yes": true, "no": false, "y": true, "n": false, "1": true, "0": false, "t": true, "f": false}

// ParseBool parses a contract boolean; ok is false for blank (unknown).
func ParseBool(s string) (v, ok bool, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return false, false, nil
	}
	v, known := boolWords[s]
	if !known {
		return false, false, fmt.Errorf("not a boolean: use true/false, yes/no, y/n or 1/0 (%q)", s)
	}
	return v, true, nil
}

// BoolWords returns the accepted spellings of true and of false, lower case.
func BoolWords() (trues, falses []string) {
	for _, w := range []string{"true", "yes", "y", "1", "t", "false", "no", "n", "0", "f"} {
		if boolWords[w] {
			trues = append(trues, w)
		} else {
			falses = append(falses, w)
		}
	}
	return trues, falses
}

// NormalizeEnum returns the canonical spelling of an enumeration value: trimmed,
// lower case, with '_' and spaces read as '-'.
func NormalizeEnum(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer("_", "-", " ", "-").Replace(s)
}

// ParseEnum returns the canonical value of s among values, or an error listing them.
func ParseEnum(s string, values []string) (string, error) {
	n := NormalizeEnum(s)
	for _, v := range values {
		if v == n {
			return v, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
}

// ParseNumber parses a decimal number written with a point. A decimal comma,
// an exponent-free infinity or NaN are refused with a reason.
func ParseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ",") {
		return 0, fmt.Errorf("decimal comma: write numbers with a point (%q)", s)
	}
	if !numberRE.MatchString(s) {
		return 0, fmt.Errorf("not a number (%q)", s)
	}
	return strconv.ParseFloat(s, 64)
}

// NumberPattern and IntPattern are the regular expressions the importer's SQL
// uses, so that Go and SQL accept exactly the same numbers.
const (
	NumberPattern    = `^[+-]?(\d+(\.\d*)?|\.\d+)$`
	IntPattern       = `^[+-]?\d+$`
	DatePattern      = `^\d{4}-\d{2}-\d{2}$`
	MonthPattern     = `^\d{4}-\d{2}$`
	TimestampPattern = `^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$`
)
