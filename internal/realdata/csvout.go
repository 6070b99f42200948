package realdata

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"deesc/internal/contract"
)

// csvOut writes one contract file with the contract's header, so a column
// added to or renamed in the contract shows up here as an error, not as a
// shifted column.
type csvOut struct {
	name string // contract file name
	f    *os.File
	bw   *bufio.Writer
	w    *csv.Writer
	col  map[string]int
	rec  []string
	rows int // data rows written
}

// createOut creates dir/<name>.csv and writes the contract's header for name.
func createOut(dir, name string) (*csvOut, error) {
	cf, ok := contract.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("the contract has no file %q", name)
	}
	f, err := os.Create(filepath.Join(dir, name+".csv"))
	if err != nil {
		return nil, err
	}
	o := &csvOut{name: name, f: f, bw: bufio.NewWriterSize(f, 1<<20), col: map[string]int{}}
	o.w = csv.NewWriter(o.bw)
	header := make([]string, len(cf.Columns))
	for i, c := range cf.Columns {
		header[i] = c.Name
		o.col[c.Name] = i
	}
	o.rec = make([]string, len(header))
	if err := o.w.Write(header); err != nil {
		f.Close()
		return nil, err
	}
	return o, nil
}

// put writes one row given as column name, value pairs; the columns not named
// are left blank (unknown).
func (o *csvOut) put(kv ...string) error {
	clear(o.rec)
	for i := 0; i+1 < len(kv); i += 2 {
		j, ok := o.col[kv[i]]
		if !ok {
			return fmt.Errorf("%s.csv: the contract has no column %q", o.name, kv[i])
		}
		o.rec[j] = kv[i+1]
	}
	o.rows++
	return o.w.Write(o.rec)
}

// close flushes and closes the file.
func (o *csvOut) close() error {
	o.w.Flush()
	if err := errors.Join(o.w.Error(), o.bw.Flush(), o.f.Close()); err != nil {
		return fmt.Errorf("%s.csv: %w", o.name, err)
	}
	return nil
}
