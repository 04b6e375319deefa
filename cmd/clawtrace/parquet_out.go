package main

import (
	"context"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

// writeParquetOutput streams every session of p into the spans table under
// dir (dir/spans.parquet, or dir/date=YYYY-MM-DD/spans-<k>.parquet with
// partitionDay; see docs/parquet.md) and returns the number of spans
// written. Memory stays bounded by one session plus the writer's row groups.
//
// The files appear only when everything succeeded: on any error, including
// a cancelled ctx, the temporary files are removed and no output file is
// created or replaced.
func writeParquetOutput(ctx context.Context, p *pipeline, dir string, partitionDay bool) (spans int, err error) {
	w, err := report.NewParquetWriter(dir, report.ParquetOptions{PartitionDay: partitionDay, Version: version})
	if err != nil {
		return 0, err
	}
	err = p.each(ctx, func(_ *ingest.Session, traces []reconstruct.Trace) error {
		if err := w.Write(traces); err != nil {
			return err
		}
		for i := range traces {
			spans += len(traces[i].Spans)
		}
		return nil
	})
	if err != nil {
		w.Abort()
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return spans, nil
}
