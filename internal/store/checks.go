package store

import (
	"fmt"
	"strings"

	"deesc/internal/contract"
)

// sqlString quotes a constant of the program (never user input) as a SQL literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlList quotes constants as a SQL list: ('a', 'b').
func sqlList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = sqlString(v)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// blank is true for a missing or whitespace-only staging value.
func blank(c string) string { return fmt.Sprintf("(%s IS NULL OR trim(%s) = '')", c, c) }

// sqlType is the DuckDB type a column is stored as.
func sqlType(c contract.Column) string {
	switch c.Kind {
	case contract.Date, contract.Timestamp, contract.Month:
		return "DATE"
	case contract.Bool:
		return "BOOLEAN"
	case contract.Int:
		return "BIGINT"
	case contract.Number:
		return "DOUBLE"
	}
	return "VARCHAR"
}

// normEnum is the SQL form of contract.NormalizeEnum.
func normEnum(c string) string {
	return fmt.Sprintf("replace(replace(lower(trim(%s)), '_', '-'), ' ', '-')", c)
}

// typedExpr converts the trimmed staging text t to the column's stored
// value; it yields NULL for blanks and for values that fail their format.
// The format gates accept exactly what checkExpr's patterns accept where
// DuckDB's casts are more lenient (2020/01/01, 1.5 as an integer, 0x1A, 1_000).
func typedExpr(col contract.Column, t string) string {
	// strptime with a length gate is strict (2020-1-1 and 2020/01/01 fail)
	// and several times faster than a regular expression or substrings.
	date := fmt.Sprintf("CAST(try_strptime(%s, '%%Y-%%m-%%d') AS DATE)", t)
	switch col.Kind {
	case contract.Text, contract.ID:
		return fmt.Sprintf("nullif(%s, '')", t)
	case contract.Date:
		return fmt.Sprintf("CASE WHEN length(%s) = 10 THEN %s END", t, date)
	case contract.Timestamp:
		return fmt.Sprintf(`CASE WHEN length(%s) = 10 THEN %s
			WHEN length(%s) > 10 AND regexp_full_match(%s, %s) THEN try_cast(substr(%s, 1, 10) AS DATE) END`,
			t, date, t, t, sqlString(contract.TimestampPattern), t)
	case contract.Month:
		return fmt.Sprintf("CASE WHEN length(%s) = 7 THEN CAST(try_strptime(%s, '%%Y-%%m') AS DATE) END", t, t)
	case contract.Bool:
		trues, falses := contract.BoolWords()
		return fmt.Sprintf("CASE WHEN lower(%s) IN %s THEN true WHEN lower(%s) IN %s THEN false END", t, sqlList(trues), t, sqlList(falses))
	case contract.Int:
		return fmt.Sprintf("CASE WHEN regexp_full_match(%s, %s) THEN try_cast(%s AS BIGINT) END", t, sqlString(contract.IntPattern), t)
	case contract.Number:
		return fmt.Sprintf("CASE WHEN regexp_full_match(%s, %s) THEN try_cast(%s AS DOUBLE) END", t, sqlString(contract.NumberPattern), t)
	case contract.Enum:
		n := fmt.Sprintf("replace(replace(lower(%s), '_', '-'), ' ', '-')", t)
		return fmt.Sprintf("CASE WHEN %s IN %s THEN %s END", n, sqlList(col.Values), n)
	}
	panic("unknown kind")
}

// checkExpr returns a SQL expression over the staging text column c that is
// NULL when the value is acceptable and otherwise says what is wrong. The
// date bounds are todaySQL and earliestSQL (see dateArgs).
func checkExpr(col contract.Column, c string) string {
	t := "trim(" + c + ")"
	var whens []string
	add := func(cond, msg string) { whens = append(whens, fmt.Sprintf("WHEN %s THEN %s", cond, msg)) }
	if col.Required {
		add(blank(c), sqlString("missing value"))
	} else {
		add(blank(c), "NULL")
	}
	dateBounds := func(d string) {
		add(d+" > "+todaySQL, "'in the future (after ' || strftime("+todaySQL+", '%Y-%m-%d') || ')'")
		add(d+" < "+earliestSQL, "'before ' || strftime("+earliestSQL+", '%Y-%m-%d')")
	}
	switch col.Kind {
	case contract.Date:
		add(fmt.Sprintf("NOT regexp_full_match(%s, %s)", t, sqlString(contract.DatePattern)), sqlString("not a date in the form YYYY-MM-DD"))
		add(fmt.Sprintf("try_cast(%s AS DATE) IS NULL", t), sqlString("no such day"))
		dateBounds(fmt.Sprintf("try_cast(%s AS DATE)", t))
	case contract.Timestamp:
		add(fmt.Sprintf("NOT regexp_full_match(%s, %s)", t, sqlString(contract.TimestampPattern)), sqlString("not a date (YYYY-MM-DD) or ISO-8601 timestamp"))
		add(fmt.Sprintf("try_cast(substr(%s, 1, 10) AS DATE) IS NULL", t), sqlString("no such day"))
		dateBounds(fmt.Sprintf("try_cast(substr(%s, 1, 10) AS DATE)", t))
	case contract.Month:
		add(fmt.Sprintf("NOT regexp_full_match(%s, %s)", t, sqlString(contract.MonthPattern)), sqlString("not a month in the form YYYY-MM"))
		add(fmt.Sprintf("try_cast(%s || '-01' AS DATE) IS NULL", t), sqlString("no such month"))
		add(fmt.Sprintf("try_cast(%s || '-01' AS DATE) > %s", t, thisMonthSQL), "'in the future (after ' || strftime("+todaySQL+", '%Y-%m') || ')'")
		add(fmt.Sprintf("try_cast(%s || '-01' AS DATE) < %s", t, earliestSQL), "'before ' || strftime("+earliestSQL+", '%Y-%m')")
	case contract.Bool:
		add(typedExpr(col, t)+" IS NULL", sqlString("not a boolean: use true/false, yes/no, y/n or 1/0"))
	case contract.Int, contract.Number:
		what, pat := "not a whole number", contract.IntPattern
		if col.Kind == contract.Number {
			what, pat = "not a number", contract.NumberPattern
			add(fmt.Sprintf("regexp_full_match(%s, '^[+-]?\\d*,\\d+$')", t), sqlString("decimal comma: write numbers with a point, e.g. 1.5"))
		}
		add(fmt.Sprintf("NOT regexp_full_match(%s, %s)", t, sqlString(pat)), sqlString(what))
		v := typedExpr(col, t)
		if col.HasRange {
			lo := ">="
			if col.MinOpen {
				lo = ">"
			}
			rangeMsg := sqlString(fmt.Sprintf("out of range: must be %s %g and ≤ %g", strings.TrimSuffix(lo, "="), col.Min, col.Max))
			if !col.MinOpen {
				rangeMsg = sqlString(fmt.Sprintf("out of range: must be from %g to %g", col.Min, col.Max))
			}
			add(fmt.Sprintf("NOT (%s %s %g AND %s <= %g)", v, lo, col.Min, v, col.Max), rangeMsg)
		}
	case contract.Enum:
		add(typedExpr(col, t)+" IS NULL", sqlString("not one of "+strings.Join(col.Values, ", ")))
	}
	if col.Kind != contract.Text {
		// Whatever the patterns above let through but cannot be stored
		// (an integer too large, say) still gets a reason.
		add(typedExpr(col, t)+" IS NULL", sqlString("not a valid "+col.Kind.String()))
	}
	return "CASE " + strings.Join(whens, " ") + " END"
}
