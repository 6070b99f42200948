// Package realdata turns public real datasets into deesc's data contract, so
// that tests can run deesc on data nobody on the project wrote.
//
// The data is kept outside the repository, in shared/data/real beside the
// repository root (each folder there has its source and licence in
// SOURCE.txt); nothing in this package copies it into the repository. Tests
// find it with Dir and skip when it is absent:
//
//	dir, ok := realdata.Dir()
//	if !ok {
//		t.Skip("real data not found: expected shared/data/real beside the repository root")
//	}
package realdata

import (
	"errors"
	"os"
	"path/filepath"
)

// ErrNoData is returned by the converters when the real data cannot be found.
var ErrNoData = errors.New("real data not found: expected shared/data/real beside the repository root")

// realRel is where the real data sits relative to the repository root's parent.
var realRel = filepath.Join("shared", "data", "real")

// Dir returns the absolute path of the real-data folder, found by walking up
// from the working directory to the first ancestor that has shared/data/real
// (the repository root's parent). ok is false when no ancestor has it.
func Dir() (dir string, ok bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	return dirFrom(wd)
}

// dirFrom is Dir starting from start instead of the working directory.
func dirFrom(start string) (string, bool) {
	d, err := filepath.Abs(start)
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(d, realRel)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}
