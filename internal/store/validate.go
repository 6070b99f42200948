package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"sort"
	"strings"

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

// pending holds SQL-found problems until their row ids are turned into lines.
type pendingProblems []rowProblem

func (r *importRun) dateArgs() []any {
	today := r.opt.Now.UTC().Truncate(24 * 60 * 60 * 1e9)
	return []any{sql.Named("today", today), sql.Named("earliest", contract.Earliest)}
}

// checkValues runs every column's value check over the staging table in one
// statement, keeps the first MaxErrors problems and counts the rest, then
// builds typed_NAME with the converted values.
func (r *importRun) checkValues(ctx context.Context, lf *loadedFile) error {
	f := lf.file
	stage := "stage_" + f.Name
	var parts []string
	for pos, c := range f.Columns {
		parts = append(parts, fmt.Sprintf("SELECT rowid AS rid, %d AS pos, %s AS col, %s AS msg, %s AS val FROM %s",
			pos, sqlString(c.Name), checkExpr(c, c.Name), c.Name, stage))
	}
	q := fmt.Sprintf(`SELECT rid, col, msg, val, count(*) OVER () FROM (%s) WHERE msg IS NOT NULL ORDER BY rid, pos LIMIT %d`,
		strings.Join(parts, "\nUNION ALL\n"), r.opt.MaxErrors)
	if err := r.collect(ctx, f.Name, q, false, r.dateArgs()...); err != nil {
		return fmt.Errorf("validating %s: %w", f.Name, err)
	}
	var typed []string
	for _, c := range f.Columns {
		typed = append(typed, fmt.Sprintf("%s AS %s", typedExpr(c, c.Name), c.Name))
	}
	return r.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT rowid AS _rid, %s FROM %s",
		r.temp("typed_"+f.Name), strings.Join(typed, ", "), stage))
}

// collect runs a query returning (rid, col, msg, val, total[, rid2]) and adds
// its rows as pending problems of the contract file; the total counts rows
// beyond the LIMIT, which are reported as omitted.
func (r *importRun) collect(ctx context.Context, file, q string, withRID2 bool, args ...any) error {
	rows, err := r.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var n, total int64
	for rows.Next() {
		p := rowProblem{file: file}
		dest := []any{&p.rid, &p.column, &p.message, &p.value, &total}
		if withRID2 {
			dest = append(dest, &p.rid2)
		}
		if err := rows.Scan(dest...); err != nil {
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
				shown = append(shown, fmt.Sprintf("CAST(%s AS VARCHAR)", k))
			}
			msg := "duplicate: " + key + " already on line %d"
			if len(f.Key) == 1 {
				msg = "duplicate " + key + ": already on line %d"
			}
			q := fmt.Sprintf(`SELECT _rid, %s, %s, concat_ws(', ', %s), count(*) OVER (), first_rid FROM (
				SELECT _rid, %s, min(_rid) OVER (PARTITION BY %s) AS first_rid FROM %s WHERE %s)
				WHERE _rid <> first_rid ORDER BY _rid LIMIT %d`,
				sqlString(f.Key[0]), sqlString(msg), strings.Join(shown, ", "), key, key, typed, strings.Join(notNull, " AND "), r.opt.MaxErrors)
			if err := r.collect(ctx, f.Name, q, true); err != nil {
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
			q := fmt.Sprintf(`SELECT t._rid, %s, %s, t.%s, count(*) OVER () FROM %s t
				WHERE t.%s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %s p WHERE p.%s = t.%s) ORDER BY t._rid LIMIT %d`,
				sqlString(ref.Column), sqlString(msg), ref.Column, typed, ref.Column, parent, ref.Key, ref.Column, r.opt.MaxErrors)
			if err := r.collect(ctx, f.Name, q, false); err != nil {
				return fmt.Errorf("checking references of %s: %w", f.Name, err)
			}
		}
		if f.Name == "officers" {
			q := fmt.Sprintf(`SELECT _rid, 'separation_date', 'before hire_date ' || strftime(hire_date, '%%Y-%%m-%%d'),
				strftime(separation_date, '%%Y-%%m-%%d'), count(*) OVER () FROM %s
				WHERE separation_date < hire_date ORDER BY _rid LIMIT %d`, typed, r.opt.MaxErrors)
			if err := r.collect(ctx, f.Name, q, false); err != nil {
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
			q := fmt.Sprintf(`SELECT count(*), coalesce(string_agg(DISTINCT %s, ', ' ORDER BY %s) FILTER (WHERE rn <= 5), '') FROM (
				SELECT %s, dense_rank() OVER (ORDER BY %s) AS rn FROM %s.%s t
				WHERE NOT EXISTS (SELECT 1 FROM typed_%s p WHERE p.%s = t.%s))`,
				ref.Column, ref.Column, ref.Column, ref.Column, r.prev.Schema, f.Table, ref.File, ref.Key, ref.Column)
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
	for _, p := range r.pending {
		lf := r.loaded[p.file]
		s, line, row := lineOf(p.file, p.rid)
		name := lf.sources[0].name
		if s != nil {
			name = s.name
		}
		msg := p.message
		if p.rid2.Valid {
			_, l2, _ := lineOf(p.file, p.rid2.Int64)
			msg = fmt.Sprintf(msg, l2)
		}
		r.probs.add(Problem{File: name, Line: line, Row: row, Column: p.column, Message: msg,
			Value: p.value.String, HasVal: p.value.Valid, order: lf.order})
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
