package report

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestParquetTempFilesHiddenUntilClose (issue 11, "Outputs are atomic"):
// while a Parquet dataset is being written, every file in the output
// directory is hidden (.name.tmp: Spark, Trino and Hive skip dot files),
// including parts already finished and waiting for Close; Abort renames
// nothing into place and leaves nothing behind; Close leaves only the final
// files. Rows are batched in memory first, so the test writes until files
// are open (and, partitioned with one open file, until a part has been
// closed and queued for renaming).
func TestParquetTempFilesHiddenUntilClose(t *testing.T) {
	traces := pqShiftDays(parquetFixtureTraces(t), 3)
	for _, tc := range []struct {
		name  string
		opt   ParquetOptions
		abort bool
	}{
		{"single/abort", ParquetOptions{}, true},
		{"single/close", ParquetOptions{}, false},
		{"partitioned/abort", ParquetOptions{PartitionDay: true, MaxOpenFiles: 1}, true},
		{"partitioned/close", ParquetOptions{PartitionDay: true, MaxOpenFiles: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewParquetWriter(dir, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; w.open == 0 || (tc.opt.PartitionDay && len(w.done) == 0); i++ {
				if i == 500 {
					t.Fatalf("after %d writes: %d files open, %d parts done", i, w.open, len(w.done))
				}
				if err := w.Write(traces); err != nil {
					t.Fatal(err)
				}
			}
			files := regularFiles(t, dir)
			if len(files) == 0 {
				t.Fatal("no file on disk while writing")
			}
			for _, f := range files {
				if !strings.HasPrefix(filepath.Base(f), ".") || !strings.HasSuffix(f, ".tmp") {
					t.Errorf("visible file while writing: %s (want .<name>.tmp)", f)
				}
			}
			if tc.abort {
				w.Abort()
				if files := regularFiles(t, dir); len(files) != 0 {
					t.Errorf("Abort left %v", files)
				}
				return
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			files = regularFiles(t, dir)
			if len(files) == 0 {
				t.Fatal("Close left no file")
			}
			for _, f := range files {
				if strings.HasPrefix(filepath.Base(f), ".") || !strings.HasSuffix(f, ".parquet") {
					t.Errorf("after Close: %s (want only visible .parquet files)", f)
				}
			}
		})
	}
}

// regularFiles lists the regular files under dir, relative to it.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			r, _ := filepath.Rel(dir, p)
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
