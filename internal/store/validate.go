package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"deesc/internal/contract"
)

// rowProblem is a problem found by SQL, located by the staging row id; rid2,
// when set, is a second row the message refers to ("duplicate of line N").
type rowProblem struct {
	file     string
	rid      int64
	rid2     sql.NullInt64
	column   string
	message  string
	value    sql.NullString
	resolved bool
}

// The date bounds as DATE values, from the parameters dateArgs binds.
const (
	todaySQL     = "CAST($today AS DATE)"
	thisMonthSQL = "CAST(date_trunc('month', CAST($today AS DATE)) AS DATE)"
	earliestSQL  = "CAST($earliest AS DATE)"
)

// pending holds SQL-found problems until their row ids are turned into lines.
type pendingProblems []rowProblem

// dateArgs binds $today (the UTC date of the import's clock) and $earliest
// as YYYY-MM-DD text, which SQL reads only through todaySQL, thisMonthSQL
// and earliestSQL. A time.Time would bind as a TIMESTAMP WITH TIME ZONE:
// turned into a date in the server's time zone it moved the bounds by a day
// west or east of UTC, and compared with a DATE column it was cast row by
// row (reading ten million rows half again as slow).
func (r *importRun) dateArgs() []any {
	return []any{sql.Named("today", r.opt.Now.UTC().Format(time.DateOnly)), sql.Named("earliest", contract.Earliest.Format(time.DateOnly))}
}

// typedColumns returns a contract file's columns with their stored types.
func typedColumns(f contract.File) (names, defs []string) {
	for _, c := range f.Columns {
		names = append(names, c.Name)
		defs = append(defs, c.Name+" "+sqlType(c))
	}
	return names, defs
}

// ctrim trims surrounding spaces only from values that have them: most
// values do not, and trimming every value costs as much as reading it.
func ctrim(c string) string {
	return fmt.Sprintf("CASE WHEN starts_with(%s, ' ') OR ends_with(%s, ' ') THEN trim(%s) ELSE %s END", c, c, c, c)
}

// typedSelect wraps a source's text SELECT (sourceSelect) so that it yields
// typed values and a _problem flag, converting each value once: trimmed
// text, then typed values and blank flags, then the row's flag.
func typedSelect(f contract.File, sel string) string {
	var trimmed, inner, outer, flags []string
	for _, c := range f.Columns {
		t := "t_" + c.Name
		if c.Kind == contract.Text {
			// Free text is stored verbatim; only all-blank counts as missing.
			trimmed = append(trimmed, fmt.Sprintf("%s AS %s", c.Name, t))
			inner = append(inner, fmt.Sprintf("CASE WHEN trim(%s) = '' THEN NULL ELSE %s END AS %s", t, t, c.Name),
				fmt.Sprintf("coalesce(trim(%s) = '', true) AS b_%s", t, c.Name))
		} else {
			trimmed = append(trimmed, fmt.Sprintf("%s AS %s", ctrim(c.Name), t))
			inner = append(inner, fmt.Sprintf("CAST(%s AS %s) AS %s", typedExpr(c, t), sqlType(c), c.Name),
				fmt.Sprintf("coalesce(%s = '', true) AS b_%s", t, c.Name))
		}
		outer = append(outer, c.Name)
		flags = append(flags, problemFlag(c))
	}
	return fmt.Sprintf("SELECT %s, (%s) AS _problem FROM (SELECT %s FROM (SELECT %s FROM (%s)))",
		strings.Join(outer, ", "), strings.Join(flags, " OR "), strings.Join(inner, ", "), strings.Join(trimmed, ", "), sel)
}

// explainValues says, column by column, what is wrong with the flagged rows
// of a file (at most MaxErrors, the rest counted). It reads the flagged
// sources once more as text, since the typed table keeps no raw values.
func (r *importRun) explainValues(ctx context.Context, lf *loadedFile) error {
	f := lf.file
	var parts []string
	for _, src := range r.byRID[f.Name] {
		var bad int64
		if err := r.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM typed_%s WHERE _problem AND rowid >= ? AND rowid < ?", f.Name),
			src.firstRID, src.firstRID+src.rows).Scan(&bad); err != nil {
			return err
		}
		if bad == 0 {
			continue
		}
		sel, args, err := r.sourceSelect(ctx, src)
		if err != nil {
			return err
		}
		raw := r.temp(fmt.Sprintf("raw_%s_%d", f.Name, src.index))
		if err := r.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", raw, sel), args...); err != nil {
			return fmt.Errorf("re-reading %s: %w", src.name, err)
		}
		for pos, c := range f.Columns {
			parts = append(parts, fmt.Sprintf(`SELECT rowid + %d AS rid, %d AS pos, %s AS col, %s AS msg, %s AS val FROM %s
				WHERE rowid IN (SELECT rowid - %d FROM typed_%s WHERE _problem AND rowid >= %d AND rowid < %d)`,
				src.firstRID, pos, sqlString(c.Name), checkExpr(c, c.Name), c.Name, raw, src.firstRID, f.Name, src.firstRID, src.firstRID+src.rows))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	q := fmt.Sprintf(`SELECT rid, pos, col, msg, val, NULL AS rid2 FROM (%s) WHERE msg IS NOT NULL`, strings.Join(parts, "\nUNION ALL\n"))
	if err := r.collect(ctx, f.Name, q, r.dateArgs()...); err != nil {
		return fmt.Errorf("validating %s: %w", f.Name, err)
	}
	return nil
}

