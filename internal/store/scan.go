package store

import (
	"database/sql"
	"math/big"
	"time"
)

// scanner reads rows into untyped values, which database/sql hands over
// without the reflection it uses for typed destinations (several times
// faster for the hundreds of thousands of rows the analyses read), and
// converts DuckDB's integer and floating types; NULL reads as zero.
type scanner struct {
	vals []any
	ptrs []any
}

func newScanner(n int) *scanner {
	s := &scanner{vals: make([]any, n), ptrs: make([]any, n)}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return s
}

func (s *scanner) next(rows *sql.Rows) error { return rows.Scan(s.ptrs...) }

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
	case float64:
		return int64(v)
	case float32:
		return int64(v)
	case *big.Int:
		return v.Int64()
	}
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
	case nil:
		return 0
	}
	return float64(s.int64(i))
}

// monthIndex reads a DATE as year·12 + month − 1.
func (s *scanner) monthIndex(i int) int32 {
	t, _ := s.vals[i].(time.Time)
	return int32(t.Year()*12 + int(t.Month()) - 1)
}

func (s *scanner) bool(i int) bool { b, _ := s.vals[i].(bool); return b }
