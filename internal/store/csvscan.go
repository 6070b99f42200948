package store

import (
	"bufio"
	"fmt"
	"io"
	"unicode/utf8"
)

// csvScan is what a structural pass over a CSV file found: the text line on
// which each wanted record starts, and the records that cannot be read.
type csvScan struct {
	lines    map[int64]int // record ordinal (0 = first data record) → line
	problems []Problem     // malformed records, with their lines
	good     int64         // well-formed data records
}

// scanCSV walks a CSV text the way the loader reads it (RFC 4180, blank lines
// skipped, BOM ignored) and returns the editor line on which each wanted
// well-formed data record starts, plus a problem for each record whose field
// count differs from the header's or whose bytes are not UTF-8. Only the
// error path of an import calls it, so it favours clarity over speed.
func scanCSV(r io.Reader, name string, nfields int, want map[int64]bool) (csvScan, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	res := csvScan{lines: map[int64]int{}}
	var (
		line     = 1
		start    = 1
		fields   = 1
		rec      []byte
		inQuotes bool
		atField  = true // at the first byte of a field
		quoted   bool   // current field is quoted
		afterQ   bool   // just saw a quote inside a quoted field
		header   = true
		ordinal  int64
		badQuote bool
	)
	finish := func() {
		defer func() {
			rec, fields, atField, quoted, afterQ, badQuote = rec[:0], 1, true, false, false, false
		}()
		if len(rec) == 0 || (len(rec) == 1 && rec[0] == '\r') {
			return // blank line: not a record
		}
		if header {
			header = false
			return
		}
		switch {
		case !utf8.Valid(rec):
			res.problems = append(res.problems, Problem{File: name, Line: start, Message: "not UTF-8 text: the line holds bytes that are not text (binary data, or another encoding such as Latin-1)"})
		case fields != nfields:
			res.problems = append(res.problems, Problem{File: name, Line: start, Message: fmt.Sprintf("has %d fields, the header has %d (a stray comma or an unquoted value with a comma?)", fields, nfields)})
		case badQuote:
			res.problems = append(res.problems, Problem{File: name, Line: start, Message: `a quoted field is followed by text before the next comma; write a quote inside a quoted field as ""`})
		default:
			if want[ordinal] {
				res.lines[ordinal] = start
			}
			ordinal++
			res.good++
		}
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		if inQuotes {
			if afterQ {
				afterQ = false
				if c == '"' { // escaped quote
					rec = append(rec, c)
					continue
				}
				inQuotes = false // the quote closed the field; fall through
			} else {
				if c == '"' {
					afterQ = true
				} else if c == '\n' {
					line++
				}
				rec = append(rec, c)
				continue
			}
		}
		switch c {
		case '\n':
			finish()
			line++
			start = line
			continue
		case ',':
			fields++
			atField = true
			quoted = false
			rec = append(rec, c)
			continue
		case '"':
			if atField {
				inQuotes, quoted = true, true
				atField = false
				rec = append(rec, c)
				continue
			}
		}
		if quoted && c != '\r' {
			badQuote = true
		}
		atField = false
		rec = append(rec, c)
	}
	if inQuotes && !afterQ {
		res.problems = append(res.problems, Problem{File: name, Line: start, Message: "a quoted field is never closed: the file ends inside quotes"})
		return res, nil
	}
	finish()
	return res, nil
}
