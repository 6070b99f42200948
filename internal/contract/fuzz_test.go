package contract

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The fuzz targets check the value parsers' contract: they never panic, a
// refusal is a one-line reason with the value quoted, and what they accept
// round-trips through its canonical form. Seeds live in testdata/fuzz; run
// one for longer with, e.g., go test -run='^$' -fuzz='^FuzzParseDate$' -fuzztime=10m ./internal/contract/

// checkRefusal fails unless err reads as a clear, single-line reason.
func checkRefusal(t *testing.T, what, in string, err error) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Fatalf("%s(%q): empty error", what, in)
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Fatalf("%s(%q): error holds a raw control character at byte %d: %q", what, in, i, msg)
	}
}

// FuzzParseDate: an accepted date matches DatePattern and formats back to
// its trimmed input, at midnight UTC.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", " 2024-02-01 ", "2024-2-1", "0000-01-01", "9999-12-31", "2024-00-10", "2024-01-01T00:00", "２０２４-01-01", "\t2024-12-31\n"} {
		f.Add(s)
	}
	re := regexp.MustCompile(DatePattern)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			checkRefusal(t, "ParseDate", s, err)
			return
		}
		trimmed := strings.TrimSpace(s)
		if !re.MatchString(trimmed) {
			t.Fatalf("ParseDate(%q) accepted text DatePattern refuses", s)
		}
		if got := d.Format(time.DateOnly); got != trimmed {
			t.Fatalf("ParseDate(%q) = %s: does not format back to its input", s, got)
		}
		if d.Location() != time.UTC || d.Hour()+d.Minute()+d.Second()+d.Nanosecond() != 0 {
			t.Fatalf("ParseDate(%q) = %v: not midnight UTC", s, d)
		}
	})
}

// FuzzParseMonth: an accepted month matches MonthPattern, formats back to
// its trimmed input and is the first of the month.
func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2024-12", "2024-13", "2024-00", "2024-1", "24-01", " 1950-01 ", "2024-01-01", "٢٠٢٤-01"} {
		f.Add(s)
	}
	re := regexp.MustCompile(MonthPattern)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMonth(s)
		if err != nil {
			checkRefusal(t, "ParseMonth", s, err)
			return
		}
		trimmed := strings.TrimSpace(s)
		if !re.MatchString(trimmed) {
			t.Fatalf("ParseMonth(%q) accepted text MonthPattern refuses", s)
		}
		if got := m.Format("2006-01"); got != trimmed {
			t.Fatalf("ParseMonth(%q) = %s: does not format back to its input", s, got)
		}
		if m.Day() != 1 || m.Location() != time.UTC || m.Hour()+m.Minute()+m.Second()+m.Nanosecond() != 0 {
			t.Fatalf("ParseMonth(%q) = %v: not the first of the month, midnight UTC", s, m)
		}
	})
}

// FuzzParseBool: a value is one of the listed spellings, blank is unknown,
// anything else is refused.
func FuzzParseBool(f *testing.F) {
	for _, s := range []string{"Yes", "n", "1", "FALSE", "", "  ", "maybe", "T", "0 ", "ｙｅｓ", "\x00"} {
		f.Add(s)
	}
	trues, falses := BoolWords()
	f.Fuzz(func(t *testing.T, s string) {
		v, ok, err := ParseBool(s)
		if err != nil {
			if ok || v {
				t.Fatalf("ParseBool(%q) = %v, %v with error %v", s, v, ok, err)
			}
			checkRefusal(t, "ParseBool", s, err)
			return
		}
		w := strings.ToLower(strings.TrimSpace(s))
		switch {
		case !ok:
			if w != "" {
				t.Fatalf("ParseBool(%q): unknown without error, but not blank", s)
			}
		case v && !slices.Contains(trues, w), !v && !slices.Contains(falses, w):
			t.Fatalf("ParseBool(%q) = %v: %q is not among the %v spellings", s, v, w, v)
		}
	})
}

// FuzzParseEnum: NormalizeEnum is idempotent and ParseEnum accepts exactly
// the values whose normal form is in the list, returning that form.
func FuzzParseEnum(f *testing.F) {
	lists := [][]string{SubjectBehaviours, Responses, Findings, Severities}
	for _, tc := range []struct {
		s    string
		list uint8
	}{{"Active Resistant", 0}, {"physical_control_hard", 1}, {"not sustained", 2}, {" Lost_Time ", 3}, {"resisting", 0}, {"", 2}, {"PENDING\u00a0", 2}, {"grievous bodily_harm-or DEATH", 0}} {
		f.Add(tc.s, tc.list)
	}
	f.Fuzz(func(t *testing.T, s string, list uint8) {
		values := lists[int(list)%len(lists)]
		n := NormalizeEnum(s)
		if NormalizeEnum(n) != n {
			t.Fatalf("NormalizeEnum is not idempotent on %q: %q then %q", s, n, NormalizeEnum(n))
		}
		v, err := ParseEnum(s, values)
		if err != nil {
			checkRefusal(t, "ParseEnum", s, err)
			if slices.Contains(values, n) {
				t.Fatalf("ParseEnum(%q) refused %q, which is a value", s, n)
			}
			return
		}
		if !slices.Contains(values, v) || v != n {
			t.Fatalf("ParseEnum(%q) = %q: want the canonical %q among %v", s, v, n, values)
		}
	})
}

// FuzzParseNumber: an accepted number is finite, matches NumberPattern and
// round-trips through its shortest decimal form.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"7.5", "7,5", "-0", "+.5", "5.", ".", "1e3", "inf", "NaN", "0x10", "1_000", "", " 200 ", "1" + strings.Repeat("0", 400), "0." + strings.Repeat("0", 400) + "1"} {
		f.Add(s)
	}
	re := regexp.MustCompile(NumberPattern)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseNumber(s)
		if err != nil {
			checkRefusal(t, "ParseNumber", s, err)
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("ParseNumber(%q) = %v: not finite", s, v)
		}
		if !re.MatchString(strings.TrimSpace(s)) {
			t.Fatalf("ParseNumber(%q) accepted text NumberPattern refuses", s)
		}
		back, err := ParseNumber(strconv.FormatFloat(v, 'f', -1, 64))
		if err != nil || back != v {
			t.Fatalf("ParseNumber(%q) = %v, which does not round-trip: %v, %v", s, v, back, err)
		}
	})
}
