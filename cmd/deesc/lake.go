package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"deesc/internal/store"
)

// cmdExportDataset is `deesc export-dataset DIR`: write the current dataset
// as Hive-partitioned Parquet with DIR/deesc-lake.json, for other engines
// to read in place or for `database.source: parquet`, and record it in the
// audit log.
func cmdExportDataset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export-dataset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deesc export-dataset DIR [--config FILE] [--db FILE]\n\n"+
			"Writes every table of the current dataset as Parquet, partitioned by year and division, with\n"+
			"DIR/"+store.LakeManifestName+" (version, columns, files and their SHA-256). DIR must not exist or be empty.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{2, errors.New("export-dataset needs exactly one folder")}
	}
	cfg, err := c.load(nil)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	dir := pos[0]
	m, err := st.ExportDataset(ctx, dir, store.LakeExportOptions{Progress: func(table string) {
		fmt.Fprintf(stderr, "writing %s\n", table)
	}})
	var rows, bytes, files int64
	for _, t := range m.Tables {
		rows += t.Rows
		for _, f := range t.Files {
			bytes += f.Bytes
			files++
		}
	}
	var sum string
	if err == nil {
		var b []byte
		if b, err = os.ReadFile(filepath.Join(dir, store.LakeManifestName)); err == nil {
			h := sha256.Sum256(b)
			sum = hex.EncodeToString(h[:])
		}
	}
	status, detail := 200, fmt.Sprintf("dataset version %d, %d tables, %d files", m.Version, len(m.Tables), files)
	if err != nil {
		status, detail = 500, "failed: "+firstLine(err.Error())
	}
	entry := auditEntry("GET", "/cli/export-dataset", "dir="+url.QueryEscape(dir), detail, status, rows, bytes, sum)
	if aerr := auditCLIEntry(context.WithoutCancel(ctx), st.DB(), entry); aerr != nil && err == nil {
		err = fmt.Errorf("the dataset was exported to %s, but the audit log could not record it: %w", dir, aerr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dataset version %d (imported %s from %s) exported to %s\n", m.Version, m.ImportedAt.Format("2006-01-02 15:04:05Z"), m.Source, dir)
	for _, t := range m.Tables {
		keys := "not partitioned"
		if len(t.PartitionKeys) > 0 {
			var names []string
			for _, k := range t.PartitionKeys {
				names = append(names, k.Name)
			}
			keys = "by " + strings.Join(names, ", ")
		}
		fmt.Fprintf(stdout, "  %-22s %12s rows  %4d files  %s\n", t.Name, thousands(t.Rows), len(t.Files), keys)
	}
	fmt.Fprintf(stdout, "%d files, %s bytes; %s sha256 %s\n", files, thousands(bytes), store.LakeManifestName, sum)
	return nil
}
