package store

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestScannerConversions: the untyped scanner reads DuckDB's integer,
// floating, HUGEINT, date and boolean values, NULL as zero, and reports a
// value of any other type instead of reading it as zero.
func TestScannerConversions(t *testing.T) {
	s := newScanner(6)
	s.vals = []any{int32(-7), int64(1) << 40, big.NewInt(12), time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC), true, nil}
	if s.int32(0) != -7 || s.int64(1) != 1<<40 || s.float64(2) != 12 || s.monthIndex(3) != 2024*12+2 || !s.bool(4) {
		t.Errorf("conversions: %d %d %v %d %v", s.int32(0), s.int64(1), s.float64(2), s.monthIndex(3), s.bool(4))
	}
	if s.int64(5) != 0 || s.float64(5) != 0 || s.monthIndex(5) != 0 || s.bool(5) || s.err() != nil {
		t.Errorf("NULL: %v", s.err())
	}
	s.vals[0] = "12.5"
	if s.float64(0); s.err() == nil || !strings.Contains(s.err().Error(), "column 1: string") {
		t.Errorf("a string read as a number: err %v", s.err())
	}
	if err := s.next(nil); err == nil {
		t.Error("next after a bad value returned no error")
	}
}
