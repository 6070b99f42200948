package store

import (
	"database/sql"
	"fmt"
	"math/big"
	"time"
)

// scanner reads rows into untyped values, which database/sql hands over
// without the reflection it uses for typed destinations (several times
// faster for the hundreds of thousands of rows the analyses read), and
// converts DuckDB's integer, floating and date types. NULL reads as zero;
// a value of any other type is an error, which next returns with the
// following row (and err after the last).
type scanner struct {
	vals []any
	ptrs []any
	bad  error
}

func newScanner(n int) *scanner {
	s := &scanner{vals: make([]any, n), ptrs: make([]any, n)}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return s
}

// next reads the next row, or returns the error of a value read before.
func (s *scanner) next(rows *sql.Rows) error {
	if s.bad != nil {
		return s.bad
	}
	return rows.Scan(s.ptrs...)
}

// err returns the error of a value that could not be converted.
func (s *scanner) err() error { return s.bad }

func (s *scanner) unexpected(i int, want string) {
	if s.bad == nil {
		s.bad = fmt.Errorf("column %d: %T where %s was expected", i+1, s.vals[i], want)
	}
}

func (s *scanner) int64(i int) int64 {
	switch v := s.vals[i].(type) {
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case uint64:
		return int64(v)
	case *big.Int:
		return v.Int64()
	case nil:
		return 0
	}
	s.unexpected(i, "an integer")
	return 0
}

func (s *scanner) int32(i int) int32 { return int32(s.int64(i)) }

func (s *scanner) float64(i int) float64 {
	switch v := s.vals[i].(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	case *big.Int:
		f, _ := new(big.Float).SetInt(v).Float64()
		return f
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, nil:
		return float64(s.int64(i))
	}
	s.unexpected(i, "a number")
	return 0
}

// monthIndex reads a DATE as year·12 + month − 1 (NULL as 0).
func (s *scanner) monthIndex(i int) int32 {
	switch v := s.vals[i].(type) {
	case time.Time:
		return int32(v.Year()*12 + int(v.Month()) - 1)
	case nil:
		return 0
	}
	s.unexpected(i, "a date")
	return 0
}

func (s *scanner) bool(i int) bool {
	switch v := s.vals[i].(type) {
	case bool:
		return v
	case nil:
		return false
	}
	s.unexpected(i, "a boolean")
	return false
}