// problemFlag is true when a row's column breaks the contract, computed from
// the typed value c and the raw blank flag b_c of the inner select. It must
// agree with checkExpr, which says why.
func problemFlag(c contract.Column) string {
	var conds []string
	if c.Required {
		conds = append(conds, "b_"+c.Name)
	}
	conds = append(conds, fmt.Sprintf("(NOT b_%s AND %s IS NULL)", c.Name, c.Name))
	switch c.Kind {
	case contract.Date, contract.Timestamp:
		conds = append(conds, fmt.Sprintf("%s > %s OR %s < %s", c.Name, todaySQL, c.Name, earliestSQL))
	case contract.Month:
		conds = append(conds, fmt.Sprintf("%s > %s OR %s < %s", c.Name, thisMonthSQL, c.Name, earliestSQL))
	case contract.Int, contract.Number:
		if c.HasRange {
			lo := ">="
			if c.MinOpen {
				lo = ">"
			}
			conds = append(conds, fmt.Sprintf("NOT (%s %s %g AND %s <= %g)", c.Name, lo, c.Min, c.Name, c.Max))
		}
	}
	return "coalesce(" + strings.Join(conds, " OR ") + ", false)"
}

// collect runs a problem query, one yielding (rid, pos, col, msg, val, rid2)
// per problem, and adds the first MaxErrors problems by (rid, pos) as pending
// problems of the contract file, counting the rest as omitted. It avoids
// window functions, which have failed intermittently inside DuckDB here.
func (r *importRun) collect(ctx context.Context, file, problems string, args ...any) error {
	t := time.Now()
	q := fmt.Sprintf(`WITH p AS MATERIALIZED (%s)
		SELECT rid, col, msg, val, rid2, (SELECT count(*) FROM p) FROM p ORDER BY rid, pos LIMIT %d`, problems, r.opt.MaxErrors)
	rows, err := r.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	defer r.trace(t, problems)
	var n, total int64
	for rows.Next() {
		p := rowProblem{file: file}
		if err := rows.Scan(&p.rid, &p.column, &p.message, &p.value, &p.rid2, &total); err != nil {
			return err
		}
		r.pending = append(r.pending, p)
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if total > n {
		r.extraOmitted[file] += total - n
	}
	return nil
}

// shownT qualifies key columns shown in a duplicate message with the alias t.
func shownT(shown []string) string {
	out := make([]string, len(shown))
	for i, s := range shown {
		out[i] = strings.NewReplacer("CAST(", "CAST(t.", "strftime(", "strftime(t.").Replace(s)
	}
	return strings.Join(out, ", ")
}

// checkRows runs the checks that span rows and files: unique keys, references
// to officers and courses, and officers' hire and separation dates.
func (r *importRun) checkRows(ctx context.Context) error {
	for _, f := range contract.Files() {
		lf := r.loaded[f.Name]
		if lf == nil || !lf.ok {
			continue
		}
		typed := "typed_" + f.Name
		if len(f.Key) > 0 {
			key := strings.Join(f.Key, ", ")
			var notNull, shown []string
			for _, k := range f.Key {
				notNull = append(notNull, k+" IS NOT NULL")
				if c, _ := f.Column(k); c.Kind == contract.Month {
					shown = append(shown, fmt.Sprintf("strftime(%s, '%%Y-%%m')", k))
				} else {
					shown = append(shown, fmt.Sprintf("CAST(%s AS VARCHAR)", k))
				}
			}
			msg := "duplicate: " + key + " already on line %d"
			if len(f.Key) == 1 {
				msg = "duplicate " + key + ": already on line %d"
			}
			// Find duplicated keys by aggregation, then locate only their rows.
			dup := fmt.Sprintf(`SELECT %s FROM %s WHERE %s GROUP BY ALL HAVING count(*) > 1`, key, typed, strings.Join(notNull, " AND "))
			if last, _ := f.Column(f.Key[len(f.Key)-1]); last.Kind == contract.Month {
				// One group per key and year with a bitmask of its months is
				// an order of magnitude fewer groups than one per key.
				m := last.Name
				others := f.Key[:len(f.Key)-1]
				var on []string
				for _, k := range others {
					on = append(on, fmt.Sprintf("t.%s = d.%s", k, k))
				}
				dup = fmt.Sprintf(`SELECT DISTINCT t.%s, t.%s FROM %s t JOIN (SELECT %s, year(%s) AS y FROM %s WHERE %s
					GROUP BY ALL HAVING count(*) <> bit_count(bit_or(1::BIGINT << (month(%s) - 1)))) d ON %s AND year(t.%s) = d.y`,
					strings.Join(others, ", t."), m, typed, strings.Join(others, ", "), m, typed, strings.Join(notNull, " AND "), m,
					strings.Join(on, " AND "), m)
			}
			// The first row of each duplicated key is the one the others repeat.
			q := fmt.Sprintf(`WITH dup AS (%s),
				firsts AS (SELECT %s, min(rowid) AS first_row FROM %s SEMI JOIN dup USING (%s) GROUP BY ALL)
				SELECT t.rowid AS rid, 0 AS pos, %s AS col, %s AS msg, concat_ws(', ', %s) AS val, d.first_row AS rid2
				FROM %s t JOIN firsts d USING (%s) WHERE t.rowid <> d.first_row`,
				dup, key, typed, key, sqlString(f.Key[0]), sqlString(msg), shownT(shown), typed, key)
			if err := r.collect(ctx, f.Name, q); err != nil {
				return fmt.Errorf("checking keys of %s: %w", f.Name, err)
			}
		}
		for _, ref := range f.Refs {
			parent, ok := r.refTable(ref.File)
			if !ok {
				continue
			}
			pf, _ := contract.Lookup(ref.File)
			msg := fmt.Sprintf("no such %s in %s", strings.TrimSuffix(pf.Name, "s"), pf.Name)
			q := fmt.Sprintf(`SELECT t.rowid AS rid, 0 AS pos, %s AS col, %s AS msg, t.%s AS val, NULL AS rid2 FROM %s t
				WHERE t.%s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %s p WHERE p.%s = t.%s)`,
				sqlString(ref.Column), sqlString(msg), ref.Column, typed, ref.Column, parent, ref.Key, ref.Column)
			if err := r.collect(ctx, f.Name, q); err != nil {
				return fmt.Errorf("checking references of %s: %w", f.Name, err)
			}
		}
		if f.Name == "officers" {
			q := fmt.Sprintf(`SELECT rowid AS rid, 0 AS pos, 'separation_date' AS col, 'before hire_date ' || strftime(hire_date, '%%Y-%%m-%%d') AS msg,
				strftime(separation_date, '%%Y-%%m-%%d') AS val, NULL AS rid2 FROM %s
				WHERE separation_date < hire_date`, typed)
			if err := r.collect(ctx, f.Name, q); err != nil {
				return fmt.Errorf("checking officers: %w", err)
			}
		}
	}
	return r.checkKeptChildren(ctx)
}

// refTable names the table a reference is checked against: the file being
// imported, else the current dataset's. ok is false when neither is usable
// (the parent failed to load, or is missing, which is reported elsewhere).
func (r *importRun) refTable(file string) (string, bool) {
	if lf := r.loaded[file]; lf != nil {
		return "typed_" + file, lf.ok
	}
	if r.prev != nil {
		f, _ := contract.Lookup(file)
		return r.prev.Schema + "." + f.Table, true
	}
	return "", false
}

// checkKeptChildren makes sure that rows kept from the current dataset (files
// not in this import) still refer to officers and courses that exist after it.
func (r *importRun) checkKeptChildren(ctx context.Context) error {
	if r.prev == nil {
		return nil
	}
	for _, f := range contract.Files() {
		if r.loaded[f.Name] != nil {
			continue
		}
		for _, ref := range f.Refs {
			plf := r.loaded[ref.File]
			if plf == nil || !plf.ok {
				continue
			}
			pf := plf.file
			q := fmt.Sprintf(`WITH missing AS MATERIALIZED (SELECT %s AS v FROM %s.%s t WHERE NOT EXISTS (SELECT 1 FROM %s p WHERE p.%s = t.%s))
				SELECT (SELECT count(*) FROM missing), coalesce((SELECT string_agg(v, ', ' ORDER BY v) FROM (SELECT DISTINCT v FROM missing ORDER BY v LIMIT 5)), '')`,
				ref.Column, r.prev.Schema, f.Table, "typed_"+pf.Name, ref.Key, ref.Column)
			var n int64
			var sample string
			if err := r.conn.QueryRowContext(ctx, q).Scan(&n, &sample); err != nil {
				return fmt.Errorf("checking kept %s: %w", f.Name, err)
			}
			if n > 0 {
				r.probs.add(Problem{File: plf.sources[0].name, order: plf.order, Column: ref.Key,
					Message: fmt.Sprintf("%d row(s) of the current %s refer to %s values this file no longer has (e.g. %s); import %s too, or keep them",
						n, f.Name, ref.Key, sample, f.Name)})
			}
		}
	}
	return nil
}

// resolveLines turns pending problems' row ids into file lines, adding the
// structural problems of any CSV whose malformed records were skipped.
func (r *importRun) resolveLines() error {
	type want struct {
		src  *source
		ords map[int64]bool
	}
	wants := map[*source]*want{}
	locate := func(file string, rid int64) (*source, int64) {
		for _, s := range r.byRID[file] {
			if rid >= s.firstRID && rid < s.firstRID+s.rows {
				return s, rid - s.firstRID
			}
		}
		return nil, 0
	}
	need := func(file string, rid int64) {
		s, ord := locate(file, rid)
		if s == nil {
			return
		}
		w := wants[s]
		if w == nil {
			w = &want{src: s, ords: map[int64]bool{}}
			wants[s] = w
		}
		w.ords[ord] = true
	}
	for _, p := range r.pending {
		need(p.file, p.rid)
		if p.rid2.Valid {
			need(p.file, p.rid2.Int64)
		}
	}
	for _, srcs := range r.byRID {
		for _, s := range srcs {
			if s.rejected > 0 && wants[s] == nil {
				wants[s] = &want{src: s, ords: map[int64]bool{}}
			}
		}
	}
	lines := map[*source]csvScan{}
	srcs := make([]*source, 0, len(wants))
	for s := range wants {
		srcs = append(srcs, s)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].path < srcs[j].path })
	for _, s := range srcs {
		if s.format == formatParquet {
			continue
		}
		scan, err := r.scan(s, wants[s].ords)
		if err != nil {
			return err
		}
		if scan.good != s.rows {
			// The loader and the scan disagree on records: lines would be wrong.
			scan.lines = nil
		}
		lines[s] = scan
		order := r.loaded[s.file.Name].order
		if s.rejected > 0 && len(scan.problems) == 0 {
			r.probs.add(Problem{File: s.name, order: order, Message: fmt.Sprintf("%d record(s) could not be read as CSV", s.rejected)})
		}
		for _, p := range scan.problems {
			p.order = order
			r.probs.add(p)
		}
	}
	lineOf := func(file string, rid int64) (src *source, line int, row bool) {
		s, ord := locate(file, rid)
		if s == nil {
			return nil, 0, false
		}
		if s.format == formatParquet {
			return s, int(ord) + 1, true
		}
		if sc, ok := lines[s]; ok && sc.lines != nil {
			return s, sc.lines[ord], false
		}
		return s, 0, false
	}
	unplaced := map[*source]int{}
	for _, p := range r.pending {
		lf := r.loaded[p.file]
		s, line, row := lineOf(p.file, p.rid)
		name := lf.sources[0].name
		if s != nil {
			name = s.name
		}
		if s != nil && line == 0 && s.format != formatParquet {
			// The reader and the line scan disagree on this file's records
			// (malformed ones, listed with their lines): a value problem
			// without its line would send nobody anywhere.
			unplaced[s]++
			continue
		}
		msg := p.message
		if p.rid2.Valid {
			_, l2, _ := lineOf(p.file, p.rid2.Int64)
			msg = fmt.Sprintf(msg, l2)
		}
		r.probs.add(Problem{File: name, Line: line, Row: row, Column: p.column, Message: msg,
			Value: p.value.String, HasVal: p.value.Valid, order: lf.order})
	}
	for s, n := range unplaced {
		r.probs.add(Problem{File: s.name, order: r.loaded[s.file.Name].order, Message: fmt.Sprintf(
			"%d more value problem(s) whose lines cannot be told until the file's malformed records are fixed (check the quoting and the number of fields)", n)})
	}
	for file, n := range r.extraOmitted {
		r.probs.addOmitted(r.loaded[file].sources[0].name, int(n))
	}
	return nil
}

// scan runs the structural CSV scan over a source's text.
func (r *importRun) scan(s *source, want map[int64]bool) (csvScan, error) {
	rc, err := openText(s.path, s.format)
	if err != nil {
		return csvScan{}, err
	}
	defer rc.Close()
	res, err := scanCSV(rc, s.name, len(s.header), want)
	if err == io.ErrUnexpectedEOF {
		err = nil
	}
	return res, err
}
