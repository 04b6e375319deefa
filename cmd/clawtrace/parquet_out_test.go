package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawtrace/clawtrace/ingest"
)

// TestParquetOutputInterruptedWritesNothing: a Parquet run that fails or is
// interrupted (here: its context is cancelled) leaves no file in the output
// directory — not an empty spans.parquet, not a temporary file.
func TestParquetOutputInterruptedWritesNothing(t *testing.T) {
	for _, partition := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		p, err := openPipeline([]string{"../../fixtures/corpus/openclaw-2026.9.6/04-parallel"}, &inputFlags{},
			IO{Out: io.Discard, Err: io.Discard}, ingest.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := writeParquetOutput(ctx, p, dir, partition, nil); err == nil {
			t.Errorf("partition %v: no error from a cancelled run", partition)
		}
		err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("partition %v: a cancelled run left %s", partition, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
